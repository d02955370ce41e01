"""Finite-N study: how well the mean-field equilibrium describes N players.

On the beach bar (log crowd aversion) and the discrete linear-quadratic game, an
(almost exact) equilibrium is computed by online mirror descent; then ``N`` agents
play it in the N-player game for ``N = 2 .. 2000``:

* the finite-N exploitability: the expected gain of one deviator while the N - 1
  others keep the equilibrium policy, computed exactly given each episode's realised
  empirical flow of the others (``conditional_deviation_gain``), for the best Markov
  deviation against the others' random flows and for the mean-field best response,
  with 2-standard-error bands; both tend to the mean-field exploitability of the
  policy;
* the l1 distance between the N-player empirical state distribution and the mean
  field, averaged over time and episodes, against a ``C / sqrt(N)`` line.

Writes ``finite_n.png`` and ``summary.json`` under ``--out`` (committed: ``benchmarks/results/finite_n``).

    python benchmarks/study_finite_n.py [--episodes 2000]
"""

from __future__ import annotations

import argparse
import math
import time

from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.population.nplayer import conditional_deviation_gain, simulate
from mfglearn.viz._mpl import pyplot, save

OUT = scratch("finite_n")  # --out sets it; benchmarks/results/finite_n holds the committed run
NS = (2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)


def study(game_id: str, episodes: int, axes) -> dict:
    game = mfglearn.make(game_id)
    eq = mfglearn.solve(game, "mirror_descent", iterations=1000, learning_rate=0.1)
    print(f"{game_id}: equilibrium by OMD, mean-field exploitability {eq.exploitability:.2e}")
    rows = []
    for n in NS:
        fe = conditional_deviation_gain(game, eq.policy, n, episodes=episodes, seed=n)
        fm = conditional_deviation_gain(game, eq.policy, n, episodes=episodes, seed=n, deviation="mean_field")
        ro = simulate(game, eq.policy, n, episodes=min(episodes, 500), seed=10_000 + n)
        dist = float((ro.empirical - eq.mean_field.unsqueeze(0)).abs().sum(-1).mean())
        rows.append(
            dict(
                n_agents=n,
                gain=fe.gain,
                stderr=fe.stderr,
                mean_field_br_gain=fm.gain,
                mean_field_br_stderr=fm.stderr,
                empirical_l1_distance=dist,
            )
        )
        print(
            f"  N={n:5d}: best deviation gain {fe.gain:+.4f} +- {2 * fe.stderr:.4f}, mean-field BR "
            f"{fm.gain:+.4f} +- {2 * fm.stderr:.4f}   E|mu_N - mu|_1 {dist:.4f}"
        )
    ns = [r["n_agents"] for r in rows]
    axes[0].errorbar(
        ns,
        [r["gain"] for r in rows],
        yerr=[2 * r["stderr"] for r in rows],
        fmt="o-",
        capsize=3,
        label="best Markov deviation (finite-N exploitability)",
    )
    axes[0].errorbar(
        ns,
        [r["mean_field_br_gain"] for r in rows],
        yerr=[2 * r["mean_field_br_stderr"] for r in rows],
        fmt="s--",
        capsize=3,
        label="deviation to the mean-field best response",
    )
    axes[0].axhline(eq.exploitability, color="k", lw=0.8, ls=":", label="mean-field exploitability")
    axes[0].set_xscale("log")
    axes[0].set_yscale("symlog", linthresh=1e-3)
    axes[0].set_xlabel("number of players N")
    axes[0].set_ylabel("gain of one deviator (total reward)")
    axes[0].set_title(f"{game_id}: finite-N exploitability of the MFE")
    axes[0].legend(fontsize=8)
    dists = [r["empirical_l1_distance"] for r in rows]
    c = dists[-1] * math.sqrt(ns[-1])
    axes[1].loglog(ns, dists, "o-", label="E |mu_N(t) - mu(t)|_1")
    axes[1].loglog(ns, [c / math.sqrt(n) for n in ns], "k--", lw=0.8, label="C / sqrt(N)")
    axes[1].set_xlabel("number of players N")
    axes[1].set_title(f"{game_id}: empirical measure vs mean field")
    axes[1].legend(fontsize=8)
    slope = math.log(dists[-1] / dists[3]) / math.log(ns[-1] / ns[3])
    print(f"  log-log slope of the empirical distance (N >= {ns[3]}): {slope:.3f}")
    return dict(mean_field_exploitability=eq.exploitability, rows=rows, empirical_distance_loglog_slope=slope)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=500)
    ap.add_argument("--games", default="beach_bar,lq_discrete")
    add_out(ap, "finite_n")
    args = ap.parse_args()
    global OUT
    OUT = args.out
    mfglearn.set_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    games = args.games.split(",")
    plt = pyplot()
    fig, axes = plt.subplots(len(games), 2, figsize=(12, 4.2 * len(games)), squeeze=False)
    summary = {g: study(g, args.episodes, axes[i]) for i, g in enumerate(games)}
    fig.tight_layout()
    save(fig, OUT / "finite_n.png")
    summary["seconds"] = time.perf_counter() - t0
    summary["command"] = f"python benchmarks/study_finite_n.py --episodes {args.episodes} --games {args.games}"
    atomic_write_json(OUT / "summary.json", summary)
    print(f"wrote {OUT} in {summary['seconds']:.0f}s")


if __name__ == "__main__":
    main()
