"""mfglearn vs MFGLib 0.3.0 on MFGLib's ten environments, side by side in one run.

For every environment and every algorithm both libraries have (fictitious play,
online mirror descent), run the same number of iterations from the uniform policy
with one thread each and print ms per iteration (both include computing the
exploitability of every iterate, as MFGLib's ``solve`` does), the speed ratio and
both final exploitabilities. MFGLib runs twice when ``opt_einsum`` is importable:
with torch's opt_einsum path disabled (its default install) and enabled (its best
configuration). Writes ``benchmarks/results/mfglib.json``.

    pip install mfglib==0.3.0 opt_einsum
    python benchmarks/bench_mfglib.py [--iterations 300]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import mfglearn
from mfglearn.runs.io import atomic_write_json

ENVS = [
    "beach_bar",
    "building_evacuation",
    "conservative_treasure_hunting",
    "crowd_motion",
    "equilibrium_price",
    "left_right",
    "linear_quadratic",
    "random_linear",
    "rock_paper_scissors",
    "susceptible_infected",
]


def run_mfglib(env, alg, iterations: int, opt_einsum: bool) -> tuple[float, float]:
    torch.backends.opt_einsum.enabled = opt_einsum
    t0 = time.perf_counter()
    _, expls, _ = alg.solve(env, max_iter=iterations, atol=None, rtol=None)
    return (time.perf_counter() - t0) / iterations * 1e3, float(expls[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--envs", default=",".join(ENVS))
    args = ap.parse_args()
    import mfglib.alg  # noqa: F401  (first: avoids mfglib's circular import)
    from mfglib.alg import FictitiousPlay, OnlineMirrorDescent
    from mfglib.env import Environment

    mfglearn.set_threads(1)
    have_opt = torch.backends.opt_einsum.is_available()
    rows = []
    header = f"{'environment':30s} {'algorithm':6s} {'mfglearn ms':>11s} {'mfglib ms':>10s} {'ratio':>7s}"
    header += f" {'+opt_einsum ms':>14s} {'ratio':>7s}" if have_opt else ""
    header += f" {'expl mfglearn':>14s} {'expl mfglib':>12s}"
    print(header)
    for name in args.envs.split(","):
        env = getattr(Environment, name)()
        game = mfglearn.make("mfglib/" + name)
        algs = [("OMD", OnlineMirrorDescent(alpha=1.0), "mirror_descent", {"learning_rate": 1.0})]
        if name != "equilibrium_price":  # MFGLib's fictitious play crashes on 2-D actions
            algs.append(("FP", FictitiousPlay(), "fictitious_play", {"ties": "uniform"}))
        for label, alg, ours, hp in algs:
            t0 = time.perf_counter()
            res = mfglearn.solve(game, ours, iterations=args.iterations, **hp)
            ms_ours = (time.perf_counter() - t0) / args.iterations * 1e3
            ms_lib, expl_lib = run_mfglib(env, alg, args.iterations, opt_einsum=False)
            row = dict(
                env=name,
                algorithm=label,
                mfglearn_ms=ms_ours,
                mfglib_ms=ms_lib,
                ratio=ms_lib / ms_ours,
                mfglearn_exploitability=res.exploitability,
                mfglib_exploitability=expl_lib,
            )
            line = f"{name:30s} {label:6s} {ms_ours:11.3f} {ms_lib:10.3f} {ms_lib / ms_ours:7.1f}"
            if have_opt:
                ms_opt, _ = run_mfglib(env, alg, args.iterations, opt_einsum=True)
                row.update(mfglib_opt_einsum_ms=ms_opt, ratio_opt_einsum=ms_opt / ms_ours)
                line += f" {ms_opt:14.3f} {ms_opt / ms_ours:7.1f}"
            line += f" {res.exploitability:14.6g} {expl_lib:12.6g}"
            print(line, flush=True)
            rows.append(row)
    torch.backends.opt_einsum.enabled = True
    out = Path(__file__).parent / "results" / "mfglib.json"
    atomic_write_json(
        out,
        {"iterations": args.iterations, "threads": 1, "rows": rows, "command": "python benchmarks/bench_mfglib.py"},
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
