"""Seconds per iteration of the exact solvers on small single-population games, as JSON, to compare checkouts.

Run it on two checkouts, alternating, and compare (ratios; machines are noisy, so take the best of runs)::

    git worktree add /tmp/old b539f83
    PYTHONPATH=/tmp/old/src python benchmarks/time_solvers.py > old.json
    python benchmarks/time_solvers.py > new.json
    python benchmarks/time_solvers.py --diff old.json new.json

One thread; 40 iterations, best of 5 repeats, per (game, solver); about a minute.
"""

from __future__ import annotations

import argparse
import json
import time

GAMES = ("four_rooms", "openspiel/crowd_modelling", "beach_bar", "mfglib/beach_bar", "sis")
SOLVERS = (("fictitious_play", {}), ("mirror_descent", {"learning_rate": 0.1}))


def measure(iterations: int = 40, repeats: int = 5) -> dict:
    import mfglearn

    mfglearn.set_threads(1)
    out = {}
    for gid in GAMES:
        game = mfglearn.make(gid)
        for solver, hp in SOLVERS:
            best, res = float("inf"), None
            for _ in range(repeats):
                t = time.perf_counter()
                res = mfglearn.solve(game, solver, iterations=iterations, **hp)
                best = min(best, time.perf_counter() - t)
            out[f"{gid} {solver}"] = {"seconds_per_iteration": best / iterations, "exploitability": res.exploitability}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--diff", nargs=2, metavar=("OLD", "NEW"), help="compare two outputs of this script")
    args = ap.parse_args()
    if not args.diff:
        print(json.dumps(measure()))
        return
    old, new = (json.load(open(p)) for p in args.diff)
    for key in old:
        o, n = old[key], new[key]
        ratio = n["seconds_per_iteration"] / o["seconds_per_iteration"]
        same = o["exploitability"] == n["exploitability"]
        print(
            f"{key:42s} old {1e3 * o['seconds_per_iteration']:8.3f} ms/it  new {1e3 * n['seconds_per_iteration']:8.3f}"
            f" ms/it  new/old {ratio:5.2f}  same exploitability {same}"
        )


if __name__ == "__main__":
    main()
