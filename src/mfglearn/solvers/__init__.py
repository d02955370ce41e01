"""Exact-model iterative solvers and their registry."""

from __future__ import annotations

from mfglearn.errors import UnknownNameError
from mfglearn.solvers.base import Result, Solver
from mfglearn.solvers.fictitious_play import FictitiousPlay
from mfglearn.solvers.fixed_point import FixedPoint
from mfglearn.solvers.mf_omo import MFOMO
from mfglearn.solvers.mf_trpo import MFTRPO
from mfglearn.solvers.mirror_descent import BoltzmannPolicyIteration, MirrorDescent
from mfglearn.solvers.omi import OccupationMeasureInclusion
from mfglearn.solvers.prior_descent import PriorDescent

SOLVERS: dict[str, type[Solver]] = {
    cls.name: cls
    for cls in (
        FixedPoint,
        FictitiousPlay,
        MirrorDescent,
        BoltzmannPolicyIteration,
        MFTRPO,
        PriorDescent,
        MFOMO,
        OccupationMeasureInclusion,
    )
}


def _register_learners() -> None:
    # learning/ builds on solvers/; import lazily to keep the dependency one-way at import time
    from mfglearn.learning.mf_trpo_sampled import SampledMFTRPO
    from mfglearn.learning.q_learning import GMFQ, NaiveQLearning

    for cls in (SampledMFTRPO, GMFQ, NaiveQLearning):
        SOLVERS[cls.name] = cls
    from mfglearn.control import MFC_SOLVERS

    SOLVERS.update(MFC_SOLVERS)  # mean-field control: results are MFCResult, not Result
    from mfglearn.deep.solvers import DEEP_SOLVERS

    SOLVERS.update(DEEP_SOLVERS)  # continuous games: results are DeepFPResult


def get_solver(name: str) -> type[Solver]:
    """The solver class registered as ``name``."""
    if name not in SOLVERS:
        _register_learners()
    try:
        return SOLVERS[name]
    except KeyError:
        raise UnknownNameError(f"unknown solver {name!r}; available: {', '.join(sorted(SOLVERS))}") from None


def register_solver(cls: type[Solver]) -> type[Solver]:
    """Register a solver class under ``cls.name`` (usable as a decorator)."""
    SOLVERS[cls.name] = cls
    return cls


__all__ = [
    "SOLVERS",
    "BoltzmannPolicyIteration",
    "FictitiousPlay",
    "FixedPoint",
    "MFOMO",
    "MFTRPO",
    "MirrorDescent",
    "OccupationMeasureInclusion",
    "PriorDescent",
    "Result",
    "Solver",
    "get_solver",
    "register_solver",
]
