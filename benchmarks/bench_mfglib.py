"""mfglearn vs MFGLib 0.3.0 on MFGLib's ten environments, side by side in one run.

For every environment and every algorithm both libraries have (online mirror
descent, fictitious play, prior descent, MF-OMO, occupation-measure inclusion), run
the same number of iterations from the uniform policy with one thread each and print
ms per iteration (both include computing the exploitability of every iterate, as
MFGLib's ``solve`` does), the speed ratio and both final exploitabilities. MFGLib runs
twice when ``opt_einsum`` is importable: with torch's opt_einsum path disabled (its
default install) and enabled (its best configuration). ``--scaling`` times OMD,
MF-OMO and OMI on building evacuation as the floors grow. Writes
``mfglib.json`` (or ``mfglib_scaling.json``) under ``--out`` (committed: ``benchmarks/results/``).

    pip install mfglib==0.3.0 opt_einsum
    python benchmarks/bench_mfglib.py [--iterations 300] [--slow-iterations 30]
    python benchmarks/bench_mfglib.py --scaling
    python benchmarks/bench_mfglib.py --sweep 256 [--sweep-iterations 100] [--mfglib-sample 4]

``--sweep N`` runs one grid of ``N`` step sizes (online mirror descent's ``alpha``, prior descent's
``eta``, log-spaced) on every environment: mfglearn solves the ``N`` settings as one batch
(:func:`mfglearn.solve_batch`); MFGLib loops over them one by one, with and without opt_einsum.
MFGLib's time is measured on ``--mfglib-sample`` settings spread over the grid and scaled by
``N / sample`` (its settings cost the same: the same environment, iterations and operations), and
its exploitabilities there are compared with the batch's for the same settings. Writes
``mfglib_sweep.json``.

Every timed region starts with ``gc.collect()``. Python's cyclic collector otherwise runs a full pass
(about 0.1 s over the ~190 thousand objects of torch and MFGLib) at the first allocation burst after the
imports, which was a 256-member batch: that doubled the first sweep's time on the three-state games and
would never fall on MFGLib's loop, which ran later in the same process.
"""

from __future__ import annotations

import argparse
import gc
import math
import time
import warnings
from pathlib import Path

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.games.peers.mfglib import MFGLIB_NAMES

ENVS = MFGLIB_NAMES


def run_mfglib(env, alg, iterations: int, opt_einsum: bool) -> tuple[float, float, int | None]:
    """MFGLib's ms per iteration, final exploitability and the first iterate whose policy holds a NaN (or None).

    MFGLib does not check its iterates: once a float32 policy turns NaN, ``exploitability_score`` keeps
    returning a finite number for it, so the final exploitability alone can look converged.
    """
    torch.backends.opt_einsum.enabled = opt_einsum
    gc.collect()  # no timed region pays for a cyclic collection that earlier work left pending (module doc)
    t0 = time.perf_counter()
    pis, expls, _ = alg.solve(env, max_iter=iterations, atol=None, rtol=None)
    ms = (time.perf_counter() - t0) / iterations * 1e3
    nan_from = next((k for k, pi in enumerate(pis) if torch.isnan(pi).any()), None)
    return ms, float(expls[-1]), nan_from


def algorithms(name: str):
    """(label, MFGLib instance, our solver, our hyperparameters, slow) with MFGLib's defaults."""
    from mfglib.alg import MFOMO, FictitiousPlay, OccupationMeasureInclusion, OnlineMirrorDescent, PriorDescent

    algs = [("OMD", OnlineMirrorDescent(alpha=1.0), "mirror_descent", {"learning_rate": 1.0}, False)]
    if name != "equilibrium_price":  # MFGLib's fictitious play crashes on 2-D actions
        algs.append(("FP", FictitiousPlay(), "fictitious_play", {"ties": "uniform"}, False))
    # inner_steps=None is MFGLib's default n_inner; without it mfglearn's own default (10) ran another algorithm
    algs.append(("PD", PriorDescent(eta=1.0), "prior_descent", {"temperature": 1.0, "inner_steps": None}, False))
    algs.append(("MF-OMO", MFOMO(), "mf_omo", {}, True))
    omi = OccupationMeasureInclusion(alpha=1e-3)
    algs.append(("OMI", omi, "occupation_measure_inclusion", {"learning_rate": 1e-3}, True))
    return algs


