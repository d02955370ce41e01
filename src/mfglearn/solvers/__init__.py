"""Exact-model iterative solvers (registered in :mod:`mfglearn.registry`)."""

from __future__ import annotations

from mfglearn.solvers.base import Solver
from mfglearn.solvers.fictitious_play import FictitiousPlay
from mfglearn.solvers.fixed_point import FixedPoint
from mfglearn.solvers.mf_omo import MFOMO
from mfglearn.solvers.mf_trpo import MFTRPO
from mfglearn.solvers.mirror_descent import BoltzmannPolicyIteration, MirrorDescent
from mfglearn.solvers.omi import OccupationMeasureInclusion
from mfglearn.solvers.prior_descent import PriorDescent

__all__ = [
    "BoltzmannPolicyIteration",
    "FictitiousPlay",
    "FixedPoint",
    "MFOMO",
    "MFTRPO",
    "MirrorDescent",
    "OccupationMeasureInclusion",
    "PriorDescent",
    "Solver",
]
