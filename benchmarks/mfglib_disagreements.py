"""Where ``bench_mfglib.py``'s final exploitabilities differ between the libraries: which side is wrong.

For each ``env:algorithm`` pair (the benchmark's settings, MFGLib's defaults; by default every pair whose
final exploitabilities differ in the committed ``benchmarks/results/mfglib.json``), run both libraries
iterate by iterate and print:

- the first iterate where the two exploitabilities differ by more than ``--tol`` (relative), MFGLib run
  with torch's opt_einsum path enabled, and its final exploitability with opt_einsum disabled (the
  benchmark's first configuration): where MFGLib's two configurations disagree with each other, float32
  round-off alone moves its result;
- the first iterate whose MFGLib policy holds a NaN (MFGLib's ``exploitability_score`` of a NaN policy
  is still a finite number, so its curve can look converged);
- how sensitive the float64 path is: mfglearn run again with its step size changed by ``1e-7`` relative
  (about float32's round-off), and the first iterate where that run leaves the unperturbed one;
- MFGLib itself in float64 (its environment's tensors cast, torch's default dtype float64 while it runs),
  and the first iterate where that run leaves mfglearn's: where it never does, the float32 difference was
  round-off alone.

When the perturbed float64 run separates about as early as MFGLib does, the difference is round-off
amplified by an iteration that does not converge, not an error on either side.

    python benchmarks/mfglib_disagreements.py [--pairs building_evacuation:PD,rock_paper_scissors:OMD]

Writes ``mfglib_disagreements.json`` under ``--out`` (committed: ``benchmarks/results/``).
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)
from bench_mfglib import algorithms  # noqa: E402  (benchmarks/bench_mfglib.py)

import mfglearn
from mfglearn._common.io import atomic_write_json

RESULTS = Path(__file__).parent / "results" / "mfglib.json"
STEP_KEYS = ("learning_rate", "temperature", "optimizer_lr")
REPORT_TOL = 1e-3  # bench_mfglib's final exploitabilities that differ by more, relative to max(1, e), are traced


def differs(x: float, y: float, tol: float) -> bool:
    """Whether ``x`` and ``y`` differ by more than ``tol`` relative to ``max(1, |y|)``."""
    return abs(x - y) > tol * max(1.0, abs(y))


def differing_pairs(results: Path = RESULTS) -> str:
    """``env:algorithm`` of every row of ``bench_mfglib``'s results whose two final exploitabilities differ."""
    rows = json.loads(results.read_text())["rows"]
    return ",".join(
        f"{r['env']}:{r['algorithm']}"
        for r in rows
        if differs(r["mfglearn_exploitability"], r["mfglib_exploitability"], REPORT_TOL)
    )


def step_size(solver: str, hp: dict) -> tuple[str, float] | None:
    """The step-size hyperparameter of ``solver`` and its value in ``hp`` (or its default), or None."""
    defaults = mfglearn.algorithm_info(solver)[0]["hyperparameters"]
    values = {k: hp.get(k, defaults.get(k)) for k in STEP_KEYS}
    key = next((k for k, v in values.items() if isinstance(v, (int, float))), None)
    return None if key is None else (key, float(values[key]))


def first_apart(a: list[float], b: list[float], tol: float) -> int | None:
    """1-based iterate where ``a`` and ``b`` first differ by more than ``tol`` relative, or None."""
    return next((k + 1 for k, (x, y) in enumerate(zip(a, b, strict=True)) if differs(y, x, tol)), None)


