"""Plots and animations (matplotlib, imported lazily: ``pip install 'mfglearn[plot]'``)."""

from mfglearn.viz.curves import plot_histories, plot_loglog
from mfglearn.viz.grids import plot_grid_density

__all__ = ["plot_grid_density", "plot_histories", "plot_loglog"]
