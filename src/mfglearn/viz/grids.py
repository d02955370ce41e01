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
