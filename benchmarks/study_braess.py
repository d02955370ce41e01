"""Braess's paradox in the dynamic routing game (OpenSpiel's ``dynamic_routing_braess`` setting).

Five vehicles go from O to E on Braess's network (BPR travel times, T = 100 steps of 0.05):

* the mean-field equilibrium by online mirror descent and fictitious play: the travel time of
  each of the three paths over the iterations (Wardrop: at equilibrium every used path is a
  quickest one);
* the social optimum: the mean-field control problem min_pi J(pi, mu^pi). Every vehicle leaves
  at t = 0 and the dynamics are deterministic, so every policy is a split of the vehicles over the
  three paths; the optimum is found by exhaustive search over that simplex (step 1/80) with the
  exact evaluation. The gradient-based ``mfc_open_loop`` does not apply: the waiting time is a
  floor of the travel time, piecewise constant in the mean field, so no gradient sees congestion;
* the same network without the link B->C, where equilibrium and optimum coincide;
* the price of anarchy, and the continuous-time Wardrop values as an independent check
  (equilibrium 3.75, optimum 3.5, price of anarchy 15/14);
* the finite-N gain of one vehicle deviating from the equilibrium to its mean-field best
  response, as the number of vehicles grows (simulated N-player game, common random numbers).

Writes ``braess.json`` and the figures ``path_times.png``, ``network.png``, ``finite_n.png``
under ``--out`` (default a scratch folder; the committed run is ``benchmarks/results/braess``).

    python benchmarks/study_braess.py [--iterations 60] [--episodes 400] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.core import routes
from mfglearn.games import routing
from mfglearn.population.nplayer import finite_n_exploitability
from mfglearn.viz._mpl import pyplot, save
from mfglearn.viz.populations import plot_network_flows

OUT = scratch("braess")  # benchmarks/results/braess holds the committed run
NS = (5, 10, 20, 40, 80, 160)


def path_history(game, solver: str, iterations: int, paths, **hp) -> dict:
    """Travel time of every path under each iterate, and the iterates' exploitability."""
    times, expl = [], []

    def cb(algo, info):
        times.append(routes.path_travel_times(game, algo.policy, paths))
        expl.append(info["exploitability"])

    res = mfglearn.solve(game, solver, iterations=iterations, callback=cb, **hp)
    return {"result": res, "times": times, "exploitability": expl}


def split_policy(game, a: float, c: float) -> torch.Tensor:
    """Shares a (A-B-D), c (A-B-C-D) and 1 - a - c (A-C-D) of the vehicles, at every time."""
    lay = game.layout["routing"]
    net = lay.network
    pi = game.uniform_policy()
    iA = net.link_index("O->A")
    iB = net.link_index("A->B")
    sA, sB = lay.state(iA, 0), lay.state(iB, 0)
    to_B = lay.successors[iA].index(net.link_index("A->B"))
    to_C = lay.successors[iB].index(net.link_index("B->C"))
    pi[:, sA] = 0.0
    pi[:, sA, to_B] = a + c
    pi[:, sA, 1 - to_B] = 1.0 - a - c
    q = c / (a + c) if a + c > 0 else 0.0
    pi[:, sB] = 0.0
    pi[:, sB, to_C] = q
    pi[:, sB, 1 - to_C] = 1.0 - q
    return pi


def social_optimum(game, steps: int) -> dict:
    from mfglearn.core.flow import mean_field_flow
    from mfglearn.core.value import evaluate_policy, freeze

    best = None
    for i in range(steps + 1):
        for j in range(steps + 1 - i):
            a, c = i / steps, j / steps
            pi = split_policy(game, a, c)
            mdp = freeze(game, mean_field_flow(game, pi))
            cost = -float((mdp.mu0 * evaluate_policy(mdp, pi)[0][0]).sum())
            if best is None or cost < best["travel_time"] - 1e-12:
                best = {"travel_time": cost, "shares": {"A-B-D": a, "A-B-C-D": c, "A-C-D": 1 - a - c}, "policy": pi}
    return best