def scaling(sizes: list[int], iterations: int, budget_s: float, out_dir: Path) -> None:
    """Building evacuation (5 floors of ``n x n``): ms per iteration of OMD, MF-OMO, OMI for both libraries."""
    from mfglib.alg import MFOMO, OccupationMeasureInclusion, OnlineMirrorDescent
    from mfglib.env import Environment

    rows, give_up = [], set()
    print(f"{'states':>7s} {'algorithm':8s} {'mfglearn ms':>12s} {'mfglib ms':>12s} {'ratio':>8s}")
    for n in sizes:
        env = Environment.building_evacuation(floor_l=n, floor_w=n)
        game = mfglearn.make("mfglib/building_evacuation", floor_l=n, floor_w=n)
        for label, alg, ours, hp in [
            ("OMD", OnlineMirrorDescent(alpha=1.0), "mirror_descent", {"learning_rate": 1.0}),
            ("MF-OMO", MFOMO(), "mf_omo", {}),
            ("OMI", OccupationMeasureInclusion(alpha=1e-3), "occupation_measure_inclusion", {"learning_rate": 1e-3}),
        ]:
            mfglearn.solve(game, ours, iterations=1, **hp)  # warm-up
            gc.collect()
            t0 = time.perf_counter()
            mfglearn.solve(game, ours, iterations=iterations, **hp)
            ms_ours = (time.perf_counter() - t0) / iterations * 1e3
            ms_lib = float("nan")
            if label not in give_up:
                torch.backends.opt_einsum.enabled = torch.backends.opt_einsum.is_available()
                gc.collect()
                t0 = time.perf_counter()
                alg.solve(env, max_iter=iterations, atol=None, rtol=None)
                ms_lib = (time.perf_counter() - t0) / iterations * 1e3
                if ms_lib * iterations / 1e3 > budget_s:
                    give_up.add(label)  # larger sizes would exceed the budget: stop timing MFGLib there
            rows.append(dict(states=game.S, algorithm=label, mfglearn_ms=ms_ours, mfglib_ms=ms_lib))
            print(f"{game.S:7d} {label:8s} {ms_ours:12.2f} {ms_lib:12.2f} {ms_lib / ms_ours:8.1f}", flush=True)
    out = out_dir / "mfglib_scaling.json"
    atomic_write_json(
        out, {"iterations": iterations, "rows": rows, "command": "python benchmarks/bench_mfglib.py --scaling"}
    )
    print(f"wrote {out}")


SWEEP_GRIDS = {"OMD": ("mirror_descent", "learning_rate", 1e-2, 1e1), "PD": ("prior_descent", "temperature", 1e-1, 1e2)}


