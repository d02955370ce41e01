"""A static dense kernel's push with and without its kept reordered copy, side by side in one run.

    python benchmarks/bench_dense_static.py [--sizes 20x4x50,100x5x50,300x5x30] [--iterations 30] [--repeats 3]

A game built from a dense ``(S, A, S)`` transition tensor that does not depend on the mean field pushes
through the same kernel at every step of every iteration. The push multiplies by ``P`` reordered to
``(A S, S)``, the order torch's einsum uses (so the bits stay einsum's). The kernel keeps that copy
(:meth:`~mfglearn.model.kernels.DenseKernel._push_matrix`). This script times mirror descent on random
games of each size ``SxAxH`` twice in alternation, once with the copy kept and once rebuilt on every push
(``DENSE_PUSH_COPY_MAX = 0``). It prints ms per iteration for both, their ratio, and whether the
exploitabilities agree bit for bit. Writes ``dense_static.json`` under ``--out`` (committed: ``benchmarks/results/``).
"""

from __future__ import annotations

import argparse
import time

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn import FiniteMFG
from mfglearn._common.io import atomic_write_json
from mfglearn.model import kernels


def random_game(S: int, A: int, H: int, seed: int = 0) -> FiniteMFG:
    """A random static dense game: softmax rows of Gaussian logits, Gaussian rewards, uniform ``mu0``."""
    g = torch.Generator().manual_seed(seed)
    P = torch.softmax(torch.randn(S, A, S, generator=g, dtype=torch.float64), -1)
    R = torch.randn(S, A, generator=g, dtype=torch.float64)
    mu0 = torch.full((S,), 1.0 / S, dtype=torch.float64)
    return FiniteMFG(n_states=S, n_actions=A, mu0=mu0, reward=R, transition=P, horizon=H, name=f"dense {S}x{A}x{H}")


def ms_per_iteration(S: int, A: int, H: int, iterations: int, keep: bool) -> tuple[float, list[float]]:
    """ms per mirror-descent iteration on a fresh game (its kernel keeps the copy or not) and the history."""
    limit = kernels.DENSE_PUSH_COPY_MAX
    kernels.DENSE_PUSH_COPY_MAX = limit if keep else 0
    try:
        game = random_game(S, A, H)
        mfglearn.solve(game, "mirror_descent", iterations=2)  # warm-up (and the copy, when kept)
        t0 = time.perf_counter()
        res = mfglearn.solve(game, "mirror_descent", iterations=iterations)
        return (time.perf_counter() - t0) / iterations * 1e3, res.history["exploitability"]
    finally:
        kernels.DENSE_PUSH_COPY_MAX = limit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="20x4x50,100x5x50,300x5x30", help="comma-separated SxAxH")
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3, help="alternating timings per size; the best is kept")
    add_out(ap, "dense_static", committed="benchmarks/results")
    args = ap.parse_args()
    mfglearn.set_threads(1)
    print(f"{'S x A x H':>12s} {'rebuilt ms':>11s} {'kept ms':>9s} {'ratio':>6s} {'same bits':>9s}")
    rows = []
    for size in args.sizes.split(","):
        try:
            S, A, H = (int(x) for x in size.lower().split("x"))
        except ValueError:
            ap.error(f"--sizes: {size!r} is not SxAxH (e.g. 100x5x50)")
        rebuilt, kept, same = [], [], True
        for _ in range(args.repeats):
            ms_off, hist_off = ms_per_iteration(S, A, H, args.iterations, keep=False)
            ms_on, hist_on = ms_per_iteration(S, A, H, args.iterations, keep=True)
            rebuilt.append(ms_off)
            kept.append(ms_on)
            same = same and hist_off == hist_on
        row = dict(S=S, A=A, H=H, rebuilt_ms=min(rebuilt), kept_ms=min(kept), ratio=min(rebuilt) / min(kept))
        row["same_bits"] = same
        rows.append(row)
        print(f"{size:>12s} {row['rebuilt_ms']:11.3f} {row['kept_ms']:9.3f} {row['ratio']:6.2f} {str(same):>9s}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "dense_static.json"
    command = "python benchmarks/bench_dense_static.py"
    atomic_write_json(out, {"command": command, "iterations": args.iterations, "threads": 1, "rows": rows})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
