"""Mean-field control study (seed 002, second half): MFC-K-Q against the exact optimum, N agents, price of anarchy.

Produces, under --out (committed: benchmarks/results/mfc/):

* ``kq_vs_epsilon.png``: planner value of MFC-K-Q (exact observations and ``n_agents``
  simulated agents per net point) and of plain MFC Q-learning with 10x the samples,
  against the exact optimum, as the net of ``P(S)`` is refined (``epsilon = 2 / n``);
* ``nagent_gap.png``: the gap between the N-agent social value of the learned
  closed-loop policy and its mean-field value, against ``N`` (log-log, ``1/sqrt(N)`` line);
* ``paths_<game>.png``: population under the planner's policy vs under the MFG equilibrium;
* ``summary.json``: every figure quoted in the closing notes, with the price of anarchy.

    python benchmarks/study_mfc.py
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.control import MFCKQ, LiftedMFC, MFCQLearning, optimize_open_loop, simulate_cooperative, solve_dp
from mfglearn.viz._mpl import pyplot, save

OUT = scratch("mfc")  # --out sets it; benchmarks/results/mfc holds the committed run


def kq_vs_epsilon(game, exact_value: float, net_value: float, resolutions: list[int], policy_resolution: int) -> dict:
    rows = []
    for n in resolutions:
        t0 = time.perf_counter()
        kq = MFCKQ(game, mu_resolution=n, policy_resolution=policy_resolution).solve()
        kq_s = MFCKQ(game, mu_resolution=n, policy_resolution=policy_resolution, n_agents=1000, seed=n).solve()
        samples = int(kq.extra["samples"])
        ql = MFCQLearning(game, mu_resolution=n, policy_resolution=policy_resolution, samples=10 * samples).solve()
        rows.append(
            dict(
                mu_resolution=n,
                epsilon=2.0 / n,
                samples=samples,
                kq_value=kq.value,
                kq_sampled_value=kq_s.value,
                q_learning_value=ql.value,
                q_learning_visited=ql.extra["visited"],
                kq_gap=exact_value - kq.value,
                kq_gap_same_policy_net=net_value - kq.value,
                kq_sampled_gap=exact_value - kq_s.value,
                q_learning_gap=exact_value - ql.value,
            )
        )
        r = rows[-1]
        print(
            f"  n={n:3d} eps={2 / n:.3f} samples={samples:6d}: MFC-K-Q {kq.value:.4f} (gap {r['kq_gap']:.2e}), "
            f"sampled {kq_s.value:.4f}, Q-learning x10 samples {ql.value:.4f}  ({time.perf_counter() - t0:.1f}s)"
        )
    plot_kq_vs_epsilon(game.name, exact_value, net_value, rows, OUT / "kq_vs_epsilon.png")
    return {"exact_value": exact_value, "net_value": net_value, "rows": rows}


# one colour and marker per method across both panels
STYLES = {
    "kq": dict(color="#0072B2", marker="o", ls="-"),
    "kq_net": dict(color="#56B4E9", marker="o", ls="-."),
    "kq_sampled": dict(color="#D55E00", marker="s", ls="--"),
    "q_learning": dict(color="#009E73", marker="^", ls=":"),
}


def plot_kq_vs_epsilon(name: str, exact_value: float, net_value: float | None, rows: list[dict], path) -> str:
    """Value and suboptimality of MFC-K-Q (exact and sampled) and MFC Q-learning against the net resolution."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    eps = [r["epsilon"] for r in rows]
    n = [round(2 / e) for e in eps]
    axes[0].plot(eps, [r["kq_value"] for r in rows], label="MFC-K-Q (exact observations)", **STYLES["kq"])
    axes[0].plot(
        eps, [r["kq_sampled_value"] for r in rows], label="MFC-K-Q (1000 agents per net point)", **STYLES["kq_sampled"]
    )
    axes[0].plot(
        eps, [r["q_learning_value"] for r in rows], label="MFC Q-learning (10x samples)", **STYLES["q_learning"]
    )
    axes[0].axhline(exact_value, color="k", lw=0.8, label=f"exact optimum {exact_value:.4f}")
    if net_value is not None:
        axes[0].axhline(
            net_value, color="grey", lw=0.8, ls="--", label=f"optimum on the same policy net {net_value:.4f}"
        )
    axes[0].set_ylabel("planner value from mu0")
    axes[0].set_title(f"{name}: value of the learned policy")
    for key, style, label in (
        ("kq_gap", "kq", "MFC-K-Q"),
        ("kq_gap_same_policy_net", "kq_net", "MFC-K-Q vs the optimum on its policy net"),
        ("kq_sampled_gap", "kq_sampled", "MFC-K-Q sampled"),
    ):
        axes[1].loglog(eps, [max(r[key], 1e-6) for r in rows], label=label, **STYLES[style])
    axes[1].loglog(
        eps, [exact_value - r["q_learning_value"] for r in rows], label="MFC Q-learning", **STYLES["q_learning"]
    )
    axes[1].set_ylabel("optimum - value (floor 1e-6)")
    axes[1].set_title("suboptimality")
    from matplotlib.ticker import FixedLocator, NullLocator

    for ax in axes:  # one labelled tick per net resolution: log-scale minor labels would overlap
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(eps))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{e:.2g}\n(n={k})" for e, k in zip(eps, n, strict=True)], fontsize=8)
        ax.set_xlabel("net resolution epsilon = 2 / n (l1)")
        ax.invert_xaxis()
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def nagent_gap(game, policy, value: float, ns: list[int], episodes: int) -> dict:
    rows = []
    for n in ns:
        ro = simulate_cooperative(game, policy, n, episodes=episodes, seed=n)
        diff = ro.values - value
        rows.append(
            dict(
                n_agents=n,
                mean_value=ro.mean,
                stderr=ro.stderr,
                rms_gap=float((diff**2).mean().sqrt()),
                mean_gap=float(diff.mean()),
            )
        )
        print(f"  N={n:5d}: value {ro.mean:.4f} +- {2 * ro.stderr:.4f}, rms gap {rows[-1]['rms_gap']:.4f}")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    xs = [r["n_agents"] for r in rows]
    ax.loglog(xs, [r["rms_gap"] for r in rows], "o-", label="rms |V_N - V_MFC| (per episode)")
    ax.loglog(xs, [abs(r["mean_gap"]) for r in rows], "s--", label="|E V_N - V_MFC| (bias)")
    c = rows[-1]["rms_gap"] * math.sqrt(xs[-1])
    ax.loglog(xs, [c / math.sqrt(n) for n in xs], "k:", lw=0.8, label="C / sqrt(N)")
    ax.set_xlabel("number of agents N")
    ax.set_ylabel("gap to the mean-field value")
    ax.set_title(f"{game.name}: N-agent approximation of MFC-K-Q's policy")
    ax.legend(fontsize=8)
    save(fig, OUT / "nagent_gap.png")
    i = xs.index(min(xs, key=lambda n: abs(n - 20)))
    slope = math.log(rows[-1]["rms_gap"] / rows[i]["rms_gap"]) / math.log(xs[-1] / xs[i])
    return {"mfc_value": value, "rows": rows, "rms_gap_loglog_slope": slope}


