"""A static sparse kernel's pull through its CSR matrix against the successor-by-successor gathers.

    python benchmarks/bench_sparse_pull.py [--batches 1,16,256] [--sweep-iterations 30] [--repeats 4]

A game whose :class:`~mfglearn.model.kernels.SparseKernel` does not depend on the mean field pulls
through the same kernel at every step of every iteration. With 4 or more successors per pair it pulls as
one sparse product ``P v`` (:func:`~mfglearn.model.kernels._pull_by_matrix`), where the fallback gathers
and adds one successor at a time (``PULL_MATRIX_MIN_SUCCESSORS`` raised out of reach). The script times
both, in alternation, in one process, on:

* the pulls alone: MFGLib's crowd motion (400 states, 5 actions, 5 successors) and a random local kernel
  (20,000 states, 5 actions, 5 successors), for ``(B, S)`` values with each ``B`` of ``--batches``;
* a 256-member mirror-descent batch on crowd motion (``solve_batch``, ``--sweep-iterations`` iterations).

It prints the best time of each path, their ratio, and whether the results are the same bits. Writes
``sparse_pull.json`` under ``--out`` (committed: ``benchmarks/results/``).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.model import kernels
from mfglearn.model.kernels import SparseKernel

GATHERS = 1 << 40  # PULL_MATRIX_MIN_SUCCESSORS out of reach: the successor-by-successor path


def local_kernel(S: int, A: int, K: int, seed: int = 0) -> SparseKernel:
    """A game's static kernel with ``K`` successors within 30 states of each source (a grid's locality)."""
    g = torch.Generator().manual_seed(seed)
    index = (torch.arange(S).view(S, 1, 1) + torch.randint(-30, 31, (S, A, K), generator=g)).clamp(0, S - 1)
    prob = torch.rand(S, A, K, generator=g, dtype=torch.float64)
    k = SparseKernel(index, prob / prob.sum(-1, keepdim=True))
    k._reused = True  # as FiniteMFG marks its static kernel
    return k


def best_ms(fn, repeats: int, calls: int) -> float:
    fn()
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls * 1e3)
    return best


def time_pulls(k: SparseKernel, B: int, repeats: int) -> dict:
    v = torch.randn(k.n_states if B == 1 else (B, k.n_states), dtype=torch.float64)
    calls = max(3, 20000 // (B * k.n_states // 100 + 1))
    default = kernels.PULL_MATRIX_MIN_SUCCESSORS
    times = {"gathers": [], "matrix": []}
    out = {}
    try:
        for _ in range(repeats):
            for path, limit in (("gathers", GATHERS), ("matrix", default)):
                kernels.PULL_MATRIX_MIN_SUCCESSORS = limit
                times[path].append(best_ms(lambda: k.pull(v), 1, calls))
                out[path] = k.pull(v)
    finally:
        kernels.PULL_MATRIX_MIN_SUCCESSORS = default
    g, m = min(times["gathers"]), min(times["matrix"])
    return dict(gathers_ms=g, matrix_ms=m, ratio=g / m, same_bits=torch.equal(out["gathers"], out["matrix"]))


def time_sweep(iterations: int, repeats: int) -> dict:
    game = mfglearn.make("mfglib/crowd_motion")
    rates = torch.logspace(-2, 1, 256, dtype=torch.float64).tolist()
    default = kernels.PULL_MATRIX_MIN_SUCCESSORS
    times = {"gathers": [], "matrix": []}
    hist = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the grid's large steps do not converge
            mfglearn.solve_batch(game, "mirror_descent", 2, learning_rate=rates)  # warm-up
            for _ in range(repeats):
                for path, limit in (("gathers", GATHERS), ("matrix", default)):
                    kernels.PULL_MATRIX_MIN_SUCCESSORS = limit
                    t0 = time.perf_counter()
                    res = mfglearn.solve_batch(game, "mirror_descent", iterations, learning_rate=rates)
                    times[path].append(time.perf_counter() - t0)
                    hist[path] = [r.history["exploitability"] for r in res]
    finally:
        kernels.PULL_MATRIX_MIN_SUCCESSORS = default
    g, m = min(times["gathers"]), min(times["matrix"])
    return dict(gathers_s=g, matrix_s=m, ratio=g / m, same_bits=hist["gathers"] == hist["matrix"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", default="1,16,256", help="comma-separated B of the (B, S) values pulled")
    ap.add_argument("--sweep-iterations", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=4, help="alternating timings per case; the best is kept")
    add_out(ap, "sparse_pull", committed="benchmarks/results")
    args = ap.parse_args()
    mfglearn.set_threads(1)
    try:
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        ap.error(f"--batches: {args.batches!r} is not a comma-separated list of integers")
    cases = {
        "mfglib/crowd_motion": mfglearn.make("mfglib/crowd_motion").kernel_at(0),
        "local 20000x5x5": local_kernel(20000, 5, 5),
    }
    print(f"{'kernel':22s} {'B':>5s} {'gathers ms':>11s} {'matrix ms':>10s} {'ratio':>6s} {'same bits':>9s}")
    rows = []
    for name, k in cases.items():
        for B in batches:
            row = dict(kernel=name, B=B, **time_pulls(k, B, args.repeats))
            rows.append(row)
            print(
                f"{name:22s} {B:5d} {row['gathers_ms']:11.3f} {row['matrix_ms']:10.3f} {row['ratio']:6.2f}"
                f" {str(row['same_bits']):>9s}"
            )
    sweep = time_sweep(args.sweep_iterations, args.repeats)
    print(
        f"crowd motion, 256-member mirror-descent batch, {args.sweep_iterations} iterations: gathers "
        f"{sweep['gathers_s']:.2f} s, matrix {sweep['matrix_s']:.2f} s, ratio {sweep['ratio']:.2f}, "
        f"same bits {sweep['same_bits']}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "sparse_pull.json"
    command = "python benchmarks/bench_sparse_pull.py"
    atomic_write_json(
        out,
        {
            "command": command,
            "threads": 1,
            "repeats": args.repeats,
            "pulls": rows,
            "sweep": {"iterations": args.sweep_iterations, "members": 256, **sweep},
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
