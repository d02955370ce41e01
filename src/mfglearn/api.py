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


def solve_batch(
    games,
    solver: str = "fictitious_play",
    iterations: int | None = None,
    *,
    progress: bool = False,
    **hyperparameters,
) -> list[Result]:
    """Solve ``B`` members at once: one game with ``B`` hyperparameter settings or initial policies,
    ``B`` games of one structure, or both, paired in order. One :class:`~mfglearn.result.Result` per
    member, each equal to its own :func:`solve` to round-off.

    Args:
        games: a game (object or registered id) shared by every member, or a list of them, one per member.
        solver: the algorithm's name.
        iterations: iterations for every member (default: the algorithm's ``default_iterations``).
        progress: show one progress bar for the batch.
        **hyperparameters: the algorithm's hyperparameters; a list (or tuple) gives one value per member,
            anything else is shared. Lists and the list of games have length ``B`` (or 1).

    Members whose solver has a batched update (``fictitious_play``, ``mirror_descent``,
    ``boltzmann_policy_iteration``, ``prior_descent``, ``fixed_point``), whose games share a structure
    (:class:`~mfglearn.model.batch.GameBatch`: finite horizon, one population, the same sizes and legal
    actions) and whose other hyperparameters agree run as one tensor program: every step handles all of
    them, and their metrics are read back in one host synchronisation per iteration. The others are
    solved one after the other. ``result.extra["batch_size"]`` tells how many members shared a result's
    batch; each history's ``seconds`` is the batch's wall time.

    Example::

        results = mfglearn.solve_batch("mfglib/beach_bar", "mirror_descent", 300,
                                       learning_rate=[0.01, 0.03, 0.1, 0.3, 1.0])
        best = min(results, key=lambda r: r.exploitability)
    """
    from mfglearn._common.progress import logger
    from mfglearn.errors import ValidationError
    from mfglearn.solvers.base import Solver
    from mfglearn.solvers.batch import batch_incompatible, batch_key, run_batch

    per_run = [k for k in ("callback", "target_exploitability", "checkpoint", "stationary") if k in hyperparameters]
    if per_run:
        raise ValidationError(
            f"solve_batch runs every member for the same iterations and takes no {', '.join(per_run)}; "
            "use mfglearn.solve for each member to stop early, checkpoint or set stationary options"
        )

    built: dict = {}  # a game shared by members stays one object (its callables then run once)

    def once(key, build):
        if key not in built:
            built[key] = build()
        return built[key]

    members = [
        (once(g, lambda g=g: make(g)) if isinstance(g, str) else g, hp)
        for g, hp in _batch_members(games, hyperparameters)
    ]
    device = hyperparameters.get("device")
    defer_memory = issubclass(get_algorithm(solver, members[0][0]), Solver) and "check_memory" not in hyperparameters
    if defer_memory:  # the batch checks its memory as a whole (run_batch); members that run alone, alone
        members = [(g, {**hp, "check_memory": False}) for g, hp in members]
    algos = []
    for game, hp in members:
        if device is not None and not isinstance(device, (list, tuple)) and hasattr(game, "with_device"):
            game = once(("device", id(game)), lambda game=game: game.with_device(device))
            hp = {k: v for k, v in hp.items() if k != "device"}
        algos.append(make_algorithm(game, solver, **hp))
    n = algos[0].default_iterations if iterations is None else iterations
    results: list[Result | None] = [None] * len(algos)
    groups: dict[str, list[int]] = {}
    keys = [batch_key(a) if isinstance(a, Solver) else None for a in algos]
    for i, key in enumerate(keys):
        groups.setdefault(key if key is not None else f"alone {i}", []).append(i)
    for idx in groups.values():
        members_ = [algos[i] for i in idx]
        why = batch_incompatible(members_, [keys[i] for i in idx]) if len(idx) > 1 else "a batch of one"
        if why is None:
            for i, r in zip(idx, run_batch(members_, n, progress=progress, checked=True), strict=True):
                results[i] = r
            continue
        if len(idx) > 1:
            logger.info("solve_batch: %d members run one by one: %s", len(idx), why)
        for i in idx:
            if defer_memory:
                algos[i].require_memory()
            results[i] = algos[i].solve(n, progress=progress)
    return results


def _batch_members(games, hyperparameters: dict) -> list[tuple[object, dict]]:
    """``(game, hyperparameters)`` of every member: lists give one value per member, the rest is shared."""
    from mfglearn.errors import ValidationError

    game_list = list(games) if isinstance(games, (list, tuple)) else [games]
    lists = {k: list(v) for k, v in hyperparameters.items() if isinstance(v, (list, tuple))}
    sizes = {len(game_list), *(len(v) for v in lists.values())} - {1}
    if len(sizes) > 1:
        given = ", ".join([f"games: {len(game_list)}"] + [f"{k}: {len(v)}" for k, v in lists.items()])
        raise ValidationError(
            f"solve_batch pairs its lists member by member, so they need one length (or 1); got {given}. "
            "For a grid, build the product yourself (itertools.product)"
        )
    B = sizes.pop() if sizes else 1
    if not game_list or any(len(v) == 0 for v in lists.values()):
        raise ValidationError("solve_batch needs at least one game and no empty hyperparameter list")
    out = []
    for b in range(B):
        hp = {k: (lists[k][b if len(lists[k]) > 1 else 0] if k in lists else v) for k, v in hyperparameters.items()}
        out.append((game_list[b if len(game_list) > 1 else 0], hp))
    return out


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