def without_bc() -> mfglearn.FiniteMFG:
    net = routing.builtin_network("braess")
    links = tuple(lk for lk in net.links if lk.name != "B->C")
    small = routing.Network(links, net.demand, net.positions, "braess_without_BC")
    return routing.routing_game(small, 100, 0.05, openspiel_quirks=True, name="braess without B->C")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--episodes", type=int, default=400)
    ap.add_argument("--grid", type=int, default=80, help="simplex resolution of the social-optimum search")
    add_out(ap, "braess")
    args = ap.parse_args()
    mfglearn.set_threads(1)
    t0 = time.time()
    game = mfglearn.make("openspiel/dynamic_routing_braess")
    net = game.layout["routing"].network
    paths = routing.simple_paths(net, "O->A", "D->E")
    labels = ["-".join(p[1:-1]).replace("->", "") for p in paths]
    labels = ["A-B-C-D" if "BC" in x else "A-B-D" if "B" in x else "A-C-D" for x in labels]
    runs = {
        "mirror descent (lr 1)": path_history(game, "mirror_descent", args.iterations, paths, learning_rate=1.0),
        "fictitious play": path_history(game, "fictitious_play", args.iterations, paths),
    }
    eq = runs["mirror descent (lr 1)"]["result"]
    eq_time = -eq.value
    opt = social_optimum(game, args.grid)
    small = without_bc()
    eq_small = mfglearn.solve(small, "mirror_descent", iterations=args.iterations, learning_rate=1.0)
    poa = eq_time / opt["travel_time"]
    print(f"equilibrium (mirror descent): travel time {eq_time:.4f}, exploitability {eq.exploitability:.2e}")
    print(
        f"  path times at the equilibrium: {dict(zip(labels, runs['mirror descent (lr 1)']['times'][-1], strict=True))}"
    )
    print(f"social optimum (exhaustive, step 1/{args.grid}): {opt['travel_time']:.4f} with {opt['shares']}")
    print(f"price of anarchy: {poa:.4f}   (continuous-time Wardrop: 3.75 / 3.5 = {15 / 14:.4f})")
    print(f"without B->C: equilibrium travel time {-eq_small.value:.4f} (exploitability {eq_small.exploitability:.2e})")

    # finite-N gain of a deviation to the mean-field best response
    rows = []
    for n in NS:
        r = finite_n_exploitability(game, eq.policy, n, episodes=args.episodes, seed=1)
        rows.append({"n": n, "gain": r.gain, "stderr": r.stderr})
        print(f"N = {n:4d}: deviation gain {r.gain:+.4f} +- {r.stderr:.4f}")

    args.out.mkdir(parents=True, exist_ok=True)
    plt = pyplot()
    fig, axes = plt.subplots(1, len(runs), figsize=(5.2 * len(runs), 3.6), sharey=True, squeeze=False)
    for ax, (name, run) in zip(axes[0], runs.items(), strict=True):
        its = range(1, len(run["times"]) + 1)
        for k, lab in enumerate(labels):
            ax.plot(its, [t[k] for t in run["times"]], label=f"path {lab}")
        ax.axhline(opt["travel_time"], color="k", ls="--", lw=1, label=f"social optimum {opt['travel_time']:.3f}")
        ax.set_title(name)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("travel time of the path (time units)")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Braess network: travel time of each path against the population's current policy", y=1.03)
    save(fig, args.out / "path_times.png")
    shares = {
        "mean-field equilibrium": routes.link_entries(game, eq.policy),
        "social optimum": routes.link_entries(game, opt["policy"]),
    }
    plot_network_flows(
        game,
        shares,
        args.out / "network.png",
        {"mean-field equilibrium": eq_time, "social optimum": opt["travel_time"]},
    )
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    ns = [r["n"] for r in rows]
    ax.errorbar(
        ns,
        [r["gain"] for r in rows],
        yerr=[2 * r["stderr"] for r in rows],
        marker="o",
        capsize=3,
        label="deviation to the mean-field best response (2 s.e.)",
    )
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("number of vehicles N")
    ax.set_ylabel("gain of one deviating vehicle (time units)")
    ax.set_title(
        "Braess: gain of one vehicle deviating from the equilibrium\n"
        "(<= 0: the deviation does not pay in the N-player game)",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save(fig, args.out / "finite_n.png")
    atomic_write_json(
        args.out / "braess.json",
        {
            "command": "python benchmarks/study_braess.py "
            f"--iterations {args.iterations} --episodes {args.episodes} --grid {args.grid}",
            "equilibrium_travel_time": eq_time,
            "equilibrium_exploitability": eq.exploitability,
            "path_times_at_equilibrium": dict(zip(labels, runs["mirror descent (lr 1)"]["times"][-1], strict=True)),
            "equilibrium_link_shares": {
                lk.name: float(v) for lk, v in zip(net.links, shares["mean-field equilibrium"], strict=True)
            },
            "social_optimum_travel_time": opt["travel_time"],
            "social_optimum_shares": opt["shares"],
            "price_of_anarchy": poa,
            "wardrop_continuous": {"equilibrium": 3.75, "optimum": 3.5, "price_of_anarchy": 15 / 14},
            "without_BC_equilibrium_travel_time": -eq_small.value,
            "fictitious_play_final_exploitability": runs["fictitious play"]["exploitability"][-1],
            "finite_n": rows,
            "seconds": time.time() - t0,
            "torch": torch.__version__,
        },
    )
    print(f"wrote {args.out} in {time.time() - t0:.0f} s")
    assert math.isfinite(poa)


if __name__ == "__main__":
    main()
