"""Where ``bench_mfglib.py``'s final exploitabilities differ between the libraries: which side is wrong.

For each ``env:algorithm`` pair (the benchmark's settings, MFGLib's defaults), run both libraries
iterate by iterate and print:

- the first iterate where the two exploitabilities differ by more than ``--tol`` (relative), MFGLib run
  with torch's opt_einsum path enabled, and its final exploitability with opt_einsum disabled (the
  benchmark's first configuration): where MFGLib's two configurations disagree with each other, float32
  round-off alone moves its result;
- the first iterate whose MFGLib policy holds a NaN (MFGLib's ``exploitability_score`` of a NaN policy
  is still a finite number, so its curve can look converged);
- how sensitive the float64 path is: mfglearn run again with its step size changed by ``1e-7`` relative
  (about float32's round-off), and the first iterate where that run leaves the unperturbed one.

When the perturbed float64 run separates about as early as MFGLib does, the difference is round-off
amplified by an iteration that does not converge, not an error on either side.

    python benchmarks/mfglib_disagreements.py [--pairs building_evacuation:PD,rock_paper_scissors:OMD]

Writes ``mfglib_disagreements.json`` under ``--out`` (committed: ``benchmarks/results/``).
"""

from __future__ import annotations

import argparse
import warnings

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)
from bench_mfglib import algorithms  # noqa: E402  (benchmarks/bench_mfglib.py)

import mfglearn
from mfglearn._common.io import atomic_write_json

PAIRS = (
    "building_evacuation:PD,building_evacuation:OMD,rock_paper_scissors:OMD,susceptible_infected:MF-OMO,"
    "linear_quadratic:MF-OMO,conservative_treasure_hunting:FP"
)
STEP_KEYS = ("learning_rate", "temperature")


def first_apart(a: list[float], b: list[float], tol: float) -> int | None:
    """1-based iterate where ``a`` and ``b`` first differ by more than ``tol`` relative, or None."""
    return next((k + 1 for k, (x, y) in enumerate(zip(a, b, strict=True)) if abs(x - y) > tol * max(1.0, abs(x))), None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", default=PAIRS, help="comma-separated env:algorithm (algorithm as bench_mfglib labels)")
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
    )
    rows = []
    for pair in args.pairs.split(","):
        name, label = pair.split(":")
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
        key = next((k for k in STEP_KEYS if k in hp), None)
        nudged_apart = None
        if key is not None:
            nudged = mfglearn.solve(game, ours, iterations=its, **{**hp, key: hp[key] * (1 + 1e-7)})
            nudged_apart = first_apart(mine, nudged.history["exploitability"], args.tol)
        apart = first_apart(mine, theirs, args.tol)
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
                float64_nudged_apart_at=nudged_apart if key is not None else "no step size",
            )
        )
        sensitive = str(nudged_apart) if key is not None else "no step size"
        print(
            f"{name:30s} {label:7s} {its:5d} {mine[-1]:13.6g} {theirs[-1]:12.6g} {plain:13.6g}"
            f" {apart!s:>8s} {nan_at!s:>13s} {sensitive:>22s}",
            flush=True,
        )
    out = args.out / "mfglib_disagreements.json"
    command = "python benchmarks/mfglib_disagreements.py"
    atomic_write_json(out, {"tol": args.tol, "threads": 1, "rows": rows, "command": command})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
