"""Multi-population games: predator-prey equilibria and how well they describe N players.

On OpenSpiel's ``predator_prey_5x5x3`` and ``predator_prey_5x5x4`` settings:

* online mirror descent (lr 0.5; 0.2 with four populations, where 0.5 diverges) and greedy
  fictitious play: the total exploitability
  (OpenSpiel's NashConv, the sum over populations) and each population's, over the iterations;
* the equilibrium's populations on the grid over time (one row per population; an animation with
  one colour per population);
* the finite-N gain of one deviating predator: the best Markov deviation against the others'
  realised empirical flows, computed exactly episode by episode
  (``conditional_deviation_gain``), for N = 6 .. 6144 players split equally among the
  populations, with the slope of log(gain) against log(N). Also on the same game without the
  crowd-aversion term ``-log(mu)`` (``congestion_coeff = 0``): the log term pays a deviator
  for finding a cell its population left empty, which N-player measures do until N_p is large
  compared with the 25 cells.

Writes ``populations.json`` and the figures under ``--out`` (default a scratch
folder; the committed run is ``benchmarks/results/populations``).

    python benchmarks/study_populations.py [--iterations 300] [--episodes 200] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.population.nplayer import conditional_deviation_gain
from mfglearn.viz._mpl import pyplot, save
from mfglearn.viz.populations import COLORS, animate_populations, plot_population_snapshots

OUT = scratch("populations")  # benchmarks/results/populations holds the committed run
NS = (6, 24, 96, 384, 1536, 6144)


def slope(ns, gains) -> float:
    """Least-squares slope of log(gain) on log(N) (positive gains only)."""
    pts = [(math.log(n), math.log(g)) for n, g in zip(ns, gains, strict=True) if g > 0]
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--episodes", type=int, default=200)
    add_out(ap, "populations")
    args = ap.parse_args()
    mfglearn.set_threads(1)
    t0 = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    plt = pyplot()
    summary = {
        "command": f"python benchmarks/study_populations.py --iterations {args.iterations} --episodes {args.episodes}",
        "games": {},
    }
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True, squeeze=False)
    for row, gid in enumerate(("openspiel/predator_prey_5x5x3", "openspiel/predator_prey_5x5x4")):
        game = mfglearn.make(gid)
        entry = {"uniform_exploitability": mfglearn.exploitability(game, game.uniform_policy())}
        lr = 0.5 if "5x5x3" in gid else 0.2  # 0.5 diverges on the four-population game (the solver warns)
        for col, (label, solver, hp) in enumerate(
            [
                (f"mirror descent (lr {lr})", "mirror_descent", {"learning_rate": lr}),
                ("fictitious play (greedy)", "fictitious_play", {}),
            ]
        ):
            t = time.time()
            res = mfglearn.solve(game, solver, iterations=args.iterations, **hp)
            secs = time.time() - t
            ax = axes[row, col]
            its = range(1, args.iterations + 1)
            ax.semilogy(its, res.history["exploitability"], color="k", lw=2, label="total (NashConv)")
            for p, name in enumerate(game.populations.names):
                ax.semilogy(its, res.history[f"exploitability[{name}]"], color=COLORS[p], lw=1, label=name)
            ax.set_title(f"{gid.split('/')[1]}: {label}", fontsize=10)
            ax.set_ylabel("exploitability")
            ax.grid(alpha=0.3, which="both")
            entry[solver] = {
                "final_exploitability": res.exploitability,
                "per_population": {n: res.history[f"exploitability[{n}]"][-1] for n in game.populations.names},
                "seconds": secs,
            }
            print(
                f"{gid} {label}: exploitability {res.exploitability:.3e} after {args.iterations} "
                f"iterations ({secs:.1f} s)"
            )
            if solver == "mirror_descent":
                eq = res
        axes[row, 0].legend(fontsize=8)
        tag = gid.split("/")[1]
        plot_population_snapshots(
            game,
            eq.mean_field,
            args.out / f"{tag}_populations.png",
            title=f"{tag}: the mirror-descent equilibrium's populations",
        )
        animate_populations(game, eq.mean_field, args.out / f"{tag}.gif")
        summary["games"][gid] = entry
        if row == 0:
            eq3 = eq
    for ax in axes[1]:
        ax.set_xlabel("iteration")
    save(fig, args.out / "exploitability.png")

    # finite-N gains of one deviating agent of population 0
    game = mfglearn.make("openspiel/predator_prey_5x5x3")
    nolog = mfglearn.make("predator_prey", congestion_coeff=0.0, init="uniform")
    eq_nolog = mfglearn.solve(nolog, "mirror_descent", iterations=args.iterations, learning_rate=0.5)
    curves = {}
    for label, g, pi, e in [
        ("predator_prey_5x5x3", game, eq3.policy, eq3.history["exploitability[pop0]"][-1]),
        ("without -log(mu) (uniform start)", nolog, eq_nolog.policy, eq_nolog.history["exploitability[pop0]"][-1]),
    ]:
        rows = []
        for n in NS:
            r = conditional_deviation_gain(g, pi, n, episodes=args.episodes, seed=0, population=0)
            rows.append({"n": n, "gain": r.gain, "stderr": r.stderr})
            print(f"{label} N = {n:5d}: gain {r.gain:.4g} +- {r.stderr:.2g}")
        tail = rows[-4:] if "5x5x3" in label else rows
        curves[label] = {
            "rows": rows,
            "mean_field_exploitability_pop0": e,
            "slope": slope([r["n"] for r in tail], [r["gain"] for r in tail]),
            "slope_fitted_on_n": [r["n"] for r in tail],
        }
        print(f"  log-log slope over N in {curves[label]['slope_fitted_on_n']}: {curves[label]['slope']:.2f}")
    fig, ax = plt.subplots(figsize=(6, 4))
    for (label, c), color in zip(curves.items(), ("#0072B2", "#D55E00"), strict=True):
        ns = [r["n"] for r in c["rows"]]
        ax.errorbar(
            ns,
            [r["gain"] for r in c["rows"]],
            yerr=[2 * r["stderr"] for r in c["rows"]],
            marker="o",
            capsize=3,
            color=color,
            label=f"{label} (slope {c['slope']:.2f})",
        )
        ax.axhline(c["mean_field_exploitability_pop0"], color=color, ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of players N (split equally among the 3 populations)")
    ax.set_ylabel("gain of the best deviation of one player")
    ax.set_title(
        "Predator-prey: finite-N gain at the mean-field equilibrium\n"
        "(2 s.e. bars; dotted: the policy's mean-field exploitability)",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    save(fig, args.out / "finite_n.png")
    summary["finite_n"] = curves
    summary["seconds"] = time.time() - t0
    summary["torch"] = torch.__version__
    atomic_write_json(args.out / "populations.json", summary)
    print(f"wrote {args.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
