"""Convergence curves: several runs' histories on shared axes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mfglearn.viz._mpl import pyplot, save

LABELS = {
    "exploitability": "exploitability",
    "quality": "quality $T(\\pi, \\mu)$",
    "mean_field_delta": "mean-field delta $\\|\\mu_{k+1}-\\mu_k\\|_1$",
    "policy_delta": "$\\mu$-weighted policy delta",
    "mu_pi_delta": "$\\|\\mu_p - \\mu^{\\pi_p}\\|_1$",
    "population_delta": "population delta",
}


def _band(runs: Sequence[Mapping], key: str):
    n = min(len(r[key]) for r in runs)
    arr = np.array([np.asarray(r[key][:n], dtype=float) for r in runs])
    x = np.asarray(runs[0]["iteration"][:n])
    return x, arr


def plot_histories(
    runs: Mapping[str, Mapping | Sequence[Mapping]],
    keys: Sequence[str] = ("exploitability",),
    path: str | None = None,
    title: str | None = None,
    logy: bool = True,
    ncols: int | None = None,
    styles: Mapping[str, dict] | None = None,
):
    """One panel per history key, one curve per run (a list of histories draws mean and min-max band).

    Args:
        runs: ``{label: history}`` or ``{label: [history, ...]}`` (e.g. ``result.history``).
        keys: history keys to plot, one panel each.
        path: where to save the figure (PNG); ``None`` returns the figure.
        logy: log-scale y axes (non-positive values are clipped to the smallest positive one).
        styles: optional matplotlib line keywords per label (e.g. ``{"exact": {"ls": "--", "color": "k"}}``).
    """
    plt = pyplot()
    ncols = ncols or min(len(keys), 2)
    nrows = int(np.ceil(len(keys) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.6 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        for label, run in runs.items():
            hist = [run] if isinstance(run, Mapping) else list(run)
            if any(key not in h for h in hist):
                continue
            x, arr = _band(hist, key)
            mean = arr.mean(0)
            if logy:
                pos = arr[arr > 0]
                floor = pos.min() if pos.size else 1e-16
                mean = np.maximum(mean, floor)
            (line,) = ax.plot(x, mean, label=label, **{"lw": 1.6, **(styles or {}).get(label, {})})
            if len(hist) > 1:
                lo, hi = arr.min(0), arr.max(0)
                if logy:
                    lo, hi = np.maximum(lo, floor), np.maximum(hi, floor)
                ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_title(LABELS.get(key, key), fontsize=10)
        ax.grid(alpha=0.3, which="both")
    for ax in list(axes.flat)[len(keys) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path) if path else fig


def plot_loglog(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | None = None,
    reference: float | None = 1.0,
    xlabel: str = "L",
    ylabel: str = "exploitability",
    title: str | None = None,
):
    """Log-log curves ``{label: (x, y)}`` with an optional ``C / x`` reference line fitted at the first point."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    first = None
    xmax = 0.0
    for label, (x, y) in curves.items():
        x, y = np.asarray(x, float), np.asarray(y, float)
        keep = y > 0
        ax.loglog(x[keep], y[keep], "o-", ms=3, label=label)
        if keep.any():
            xmax = max(xmax, float(x[keep].max()))
            if first is None:
                first = (x[keep][0], y[keep][0])
    if reference is not None and first is not None:
        x0, y0 = first
        xs = np.geomspace(x0, max(xmax, x0 * 10), 50)
        ax.loglog(xs, y0 * (x0 / xs) ** reference, "k--", lw=1, label=f"$C / {xlabel}^{{{reference:g}}}$")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return save(fig, path) if path else fig
