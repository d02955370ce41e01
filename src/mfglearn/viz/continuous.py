"""Figures for continuous games: density snapshots of a learned mean field next to an N-agent rollout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mfglearn.viz._mpl import pyplot, save


def _walls(ax, game) -> None:
    from matplotlib.patches import Rectangle

    for x0, y0, x1, y1 in game.walls:
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, color="white", lw=0))


def plot_density_snapshots(
    game,
    result,
    path: str | Path,
    times: list[int] | None = None,
    n_agents: int = 5000,
    grid: int = 80,
    seed: int = 0,
) -> str:
    """Densities ``mu_t`` at several times: the learned flow (if any) above an ``n_agents`` rollout of the policy.

    ``result`` is a :class:`~mfglearn.deep.fictitious_play.DeepFPResult`. Two-dimensional games on
    ``[low, high]^2`` show heat maps (walls in white); one-dimensional ones show curves.
    """
    from mfglearn.deep.fictitious_play import simulate_population

    plt = pyplot()
    T = int(game.horizon)
    times = times or sorted({0, T // 4, T // 2, 3 * T // 4, T})
    dev = next(result.policy.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    states = simulate_population(game, result.policy, n_agents, gen).cpu()
    lo = game.low if game.low is not None else float(states.min())
    hi = game.high if game.high is not None else float(states.max())
    edges = np.linspace(lo, hi, grid + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    flow = result.flow
    if game.state_dim == 2:
        rows = 2 if flow is not None else 1
        fig, axes = plt.subplots(
            rows, len(times), figsize=(2.6 * len(times), 2.9 * rows + 1.0), squeeze=False, layout="constrained"
        )
        gx, gy = np.meshgrid(centres, centres, indexing="xy")
        pts = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32, device=dev)
        for j, t in enumerate(times):
            xy = states[t].numpy()
            hist, _, _ = np.histogram2d(xy[:, 0], xy[:, 1], bins=[edges, edges], density=True)
            panels = [("N-agent rollout", hist.T)]
            if flow is not None:
                with torch.no_grad():
                    dens = flow.density(pts, torch.full((pts.shape[0],), float(t), device=dev)).cpu().numpy()
                dens = dens.reshape(grid, grid) * (~game.in_wall(pts.cpu()).numpy().reshape(grid, grid))
                panels.insert(0, ("density model", dens))
            vmax = max(float(np.quantile(p, 0.995)) for _, p in panels) or 1.0
            for i, (label, img) in enumerate(panels):
                ax = axes[i, j]
                im = ax.imshow(img, origin="lower", extent=(lo, hi, lo, hi), cmap="magma", vmin=0, vmax=vmax)
                _walls(ax, game)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"{label}, t={t}", fontsize=9)
            # one scale per time (the crowd spreads: a shared scale would leave late panels black)
            bar = fig.colorbar(im, ax=axes[:, j], orientation="horizontal", shrink=0.9, aspect=25)
            bar.set_label("density", fontsize=8)
            bar.ax.tick_params(labelsize=7)
    else:
        fig, axes = plt.subplots(1, len(times), figsize=(2.8 * len(times), 2.6), squeeze=False)
        for j, t in enumerate(times):
            ax = axes[0, j]
            hist, _ = np.histogram(states[t, :, 0].numpy(), bins=edges, density=True)
            ax.step(centres, hist, where="mid", label=f"{n_agents} agents")
            if flow is not None:
                x = torch.tensor(centres, dtype=torch.float32, device=dev).view(-1, 1)
                with torch.no_grad():
                    d = flow.density(x, torch.full((grid,), float(t), device=dev)).cpu().numpy()
                ax.plot(centres, d, label="density model")
            ax.set_title(f"t={t}", fontsize=9)
            ax.set_xlabel("x")
        axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"{result.method} on {game.name}: density over time")
    if game.state_dim != 2:
        fig.tight_layout()
    return save(fig, path)
