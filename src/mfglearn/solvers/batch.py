"""Run several solvers of one kind as one tensor program (what :func:`mfglearn.solve_batch` drives).

A batch is ``B`` solver instances of one class whose games form a
:class:`~mfglearn.model.batch.GameBatch` and whose hyperparameters agree except the class's
``batch_hyperparameters`` (numbers that become ``(B, 1, 1)`` tensors). One *driver* instance of
the class then runs the class's own ``_update`` on the stacked state: policies ``(H, B, S, A)``,
the same primitives, one host synchronisation per iteration for every member's metrics. At the
end each member receives its slice (policy, state tensors, history), so its :meth:`result`,
:meth:`state_dict` and further :meth:`step` calls are those of an ordinary solve; each equals
its unbatched solve to round-off (``tests/solvers/test_batch.py``).
"""

from __future__ import annotations

import copy
import math
import time
import warnings

import torch

from mfglearn._common.memory import LARGE_TENSOR, keep_freed_memory, require_memory
from mfglearn._common.progress import progress_bar
from mfglearn.algorithm import _canon
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.flow import Flow
from mfglearn.core.metrics import evaluate, mean_field_delta_tensor, policy_delta_tensor
from mfglearn.model.batch import GameBatch, batch_incompatibility
from mfglearn.result import Result
from mfglearn.solvers.base import HISTORY_KEYS, Solver


def batch_key(solver: Solver) -> str | None:
    """Solvers with equal keys can share a batch (given compatible games); ``None``: never batched."""
    spec = type(solver).batch_hyperparameters
    if spec is None or not solver.game.is_finite_horizon or solver.game.populations is not None:
        return None
    hp = dict(solver.hyperparameters)
    # the numbers may differ; whether each is set (None or not) may not: it picks a code path
    shared = {k: v for k, v in hp.items() if k not in spec}
    pattern = {k: hp.get(k) is None for k in spec}
    g = solver.game
    return _canon([type(solver).__name__, shared, pattern, g.S, g.A, g.H, g.mean_field, str(g.dtype), str(g.device)])


def batch_incompatible(solvers: list[Solver], keys: list[str | None] | None = None) -> str | None:
    """Why ``solvers`` cannot run as one batch (``None`` if they can); ``keys``: their :func:`batch_key`, if
    already known."""
    keys = set(map(batch_key, solvers) if keys is None else keys)
    if None in keys:
        s = next(s for s in solvers if batch_key(s) is None)
        if type(s).batch_hyperparameters is None:
            return f"{s.name} has no batched update"
        return f"{s.game.name!r} is not a single-population finite-horizon game"
    if len(keys) > 1:
        return "the members' solvers differ in a hyperparameter that cannot vary inside a batch"
    if len({type(s) for s in solvers}) > 1:
        return "the members run different solvers"
    if any(s.iteration for s in solvers):
        return "a member has already run iterations"
    return batch_incompatibility([s.game for s in solvers])


