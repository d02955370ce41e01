"""GMF-Q study (seed 002): naive Q-learning's failure, GMF-Q's convergence, independent learners.

Produces, under --out (committed: benchmarks/results/gmf_q/):

* ``fluctuation_ad_auction.png``: the seed's failure figure: ``|L_k - L_{k+1}|`` in
  l_inf and l_1 over ``--paths`` sample paths of naive Q-learning (argmax-e, no
  projection) against GMF-Q (softmax_c + epsilon-net) on the repeated ad auction;
* ``smoothing_ad_auction.png``: exploitability of GMF-Q and of the exact softmax fixed
  point it approximates, against the softmax parameter ``c`` (the smoothing bias), with
  the Nash equilibrium (online mirror descent) and naive Q-learning for reference;
* ``nplayer_auction.png``: the N-player auction (random groups of ``n_bidders``,
  Vickrey rule): independent epsilon-greedy Q-learners vs a population playing the
  GMF-Q policy; average reward per round and the mean-field exploitability of the
  learners' population policy over time;
* ``summary.json``: all figures quoted in the closing notes.

    python benchmarks/study_gmf_q.py [--paths 30 --iterations 40]
"""

from __future__ import annotations

import argparse
import time

import torch
from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.games.markets import auction_round, market_price
from mfglearn.learning.independent import independent_q_learning, play_policy
from mfglearn.viz._mpl import pyplot, save

OUT = scratch("gmf_q")  # --out sets it; benchmarks/results/gmf_q holds the committed run


def fluctuation(game, paths: int, iterations: int, inner: int, agents: int) -> dict:
    runs = {"naive": [], "gmf_q": []}
    for label, solver, hp in [
        ("naive", "q_learning_naive", {}),
        ("gmf_q", "gmf_q", {"temperature": 1 / 5.0, "epsilon": 0.01}),
    ]:
        t0 = time.perf_counter()
        for seed in range(paths):
            r = mfglearn.solve(game, solver, iterations=iterations, inner_steps=inner, n_agents=agents, seed=seed, **hp)
            runs[label].append({k: r.history[k] for k in ("l_inf_delta", "l1_delta", "exploitability")})
        print(f"  {label:8s} {paths} paths in {time.perf_counter() - t0:.1f}s")
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, title in zip(axes, ("l_inf_delta", "l1_delta"), ("$\\ell_\\infty$", "$\\ell_1$"), strict=True):
        for label, color, name in (("naive", "tab:red", "naive Q-learning"), ("gmf_q", "tab:blue", "GMF-Q")):
            for i, h in enumerate(runs[label]):
                ax.plot(
                    range(1, len(h[key]) + 1), h[key], color=color, alpha=0.25, lw=0.8, label=name if i == 0 else None
                )
        ax.set_xlabel("outer iteration k")
        ax.set_ylabel(f"|L_k - L_(k+1)| ({title})")
        ax.set_title(f"{title} change of L, {paths} sample paths (ad auction)")
        ax.legend()
    save(fig, OUT / "fluctuation_ad_auction.png")

    def tail(label, key, n=10):
        return torch.tensor([h[key][-n:] for h in runs[label]]).mean().item()

    return {
        label: {
            "mean_l_inf_delta_last10": tail(label, "l_inf_delta"),
            "mean_l1_delta_last10": tail(label, "l1_delta"),
            "max_l1_delta_last10": max(max(h["l1_delta"][-10:]) for h in runs[label]),
            "mean_exploitability_last10": tail(label, "exploitability"),
        }
        for label in runs
    }


