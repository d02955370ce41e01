"""mfglearn vs OpenSpiel 2.0.2: same game, same solver, same iterations, one thread.

Prints wall time per iteration for each library, the speed ratio, and both final
exploitabilities (OpenSpiel's NashConv vs mfglearn's), then writes the table to
openspiel.json under --out (committed: benchmarks/results/openspiel.json).

    python benchmarks/bench_openspiel.py [--iterations 10]

Greedy fictitious play on the symmetric four-rooms map breaks exact ties by
round-off, so its exploitabilities differ after the first iteration (see README);
softmax fictitious play and mirror descent follow the same path in both libraries.
"""

from __future__ import annotations

import argparse
import time

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.solvers import FictitiousPlay, MirrorDescent


def openspiel_run(osg, make_algo, iterations):
    from open_spiel.python.mfg.algorithms import nash_conv

    algo = make_algo(osg)
    t0 = time.perf_counter()
    for _ in range(iterations):
        algo.iteration()
    dt = time.perf_counter() - t0
    return dt / iterations, nash_conv.NashConv(osg, algo.get_policy()).nash_conv()


def mfglearn_run(game, make_solver, iterations, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        s = make_solver(game)
        t0 = time.perf_counter()
        r = s.solve(iterations)
        best = min(best, time.perf_counter() - t0)
    return best / iterations, r.exploitability


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=10)
    add_out(ap, "openspiel", committed="benchmarks/results")
    args = ap.parse_args()
    mfglearn.set_threads(1)
    import pyspiel
    from open_spiel.python.mfg.algorithms import fictitious_play, munchausen_mirror_descent
    from open_spiel.python.mfg.games import crowd_modelling, factory  # noqa: F401

    games = [
        ("openspiel/crowd_modelling", "python_mfg_crowd_modelling", {}),
        (
            "openspiel/crowd_modelling_2d_four_rooms",
            "mfg_crowd_modelling_2d",
            factory.GAME_SETTINGS["crowd_modelling_2d_four_rooms"],
        ),
    ]
    algos = [
        ("fictitious_play (greedy)", lambda g: fictitious_play.FictitiousPlay(g), lambda g: FictitiousPlay(g)),
        (
            "fictitious_play (softmax 0.5)",
            lambda g: fictitious_play.FictitiousPlay(g, temperature=0.5),
            lambda g: FictitiousPlay(g, temperature=0.5),
        ),
        (
            "mirror_descent (lr 0.5)",
            lambda g: munchausen_mirror_descent.MunchausenMirrorDescent(g, lr=0.5),
            lambda g: MirrorDescent(g, learning_rate=0.5),
        ),
    ]
    rows = []
    header = f"{'game':40s} {'solver':30s} {'openspiel ms/it':>15s} {'mfglearn ms/it':>15s} {'speedup':>8s}"
    header += f" {'expl openspiel':>15s} {'expl mfglearn':>15s}"
    print(f"threads=1, iterations={args.iterations}, torch {torch.__version__}")
    print(header)
    for gid, os_name, os_params in games:
        game, osg = mfglearn.make(gid), pyspiel.load_game(os_name, os_params)
        for label, os_algo, our_algo in algos:
            t_os, e_os = openspiel_run(osg, os_algo, args.iterations)
            t_us, e_us = mfglearn_run(game, our_algo, args.iterations)
            rows.append(
                dict(
                    game=gid,
                    solver=label,
                    openspiel_ms=1e3 * t_os,
                    mfglearn_ms=1e3 * t_us,
                    speedup=t_os / t_us,
                    exploitability_openspiel=e_os,
                    exploitability_mfglearn=e_us,
                )
            )
            print(
                f"{gid:40s} {label:30s} {1e3 * t_os:15.2f} {1e3 * t_us:15.3f} {t_os / t_us:7.0f}x"
                f" {e_os:15.8f} {e_us:15.8f}"
            )
    # 200 FP iterations on four rooms, the headline number
    g = mfglearn.make("openspiel/crowd_modelling_2d_four_rooms")
    t200, e200 = mfglearn_run(g, lambda x: FictitiousPlay(x), 200, repeats=3)
    print(f"200 fictitious-play iterations on four rooms (H=40): {200 * t200:.3f} s, exploitability {e200:.4f}")
    out = args.out / "openspiel.json"
    atomic_write_json(out, {"rows": rows, "fp200_four_rooms_seconds": 200 * t200, "torch": torch.__version__})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
