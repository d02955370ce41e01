"""Figures for mean-field control: the population path steered by a planner's policy."""

from __future__ import annotations

from pathlib import Path

import torch

from mfglearn.viz._mpl import pyplot, save


def plot_planner_path(game, result, path: str | Path, steps: int = 30) -> str:
    """Population ``mu_t`` (stacked areas) and the planner's per-state action mix along the lifted dynamics."""
    from mfglearn.control.lifted import LiftedMFC

    lm = LiftedMFC(game)
    mu = game.mu0.view(1, -1)
    steps = game.H if game.is_finite_horizon else steps
    mus, hs, rs = [], [], []
    for t in range(steps):
        h = result.policy(mu, t)
        mus.append(mu[0])
        hs.append(h[0])
        rs.append(float(lm.reward(mu, h, t)[0]))
        mu = lm.phi(mu, h, t)
    mus_t, hs_t = torch.stack(mus).cpu(), torch.stack(hs).cpu()
    names = game.layout.get("states", [f"state {i}" for i in range(game.S)])
    actions = game.layout.get("actions", [f"action {a}" for a in range(game.A)])
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    from matplotlib.ticker import MaxNLocator

    axes[0].stackplot(range(steps), mus_t.T.numpy(), labels=names)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("population share")
    axes[0].set_title(f"{game.name}: population under {result.method}")
    axes[0].legend(fontsize=7, loc="upper right")
    # expected action index per state shows how the planner's local policy changes with the population
    styles = ("-", "--", ":", "-.")
    markers = ("o", "s", "^", "D", "v", "P")
    for s in range(game.S):  # equal curves are common (the same action everywhere): styles keep them apart
        axes[1].plot(
            range(steps),
            hs_t[:, s, -1].numpy(),
            label=names[s],
            ls=styles[s % 4],
            lw=1.4,
            marker=markers[s % 6],
            markevery=max(1, steps // 8) + s,
            ms=4,
            alpha=0.9,
        )
    axes[1].set_xlabel("t")
    axes[1].set_ylabel(f"h(t, s, {actions[-1]!r})")
    axes[1].set_ylim(-0.05, 1.05)
    axes[1].set_title("planner's local policy")
    axes[1].legend(fontsize=7)
    axes[2].plot(range(steps), rs)
    axes[2].set_xlabel("t")
    axes[2].set_ylabel("aggregated reward r(mu_t, h_t)")
    axes[2].set_title(f"planner value {result.value:.4g}")
    fig.tight_layout()
    return save(fig, path)
