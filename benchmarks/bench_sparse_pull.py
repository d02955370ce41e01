"""A static sparse kernel's pull through its CSR matrix against the successor-by-successor gathers.

    python benchmarks/bench_sparse_pull.py [--batches 1,16,256] [--sweep-iterations 30] [--repeats 4]

A game whose :class:`~mfglearn.model.kernels.SparseKernel` does not depend on the mean field pulls
through the same kernel at every step of every iteration. With 3 or more successors per pair it pulls as
one sparse product ``v P^T`` (:func:`~mfglearn.model.kernels._pull_by_matrix`), where the fallback gathers
and adds one successor at a time (``PULL_MATRIX_MIN_SUCCESSORS`` raised out of reach). The script times
three paths, in alternation, in one process:

* ``gathers``: the successor-by-successor fallback;
* ``matrix``: the library's product, ``(B, S)`` values times the transposed (CSC) matrix, which comes out
  in the ``(B, S A)`` layout the solvers read (forced on for 1 and 2 successors, which do not take it);
* ``P v^T``: the product the library used before (the CSR matrix times the transposed values), whose
  result came out transposed and was copied back;

on the pulls alone: MFGLib's crowd motion (400 states, 5 actions, 5 successors) and random local kernels
(20,000 states, 5 actions, 1 to 5 successors), for ``(B, S)`` values with each ``B`` of ``--batches``; and on
a 256-member mirror-descent batch on crowd motion (``solve_batch``, ``--sweep-iterations`` iterations).

It prints the best time of each path, the ratios, whether the results are the same bits, and which path the
library takes. Writes ``sparse_pull.json`` under ``--out`` (committed: ``benchmarks/results/``).
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


def transposed_product(k: SparseKernel, v: torch.Tensor) -> torch.Tensor:
    """The matrix pull as the library computed it before: ``(P v^T)^T`` made contiguous."""
    P = k.__dict__["_pull_matrix"][1]
    flat = v.reshape(-1, k.n_states)
    return (P @ flat.T).T.contiguous().view(*v.shape[:-1], k.n_states, k.n_actions)


def time_pulls(k: SparseKernel, B: int, repeats: int) -> dict:
    v = torch.randn(k.n_states if B == 1 else (B, k.n_states), dtype=torch.float64)
    calls = max(3, 20000 // (B * k.n_states // 100 + 1))
    default = kernels.PULL_MATRIX_MIN_SUCCESSORS
    takes = "matrix" if kernels._pulls_by_matrix(k, v) else "gathers"
    times = {"gathers": [], "matrix": [], "transposed": []}
    out = {}
    try:
        for _ in range(repeats):
            for path, limit in (("gathers", GATHERS), ("matrix", 1)):
                kernels.PULL_MATRIX_MIN_SUCCESSORS = limit
                times[path].append(best_ms(lambda: k.pull(v), 1, calls))
                out[path] = k.pull(v)
            times["transposed"].append(best_ms(lambda: transposed_product(k, v), 1, calls))
            out["transposed"] = transposed_product(k, v)
    finally:
        kernels.PULL_MATRIX_MIN_SUCCESSORS = default
    g, m, t = min(times["gathers"]), min(times["matrix"]), min(times["transposed"])
    same = torch.equal(out["gathers"], out["matrix"]) and torch.equal(out["gathers"], out["transposed"])
    return dict(
        gathers_ms=g,
        matrix_ms=m,
        transposed_ms=t,
        ratio=g / m,
        ratio_to_transposed=t / m,
        same_bits=same,
        library_takes=takes,
    )


def time_sweep(iterations: int, repeats: int) -> dict:
    game = mfglearn.make("mfglib/crowd_motion")
    rates = torch.logspace(-2, 1, 256, dtype=torch.float64).tolist()
    default, product = kernels.PULL_MATRIX_MIN_SUCCESSORS, kernels._pull_by_matrix
    times = {"gathers": [], "matrix": [], "transposed": []}
    hist = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the grid's large steps do not converge
            mfglearn.solve_batch(game, "mirror_descent", 2, learning_rate=rates)  # warm-up
            for _ in range(repeats):
                for path, limit, fn in (
                    ("gathers", GATHERS, product),
                    ("matrix", default, product),
                    ("transposed", default, transposed_product),
                ):
                    kernels.PULL_MATRIX_MIN_SUCCESSORS, kernels._pull_by_matrix = limit, fn
                    t0 = time.perf_counter()
                    res = mfglearn.solve_batch(game, "mirror_descent", iterations, learning_rate=rates)
                    times[path].append(time.perf_counter() - t0)
                    hist[path] = [r.history["exploitability"] for r in res]
    finally:
        kernels.PULL_MATRIX_MIN_SUCCESSORS, kernels._pull_by_matrix = default, product
    g, m, t = min(times["gathers"]), min(times["matrix"]), min(times["transposed"])
    same = hist["gathers"] == hist["matrix"] == hist["transposed"]
    return dict(gathers_s=g, matrix_s=m, transposed_s=t, ratio=g / m, ratio_to_transposed=t / m, same_bits=same)


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
    cases = {"mfglib/crowd_motion": mfglearn.make("mfglib/crowd_motion").kernel_at(0)}
    cases.update({f"local 20000x5x{K}": local_kernel(20000, 5, K) for K in (1, 2, 3, 5)})
    print(
        f"{'kernel':22s} {'B':>5s} {'gathers ms':>11s} {'matrix ms':>10s} {'P v^T ms':>9s} {'gathers/matrix':>15s}"
        f" {'P v^T/matrix':>13s} {'same bits':>9s}  library takes"
    )
    rows = []
    for name, k in cases.items():
        for B in batches:
            row = dict(kernel=name, B=B, **time_pulls(k, B, args.repeats))
            rows.append(row)
            print(
                f"{name:22s} {B:5d} {row['gathers_ms']:11.3f} {row['matrix_ms']:10.3f} {row['transposed_ms']:9.3f}"
                f" {row['ratio']:15.2f} {row['ratio_to_transposed']:13.2f} {str(row['same_bits']):>9s}  "
                + row["library_takes"]
            )
    sweep = time_sweep(args.sweep_iterations, args.repeats)
    print(
        f"crowd motion, 256-member mirror-descent batch, {args.sweep_iterations} iterations: gathers "
        f"{sweep['gathers_s']:.2f} s, matrix {sweep['matrix_s']:.2f} s, P v^T {sweep['transposed_s']:.2f} s; "
        f"gathers/matrix {sweep['ratio']:.2f}, P v^T/matrix {sweep['ratio_to_transposed']:.2f}, "
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
