"""mfglearn: equilibria of mean-field games and optima of mean-field control.

The facade::

    import mfglearn
    game = mfglearn.make("four_rooms", horizon=30)
    result = mfglearn.solve(game, "fictitious_play", iterations=200)
    print(result.exploitability)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.3.0"

# The facade is loaded on first use (PEP 562), so that ``import mfglearn`` and ``mfglearn --help`` do
# not pay for torch and the registry until something needs them.
_LAZY = {
    "set_threads": "mfglearn._common.backend",
    "Algorithm": "mfglearn.algorithm",
    "Checkpoint": "mfglearn.algorithm",
    "exploitability": "mfglearn.api",
    "get_solver": "mfglearn.api",
    "list_solvers": "mfglearn.api",
    "make_algorithm": "mfglearn.api",
    "solve": "mfglearn.api",
    "solve_batch": "mfglearn.api",
    "uniform_policy": "mfglearn.api",
    "evaluate": "mfglearn.core.metrics",
    "mean_field_delta": "mfglearn.core.metrics",
    "policy_delta": "mfglearn.core.metrics",
    "quality": "mfglearn.core.metrics",
    "MFGError": "mfglearn.errors",
    "ValidationError": "mfglearn.errors",
    "FiniteMFG": "mfglearn.model.finite",
    "algorithm_info": "mfglearn.registry",
    "game_info": "mfglearn.registry",
    "get_algorithm": "mfglearn.registry",
    "list_algorithms": "mfglearn.registry",
    "list_games": "mfglearn.registry",
    "make": "mfglearn.registry",
    "register_algorithm": "mfglearn.registry",
    "register_game": "mfglearn.registry",
    "Result": "mfglearn.result",
    "Solver": "mfglearn.solvers.base",
    "register_envs": "mfglearn.api",
    "policy_from_agent": "mfglearn.population.interop",
    "approximate_exploitability": "mfglearn.population.approximate",
}
_RENAMED = {"register_solver": ("mfglearn.registry", "register_algorithm")}  # the 0.1 name

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from mfglearn._common.backend import set_threads
    from mfglearn.algorithm import Algorithm, Checkpoint
    from mfglearn.api import (
        exploitability,
        get_solver,
        list_solvers,
        make_algorithm,
        register_envs,
        solve,
        solve_batch,
        uniform_policy,
    )
    from mfglearn.core.metrics import evaluate, mean_field_delta, policy_delta, quality
    from mfglearn.errors import MFGError, ValidationError
    from mfglearn.model.finite import FiniteMFG
    from mfglearn.population.approximate import approximate_exploitability
    from mfglearn.population.interop import policy_from_agent
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


def __getattr__(name: str):
    if name in _LAZY or name in _RENAMED:
        module, attr = _RENAMED.get(name, (_LAZY.get(name), name))
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    try:  # subpackages: mfglearn.core, mfglearn.games, ...
        return importlib.import_module(f"mfglearn.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"mfglearn.{name}":
            raise
        raise AttributeError(f"module 'mfglearn' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
    "approximate_exploitability",
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
    "register_envs",
    "register_solver",
    "policy_from_agent",
    "set_threads",
    "solve",
    "solve_batch",
    "tune",
    "uniform_policy",
]
