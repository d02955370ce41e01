"""Cost of checking game data through time: mirror descent per iteration with FiniteMFG.validate on and off.

    python benchmarks/bench_validation.py

One thread, best of 5 runs of 50 iterations each; prints the ratio (validate=True / validate=False).
"""

from __future__ import annotations

import time

import torch

import mfglearn


def per_iteration_ms(game, repeats: int = 5, iterations: int = 50) -> float:
    mfglearn.solve(game, "mirror_descent", iterations=5, learning_rate=0.1)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        mfglearn.solve(game, "mirror_descent", iterations=iterations, learning_rate=0.1)
        best = min(best, time.perf_counter() - t0)
    return best / iterations * 1e3


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(f"{'game':20s} {'checked ms/it':>14s} {'unchecked ms/it':>16s} {'ratio':>7s}")
    for gid in ("beach_bar", "mfglib/beach_bar", "four_rooms"):
        game = mfglearn.make(gid)
        game.validate = True
        on = per_iteration_ms(game)
        game.validate = False
        off = per_iteration_ms(game)
        print(f"{gid:20s} {on:14.3f} {off:16.3f} {on / off:7.3f}")
