"""The public functions: make / solve / exploitability / ... (re-exported by ``mfglearn``)."""

from __future__ import annotations

import os

import torch

from mfglearn.algorithm import Algorithm, Callback, Checkpoint
from mfglearn.core.metrics import exploitability as _exploitability
from mfglearn.registry import get_algorithm, list_algorithms, make
from mfglearn.result import Result


def solve(
    game,
    solver: str = "fictitious_play",
    iterations: int | None = None,
    *,
    callback: Callback | None = None,
    progress: bool = False,
    target_exploitability: float | None = None,
    checkpoint: str | os.PathLike | Checkpoint | None = None,
    stationary: dict | None = None,
    **hyperparameters,
) -> Result:
    """Solve ``game`` (a game object or a registered id) with algorithm ``solver``.

    Every algorithm follows one contract (:class:`~mfglearn.algorithm.Algorithm`): ``iterations``
    of its outer loop (``mfglearn.algorithm_info(name)`` says what one is; default: the
    algorithm's ``default_iterations``, 100 for the tabular solvers), ``callback(algo, info)``
    after each (returning ``False`` stops), a progress bar, a target exploitability, and a
    ``checkpoint`` directory it saves to and resumes from. Extra keyword arguments are the
    algorithm's hyperparameters (e.g. ``learning_rate=0.1`` for ``mirror_descent``).
    ``stationary`` (discounted games) sets how stationary mean fields are computed, e.g.
    ``{"max_iter": 50, "tol": 1e-8}`` bounds the mean-field fixed-point search of a
    mean-field-dependent kernel (:class:`~mfglearn.model.stationary_options.StationaryOptions`).

    Returns a :class:`~mfglearn.result.Result` (for mean-field control an ``MFCResult``, for deep
    fictitious play a ``DeepFPResult``: both extend it).
    """
    game = _with_stationary(game, stationary)
    algo = make_algorithm(game, solver, **hyperparameters)
    return algo.solve(
        iterations,
        callback=callback,
        progress=progress,
        target_exploitability=target_exploitability,
        checkpoint=checkpoint,
    )


def make_algorithm(game, solver: str, **hyperparameters) -> Algorithm:
    """The algorithm ``solver`` built on ``game`` (an object or a registered id), hyperparameters checked."""
    if isinstance(game, str):
        game = make(game)
    return get_algorithm(solver, game).create(game, **hyperparameters)


def exploitability(game, policy, *, stationary: dict | None = None) -> float:
    """Exploitability of ``policy`` (``(H, S, A)``, or ``(S, A)`` on a discounted game) in ``game`` (an object
    or a registered id): the best response's gain against the policy's own mean field.

    ``stationary`` (discounted games): options of the stationary mean field, as in :func:`solve`."""
    if isinstance(game, str):
        game = make(game)
    if not hasattr(game, "uniform_policy"):
        from mfglearn.errors import ValidationError

        raise ValidationError(f"exploitability needs a finite game (FiniteMFG or a game id), got {type(game).__name__}")
    return _exploitability(_with_stationary(game, stationary), policy)


def _with_stationary(game, stationary: dict | None):
    if stationary is None:
        return game
    if isinstance(game, str):
        game = make(game)
    if not hasattr(game, "with_stationary") or game.is_finite_horizon:
        from mfglearn.errors import ValidationError

        raise ValidationError("stationary= applies to discounted finite games (FiniteMFG built with gamma=...)")
    return game.with_stationary(**stationary)


def uniform_policy(game) -> torch.Tensor:
    """The uniform policy over each state's legal actions."""
    return game.uniform_policy()


def list_solvers(kind: str | None = None) -> list[str]:
    """Registered algorithm names, sorted (with ``kind``: those accepting that kind of game)."""
    return list_algorithms(kind)


def get_solver(name: str, game=None) -> type[Algorithm]:
    """The algorithm class registered as ``name`` (for ``game``'s kind, if given)."""
    return get_algorithm(name, game)


ENV_ID = "mfglearn/BestResponse-v0"


def register_envs() -> None:
    """Register the Gymnasium id ``mfglearn/BestResponse-v0`` (idempotent).

    ``gym.make("mfglearn/BestResponse-v0", game="four_rooms", game_params={...}, **env_options)`` is then
    :func:`~mfglearn.population.adapters.best_response_env` (``game`` an id or a game object). Without
    calling this first, ``gym.make("mfglearn.envs:mfglearn/BestResponse-v0", ...)`` imports
    :mod:`mfglearn.envs`, which registers the id.
    """
    from gymnasium.envs.registration import register, registry

    if ENV_ID not in registry:
        register(id=ENV_ID, entry_point="mfglearn.api:_best_response_env")


def _best_response_env(game="beach_bar", game_params: dict | None = None, **kwargs):
    from mfglearn.population.adapters import best_response_env

    if isinstance(game, str):
        game = make(game, **(game_params or {}))
    elif game_params:
        from mfglearn.errors import ValidationError

        raise ValidationError("game_params applies to a game id: pass game='four_rooms', game_params={...}")
    return best_response_env(game, **kwargs)