def sweep(names: list[str], size: int, iterations: int, sample: int, out_dir: Path) -> None:
    """The same ``size``-setting grid on every environment: one ``solve_batch`` versus MFGLib's loop."""
    from mfglib.alg import OnlineMirrorDescent, PriorDescent
    from mfglib.env import Environment

    have_opt = torch.backends.opt_einsum.is_available()
    rows = []
    print(
        f"{'environment':30s} {'alg':4s} {'mfglearn s':>10s} {'mfglib s':>9s} {'ratio':>7s}"
        + (f" {'+opt_einsum s':>13s} {'ratio':>7s}" if have_opt else "")
        + f" {'expl agree':>10s}"
    )
    for name in names:
        env = getattr(Environment, name)()
        game = mfglearn.make("mfglib/" + name)
        for label, (ours, key, lo, hi) in SWEEP_GRIDS.items():
            grid = torch.logspace(math.log10(lo), math.log10(hi), size, dtype=torch.float64).tolist()
            extra = {"inner_steps": None} if ours == "prior_descent" else {}  # MFGLib's default n_inner
            mfglearn.solve_batch(game, ours, 2, **{key: grid[:2]}, **extra)  # warm-up
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # the grid's large steps do not converge
                gc.collect()
                t0 = time.perf_counter()
                results = mfglearn.solve_batch(game, ours, iterations, **{key: grid}, **extra)
                s_ours = time.perf_counter() - t0
            picks = sorted({round(i * (size - 1) / max(sample - 1, 1)) for i in range(sample)})
            timings = {}
            diffs, theirs, nans = [], [], []
            for opt in [False, True] if have_opt else [False]:
                t_lib = 0.0
                for i in picks:
                    alg = OnlineMirrorDescent(alpha=grid[i]) if label == "OMD" else PriorDescent(eta=grid[i])
                    ms, expl, nan_from = run_mfglib(env, alg, iterations, opt_einsum=opt)
                    t_lib += ms * iterations / 1e3
                    if not opt:
                        theirs.append(expl)
                        nans.append(nan_from)
                        diffs.append(abs(expl - results[i].exploitability) / max(1.0, abs(expl)))
                timings[opt] = t_lib * size / len(picks)
            row = dict(
                env=name,
                algorithm=label,
                settings=size,
                iterations=iterations,
                mfglib_sampled=len(picks),
                mfglearn_s=s_ours,
                mfglib_s=timings[False],
                ratio=timings[False] / s_ours,
                sampled_settings=[grid[i] for i in picks],
                mfglib_exploitability=theirs,
                mfglearn_exploitability=[results[i].exploitability for i in picks],
                mfglib_policy_nan_from=nans,
                # MFGLib computes in float32: agreement is to ~1e-5 relative, except where its exp(Q / eta)
                # under- or overflows (prior descent at small eta; mfglearn works in the log domain)
                agree=sum(d <= 1e-4 for d in diffs),
            )
            line = f"{name:30s} {label:4s} {s_ours:10.3f} {timings[False]:9.2f} {timings[False] / s_ours:7.0f}"
            if have_opt:
                row.update(mfglib_opt_einsum_s=timings[True], ratio_opt_einsum=timings[True] / s_ours)
                line += f" {timings[True]:13.2f} {timings[True] / s_ours:7.0f}"
            print(line + f" {row['agree']:>6d}/{len(picks)}", flush=True)
            rows.append(row)
    torch.backends.opt_einsum.enabled = True
    out = out_dir / "mfglib_sweep.json"
    command = (
        f"python benchmarks/bench_mfglib.py --sweep {size} --sweep-iterations {iterations} --mfglib-sample {sample}"
    )
    atomic_write_json(out, {"threads": 1, "rows": rows, "command": command})
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--slow-iterations", type=int, default=30, help="iterations for MF-OMO and OMI")
    ap.add_argument("--envs", default=",".join(ENVS))
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument("--budget", type=float, default=120.0, help="scaling: seconds per MFGLib run before giving up")
    ap.add_argument("--sweep", type=int, default=0, metavar="N", help="sweep mode: N settings per environment")
    ap.add_argument("--sweep-iterations", type=int, default=100)
    ap.add_argument("--mfglib-sample", type=int, default=4, help="sweep: settings MFGLib is timed on")
    add_out(ap, "mfglib", committed="benchmarks/results")
    args = ap.parse_args()
    import mfglib.alg  # noqa: F401  (first: avoids mfglib's circular import)
    from mfglib.env import Environment

    if args.sweep:
        mfglearn.set_threads(1)
        sweep(args.envs.split(","), args.sweep, args.sweep_iterations, args.mfglib_sample, args.out)
        return
    if args.scaling:
        mfglearn.set_threads(1)
        scaling([4, 6, 10, 14, 20, 28], 5, args.budget, args.out)
        return

    mfglearn.set_threads(1)
    have_opt = torch.backends.opt_einsum.is_available()
    rows = []
    header = f"{'environment':30s} {'algorithm':9s} {'mfglearn ms':>11s} {'mfglib ms':>10s} {'ratio':>7s}"
    header += f" {'+opt_einsum ms':>14s} {'ratio':>7s}" if have_opt else ""
    header += f" {'expl mfglearn':>14s} {'expl mfglib':>12s}"
    print(header)
    for name in args.envs.split(","):
        env = getattr(Environment, name)()
        game = mfglearn.make("mfglib/" + name)
        for label, alg, ours, hp, slow in algorithms(name):
            its = args.slow_iterations if slow else args.iterations
            mfglearn.solve(game, ours, iterations=1, **hp)  # warm-up: first-call costs are not per iteration
            alg.solve(env, max_iter=1, atol=None, rtol=None)
            gc.collect()
            t0 = time.perf_counter()
            res = mfglearn.solve(game, ours, iterations=its, **hp)
            ms_ours = (time.perf_counter() - t0) / its * 1e3
            ms_lib, expl_lib, nan_from = run_mfglib(env, alg, its, opt_einsum=False)
            row = dict(
                env=name,
                algorithm=label,
                iterations=its,
                mfglearn_ms=ms_ours,
                mfglib_ms=ms_lib,
                ratio=ms_lib / ms_ours,
                mfglearn_exploitability=res.exploitability,
                mfglib_exploitability=expl_lib,
                mfglib_policy_nan_from=nan_from,
            )
            line = f"{name:30s} {label:9s} {ms_ours:11.3f} {ms_lib:10.3f} {ms_lib / ms_ours:7.1f}"
            if have_opt:
                ms_opt, _, _ = run_mfglib(env, alg, its, opt_einsum=True)
                row.update(mfglib_opt_einsum_ms=ms_opt, ratio_opt_einsum=ms_opt / ms_ours)
                line += f" {ms_opt:14.3f} {ms_opt / ms_ours:7.1f}"
            line += f" {res.exploitability:14.6g} {expl_lib:12.6g}"
            line += f"  (MFGLib's policy is NaN from iterate {nan_from})" if nan_from is not None else ""
            print(line, flush=True)
            rows.append(row)
    torch.backends.opt_einsum.enabled = True
    out = args.out / "mfglib.json"
    atomic_write_json(
        out,
        {
            "iterations": args.iterations,
            "slow_iterations": args.slow_iterations,
            "threads": 1,
            "rows": rows,
            "command": "python benchmarks/bench_mfglib.py",
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
