"""Results directories, resuming, figures and a small sweep from Python.

python examples/run_and_sweep.py      (figures need: pip install 'mfglearn[plot]')
"""

import tempfile
from pathlib import Path

import mfglearn
from mfglearn.runs import rundir, sweep


def main() -> None:
    mfglearn.set_threads(1)
    root = Path(tempfile.mkdtemp(prefix="mfglearn-"))
    res = rundir.run("four_rooms", "mirror_descent", 50, root / "omd", {"horizon": 30}, {"learning_rate": 0.1})
    print("run:", root / "omd", "exploitability", res.exploitability)
    print("files:", sorted(p.name for p in (root / "omd").iterdir()))
    grid = {"solver.learning_rate": [0.03, 0.1, 0.3]}
    out = sweep.sweep("beach_bar", "mirror_descent", grid, iterations=50, out=root / "sweep", workers=2)
    print("best:", out["best"])
    try:
        from mfglearn.viz import animate_grid

        game = mfglearn.make("four_rooms", horizon=30)
        print("animation:", animate_grid(game, res.mean_field, root / "crowd.gif"))
    except ImportError:
        pass


# the local sweep backend starts processes with "spawn": keep script code under this guard
if __name__ == "__main__":
    main()