def run_batch(solvers: list[Solver], iterations: int, progress: bool = False, *, checked: bool = False) -> list[Result]:
    """Run ``iterations`` iterations of every solver in ``solvers`` as one batch; one result each.

    Raises :class:`~mfglearn.errors.ValidationError` when they cannot share a batch
    (:func:`batch_incompatible`; ``checked``: the caller has just asked) and ``FloatingPointError``
    naming the member whose exploitability becomes non-finite. Divergence warnings are checked on the
    final histories.
    """
    from mfglearn.errors import ValidationError

    why = None if checked else batch_incompatible(solvers)
    if why is not None:
        raise ValidationError(f"these runs cannot share a batch: {why}")
    B = len(solvers)
    g = solvers[0].game
    require_memory(  # the members checked themselves one by one; the batch holds all of them at once
        15 * B * g.H * g.S * g.A * torch.finfo(g.dtype).bits / 8,
        f"a batch of {B} solves of {g.name!r} (S={g.S}, A={g.A}, H={g.H})",
        "solve fewer members per batch",
        g.device,
    )
    large = B * g.H * g.S * g.A >= LARGE_TENSOR
    if large:
        keep_freed_memory()
    driver = _driver(solvers)
    # the batch's tensors are B times a member's: its in-place updates pay from the batch's size on (the same
    # numbers; the loop below reads only the previous evaluation's policy and flow once the update is made)
    driver._large = large
    per_iteration: list[tuple[list, float]] = []  # (metrics of every member, seconds): histories at the end
    ev = evaluate(driver.game, driver.policy, check=False)
    bar = progress_bar(iterations, f"{driver.name} x{B}") if progress else None
    t0 = time.perf_counter()
    try:
        for _ in range(iterations):
            policy, flow = driver._update(ev)
            new = evaluate(driver.game, policy, flow=flow, check=False)
            stats = torch.stack(  # every member's metrics in one host synchronisation
                [
                    new.best_value - new.value,
                    new.value,
                    mean_field_delta_tensor(new.flow.mu, ev.flow.mu),
                    policy_delta_tensor(policy, ev.policy, new.flow.mu),
                ]
            ).tolist()
            driver.policy, ev = policy, new
            driver.iteration += 1
            per_iteration.append((stats, time.perf_counter() - t0))
            if not all(map(math.isfinite, stats[0])):
                b = next(b for b, e in enumerate(stats[0]) if not math.isfinite(e))
                s = solvers[b]
                raise FloatingPointError(
                    f"{s.name}: exploitability became {stats[0][b]} at iteration {driver.iteration} in batch "
                    f"member {b}; the hyperparameters {s.hyperparameters} are unstable on this game"
                )
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    state = driver.state_dict()
    values, best_values = torch.stack([ev.value, ev.best_value]).tolist()
    seconds = [sec for _, sec in per_iteration]
    # metric i of member b over the iterations: one transposition of the per-iteration rows
    columns = [list(zip(*(st[i] for st, _ in per_iteration), strict=True)) or [()] * B for i in range(len(_METRICS))]
    out, diverging = [], []
    for b, s in enumerate(solvers):
        member = {k: v[:, b].clone() if _batched(v, B) else v for k, v in state.items()}
        history = {
            "iteration": list(range(1, len(per_iteration) + 1)),
            **{k: list(columns[i][b]) for i, k in enumerate(_METRICS)},
            "seconds": list(seconds),
        }
        member.update(hyperparameters=s.hyperparameters, history=history, elapsed=elapsed)
        s.load_state_dict(member)
        s._eval = _member_evaluation(s, ev, b, values[b], best_values[b])
        if s.watch_divergence:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                s._warn_if_diverging()
            diverging += [(b, str(w.message)) for w in caught[:1]]
        res = s.result("iterations")
        res.extra = {**res.extra, "batch_size": B}
        out.append(res)
    if diverging:  # one warning for the batch, not one per member
        b, msg = diverging[0]
        others = (
            f"{len(diverging)} of {B} members do not converge; the first, member {b}: " if len(diverging) > 1 else ""
        )
        warnings.warn(others + msg, RuntimeWarning, stacklevel=3)
    return out


_METRICS = HISTORY_KEYS[1:-1]  # exploitability, value, mean_field_delta, policy_delta: the rows of the stats


def _batched(v, B: int) -> bool:
    return isinstance(v, torch.Tensor) and v.dim() >= 2 and v.shape[1] == B


def _driver(solvers: list[Solver]) -> Solver:
    """One instance of the members' class holding their stacked state (batch on axis 1)."""
    B = len(solvers)
    driver = copy.copy(solvers[0])
    driver.game = GameBatch([s.game for s in solvers])
    driver.policy = torch.stack([s.policy for s in solvers], 1)
    for k in type(driver)._state_tensors:
        vals = [getattr(s, k) for s in solvers]
        setattr(driver, k, None if vals[0] is None else torch.stack(vals, 1))
    g = solvers[0].game
    for attr in type(driver).batch_hyperparameters.values():
        vals = [getattr(s, attr) for s in solvers]
        if vals[0] is not None and any(v != vals[0] for v in vals):
            setattr(driver, attr, torch.tensor(vals, dtype=g.dtype, device=g.device).view(B, 1, 1))
    if hasattr(driver, "_bind_game"):
        driver._bind_game()  # game-derived tensors (e.g. the uniform fallback policy) for the batch's shapes
    driver.history = {}
    driver._eval = None
    return driver


def _member_evaluation(s: Solver, ev: Evaluation, b: int, value: float, best_value: float) -> Evaluation:
    """Member ``b``'s slice of the batch's final evaluation, without its MDP: enough for the result;
    :meth:`Solver.evaluation` (and so a further ``step()``) evaluates afresh."""
    sa = ev.flow.sa_store
    flow = Flow(mu=ev.flow.mu[:, b].clone(), kernels=[], pi=s.policy, sa_store=None if sa is None else sa[:, b].clone())
    return Evaluation(
        policy=s.policy,
        flow=flow,
        mdp=None,
        value=value,
        best_value=best_value,
        V=ev.V[:, b],
        Q=ev.Q[:, b],
        V_best=ev.V_best[:, b],
        Q_best=ev.Q_best[:, b],
        best_policy=lambda: ev.best_policy[:, b],
    )
