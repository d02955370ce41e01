"""Plots and animations (matplotlib, imported lazily: ``pip install 'mfglearn[plot]'``)."""

from mfglearn.viz.curves import plot_histories, plot_loglog
from mfglearn.viz.grids import animate_grid, plot_grid_density, plot_line_density, plot_policy_arrows
from mfglearn.viz.run import plot_run
from mfglearn.viz.stationary import plot_stationary

__all__ = [
    "animate_grid",
    "plot_grid_density",
    "plot_histories",
    "plot_line_density",
    "plot_loglog",
    "plot_policy_arrows",
    "plot_run",
    "plot_stationary",
]
