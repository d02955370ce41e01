"""Mean-field densities on grid maps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mfglearn.errors import ValidationError
from mfglearn.viz._mpl import pyplot, save


def grid_image(game, mu: torch.Tensor) -> np.ndarray:
    """A state distribution as a ``(rows, cols)`` array (walls NaN) for games with a grid layout."""
    layout = game.layout
    if "grid" in layout and "cells" in layout:
        rows = layout["grid"]
        img = np.full((len(rows), len(rows[0])), np.nan)
        rc = np.asarray(layout["cells"])
        img[rc[:, 0], rc[:, 1]] = mu.detach().cpu().numpy()
        return img
    if "grid_shape" in layout:
        return mu.detach().cpu().numpy().reshape(layout["grid_shape"])
    raise ValidationError(f"game {game.name!r} has no grid layout to draw a density on")


def plot_grid_density(
    game,
    mus: torch.Tensor | Sequence[torch.Tensor],
    titles: Sequence[str] | None = None,
    path: str | None = None,
    suptitle: str | None = None,
    shared_scale: bool = False,
):
    """Heatmaps of one or several state distributions on the game's map (walls in grey).

    Each panel has its own colour scale unless ``shared_scale`` (a point mass at
    ``t = 0`` would otherwise wash out every later snapshot).
    """
    plt = pyplot()
    if isinstance(mus, torch.Tensor) and mus.dim() == 1:
        mus = [mus]
    mus = list(mus)
    fig, axes = plt.subplots(1, len(mus), figsize=(3.6 * len(mus), 3.3), squeeze=False)
    vmax = max(float(m.max()) for m in mus)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#888888")
    for i, (ax, m) in enumerate(zip(axes.flat, mus, strict=False)):
        top = vmax if shared_scale else max(float(m.max()), 1e-12)
        im = ax.imshow(np.ma.masked_invalid(grid_image(game, m)), cmap=cmap, vmin=0, vmax=top)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles:
            ax.set_title(titles[i], fontsize=9)
        if not shared_scale:
            fig.colorbar(im, ax=ax, shrink=0.75)
    if shared_scale:
        fig.colorbar(im, ax=list(axes.flat), shrink=0.8, label="mass")
    if suptitle:
        fig.suptitle(suptitle)
    return save(fig, path) if path else fig


_DIRECTIONS = {"stay": (0, 0), "up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def _cells(game) -> np.ndarray:
    layout = game.layout
    if "cells" in layout:
        return np.asarray(layout["cells"], dtype=float)
    if "grid_shape" in layout:
        R, C = layout["grid_shape"]
        return np.stack(np.meshgrid(np.arange(R), np.arange(C), indexing="ij"), -1).reshape(-1, 2).astype(float)
    raise ValidationError(f"game {game.name!r} has no grid layout")


def plot_policy_arrows(
    game, pi: torch.Tensor, mu: torch.Tensor | None = None, path: str | None = None, title: str | None = None
):
    """Mean displacement ``sum_a pi(a|s) move(a)`` of a policy ``(S, A)`` as arrows on the map.

    Over a density background when ``mu`` is given.
    """
    plt = pyplot()
    names = game.layout.get("actions")
    if not names or any(n not in _DIRECTIONS for n in names):
        raise ValidationError(f"game {game.name!r} does not name its grid actions (up/down/left/right/stay)")
    moves = np.array([_DIRECTIONS[n] for n in names], dtype=float)  # (A, 2) in (row, col)
    p = pi.detach().cpu().numpy()
    disp = p @ moves  # (S, 2)
    rc = _cells(game)
    fig, ax = plt.subplots(figsize=(5, 5))
    base = grid_image(game, mu if mu is not None else torch.zeros(game.S, dtype=torch.float64))
    cmap = plt.get_cmap("Blues").with_extremes(bad="#888888")
    im = ax.imshow(np.ma.masked_invalid(base), cmap=cmap, vmin=0)
    if mu is not None:
        fig.colorbar(im, ax=ax, shrink=0.8, label="mass")
    ax.quiver(
        rc[:, 1],
        rc[:, 0],
        disp[:, 1],
        -disp[:, 0],
        angles="xy",
        scale_units="xy",
        scale=1.6,
        width=0.006,
        color="#c0392b",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return save(fig, path) if path else fig


def animate_grid(game, mu: torch.Tensor, path: str, fps: int = 6, title: str | None = None) -> str:
    """GIF of a mean-field flow ``(T, S)`` moving through the map (one frame per time step)."""
    plt = pyplot()
    from matplotlib.animation import FuncAnimation, PillowWriter

    from mfglearn._common.io import atomic_write_bytes

    frames = [grid_image(game, m) for m in mu]
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    cmap = plt.get_cmap("viridis").with_extremes(bad="#888888")
    im = ax.imshow(
        np.ma.masked_invalid(frames[0]), cmap=cmap, vmin=0, vmax=float(np.nanmax(frames[min(1, len(frames) - 1)]))
    )
    ax.set_xticks([])
    ax.set_yticks([])
    label = ax.set_title("")

    def update(t):
        im.set_data(np.ma.masked_invalid(frames[t]))
        im.set_clim(0, max(float(np.nanmax(frames[t])), 1e-12))
        label.set_text(f"{title + ': ' if title else ''}t = {t}")
        return (im, label)

    anim = FuncAnimation(fig, update, frames=len(frames), blit=False)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / "anim.gif"
        anim.save(tmp, writer=PillowWriter(fps=fps))
        plt.close(fig)
        return str(atomic_write_bytes(path, tmp.read_bytes()))


def plot_line_density(game, mu: torch.Tensor, path: str | None = None, title: str | None = None):
    """Heatmap ``time x state`` of a flow ``(T, S)`` for 1-D games (rings, lines, small state spaces)."""
    plt = pyplot()
    m = mu.detach().cpu().numpy()
    if m.ndim != 2:
        raise ValidationError("plot_line_density needs a flow of shape (T, S); for stationary games use a bar plot")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    im = ax.imshow(m, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest")
    ax.set_xlabel("state")
    ax.set_ylabel("time t")
    fig.colorbar(im, ax=ax, label="mass")
    ax.set_title(title or game.name, fontsize=10)
    return save(fig, path) if path else fig
