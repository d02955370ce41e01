"""Results directories, resuming, figures and a small sweep from Python.

python examples/run_and_sweep.py [--quick] [--out DIR]      (figures need: pip install 'mfglearn[plot]')

The run directories go under ``--out`` (default ``./run_and_sweep_results``), to look at or resume afterwards.
"""

import argparse
from pathlib import Path

import mfglearn
from mfglearn.runs import rundir, sweep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small budgets (the tests run this)")
    ap.add_argument("--out", type=Path, default=Path("run_and_sweep_results"), help="where the runs are written")
    args = ap.parse_args()
    iterations = 15 if args.quick else 50
    mfglearn.set_threads(1)
    root = args.out.resolve()
    if (root / "omd").exists() or (root / "sweep").exists():
        ap.error(f"--out {root} already holds runs of this example: pass another directory")
    game = mfglearn.make("four_rooms", horizon=30)
    start = mfglearn.exploitability(game, mfglearn.uniform_policy(game))
    res = rundir.run("four_rooms", "mirror_descent", iterations, root / "omd", {"horizon": 30}, {"learning_rate": 0.1})
    print(f"exploitability mirror descent run: {start:.4f} -> {res.exploitability:.4f}")
    more = rundir.resume_run(root / "omd", iterations=2 * iterations)  # extend the finished run
    print(
        f"exploitability resumed to {2 * iterations} iterations: {res.exploitability:.4f} -> {more.exploitability:.4f}"
    )
    print(f"files in {root / 'omd'}:", sorted(p.name for p in (root / "omd").iterdir()))
    grid = {"solver.learning_rate": [0.03, 0.1, 0.3]}
    out = sweep.sweep("beach_bar", "mirror_descent", grid, iterations=iterations, out=root / "sweep", workers=2)
    beach = mfglearn.make("beach_bar")
    start = mfglearn.exploitability(beach, mfglearn.uniform_policy(beach))
    print(
        f"exploitability best of the sweep {out['best']['config']}: {start:.4f} -> "
        f"{out['best']['mean_exploitability']:.4f}"
    )
    try:
        from mfglearn.viz import plot_run

        print("figures:", plot_run(root / "omd"))
    except ImportError:
        print("(pip install 'mfglearn[plot]' for figures)")


# the local sweep backend starts processes with "spawn": keep script code under this guard
if __name__ == "__main__":
    main()
