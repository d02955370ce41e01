"""Figures of multi-population games: populations on a grid, one colour each, and traffic on a network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from mfglearn.errors import ValidationError
from mfglearn.viz._mpl import pyplot, save

# colour-blind-safe hues (Okabe-Ito), one per population
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _grid_populations(game, mu: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
    """``(P, T, rows, cols)`` densities of a grid game's populations from a joint flow, and the wall mask."""
    lay = game.populations
    if lay is None or "grid" not in game.layout or not isinstance(game.layout["grid"][0], int):
        raise ValidationError(f"game {game.name!r} is not a multi-population grid game")
    rows, cols = game.layout["grid"]
    m = mu if mu.dim() == 2 else mu.unsqueeze(0)
    parts = [(x / w).detach().cpu().numpy() for x, w in zip(lay.split(m), lay.weights, strict=True)]
    dens = np.stack([p.reshape(p.shape[0], rows, cols) for p in parts])  # cells s = x + cols * y: rows are y
    walls = game.layout.get("walls")
    mask = None if walls is None else np.array([[c == "#" for c in row] for row in walls])
    return dens, mask


def _scale(dens: np.ndarray) -> np.ndarray:
    """Each population's saturation density: its maximum after ``t = 0`` (initial point masses would
    otherwise wash every later frame out)."""
    later = dens[:, 1:] if dens.shape[1] > 1 else dens
    return later.reshape(dens.shape[0], -1).max(1).clip(min=1e-12)


def _composite(dens_t: np.ndarray, scale: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """White canvas tinted by each population's density (``dens_t`` ``(P, rows, cols)``) over its ``scale``."""
    img = np.ones(dens_t.shape[1:] + (3,))
    for p in range(dens_t.shape[0]):
        a = np.clip(dens_t[p] / scale[p], 0.0, 1.0)[..., None]
        img *= 1.0 - a * (1.0 - _rgb(COLORS[p % len(COLORS)]))
    if mask is not None:
        img[mask] = 0.35  # walls: dark grey, apart from every tint
    return img


def plot_population_snapshots(
    game, mu: torch.Tensor, path: str | Path | None = None, times: Sequence[int] | None = None, title: str | None = None
) -> str:
    """The populations of a grid game at several times: one row per population, in its colour.

    A row shares one colour scale over time (its colour bar), saturating at the population's
    largest density after ``t = 0`` (the initial point masses saturate), so a crowd spreading out
    visibly fades. Walls are dark grey.
    """
    plt = pyplot()
    from matplotlib import cm, colors

    dens, mask = _grid_populations(game, mu)
    P, T = dens.shape[:2]
    if times is None:  # early steps are where crowds move most: 0, 1, 2, 4, half way, the end
        times = sorted({t for t in (0, 1, 2, 4, (T - 1) // 2, T - 1) if t < T})
    scale = _scale(dens)
    names = game.populations.names
    fig, axes = plt.subplots(P, len(times), figsize=(1.9 * len(times) + 1.2, 1.9 * P + 0.6), squeeze=False)
    for p in range(P):
        cmap = colors.LinearSegmentedColormap.from_list(names[p], ["#ffffff", COLORS[p % len(COLORS)]])
        cmap = cmap.with_extremes(bad="#595959")
        norm = colors.Normalize(0.0, float(scale[p]))
        for j, t in enumerate(times):
            ax = axes[p, j]
            img = np.ma.array(dens[p, t], mask=mask) if mask is not None else dens[p, t]
            ax.imshow(np.clip(img, 0, scale[p]), cmap=cmap, norm=norm, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if p == 0:
                ax.set_title(f"t = {t}")
            if j == 0:
                ax.set_ylabel(names[p])
        fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[p].tolist(), shrink=0.85, label="density")
    fig.suptitle(title or f"{game.name}: each population's density over time")
    return save(fig, path) if path else fig


def animate_populations(game, mu: torch.Tensor, path: str | Path, fps: int = 4, title: str | None = None) -> str:
    """A GIF of a grid game's populations over time (same colours and fixed scale as the snapshots)."""
    plt = pyplot()
    from matplotlib import animation
    from matplotlib.patches import Patch

    dens, mask = _grid_populations(game, mu)
    scale = _scale(dens)
    fig, ax = plt.subplots(figsize=(4, 4.4))
    im = ax.imshow(_composite(dens[:, 0], scale, mask), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    names = game.populations.names
    ax.legend(
        handles=[Patch(color=COLORS[p % len(COLORS)], label=names[p]) for p in range(len(names))],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=min(4, len(names)),
        frameon=False,
        fontsize=8,
    )
    head = ax.set_title("")

    def frame(t):
        im.set_data(_composite(dens[:, t], scale, mask))
        head.set_text(f"{title or game.name}  t = {t}")
        return im, head

    anim = animation.FuncAnimation(fig, frame, frames=dens.shape[1], blit=False)
    import tempfile

    from mfglearn._common.io import atomic_write_bytes

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp) / "anim.gif"
        anim.save(tmp_path, writer=animation.PillowWriter(fps=fps))
        plt.close(fig)
        atomic_write_bytes(Path(path), tmp_path.read_bytes())
    return str(path)


def plot_network_flows(
    game, shares: Mapping[str, torch.Tensor], path: str | Path | None = None, times: Mapping[str, float] | None = None
) -> str:
    """Link flows on a routing game's network, one panel per policy.

    ``shares``: label -> ``(L,)`` share of vehicles entering each link (e.g. from
    :func:`mfglearn.core.routes.link_entries`); arrow width and colour encode it (one colour
    bar for all panels). ``times``: label -> average travel time, shown in the panel titles.
    """
    plt = pyplot()
    from matplotlib import cm, colors

    net = game.layout["routing"].network
    if not net.positions:
        raise ValidationError(f"network {net.name!r} has no node positions to draw")
    norm = colors.Normalize(0.0, 1.0)
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(1, len(shares), figsize=(4.6 * len(shares), 3.4), squeeze=False)
    for ax, (label, sh) in zip(axes[0], shares.items(), strict=True):
        sh = sh.detach().cpu().numpy()
        for i, lk in enumerate(net.links):
            (x0, y0), (x1, y1) = net.positions[lk.start], net.positions[lk.end]
            if (x0, y0) == (x1, y1):
                continue  # origin/destination stubs drawn as the node itself
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops=dict(arrowstyle="-|>", lw=1 + 5 * sh[i], color=cmap(norm(sh[i])), shrinkA=11, shrinkB=11),
            )
            # the label sits beside the arrow, on its left-hand side
            dx, dy = x1 - x0, y1 - y0
            n = max((dx * dx + dy * dy) ** 0.5, 1e-9)
            ax.text(
                (x0 + x1) / 2 - 0.18 * dy / n,
                (y0 + y1) / 2 + 0.18 * dx / n,
                f"{sh[i]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
            )
        for node, (x, y) in net.positions.items():
            ax.plot(x, y, "o", ms=14, mfc="white", mec="black")
            ax.text(x, y, node, ha="center", va="center", fontsize=8)
        head = label if times is None or label not in times else f"{label}\naverage travel time {times[label]:.3f}"
        ax.set_title(head)
        ax.set_aspect("equal")
        ax.margins(0.15)
        ax.axis("off")
    fig.colorbar(
        cm.ScalarMappable(norm=norm, cmap=cmap),
        ax=axes[0].tolist(),
        shrink=0.8,
        label="share of vehicles entering the link",
    )
    return save(fig, path) if path else fig
