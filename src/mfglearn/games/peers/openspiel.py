"""OpenSpiel-parity games: the same numbers as OpenSpiel's ``mfg`` module.

These reproduce OpenSpiel 2.0.2's games *including their quirks*, so that the
exploitability of a policy and the iterates of a solver agree with OpenSpiel's
``NashConv`` to round-off. For the textbook versions use ``crowd_ring``,
``crowd_grid`` / ``four_rooms`` and ``lq_discrete``.

The quirk all three share: OpenSpiel memoises values by observation string,
``"(x, t)"``, which omits the previous action, but the reward at a decision node
contains a penalty for the *previous* move. The value of a node is therefore
computed with the previous action of whichever path its depth-first traversal
(initial states, then actions, then noise outcomes, in index order) reached it by
first. Every OpenSpiel value function (policy value, best response, mirror
descent) uses that traversal, so the effective reward is a function of ``(t, x)``
alone: ``penalty(first_action[t, x])``. :func:`first_arrival_actions` computes
that table by replaying the traversal once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import torch

from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import ComposedKernel

# C++'s `constexpr float kEpsilon = 1e-25`, promoted to double.
_EPS_FLOAT = float(np.float32(1e-25))
_EPS_PY = 1e-25


def first_arrival_actions(
    n_states: int,
    horizon: int,
    initial: Sequence[int],
    legal_actions: Callable[[int], Sequence[int]],
    move: Callable[[int, int], int],
    noise: Callable[[int], Sequence[int]],
    neutral: int,
) -> np.ndarray:
    """Replay OpenSpiel's memoised depth-first traversal; return ``first[t, s]``.

    ``first[t, s]`` is the previous action carried by the first path that reaches
    decision node ``(s, t)`` (``-1`` if unreachable). Decision nodes at ``t = 0``
    carry ``neutral``. Chance nodes are memoised by ``(y, t)`` where ``y`` is the
    post-move position, exactly as OpenSpiel's string keys.
    """
    first = np.full((horizon, n_states), -1, dtype=np.int64)
    seen_chance = np.zeros((horizon, n_states), dtype=bool)
    # Iterative preorder DFS: mark-on-pop + skip-if-marked reproduces the recursive order.
    stack: list[tuple[int, int, int, int]] = [(0, s, 0, neutral) for s in reversed(list(initial))]
    while stack:
        kind, s, t, last = stack.pop()
        if kind == 0:  # decision node (s, t)
            if first[t, s] >= 0:
                continue
            first[t, s] = last
            for a in reversed(list(legal_actions(s))):
                stack.append((1, move(s, a), t, a))
        else:  # chance node (y, t) -> decision nodes at t + 1
            if seen_chance[t, s]:
                continue
            seen_chance[t, s] = True
            if t + 1 < horizon:
                for s2 in reversed(list(noise(s))):
                    stack.append((0, s2, t + 1, last))
    return first


# --------------------------------------------------------------------- 1-D crowd
@lru_cache(maxsize=32)
def _crowd1d_first(size: int, horizon: int) -> np.ndarray:
    moves = (-1, 0, 1)
    return first_arrival_actions(
        size,
        horizon,
        range(size),
        lambda s: (0, 1, 2),
        lambda s, a: (s + moves[a]) % size,
        lambda y: [(y + m) % size for m in moves],
        neutral=1,
    )


def crowd_modelling(size: int = 10, horizon: int = 10, device=None) -> FiniteMFG:
    """OpenSpiel's ``python_mfg_crowd_modelling``: a 1-D beach bar on a ring.

    States ``x = 0..size-1`` on a ring; actions move ``-1, 0, +1``; then a uniform
    noise move in ``{-1, 0, +1}``. Uniform initial distribution. Reward at ``(t, x)``:
    ``1 - |x - size//2| / (size//2) - |move| / size - log(mu_t(x) + 1e-25)``.

    OpenSpiel quirks kept for parity: the move penalty is that of the *previous*
    move of the first traversal path (see the module docstring), so the last
    action's penalty is never charged, and the terminal step ``t = horizon`` pays nothing.
    """
    if size < 2 or size % 2:
        raise ValidationError(f"size must be an even integer >= 2 (OpenSpiel divides by size//2), got {size}")
    S, A = size, 3
    x = torch.arange(S)
    moves = torch.tensor([-1, 0, 1])
    move = (x.unsqueeze(1) + moves) % S
    noise_index = (x.unsqueeze(1) + moves) % S
    noise_prob = torch.full((S, 3), 1.0 / 3.0, dtype=torch.float64)
    kernel = ComposedKernel(move, noise_index, noise_prob)
    first = torch.as_tensor(_crowd1d_first(size, horizon))
    r_a = -moves.abs().to(torch.float64)[first.clamp(min=0)] / size  # (H, S)
    r_x = 1.0 - (x - size // 2).abs().to(torch.float64) / (size // 2)

    def reward(t, mu: torch.Tensor) -> torch.Tensor:  # t: int, or (T,) with mu (T, S)
        return r_x.to(mu) + r_a[t].to(mu) - torch.log(mu + _EPS_PY)

    return FiniteMFG(
        n_states=S,
        n_actions=A,
        mu0=torch.full((S,), 1.0 / S, dtype=torch.float64),
        reward=reward,
        transition=kernel,
        horizon=horizon,
        name="openspiel/crowd_modelling",
        layout={"line": S, "actions": ["left", "stay", "right"]},
        params={"size": size, "horizon": horizon},
        batched_reward=True,
        device=device,
    )


# --------------------------------------------------------------------- 2-D crowd
from mfglearn.games.maps import FOUR_ROOMS_MAP, MAPS  # noqa: E402

# OpenSpiel's action order: 0 = y-1, 1 = x-1, 2 = stay, 3 = x+1, 4 = y+1.
_DX = (0, -1, 0, 1, 0)
_DY = (-1, 0, 0, 0, 1)
_NEUTRAL_2D = 2


@lru_cache(maxsize=16)
def _crowd2d_structure(grid: tuple[str, ...], horizon: int, noise_intensity: float, init_xy: tuple[int, int]):
    size = len(grid)
    free = np.array([[grid[y][x] != "#" for y in range(size)] for x in range(size)])  # free[x, y]
    # OpenSpiel indexes cells by x * size + y; keep that order over free cells.
    cells = [(x, y) for x in range(size) for y in range(size) if free[x, y]]
    index = {c: i for i, c in enumerate(cells)}
    S = len(cells)

    def target(c, a):
        return ((c[0] + _DX[a]) % size, (c[1] + _DY[a]) % size)

    legal_lists = [[a for a in range(5) if free[target(c, a)]] for c in cells]
    move = np.zeros((S, 5), dtype=np.int64)
    legal = np.zeros((S, 5), dtype=bool)
    B = 5
    noise_index = np.zeros((S, B), dtype=np.int64)
    noise_prob = np.zeros((S, B))
    for i, c in enumerate(cells):
        la = legal_lists[i]
        prob = noise_intensity / len(la)
        for a in range(5):
            if a in la:
                legal[i, a] = True
                move[i, a] = index[target(c, a)]
                noise_index[i, a] = index[target(c, a)]
                noise_prob[i, a] = (1.0 - noise_intensity + prob) if a == _NEUTRAL_2D else prob
            else:
                move[i, a] = i
                noise_index[i, a] = i
                noise_prob[i, a] = 0.0
    # OpenSpiel's initial chance outcome kk = y + x*size is decoded as (x=kk%size, y=kk//size):
    # the given (x, y) lands on (y, x). Four rooms and maze start at (1, 1), where it is moot.
    start = index[(init_xy[1], init_xy[0])]
    first = first_arrival_actions(
        S,
        horizon,
        [start],
        lambda s: legal_lists[s],
        lambda s, a: int(move[s, a]),
        lambda y: [int(noise_index[y, a]) for a in legal_lists[y]],
        neutral=_NEUTRAL_2D,
    )
    return cells, move, legal, noise_index, noise_prob, start, first


def crowd_modelling_2d(
    grid: Sequence[str] | str = FOUR_ROOMS_MAP,
    horizon: int = 40,
    noise_intensity: float = 1.0,
    crowd_aversion_coef: float = 1.0,
    only_distribution_reward: bool = False,
    with_congestion: bool = False,
    init_xy: tuple[int, int] = (1, 1),
    name: str = "openspiel/crowd_modelling_2d_four_rooms",
    device=None,
) -> FiniteMFG:
    """OpenSpiel's ``mfg_crowd_modelling_2d`` on a square map with walls (``#``).

    Torus moves ``{y-1, x-1, stay, x+1, y+1}`` restricted to legal (non-wall)
    targets, then a noise move uniform over the legal moves of the new cell
    (the stay move gets ``1 - noise + noise/n``). All mass starts at ``init_xy``.
    Reward at ``(t, x, y)``: ``r_x + r_y + r_a + r_mu`` with
    ``r_x = 1 - 2|x - size//2|/size`` (same for ``y``), ``r_a = -(|dx|+|dy|)/size``
    (times ``mu_t(x, y)`` with congestion) and ``r_mu = -coef * log(mu_t(x, y) + 1e-25f)``.

    OpenSpiel quirks kept for parity: at ``t = 0`` the crowd term uses a uniform
    distribution over *all* ``size**2`` cells (walls included) whatever ``mu0`` is,
    because no mean-field node precedes the first decision; the move penalty is
    the previous move of the first traversal path (module docstring); the
    terminal step pays nothing; the ``1e-25`` is a C ``float``.
    States are the free cells, ordered by OpenSpiel's index ``x * size + y``. ``grid`` may name a map
    of :data:`mfglearn.games.maps.MAPS` (``"four_rooms"``, ``"maze"``).
    """
    if isinstance(grid, str):
        if grid not in MAPS:
            raise ValidationError(f"unknown map {grid!r}; give rows of characters or one of {', '.join(MAPS)}")
        grid = MAPS[grid]
    grid = tuple(grid)
    size = len(grid)
    if any(len(row) != size for row in grid):
        raise ValidationError("OpenSpiel's 2-D crowd needs a square map: every row must have len(grid) characters")
    if not 0.0 <= noise_intensity <= 1.0:
        raise ValidationError(f"noise_intensity must be in [0, 1], got {noise_intensity}")
    cells, move, legal, nidx, nprob, start, first = _crowd2d_structure(grid, horizon, float(noise_intensity), init_xy)
    S = len(cells)
    kernel = ComposedKernel(torch.as_tensor(move), torch.as_tensor(nidx), torch.as_tensor(nprob))
    xs = torch.tensor([c[0] for c in cells], dtype=torch.float64)
    ys = torch.tensor([c[1] for c in cells], dtype=torch.float64)
    val_r = 2.0 * 1.0 / size
    r_pos = (1.0 - val_r * (xs - size // 2).abs()) + (1.0 - val_r * (ys - size // 2).abs())
    step_len = torch.tensor([abs(_DX[a]) + abs(_DY[a]) for a in range(5)], dtype=torch.float64)
    first_t = torch.as_tensor(first).clamp(min=0)
    r_move = -step_len[first_t] / size  # (H, S)
    uniform_all = 1.0 / (size * size)

    def reward(t, mu: torch.Tensor) -> torch.Tensor:  # t: int, or (T,) with mu (T, S)
        t = torch.as_tensor(t)
        m = torch.where((t == 0).reshape(t.shape + (1,) * (mu.dim() - t.dim())), uniform_all, mu)
        r_mu = -crowd_aversion_coef * torch.log(m + _EPS_FLOAT)
        if only_distribution_reward:
            return r_mu
        r_a = r_move[t].to(mu)
        if with_congestion:
            r_a = r_a * m
        return r_pos.to(mu) + r_a + r_mu

    mu0 = torch.zeros(S, dtype=torch.float64)
    mu0[start] = 1.0
    return FiniteMFG(
        n_states=S,
        n_actions=5,
        mu0=mu0,
        reward=reward,
        transition=kernel,
        horizon=horizon,
        legal=torch.as_tensor(legal),
        batched_reward=True,
        name=name,
        layout={
            "grid": grid,
            "cells": [(c[1], c[0]) for c in cells],
            "actions": ["up", "left", "stay", "right", "down"],
        },
        params={"horizon": horizon, "noise_intensity": noise_intensity, "crowd_aversion_coef": crowd_aversion_coef},
        device=device,
    )


# ------------------------------------------------------------------ linear-quadratic
def _py_round(x: float) -> int:
    return round(x)  # Python's round: half to even, as OpenSpiel's game


def _norm_cdf(x: float, scale: float) -> float:
    return 0.5 * math.erfc(-x / (scale * math.sqrt(2.0)))


@lru_cache(maxsize=32)
def _lq_structure(size: int, steps: int, n_side: int, dt: float, volatility: float):
    A = 2 * n_side + 1
    moves = [a - n_side for a in range(A)]
    move = np.array([[_py_round(x + _py_round(m * dt)) % size for m in moves] for x in range(size)])
    probs = [_norm_cdf(m + 0.5, volatility) - _norm_cdf(m - 0.5, volatility) for m in moves]
    probs[0] += _norm_cdf(moves[0] - 0.5, volatility)
    probs[-1] += 1.0 - _norm_cdf(moves[-1] + 0.5, volatility)
    nidx = np.array([[_py_round(y + m * math.sqrt(dt) * volatility) % size for m in moves] for y in range(size)])
    first = first_arrival_actions(
        size,
        steps,
        range(size),
        lambda s: range(A),
        lambda s, a: int(move[s, a]),
        lambda y: [int(v) for v in nidx[y]],
        neutral=n_side,
    )
    return move, nidx, np.array(probs), first


def linear_quadratic(
    size: int = 10,
    horizon: int = 10,
    dt: float = 1.0,
    n_actions_per_side: int = 3,
    volatility: float = 1.0,
    mean_revert: float = 0.0,
    cross_q: float = 0.01,
    kappa: float = 0.5,
    terminal_cost: float = 1.0,
    device=None,
) -> FiniteMFG:
    """OpenSpiel's ``mean_field_lin_quad``: a discretised linear-quadratic game on a ring.

    Positions ``0..size-1``; action ``a`` moves by ``round((a - n) dt)``; then a
    discretised Gaussian noise move (tails lumped on the extreme moves). Reward
    at ``(t, x)``: ``dt/2 (-m^2 + 2 q m d - kappa d^2)`` with ``d = mean(mu_t) - x``.

    OpenSpiel quirks kept for parity: ``m`` is the *previous* move of the first
    traversal path (so the action cost is never that of the current action), and
    ``terminal_cost`` is never applied (the terminal node is a mean-field node,
    which pays nothing); it is accepted only to mirror OpenSpiel's parameters.
    ``mean_revert`` must be 0 here: with mean reversion OpenSpiel's traversal
    itself depends on the mean field; use ``lq_discrete`` for that model.
    """
    if mean_revert != 0.0:
        raise ValidationError(
            "openspiel/linear_quadratic supports mean_revert=0 only (OpenSpiel's memoised traversal "
            "then depends on the mean field); use the textbook game 'lq_discrete' for mean reversion"
        )
    if size < 2 or n_actions_per_side < 1 or dt <= 0 or volatility <= 0:
        raise ValidationError("need size >= 2, n_actions_per_side >= 1, dt > 0 and volatility > 0")
    steps = 0
    while steps * dt < horizon:  # OpenSpiel ends when tick * dt >= horizon
        steps += 1
    move, nidx, probs, first = _lq_structure(size, steps, n_actions_per_side, float(dt), float(volatility))
    A = 2 * n_actions_per_side + 1
    kernel = ComposedKernel(
        torch.as_tensor(move), torch.as_tensor(nidx), torch.as_tensor(probs).expand(size, A).clone()
    )
    x = torch.arange(size, dtype=torch.float64)
    prev_move = (torch.as_tensor(first).clamp(min=0) - n_actions_per_side).to(torch.float64)  # (H, S)

    def reward(t, mu: torch.Tensor) -> torch.Tensor:  # t: int, or (T,) with mu (T, S)
        xm = x.to(mu)
        d = (xm * mu).sum(-1, keepdim=True) - xm
        m = prev_move[t].to(mu)
        return dt / 2 * (-(m**2) + 2 * cross_q * m * d - kappa * d**2)

    return FiniteMFG(
        n_states=size,
        n_actions=A,
        mu0=torch.full((size,), 1.0 / size, dtype=torch.float64),
        reward=reward,
        transition=kernel,
        horizon=steps,
        name="openspiel/linear_quadratic",
        batched_reward=True,
        layout={"line": size},
        params={
            "size": size,
            "horizon": horizon,
            "dt": dt,
            "n_actions_per_side": n_actions_per_side,
            "volatility": volatility,
            "cross_q": cross_q,
            "kappa": kappa,
        },
        device=device,
    )