def smoothing(game, cs: list[float], iterations: int, inner: int, agents: int, seeds: int) -> dict:
    nash = mfglearn.solve(game, "mirror_descent", iterations=1000, learning_rate=0.5)
    rows = []
    for c in cs:
        ref = mfglearn.solve(game, "fixed_point", iterations=400, temperature=1.0 / c, damping=0.2)
        L_ref = ref.extra["L"]
        expl, dist = [], []
        for seed in range(seeds):
            r = mfglearn.solve(
                game, "gmf_q", iterations=iterations, inner_steps=inner, temperature=1.0 / c, n_agents=agents, seed=seed
            )
            expl.append(sum(r.history["exploitability"][-10:]) / 10)
            dist.append(float((r.extra["L"] - L_ref).abs().sum()))
        rows.append(
            dict(
                c=c,
                exact_fixed_point_exploitability=ref.exploitability,
                exact_fixed_point_residual=ref.history["mean_field_delta"][-1],
                gmf_q_exploitability=sum(expl) / seeds,
                gmf_q_l1_distance_to_exact=sum(dist) / seeds,
            )
        )
        print(
            f"  c={c:5.1f}: exact softmax fixed point expl {ref.exploitability:.4f}; GMF-Q expl "
            f"{rows[-1]['gmf_q_exploitability']:.4f}, |L - L_exact|_1 {rows[-1]['gmf_q_l1_distance_to_exact']:.3f}"
        )
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(cs, [r["exact_fixed_point_exploitability"] for r in rows], "o-", label="exact softmax$_c$ fixed point")
    ax.plot(cs, [r["gmf_q_exploitability"] for r in rows], "s--", label=f"GMF-Q (mean of {seeds} seeds)")
    ax.axhline(nash.exploitability, color="k", lw=0.8, label=f"Nash (OMD): {nash.exploitability:.1e}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(cs, [f"{c:g}" for c in cs])
    ax.minorticks_off()
    ax.set_xlabel("softmax parameter c")
    ax.set_ylabel("exploitability (exact)")
    ax.set_title("ad auction: smoothing bias of GMF-Q")
    ax.legend()
    save(fig, OUT / "smoothing_ad_auction.png")
    return {"nash_exploitability": nash.exploitability, "nash_value": nash.value, "by_c": rows, "nash": nash}


def nplayer(game, gmfq_policy, nash_policy, n: int, rounds: int) -> dict:
    def step(s, a, gen):
        return auction_round(s, a, game, gen)

    curve = []
    il = independent_q_learning(
        game,
        n,
        rounds,
        step_fn=step,
        explore=0.1,
        policy_every=max(1, rounds // 20),
        callback=lambda k, pols: curve.append((k, mfglearn.exploitability(game, pols.mean(0)))),
    )
    gq = play_policy(game, gmfq_policy, n, rounds, step_fn=step)
    ne = play_policy(game, nash_policy, n, rounds, step_fn=step)
    win = max(1, rounds // 50)

    def smooth(x):
        return torch.nn.functional.avg_pool1d(x.view(1, 1, -1), win, win).flatten()

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    xs = torch.arange(win, rounds + 1, win)[: smooth(il.mean_reward).numel()]
    axes[0].plot(xs, smooth(il.mean_reward), label="independent Q-learners (eps-greedy 0.1)")
    axes[0].plot(xs, smooth(gq), label="all play the GMF-Q policy (c=20)")
    axes[0].plot(xs, smooth(ne), label="all play the Nash policy (OMD)")
    axes[0].set_xlabel("round")
    axes[0].set_ylabel(f"mean reward per agent (window {win})")
    axes[0].set_title(f"N-player auction, N={n}, groups of {game.params['n_bidders']}")
    axes[0].legend()
    axes[1].plot([k for k, _ in curve], [e for _, e in curve], "o-", label="independent learners' population policy")
    axes[1].axhline(mfglearn.exploitability(game, gmfq_policy), color="tab:orange", label="GMF-Q policy (c=20)")
    axes[1].axhline(mfglearn.exploitability(game, nash_policy), color="tab:green", label="Nash policy (OMD)")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("round")
    axes[1].set_ylabel("mean-field exploitability")
    axes[1].legend(loc="center right")
    save(fig, OUT / "nplayer_auction.png")
    tail = slice(-rounds // 5, None)
    return {
        "n_agents": n,
        "rounds": rounds,
        "il_mean_reward_last20pct": float(il.mean_reward[tail].mean()),
        "gmf_q_policy_mean_reward_last20pct": float(gq[tail].mean()),
        "nash_policy_mean_reward_last20pct": float(ne[tail].mean()),
        "il_final_exploitability": curve[-1][1],
        "il_policy_disagreement": float((il.policies - il.population_policy).abs().sum(-1).mean() / 2),
    }


def price_game(iterations: int, inner: int, agents: int) -> dict:
    g = mfglearn.make("equilibrium_price")
    nash = mfglearn.solve(g, "mirror_descent", iterations=1000, learning_rate=0.5)
    out = {"nash_price": market_price(g, nash.mean_field.unsqueeze(-1) * nash.policy), "nash_expl": nash.exploitability}
    for c in (2.0, 10.0):
        ref = mfglearn.solve(g, "fixed_point", iterations=400, temperature=1.0 / c, damping=0.2)
        r = mfglearn.solve(g, "gmf_q", iterations=iterations, inner_steps=inner, temperature=1.0 / c, n_agents=agents)
        out[f"c={c}"] = {
            "exact_price": market_price(g, ref.extra["L"]),
            "gmf_q_price": market_price(g, r.extra["L"]),
            "gmf_q_l1_distance_to_exact": float((r.extra["L"] - ref.extra["L"]).abs().sum()),
            "gmf_q_last_l1_delta": r.history["l1_delta"][-1],
        }
    print(f"  equilibrium_price: {out}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=30)
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--inner", type=int, default=200)
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--players", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=20_000)
    add_out(ap, "gmf_q")
    args = ap.parse_args()
    global OUT
    OUT = args.out
    mfglearn.set_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    game = mfglearn.make("ad_auction")
    t0 = time.perf_counter()
    print("fluctuation (naive vs GMF-Q):")
    summary = {"fluctuation": fluctuation(game, args.paths, args.iterations, args.inner, args.agents)}
    print("smoothing bias:")
    sm = smoothing(game, [2.0, 5.0, 10.0, 20.0, 50.0], args.iterations, args.inner, args.agents, seeds=3)
    nash = sm.pop("nash")
    summary["smoothing"] = sm
    gq = mfglearn.solve(game, "gmf_q", iterations=args.iterations, inner_steps=args.inner, temperature=1 / 20.0)
    print("N-player auction:")
    summary["nplayer"] = nplayer(game, gq.policy, nash.policy, args.players, args.rounds)
    print(f"  {summary['nplayer']}")
    print("price game:")
    summary["equilibrium_price"] = price_game(args.iterations, args.inner, args.agents)
    summary["seconds"] = time.perf_counter() - t0
    summary["command"] = "python benchmarks/study_gmf_q.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items())
    atomic_write_json(OUT / "summary.json", summary)
    print(f"wrote {OUT} in {summary['seconds']:.0f}s")


if __name__ == "__main__":
    main()
