"""mfglearn: equilibria of mean-field games and optima of mean-field control.

The facade::

    import mfglearn
    game = mfglearn.make("four_rooms", horizon=30)
    result = mfglearn.solve(game, "fictitious_play", iterations=200)
    print(result.exploitability)
"""

from __future__ import annotations

import torch

from mfglearn.core.backend import set_threads
from mfglearn.core.metrics import evaluate, mean_field_delta, policy_delta, quality
from mfglearn.core.metrics import exploitability as _exploitability
from mfglearn.errors import MFGError, ValidationError
from mfglearn.games import FiniteMFG, list_games, make, register_game
from mfglearn.solvers import SOLVERS, Result, Solver, get_solver, register_solver

__version__ = "0.1.0"


def solve(
    game,
    solver: str = "fictitious_play",
    iterations: int = 100,
    *,
    callback=None,
    progress: bool = False,
    target_exploitability: float | None = None,
    **hyperparameters,
) -> Result:
    """Solve ``game`` (a game object or a registered id) with solver ``solver``.

    Returns a :class:`Result` with ``.policy``, ``.mean_field``, ``.value``,
    ``.exploitability`` and ``.history`` (for the mean-field control solvers ``mfc_*``,
    an :class:`~mfglearn.control.MFCResult` with the planner's ``.value`` and closed-loop
    ``.policy``; for continuous games and ``deda_fp`` / ``deep_fp_*``, a
    :class:`~mfglearn.deep.deda_fp.DeepFPResult`). Extra keyword arguments are the solver's hyperparameters (e.g.
    ``learning_rate=0.1`` for ``mirror_descent``).
    """
    if isinstance(game, str):
        game = make(game)
    from mfglearn.games.meeting import MeetingGame

    if isinstance(game, MeetingGame):  # a static game: solved by its own fixed-point search
        if solver != "fixed_point":
            raise ValidationError(f"the meeting game is solved with 'fixed_point', not {solver!r}")
        return game.solve(**hyperparameters)
    from mfglearn.games.continuous import ContinuousMFG
    from mfglearn.games.lq import LinearQuadraticMFG

    cls = get_solver(solver)
    continuous = isinstance(game, (ContinuousMFG, LinearQuadraticMFG))
    if getattr(cls, "is_deep", False):  # deep fictitious play on a continuous game: a DeepFPResult
        if not continuous:
            raise ValidationError(
                f"{solver!r} is for continuous games (lq, four_rooms_exploration, beach_bar_continuous); "
                f"game {getattr(game, 'name', game)!r} is tabular: use e.g. 'fictitious_play'"
            )
        return cls(game, **_check_hparams(cls, hyperparameters)).solve(iterations, callback=callback)
    if continuous:
        extra = " (its exact equilibrium: game.exact_solution())" if isinstance(game, LinearQuadraticMFG) else ""
        raise ValidationError(
            f"game {game.name!r} is continuous; solve it with 'deda_fp', 'deep_fp_sampled' or 'deep_fp_average'"
            f"{extra}; the tabular solvers need a FiniteMFG (e.g. lq_discrete)"
        )
    if getattr(cls, "is_mfc", False):  # mean-field control: the planner's problem, an MFCResult
        return cls(game, **_check_hparams(cls, hyperparameters)).solve(iterations, callback=callback)
    return cls(game, **_check_hparams(cls, hyperparameters)).solve(
        iterations, callback=callback, progress=progress, target_exploitability=target_exploitability
    )


def _check_hparams(cls, hp: dict) -> dict:
    import inspect

    names = [n for c in cls.__mro__ if "__init__" in vars(c) for n in inspect.signature(c.__init__).parameters]
    allowed = {n for n in names if n not in ("self", "game", "kw", "kwargs")}
    unknown = [k for k in hp if k not in allowed]
    if unknown:
        from mfglearn.errors import UnknownNameError

        raise UnknownNameError(
            f"solver {cls.name!r} has no hyperparameter {', '.join(map(repr, unknown))}; "
            f"it accepts: {', '.join(sorted(allowed))}"
        )
    return hp


def tune(solver: str, games: list, **kwargs):
    """Tune ``solver`` over ``games`` with Optuna (see :func:`mfglearn.runs.tune.tune`); returns a ``TuneResult``."""
    from mfglearn.runs.tune import tune as _tune

    return _tune(solver, games, **kwargs)


def exploitability(game, policy) -> float:
    """Exploitability of ``policy`` (``(H, S, A)``) in ``game``: best-response gain against its own mean field."""
    return _exploitability(game, policy)


def uniform_policy(game) -> torch.Tensor:
    """The uniform policy over each state's legal actions."""
    return game.uniform_policy()


def list_solvers() -> list[str]:
    """Registered solver names, sorted."""
    from mfglearn.solvers import _register_learners

    _register_learners()
    return sorted(SOLVERS)


__all__ = [
    "FiniteMFG",
    "MFGError",
    "Result",
    "Solver",
    "ValidationError",
    "evaluate",
    "exploitability",
    "get_solver",
    "list_games",
    "list_solvers",
    "make",
    "mean_field_delta",
    "policy_delta",
    "quality",
    "register_game",
    "register_solver",
    "set_threads",
    "solve",
    "tune",
    "uniform_policy",
]
