"""mfglearn: equilibria of mean-field games and optima of mean-field control.

The facade::

    import mfglearn
    game = mfglearn.make("four_rooms", horizon=30)
    result = mfglearn.solve(game, "fictitious_play", iterations=200)
    print(result.exploitability)
"""

from __future__ import annotations

from mfglearn._common.backend import set_threads
from mfglearn.algorithm import Algorithm, Checkpoint
from mfglearn.api import exploitability, get_solver, list_solvers, make_algorithm, solve, uniform_policy
from mfglearn.core.metrics import evaluate, mean_field_delta, policy_delta, quality
from mfglearn.errors import MFGError, ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.registry import (
    algorithm_info,
    game_info,
    get_algorithm,
    list_algorithms,
    list_games,
    make,
    register_algorithm,
    register_game,
)
from mfglearn.result import Result
from mfglearn.solvers.base import Solver

__version__ = "0.2.0"

register_solver = register_algorithm  # the 0.1 name


def tune(solver: str, games: list, **kwargs):
    """Tune ``solver`` over ``games`` with Optuna (see :func:`mfglearn.runs.tune.tune`); returns a ``TuneResult``."""
    from mfglearn.runs.tune import tune as _tune

    return _tune(solver, games, **kwargs)


__all__ = [
    "Algorithm",
    "Checkpoint",
    "FiniteMFG",
    "MFGError",
    "Result",
    "Solver",
    "ValidationError",
    "algorithm_info",
    "evaluate",
    "exploitability",
    "game_info",
    "get_algorithm",
    "get_solver",
    "list_algorithms",
    "list_games",
    "list_solvers",
    "make",
    "make_algorithm",
    "mean_field_delta",
    "policy_delta",
    "quality",
    "register_algorithm",
    "register_game",
    "register_solver",
    "set_threads",
    "solve",
    "tune",
    "uniform_policy",
]
