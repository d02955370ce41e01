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


LINEAR = frozenset({"value", "br_return", "objective", "social_value", "planner_value"})


def _band(runs: Sequence[Mapping], key: str):
    n = min(len(r[key]) for r in runs)
    # metrics measured every k iterations are None in between: gaps, not zeros
    arr = np.array([[np.nan if v is None else float(v) for v in r[key][:n]] for r in runs])
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
        logy: log-scale y axes where a metric is non-negative (zeros are clipped to the smallest positive
            value); metrics with negative values (values, returns) keep a linear axis.
        styles: optional matplotlib line keywords per label (e.g. ``{"exact": {"ls": "--", "color": "k"}}``).
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    def _has(run, key):
        hist = [run] if isinstance(run, Mapping) else list(run)
        return all(key in h and any(isinstance(v, (int, float)) for v in h[key]) for h in hist)

    keys = [k for k in keys if any(_has(run, k) for run in runs.values())]  # no empty panels
    if not keys:
        raise ValueError("none of the runs has a numeric history for the keys asked for")
    ncols = ncols or min(len(keys), 2)
    nrows = int(np.ceil(len(keys) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.6 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        values = np.array(
            [
                float(v)
                for run in runs.values()
                for h in ([run] if isinstance(run, Mapping) else run)
                for v in h.get(key, [])
                if isinstance(v, (int, float))
            ]
        )
        # errors and deltas on log axes; values, returns and objectives (any sign, no zero to approach) linear
        log_here = logy and key not in LINEAR and bool((values >= 0).all() and (values > 0).any())
        for label, run in runs.items():
            hist = [run] if isinstance(run, Mapping) else list(run)
            if not _has(run, key):
                continue
            x, arr = _band(hist, key)
            mean = arr.mean(0)
            keep = np.isfinite(mean)
            x, arr, mean = x[keep], arr[:, keep], mean[keep]
            if log_here:
                pos = arr[arr > 0]
                floor = pos.min() if pos.size else 1e-16
                mean = np.maximum(mean, floor)
            (line,) = ax.plot(x, mean, label=label, **{"lw": 1.6, **(styles or {}).get(label, {})})
            if len(hist) > 1:
                lo, hi = arr.min(0), arr.max(0)
                if log_here:
                    lo, hi = np.maximum(lo, floor), np.maximum(hi, floor)
                ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
        if log_here:
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(LABELS.get(key, key.replace("_", " ")), fontsize=9)
        ax.set_title(LABELS.get(key, key.replace("_", " ")), fontsize=10)
        ax.grid(alpha=0.3, which="both")
    for ax in list(axes.flat)[len(keys) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
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
