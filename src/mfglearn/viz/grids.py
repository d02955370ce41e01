"""Mean-field densities and policies on grid maps.

Conventions shared by every figure here: one colour scale across panels and animation frames (an
initial point mass would otherwise wash out every later snapshot, so the scale leaves out frames far more
concentrated than the typical one, :func:`shared_top`, and the colour bar shows the overflow as an arrow), a
labelled colour bar, and walls in light grey, a colour outside the colour map.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mfglearn.errors import ValidationError
from mfglearn.viz._mpl import pyplot, save

CMAP = "viridis"
WALL = "#d0d0d0"  # outside viridis (dark purple to yellow), so a crowd against a wall stays visible


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


def _cmap(plt):
    return plt.get_cmap(CMAP).with_extremes(bad=WALL)


def shared_top(frames: Sequence[np.ndarray]) -> float:
    """The top of a colour scale shared by ``frames``: the largest frame maximum within ten times the
    median one (of the frames after the first). A crowd leaving one cell has maxima 1, 0.39, 0.2, ... 0.01:
    the first frames saturate (the colour bar's arrow says so) and the spread-out crowd keeps a readable scale."""
    if not len(frames):
        raise ValidationError("no frames to draw: give at least one distribution")
    tops = np.array([float(np.nanmax(f)) if np.isfinite(f).any() else 0.0 for f in frames])
    typical = np.median(tops[1:] if len(tops) > 2 else tops)  # the first frame is the suspect point mass
    ok = tops[tops <= 10 * typical]
    return max(float(ok.max()) if ok.size else float(tops.max()), 1e-12)


def plot_grid_density(
    game,
    mus: torch.Tensor | Sequence[torch.Tensor],
    titles: Sequence[str] | None = None,
    path: str | None = None,
    suptitle: str | None = None,
    shared_scale: bool = True,
):
    """Heatmaps of one or several state distributions on the game's map.

    Args:
        mus: one ``(S,)`` distribution or a sequence of them, one panel each.
        titles: one title per panel (e.g. ``"t = 5"``).
        shared_scale: one colour scale and colour bar for every panel (see the module docstring);
            ``False`` gives each panel its own.
    """
    plt = pyplot()
    if isinstance(mus, torch.Tensor) and mus.dim() == 1:
        mus = [mus]
    imgs = [grid_image(game, m) for m in mus]
    fig, axes = plt.subplots(1, len(imgs), figsize=(3.2 * len(imgs) + 0.8, 3.3), squeeze=False)
    cmap, top = _cmap(plt), shared_top(imgs)
    for i, (ax, img) in enumerate(zip(axes.flat, imgs, strict=True)):
        vmax = top if shared_scale else max(float(np.nanmax(img)), 1e-12)
        im = ax.imshow(np.ma.masked_invalid(img), cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles:
            ax.set_title(titles[i], fontsize=9)
        if not shared_scale:
            fig.colorbar(im, ax=ax, shrink=0.75, label="mass per cell")
    if shared_scale:
        over = any(float(np.nanmax(img)) > top * (1 + 1e-9) for img in imgs)
        fig.colorbar(im, ax=list(axes.flat), shrink=0.85, label="mass per cell", extend="max" if over else "neither")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
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


def _moves(game) -> tuple[np.ndarray, int | None]:
    names = game.layout.get("actions")
    if not names or any(n not in _DIRECTIONS for n in names):
        raise ValidationError(f"game {game.name!r} does not name its grid actions (up/down/left/right/stay)")
    stay = names.index("stay") if "stay" in names else None
    return np.array([_DIRECTIONS[n] for n in names], dtype=float), stay  # (A, 2) in (row, col)


def _draw_policy(ax, game, pi: torch.Tensor, mu: torch.Tensor | None, cmap, vmax: float | None):
    """Arrows of the mean move and dots for ``stay`` (area proportional to its probability) on one axis."""
    moves, stay = _moves(game)
    p = pi.detach().cpu().numpy()
    disp, rc = p @ moves, _cells(game)  # (S, 2) mean displacement
    base = grid_image(game, mu if mu is not None else torch.zeros(game.S, dtype=torch.float64))
    im = ax.imshow(np.ma.masked_invalid(base), cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    ax.quiver(
        rc[:, 1],
        rc[:, 0],
        disp[:, 1],
        -disp[:, 0],
        angles="xy",
        scale_units="xy",
        scale=1.6,
        width=0.006,
        color="#e6550d",
    )
    if stay is not None:  # a stationary crowd mostly stays: an arrow of length 0 would be invisible
        ax.scatter(rc[:, 1], rc[:, 0], s=40 * p[:, stay], facecolors="none", edgecolors="#e6550d", linewidths=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def plot_policy_arrows(
    game, pi: torch.Tensor, mu: torch.Tensor | None = None, path: str | None = None, title: str | None = None
):
    """A policy ``(S, A)`` on the map: arrows of its mean move ``sum_a pi(a|s) move(a)``, and a circle whose area
    is the probability of ``stay``; over the density ``mu`` when given."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    im = _draw_policy(ax, game, pi, mu, _cmap(plt), None)
    if mu is not None:
        fig.colorbar(im, ax=ax, shrink=0.8, label="mass per cell")
    if title:
        ax.set_title(title, fontsize=10)
    return save(fig, path) if path else fig


def informative_times(horizon: int, n: int = 4) -> list[int]:
    """``n`` decision times spread over ``0..horizon-1`` that skip ``t = 0`` (where a crowd is often one
    cell) when there are enough steps."""
    first = 1 if horizon > n else 0
    return sorted({int(round(x)) for x in np.linspace(first, horizon - 1, n)})


def plot_policy_over_time(
    game,
    pi: torch.Tensor,
    mu: torch.Tensor,
    times: Sequence[int] | None = None,
    path: str | None = None,
    title: str | None = None,
):
    """A finite-horizon policy ``(H, S, A)`` as a small multiple: at each of ``times`` its mean move and
    ``stay`` probability over the density ``mu[t]`` of that time (one colour scale)."""
    plt = pyplot()
    times = list(times) if times is not None else informative_times(pi.shape[0])
    imgs = [grid_image(game, mu[t]) for t in times]
    top, cmap = shared_top(imgs), _cmap(plt)
    fig, axes = plt.subplots(1, len(times), figsize=(3.6 * len(times) + 0.8, 3.8), squeeze=False)
    for ax, t in zip(axes.flat, times, strict=True):
        im = _draw_policy(ax, game, pi[t], mu[t], cmap, top)
        ax.set_title(f"t = {t}", fontsize=9)
    fig.colorbar(im, ax=list(axes.flat), shrink=0.85, label="mass per cell")
    fig.suptitle(title or f"{game.name}: policy (arrows: mean move; circles: P(stay))", fontsize=10)
    return save(fig, path) if path else fig


def animate_grid(
    game, mu: torch.Tensor, path: str, fps: int = 6, title: str | None = None, per_frame: bool = False
) -> str:
    """GIF of a mean-field flow ``(T, S)`` moving through the map, one frame per time step.

    Every frame shares one colour scale and its colour bar (the crowd spreading out fades);
    ``per_frame=True`` rescales each frame to its own maximum instead (the bar then reads "relative").
    """
    plt = pyplot()
    from matplotlib.animation import FuncAnimation, PillowWriter

    from mfglearn._common.io import atomic_write_bytes

    frames = [grid_image(game, m) for m in mu]
    top = shared_top(frames)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    first = frames[0] / max(float(np.nanmax(frames[0])), 1e-12) if per_frame else frames[0]
    im = ax.imshow(
        np.ma.masked_invalid(first), cmap=_cmap(plt), vmin=0, vmax=1.0 if per_frame else top, interpolation="nearest"
    )
    fig.colorbar(
        im,
        ax=ax,
        shrink=0.85,
        label="mass / frame maximum" if per_frame else "mass per cell",
        extend="neither" if per_frame else "max",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    label = ax.set_title("")

    def update(t):
        f = frames[t] / max(float(np.nanmax(frames[t])), 1e-12) if per_frame else frames[t]
        im.set_data(np.ma.masked_invalid(f))
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
    from matplotlib.ticker import MaxNLocator

    m = mu.detach().cpu().numpy()
    if m.ndim != 2:
        raise ValidationError("plot_line_density needs a flow of shape (T, S); for stationary games use a bar plot")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    im = ax.imshow(m, aspect="auto", origin="lower", cmap=CMAP, interpolation="nearest", vmin=0)
    names = game.layout.get("states") if isinstance(getattr(game, "layout", None), dict) else None
    if names and len(names) == m.shape[1] and len(names) <= 12:
        ax.set_xticks(range(len(names)), names, fontsize=8, rotation=30 if len(names) > 4 else 0)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("state")
    ax.set_ylabel("time t")
    fig.colorbar(im, ax=ax, label="mass")
    ax.set_title(title or game.name, fontsize=10)
    return save(fig, path) if path else fig
