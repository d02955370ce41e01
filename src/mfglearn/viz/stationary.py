"""Stationary (discounted) equilibria of games without a map: the stationary law and the policy, state by state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mfglearn.errors import ValidationError
from mfglearn.viz._mpl import pyplot, save


def plot_stationary(game, mu: torch.Tensor, pi: torch.Tensor, path: str | Path | None = None, title: str | None = None):
    """Two panels: the stationary distribution ``mu (S,)`` as bars, and the policy ``pi (S, A)`` as stacked
    bars of action probabilities per state (state and action names from ``game.layout`` when it has them)."""
    S, A = game.S, game.A
    if tuple(mu.shape) != (S,) or tuple(pi.shape) != (S, A):
        raise ValidationError(
            f"plot_stationary needs a stationary law ({S},) and policy ({S}, {A}); got {tuple(mu.shape)} and "
            f"{tuple(pi.shape)} (finite-horizon flows: plot_line_density)"
        )
    plt = pyplot()
    m, p = mu.detach().cpu().numpy(), pi.detach().cpu().numpy()
    layout = game.layout if isinstance(getattr(game, "layout", None), dict) else {}
    states = layout.get("states") if len(layout.get("states", [])) == S else [str(s) for s in range(S)]
    actions = layout.get("actions") if len(layout.get("actions", [])) == A else [f"action {a}" for a in range(A)]
    fig, axes = plt.subplots(1, 2, figsize=(min(4 + 0.35 * S, 14), 3.6), sharex=True)
    x = np.arange(S)
    axes[0].bar(x, m, color="#0072B2")
    axes[0].set_ylabel("stationary mass")
    axes[0].set_title("mean field", fontsize=10)
    colors = plt.get_cmap("tab10" if A <= 10 else "viridis")(np.linspace(0, 1, A) if A > 10 else np.arange(A))
    bottom = np.zeros(S)
    for a in range(A):
        axes[1].bar(x, p[:, a], bottom=bottom, color=colors[a], label=actions[a], width=0.8)
        bottom += p[:, a]
    axes[1].set_ylim(0, 1)
    axes[1].set_ylabel("action probability")
    axes[1].set_title("policy", fontsize=10)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    for ax in axes:
        ax.set_xticks(x, states, fontsize=8, rotation=45 if S > 8 or max(map(len, states)) > 6 else 0)
        ax.set_xlabel("state")
    fig.suptitle(title or game.name, fontsize=10)
    fig.tight_layout()
    return save(fig, path) if path else fig
