"""Aten operators, host syncs and time per solver iteration on small games, rewards per step vs batched.

    python benchmarks/ops_per_iteration.py [--solver mirror_descent] [--iterations 200] [--out DIR]

Small games are dispatch-bound: the arithmetic of one iteration on MFGLib's beach bar is nothing next to
the per-operator overhead, so what counts is how many operators an iteration dispatches. This script counts
them with the torch profiler for one iteration (after a warm-up), on every MFGLib environment, with each
game's rewards computed in one call per flow (``batched_reward``, the default) and one call per time step
(``batched_reward=False``, what the mfglib/* games did before), and times both over ``--iterations``. The
two give the same exploitability (printed).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.games.peers.mfglib import ENVS


def count_ops(algo) -> tuple[int, int]:
    """Aten operators and host synchronisations (``item`` / ``_local_scalar_dense``) of one ``algo.step()``."""
    from torch.profiler import ProfilerActivity, profile

    saved = os.dup(2)  # the profiler's C++ side logs every start and stop on fd 2: keep the table readable
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                algo.step()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    events = [e for e in prof.events() if e.name.startswith("aten::")]
    syncs = sum(e.name == "aten::_local_scalar_dense" for e in events)  # what item(), float(), bool() call
    # count top-level operators only: an aten op called from inside another is part of its caller
    top = [e for e in events if e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")]
    return len(top), syncs


def measure(gid: str, batched: bool, solver: str, iterations: int) -> dict:
    game = mfglearn.make(gid)
    game.batched_reward = batched
    algo = mfglearn.make_algorithm(game, solver)
    algo.step()  # warm-up
    ops, syncs = count_ops(algo)
    algo = mfglearn.make_algorithm(game, solver)
    t0 = time.perf_counter()
    res = algo.solve(iterations)
    ms = 1e3 * (time.perf_counter() - t0) / iterations
    return {"ops": ops, "syncs": syncs, "ms": ms, "exploitability": res.exploitability}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--solver", default="mirror_descent")
    ap.add_argument("--iterations", type=int, default=200)
    add_out(ap, "ops_per_iteration", committed="benchmarks/results/ops_per_iteration.json")
    args = ap.parse_args()
    mfglearn.set_threads(1)
    torch.set_num_threads(1)
    rows = []
    print(f"{args.solver}, one thread; ops = top-level aten operators of one iteration")
    print(
        f"{'environment':34s} {'ops per step':>13s} {'ops batched':>12s} {'ms per step':>12s} {'ms batched':>11s}"
        f" {'speed-up':>9s}  same exploitability"
    )
    for gid in ENVS:
        before = measure(gid, False, args.solver, args.iterations)
        after = measure(gid, True, args.solver, args.iterations)
        same = abs(before["exploitability"] - after["exploitability"]) <= 1e-12 * max(
            1.0, abs(before["exploitability"])
        )
        rows.append({"game": gid, "per_step": before, "batched": after, "same_exploitability": same})
        print(
            f"{gid:34s} {before['ops']:13d} {after['ops']:12d} {before['ms']:12.3f} {after['ms']:11.3f}"
            f" {before['ms'] / after['ms']:8.2f}x  {same}"
        )
    path = args.out if args.out.suffix == ".json" else args.out / "ops_per_iteration.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        path,
        {
            "command": "python benchmarks/ops_per_iteration.py",
            "solver": args.solver,
            "iterations": args.iterations,
            "rows": rows,
            "torch": torch.__version__,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