def price_of_anarchy(game, mfc_value: float, mfc_policy) -> dict:
    eq = mfglearn.solve(game, "mirror_descent", iterations=400, learning_rate=0.5)
    lm = LiftedMFC(game)
    mfg_value = lm.rollout_value(game.mu0, lambda mu, t: eq.policy.expand(mu.shape[0], -1, -1))
    # from the equilibrium's own stationary population too
    mfc_from_eq = optimize_open_loop(game, mu0=eq.mean_field, steps=300).value
    mfg_from_eq = float(lm.reward(eq.mean_field, eq.policy)[0]) / (1 - float(game.gamma))
    out = dict(
        mfg_exploitability=eq.exploitability,
        mfg_social_value_from_mu0=mfg_value,
        mfc_value_from_mu0=mfc_value,
        mfg_social_value_from_mfg_stationary=mfg_from_eq,
        mfc_value_from_mfg_stationary=mfc_from_eq,
    )
    # for negative (cost) objectives the ratio of costs; for positive ones the ratio of welfare
    out["price_of_anarchy"] = mfg_value / mfc_value if mfc_value < 0 else mfc_value / mfg_value
    print(f"  {game.name}: {out}")
    # population paths: the planner vs the equilibrium
    steps = 25
    paths = {}
    for label, pol in (("MFC planner", mfc_policy), ("MFG equilibrium", lambda mu, t: eq.policy.expand(1, -1, -1))):
        mu = game.mu0.view(1, -1)
        seq = []
        for t in range(steps):
            h = pol(mu, t)
            seq.append(mu[0])
            mu = lm.phi(mu, h, t)
        paths[label] = torch.stack(seq)
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
    names = game.layout.get("states", [str(s) for s in range(game.S)])
    for ax, (label, seq) in zip(axes, paths.items(), strict=True):
        ax.stackplot(range(steps), seq.T.numpy(), labels=names)
        ax.set_title(f"{game.name}: {label}")
        ax.set_xlabel("t")
    axes[0].set_ylabel("population share")
    axes[1].legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    save(fig, OUT / f"paths_{game.name}.png")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument(
        "--replot", type=Path, default=None, metavar="SUMMARY.json", help="redraw from a summary, no solving"
    )
    add_out(ap, "mfc")
    args = ap.parse_args()
    global OUT
    OUT = args.out
    mfglearn.set_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.replot:
        done = json.loads(args.replot.read_text())
        kq = done["kq_vs_epsilon"]
        net = kq.get("net_value", done["congestion_exact"]["dp_policy_net_4_value"])
        print(plot_kq_vs_epsilon("congestion", kq["exact_value"], net, kq["rows"], OUT / "kq_vs_epsilon.png"))
        return
    t0 = time.perf_counter()
    summary: dict = {}
    game = mfglearn.make("congestion")
    print("congestion: exact optimum")
    dp = solve_dp(game, mu_resolution=60, policy_resolution=8)
    ol = optimize_open_loop(game, steps=400)
    dp4 = solve_dp(game, mu_resolution=60, policy_resolution=4)
    exact = max(dp.value, ol.value)
    summary["congestion_exact"] = dict(
        dp_value=dp.value,
        dp_grid_value=dp.extra["grid_value"],
        open_loop_value=ol.value,
        dp_policy_net_4_value=dp4.value,
    )
    print(
        f"  DP (grid 1/60, policy net 1/8): {dp.value:.5f}; open-loop gradient: {ol.value:.5f}; "
        f"DP on MFC-K-Q's policy net (1/4): {dp4.value:.5f}"
    )
    print("MFC-K-Q vs epsilon:")
    summary["kq_vs_epsilon"] = kq_vs_epsilon(game, exact, dp4.value, [3, 4, 6, 8, 12, 16, 24, 32], policy_resolution=4)
    kq = MFCKQ(game, mu_resolution=24, policy_resolution=4).solve()
    print("N-agent gap:")
    summary["nagent"] = nagent_gap(game, kq.policy, kq.value, [5, 10, 20, 50, 100, 200, 500, 1000, 2000], args.episodes)
    print("price of anarchy:")
    summary["price_of_anarchy"] = {"congestion": price_of_anarchy(game, kq.value, kq.policy)}
    rs = mfglearn.make("ride_sharing")
    rs_kq = MFCKQ(rs, mu_resolution=16, policy_resolution=1).solve()
    rs_ol = optimize_open_loop(rs, steps=300)
    summary["ride_sharing"] = dict(kq_value=rs_kq.value, open_loop_value=rs_ol.value)
    best, pol = (rs_ol.value, rs_ol.policy) if rs_ol.value > rs_kq.value else (rs_kq.value, rs_kq.policy)
    summary["price_of_anarchy"]["ride_sharing"] = price_of_anarchy(rs, best, pol)
    summary["seconds"] = time.perf_counter() - t0
    summary["command"] = f"python benchmarks/study_mfc.py --episodes {args.episodes}"
    atomic_write_json(OUT / "summary.json", summary)
    print(f"wrote {OUT} in {summary['seconds']:.0f}s")


if __name__ == "__main__":
    main()
