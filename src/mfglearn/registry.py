"""Every algorithm and game, complete at import.

Algorithms are registered by name with the game kinds they declare; one name may have several
implementations for different kinds (``fixed_point`` is the damped tabular iteration on finite
games and the bisection on the static meeting game), and :func:`get_algorithm` picks the one that
fits the game. Games come from :mod:`mfglearn.games.registry` (ids -> constructors and kinds).
"""

from __future__ import annotations

import inspect

from mfglearn.algorithm import Algorithm, game_kind
from mfglearn.control.algorithms import MFCDP, MFCKQ, MFCOpenLoop, MFCQLearning
from mfglearn.deep.fictitious_play import DEDAFP, DeepFPAverage, DeepFPSampled
from mfglearn.deep.finite_solvers import MFPPO, DeepAverageNetworkFP, DeepMirrorDescent
from mfglearn.errors import UnknownNameError, ValidationError
from mfglearn.games.registry import GAMES, get_game_spec, list_games, make, register_game
from mfglearn.learning.mf_trpo_sampled import SampledMFTRPO
from mfglearn.learning.q_learning import GMFQ, NaiveQLearning
from mfglearn.solvers import (
    MFOMO,
    MFTRPO,
    BoltzmannPolicyIteration,
    FictitiousPlay,
    FixedPoint,
    MirrorDescent,
    OccupationMeasureInclusion,
    PriorDescent,
)
from mfglearn.solvers.benchmfg import BenchMFGFixedPoint, BenchMFGMirrorDescent, BenchMFGPolicyIteration, ParticleSwarm
from mfglearn.solvers.static import MeetingFixedPoint

ALGORITHMS: dict[str, list[type[Algorithm]]] = {}


def register_algorithm(cls: type[Algorithm]) -> type[Algorithm]:
    """Register an :class:`~mfglearn.algorithm.Algorithm` subclass under ``cls.name`` (usable as a decorator).

    A class for kinds that an already registered implementation of the same name covers replaces it.
    """
    if not (isinstance(cls, type) and issubclass(cls, Algorithm)) or not cls.name or not cls.game_kinds:
        raise ValidationError(f"{cls!r} is not an Algorithm subclass with a name and game_kinds")
    impls = [c for c in ALGORITHMS.get(cls.name, []) if not (c.game_kinds & cls.game_kinds) and c is not cls]
    ALGORITHMS[cls.name] = [*impls, cls]
    return cls


for _cls in (
    FixedPoint,
    FictitiousPlay,
    MirrorDescent,
    BoltzmannPolicyIteration,
    MFTRPO,
    PriorDescent,
    MFOMO,
    OccupationMeasureInclusion,
    SampledMFTRPO,
    GMFQ,
    NaiveQLearning,
    MFCDP,
    MFCOpenLoop,
    MFCKQ,
    MFCQLearning,
    DEDAFP,
    DeepFPSampled,
    DeepFPAverage,
    DeepMirrorDescent,
    DeepAverageNetworkFP,
    MFPPO,
    MeetingFixedPoint,
    BenchMFGMirrorDescent,
    BenchMFGPolicyIteration,
    BenchMFGFixedPoint,
    ParticleSwarm,
):
    register_algorithm(_cls)


def list_algorithms(kind: str | None = None) -> list[str]:
    """Registered algorithm names, sorted; with ``kind``, those that accept games of that kind."""
    return sorted(n for n, impls in ALGORITHMS.items() if kind is None or any(kind in c.game_kinds for c in impls))


def get_algorithm(name: str, game=None) -> type[Algorithm]:
    """The algorithm class registered as ``name`` (the implementation for ``game``'s kind, if given).

    Raises one clear error for an unknown name (with close matches) or a game the algorithm does
    not accept (listing the algorithms that do).
    """
    impls = ALGORITHMS.get(name)
    if not impls:
        import difflib

        close = difflib.get_close_matches(str(name), ALGORITHMS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(f"unknown solver {name!r}.{hint} Available: {', '.join(list_algorithms())}")
    if game is None:
        return impls[0]
    kind = game_kind(game)
    for cls in impls:
        if kind in cls.game_kinds:
            return cls
    accepted = sorted(set().union(*(c.game_kinds for c in impls)))
    fits = ", ".join(list_algorithms(kind))
    extra = " (its exact equilibrium: game.exact_solution())" if hasattr(game, "exact_solution") else ""
    is_ = {"finite_horizon": "has a finite horizon", "discounted": "is discounted"}.get(kind, f"is {kind}")
    raise ValidationError(
        f"solver {name!r} accepts {' or '.join(a.replace('_', '-') for a in accepted)} games; "
        f"{getattr(game, 'name', type(game).__name__)!r} {is_}. Solvers for it: {fits}{extra}"
    )


def algorithm_info(name: str) -> list[dict]:
    """For each implementation of ``name``: description, game kinds, problem, what one iteration is,
    and the hyperparameters with their defaults (the one introspection used by the facade, CLI,
    sweeps and tune)."""
    out = []
    for cls in ALGORITHMS[name] if name in ALGORITHMS else [get_algorithm(name)]:
        hp = {
            n: (None if p.default is inspect.Parameter.empty else p.default)
            for n, p in cls.hyperparameter_spec().items()
        }
        out.append(
            {
                "name": cls.name,
                "class": cls.__name__,
                "description": cls.description,
                "game_kinds": sorted(cls.game_kinds),
                "problem": cls.problem,
                "iteration": cls.iteration_unit,
                "hyperparameters": hp,
                "aliases": {old: a.new for old, a in cls.aliases.items()},
            }
        )
    return out


def game_info(game_id: str) -> dict:
    """A registered game's description, kind, number of populations and parameters with defaults."""
    spec = get_game_spec(game_id)
    return {
        "id": game_id,
        "description": spec.description,
        "kind": spec.kind,
        "populations": spec.populations,
        "parameters": spec.parameters(),
    }


__all__ = [
    "ALGORITHMS",
    "GAMES",
    "algorithm_info",
    "game_info",
    "get_algorithm",
    "list_algorithms",
    "list_games",
    "make",
    "register_algorithm",
    "register_game",
]