def mfglib_float64_exploitabilities(name: str, alg, iterations: int) -> list[float]:
    """MFGLib's exploitabilities with its arithmetic in float64: the environment is built as usual (the same
    random draws), its float tensors cast, and torch's default dtype is float64 while MFGLib runs."""
    from mfglib.env import Environment

    env = getattr(Environment, name)()
    for obj in (env, env.reward_fn, env.transition_fn):
        for key, value in vars(obj).items():
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                setattr(obj, key, value.double())
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        expls = alg.solve(env, max_iter=iterations, atol=None, rtol=None)[1]
    finally:
        torch.set_default_dtype(default)
    return [float(e) for e in expls[1:]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--pairs",
        default=None,
        help="comma-separated env:algorithm (algorithm as bench_mfglib labels); default: every pair whose final"
        f" exploitabilities differ by more than {REPORT_TOL} relative in benchmarks/results/mfglib.json",
    )
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--slow-iterations", type=int, default=30, help="iterations for MF-OMO and OMI")
    ap.add_argument("--tol", type=float, default=1e-4)
    add_out(ap, "mfglib_disagreements", committed="benchmarks/results")
    args = ap.parse_args()
    import mfglib.alg  # noqa: F401  (first: avoids mfglib's circular import)
    from mfglib.env import Environment

    mfglearn.set_threads(1)
    warnings.simplefilter("ignore", RuntimeWarning)  # the non-convergence warnings are the point here
    print(
        f"{'environment':30s} {'alg':7s} {'iters':>5s} {'expl mfglearn':>13s} {'expl mfglib':>12s}"
        f" {'no opt_einsum':>13s} {'apart at':>8s} {'mfglib NaN at':>13s} {'float64 +1e-7 apart at':>22s}"
        f" {'mfglib f64':>12s} {'f64 apart at':>11s}"
    )
    rows = []
    for pair in (args.pairs or differing_pairs()).split(","):
        name, sep, label = pair.partition(":")
        if not sep:
            raise SystemExit(f"--pairs: {pair!r} is not env:algorithm (e.g. building_evacuation:PD)")
        matches = [a for a in algorithms(name) if a[0] == label]
        if not matches:
            raise SystemExit(f"{pair}: no algorithm {label!r} on {name} (labels: OMD, FP, PD, MF-OMO, OMI)")
        _, alg, ours, hp, slow = matches[0]
        its = args.slow_iterations if slow else args.iterations
        game = mfglearn.make("mfglib/" + name)
        env = getattr(Environment, name)()
        torch.backends.opt_einsum.enabled = False
        plain = float(alg.solve(env, max_iter=its, atol=None, rtol=None)[1][-1])
        torch.backends.opt_einsum.enabled = torch.backends.opt_einsum.is_available()
        pis, expls, _ = alg.solve(env, max_iter=its, atol=None, rtol=None)
        theirs = [float(e) for e in expls[1:]]  # expls[0] scores the initial policy
        nan_at = next((k for k, pi in enumerate(pis) if torch.isnan(pi).any()), None)
        mine = mfglearn.solve(game, ours, iterations=its, **hp).history["exploitability"]
        step = step_size(ours, hp)
        nudged_apart = "no step size"
        if step is not None:
            key, value = step
            nudged = mfglearn.solve(game, ours, iterations=its, **{**hp, key: value * (1 + 1e-7)})
            nudged_apart = first_apart(mine, nudged.history["exploitability"], args.tol)
        apart = first_apart(mine, theirs, args.tol)
        theirs64 = mfglib_float64_exploitabilities(name, alg, its)
        apart64 = first_apart(mine, theirs64, args.tol)
        rows.append(
            dict(
                env=name,
                algorithm=label,
                iterations=its,
                mfglearn_exploitability=mine[-1],
                mfglib_exploitability=theirs[-1],
                mfglib_no_opt_einsum_exploitability=plain,
                apart_at=apart,
                mfglib_policy_nan_from=nan_at,
                float64_nudged_apart_at=nudged_apart,
                mfglib_float64_exploitability=theirs64[-1],
                mfglib_float64_apart_at=apart64,
            )
        )
        print(
            f"{name:30s} {label:7s} {its:5d} {mine[-1]:13.6g} {theirs[-1]:12.6g} {plain:13.6g}"
            f" {apart!s:>8s} {nan_at!s:>13s} {nudged_apart!s:>22s} {theirs64[-1]:12.6g} {apart64!s:>11s}",
            flush=True,
        )
    out = args.out / "mfglib_disagreements.json"
    command = "python benchmarks/mfglib_disagreements.py"
    atomic_write_json(out, {"tol": args.tol, "threads": 1, "rows": rows, "command": command})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
