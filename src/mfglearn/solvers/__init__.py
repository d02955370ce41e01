"""Exact-model iterative solvers and their registry."""

from __future__ import annotations

from mfglearn.errors import UnknownNameError
from mfglearn.solvers.base import Result, Solver
from mfglearn.solvers.fictitious_play import FictitiousPlay
from mfglearn.solvers.fixed_point import FixedPoint
from mfglearn.solvers.mirror_descent import BoltzmannPolicyIteration, MirrorDescent

SOLVERS: dict[str, type[Solver]] = {
    cls.name: cls for cls in (FixedPoint, FictitiousPlay, MirrorDescent, BoltzmannPolicyIteration)
}


def get_solver(name: str) -> type[Solver]:
    """The solver class registered as ``name``."""
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
    "MirrorDescent",
    "Result",
    "Solver",
    "get_solver",
    "register_solver",
]
