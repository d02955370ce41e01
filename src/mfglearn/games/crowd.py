"""Crowd games: a beach bar on a ring and crowds on 2-D grid maps with walls.

Textbook conventions (unlike the OpenSpiel-parity versions): the cost of an
action is paid when it is taken, the crowd-aversion term uses the current
mean field at every step including ``t = 0``, and moving into a wall leaves the
agent where it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import ComposedKernel

EPS = 1e-12


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ValidationError(msg)


def beach_bar(
    size: int = 20,
    horizon: int = 20,
    bar: int | None = None,
    noise: float = 0.2,
    crowd_aversion: float = 1.0,
    move_cost: float = 0.1,
    distance_cost: float = 1.0,
    device=None,
) -> FiniteMFG:
    """1-D beach bar on a ring (Perrin et al. 2020, section 4.2), textbook form.

    ``size`` positions on a ring; actions move ``-1, 0, +1``; afterwards, with
    probability ``noise``, a uniform random step in ``{-1, 0, +1}``. Uniform start.
    Reward ``r(x, a, mu) = -distance_cost * d(x, bar) / (size/2) - move_cost |a| - crowd_aversion * log(mu(x))``
    with ``d`` the ring distance.
    """
    _check(size >= 3, f"size must be >= 3, got {size}")
    _check(0.0 <= noise <= 1.0, f"noise must be in [0, 1], got {noise}")
    bar = size // 2 if bar is None else int(bar)
    _check(0 <= bar < size, f"bar must be a position in 0..{size - 1}, got {bar}")
    x = torch.arange(size)
    steps = torch.tensor([-1, 0, 1])
    move = (x.unsqueeze(1) + steps) % size
    noise_index = (x.unsqueeze(1) + steps) % size
    noise_prob = torch.tensor([noise / 3, 1 - noise + noise / 3, noise / 3], dtype=torch.float64).expand(size, 3)
    d = torch.minimum((x - bar).abs(), size - (x - bar).abs()).to(torch.float64)
    base = -distance_cost * d.unsqueeze(1) / (size / 2) - move_cost * steps.abs().to(torch.float64)

    def reward(t: int, mu: torch.Tensor) -> torch.Tensor:
        return base.to(mu) - crowd_aversion * torch.log(mu + EPS).unsqueeze(-1)

    return FiniteMFG(
        n_states=size,
        n_actions=3,
        mu0=torch.full((size,), 1.0 / size, dtype=torch.float64),
        reward=reward,
        transition=ComposedKernel(move, noise_index, noise_prob.clone()),
        horizon=horizon,
        name="beach_bar",
        batched_reward=True,
        layout={"line": size, "actions": ["left", "stay", "right"]},
        params=dict(
            size=size,
            horizon=horizon,
            bar=bar,
            noise=noise,
            crowd_aversion=crowd_aversion,
            move_cost=move_cost,
            distance_cost=distance_cost,
        ),
        device=device,
    )


# ----------------------------------------------------------------- grid maps
from mfglearn.games.maps import MAPS  # noqa: E402  (kept where the maps were)

# Action order: stay, up, down, left, right  (row, col) offsets.
GRID_MOVES = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
GRID_ACTIONS = ("stay", "up", "down", "left", "right")


def parse_map(grid: str | Sequence[str]) -> tuple[str, ...]:
    """An ASCII map (name in :data:`MAPS`, multi-line string or list of rows) as a tuple of rows.

    ``#`` is a wall, ``S`` a start cell, ``G`` a goal (point of interest), anything else free.
    """
    if isinstance(grid, str):
        if grid in MAPS:
            return MAPS[grid]
        rows = tuple(r for r in grid.strip("\n").split("\n"))
        if len(rows) == 1 and "#" not in rows[0] and " " not in rows[0]:
            raise ValidationError(f"unknown map {grid!r}; known maps: {', '.join(MAPS)}, or give ASCII rows")
    else:
        rows = tuple(grid)
    if not rows or not rows[0]:
        raise ValidationError("a map needs at least one row of characters")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValidationError(f"map row {i} has {len(r)} characters, row 0 has {width}; rows must be equally long")
    if all(c == "#" for r in rows for c in r):
        raise ValidationError("the map has no free cell")
    return rows


def grid_structure(rows: tuple[str, ...]):
    """Cells ``(row, col)`` of the free squares and the ``(S, 5)`` move table (walls block moves)."""
    H_, W_ = len(rows), len(rows[0])
    free = torch.tensor([[ch != "#" for ch in row] for row in rows])
    rc = free.nonzero()  # row-major order of the free cells
    cells = [tuple(x) for x in rc.tolist()]
    index = torch.full((H_, W_), -1, dtype=torch.long)
    index[rc[:, 0], rc[:, 1]] = torch.arange(len(cells))
    moves = torch.tensor(GRID_MOVES, dtype=torch.long)
    tgt = rc.unsqueeze(1) + moves  # (S, 5, 2)
    inside = (tgt[..., 0] >= 0) & (tgt[..., 0] < H_) & (tgt[..., 1] >= 0) & (tgt[..., 1] < W_)
    tr = tgt[..., 0].clamp(0, H_ - 1)
    tc = tgt[..., 1].clamp(0, W_ - 1)
    nxt = index[tr, tc]
    blocked = ~inside | (nxt < 0)
    self_idx = torch.arange(len(cells)).unsqueeze(1).expand_as(nxt)
    move = torch.where(blocked, self_idx, nxt)
    return cells, index, move


def crowd_grid(
    map: str | Sequence[str] = "four_rooms",
    horizon: int = 30,
    noise: float = 0.1,
    crowd_aversion: float = 1.0,
    move_cost: float = 0.0,
    goal_reward: float = 0.0,
    start: str = "corner",
    stay_reward: float = 0.0,
    gamma: float | None = None,
    device=None,
) -> FiniteMFG:
    """A crowd on a 2-D grid map with walls: agents spread out to avoid congestion.

    Actions ``stay, up, down, left, right``; a move into a wall or off the map
    leaves the agent in place. With probability ``noise`` the chosen move is
    replaced by a uniformly random one. Reward
    ``r(s, a, mu) = -crowd_aversion * log(mu(s)) - move_cost [a != stay] + stay_reward [a = stay]
    - goal_reward * dist(s, goal) / diameter``.
    Finite horizon by default; give ``gamma`` for the discounted stationary game (``horizon`` is then unused).

    Args:
        map: a name in ``MAPS`` (``four_rooms``, ``maze``) or ASCII rows (``#`` wall,
            ``S`` start cells, ``G`` goal cells).
        horizon: number of decisions ``H`` (finite-horizon game).
        noise: probability that the chosen move is replaced by a uniformly random one.
        crowd_aversion: weight of ``-log mu(s)``.
        move_cost: cost of any move other than ``stay``.
        goal_reward: pull towards the ``G`` cells, scaled by the map's diameter.
        start: ``"corner"`` (the first free cell, or the ``S`` cells), or ``"uniform"``.
        stay_reward: bonus for ``stay``.
        gamma: discount factor; gives the discounted stationary game instead.
    """
    rows = parse_map(map)
    _check(0.0 <= noise <= 1.0, f"noise must be in [0, 1], got {noise}")
    _check(start in ("corner", "uniform"), f"start must be 'corner' or 'uniform', got {start!r}")
    cells, index, move = grid_structure(rows)
    S = len(cells)
    mu0 = torch.zeros(S, dtype=torch.float64)
    starts = [i for i, (r, c) in enumerate(cells) if rows[r][c] == "S"]
    if start == "uniform":
        mu0[:] = 1.0 / S
    elif starts:
        mu0[starts] = 1.0 / len(starts)
    else:
        mu0[0] = 1.0
    # noise: after the intended move y, with prob `noise` take a uniformly random move from y
    nprob = torch.full((S, 5), noise / 5, dtype=torch.float64)
    nprob[:, 0] += 1.0 - noise
    kernel = ComposedKernel(move, move.clone(), nprob)
    rc = torch.tensor(cells, dtype=torch.float64)
    goals = [i for i, (r, c) in enumerate(cells) if rows[r][c] == "G"]
    base = -move_cost * torch.tensor([0.0, 1, 1, 1, 1], dtype=torch.float64).expand(S, 5).clone()
    base[:, 0] += stay_reward
    if goal_reward and goals:
        g = rc[goals]
        dist = (rc.unsqueeze(1) - g.unsqueeze(0)).abs().sum(-1).min(-1).values
        base = base - goal_reward * (dist / (len(rows) + len(rows[0]))).unsqueeze(1)

    def reward(t: int, mu: torch.Tensor) -> torch.Tensor:
        return base.to(mu) - crowd_aversion * torch.log(mu + EPS).unsqueeze(-1)

    name = map if isinstance(map, str) and map in MAPS else "custom_map"
    return FiniteMFG(
        n_states=S,
        n_actions=5,
        mu0=mu0,
        reward=reward,
        transition=kernel,
        horizon=None if gamma is not None else horizon,
        gamma=gamma,
        name=f"crowd_grid/{name}",
        batched_reward=True,
        layout={"grid": rows, "cells": cells, "actions": list(GRID_ACTIONS)},
        params=dict(
            horizon=horizon,
            noise=noise,
            crowd_aversion=crowd_aversion,
            move_cost=move_cost,
            goal_reward=goal_reward,
            start=start,
            stay_reward=stay_reward,
            gamma=gamma,
        ),
        device=device,
    )


def four_rooms(
    horizon: int = 30,
    noise: float = 0.1,
    crowd_aversion: float = 1.0,
    move_cost: float = 0.0,
    start: str = "corner",
    device=None,
) -> FiniteMFG:
    """A crowd spreading through the four-rooms map (:func:`crowd_grid`), from the top-left corner."""
    g = crowd_grid(
        "four_rooms",
        horizon=horizon,
        noise=noise,
        crowd_aversion=crowd_aversion,
        move_cost=move_cost,
        start=start,
        device=device,
    )
    g.name = "four_rooms"
    return g


def maze(
    horizon: int = 60,
    noise: float = 0.1,
    crowd_aversion: float = 1.0,
    move_cost: float = 0.0,
    start: str = "corner",
    device=None,
) -> FiniteMFG:
    """A crowd spreading through OpenSpiel's 22x22 maze (:func:`crowd_grid`), from the top-left corner."""
    g = crowd_grid(
        "maze",
        horizon=horizon,
        noise=noise,
        crowd_aversion=crowd_aversion,
        move_cost=move_cost,
        start=start,
        device=device,
    )
    g.name = "maze"
    return g


def large_grid(
    rows: int = 1000,
    cols: int = 1000,
    horizon: int = 100,
    noise: float = 0.1,
    crowd_aversion: float = 1.0,
    move_cost: float = 0.01,
    wall_density: float = 0.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device=None,
) -> FiniteMFG:
    """A crowd on a large ``rows x cols`` grid, on the stencil :class:`~mfglearn.model.kernels.GridKernel`.

    Same dynamics and reward as :func:`crowd_grid` (without a goal), but every cell
    is a state (walls are inert, massless states) and transitions are shifted
    slices, so million-state grids run at memory bandwidth. Walls are placed at
    random with density ``wall_density``; the population starts uniform over free cells.
    """
    from mfglearn.model.kernels import GridKernel

    _check(rows >= 2 and cols >= 2, f"need rows, cols >= 2, got {rows}x{cols}")
    _check(0.0 <= wall_density < 1.0, f"wall_density must be in [0, 1), got {wall_density}")
    g = torch.Generator().manual_seed(seed)
    free = torch.rand(rows, cols, generator=g) >= wall_density
    free[0, 0] = True
    kernel = GridKernel(free, noise, dtype=dtype)
    mu0 = free.reshape(-1).to(dtype)
    mu0 = mu0 / mu0.sum()
    cost = (-move_cost * torch.tensor([0.0, 1, 1, 1, 1], dtype=dtype)).to(device)

    def state_reward(t, mu: torch.Tensor) -> torch.Tensor:
        return -crowd_aversion * torch.log(mu + EPS)

    def reward(t, mu: torch.Tensor) -> torch.Tensor:
        return cost + state_reward(t, mu).unsqueeze(-1)

    return FiniteMFG(
        n_states=rows * cols,
        n_actions=5,
        mu0=mu0,
        reward=reward,
        transition=kernel,
        horizon=horizon,
        name="large_grid",
        batched_reward=True,
        separable_reward=True,
        state_reward=state_reward,
        dtype=dtype,
        layout={"grid_shape": (rows, cols), "actions": list(GRID_ACTIONS)},
        params=dict(
            rows=rows,
            cols=cols,
            horizon=horizon,
            noise=noise,
            crowd_aversion=crowd_aversion,
            move_cost=move_cost,
            wall_density=wall_density,
            seed=seed,
        ),
        device=device,
    )


def evacuation(
    rows: int = 1000,
    cols: int = 1000,
    horizon: int = 300,
    noise: float = 0.1,
    start: tuple[float, float] = (0.5, 0.4),
    start_size: float = 0.1,
    exit: tuple[float, float] = (0.5, 0.6),
    goal_weight: float = 1.0,
    congestion: float = 1.0,
    window: int = 5,
    move_cost: float = 0.01,
    dtype: torch.dtype = torch.float64,
    device=None,
) -> FiniteMFG:
    """A crowd walking to an exit across a large open grid, avoiding congestion (stencil kernel).

    The population starts uniform on a square block of side ``start_size * min(rows, cols)``
    centred at ``start`` (fractions of the grid's rows and columns) and pays, per step,
    ``goal_weight * d(s, exit) / d0`` (Manhattan distance to the exit cell over the start's
    distance ``d0``), ``congestion * rho(s) / rho0`` and ``move_cost`` per move, where ``rho`` is
    the population's mean density over the ``(2 window + 1)^2`` cells around ``s`` and ``rho0``
    the initial block's density: at the start both terms are ``goal_weight`` and ``congestion``.
    Moves as in :func:`large_grid` (no walls). The congestion is linear in the mean field, so a
    simulated population's empirical measure gives unbiased rewards (a ``log mu`` crowd reward
    does not: it diverges on the cells a finite population leaves empty), and the reward is
    separable (a state term plus the move cost, ``separable_reward``): the defaults, a million
    cells and 300 steps, are beyond the exact solvers on one machine (one ``(H, S, A)`` tensor in
    float32 is 6 GB, and exact best responses hold four) but not beyond
    :mod:`mfglearn.deep.sampled`'s simulated populations (``benchmarks/study_evacuation.py``).
    """
    from mfglearn.model.kernels import GridKernel

    _check(rows >= 2 and cols >= 2, f"need rows, cols >= 2, got {rows}x{cols}")
    _check(window >= 0, f"window must be >= 0, got {window}")
    _check(0.0 < start_size <= 1.0, f"start_size must be in (0, 1], got {start_size}")
    for name, (fr, fc) in (("start", start), ("exit", exit)):
        _check(0.0 <= fr <= 1.0 and 0.0 <= fc <= 1.0, f"{name} must be (row, col) fractions in [0, 1], got {(fr, fc)}")
    kernel = GridKernel(torch.ones(rows, cols, dtype=torch.bool), noise, dtype=dtype)
    side = max(1, round(start_size * min(rows, cols)))
    r0 = min(max(0, round(start[0] * (rows - 1)) - side // 2), rows - side)
    c0 = min(max(0, round(start[1] * (cols - 1)) - side // 2), cols - side)
    block = torch.zeros(rows, cols, dtype=dtype)
    block[r0 : r0 + side, c0 : c0 + side] = 1.0
    mu0 = (block / block.sum()).reshape(-1)
    er, ec = round(exit[0] * (rows - 1)), round(exit[1] * (cols - 1))
    rr = torch.arange(rows, dtype=dtype).view(-1, 1)
    cc = torch.arange(cols, dtype=dtype).view(1, -1)
    dist = ((rr - er).abs() + (cc - ec).abs()).reshape(-1)
    d0 = max(float(abs(r0 + (side - 1) / 2 - er) + abs(c0 + (side - 1) / 2 - ec)), 1.0)
    goal = (-goal_weight / d0 * dist).to(device)
    rho0 = 1.0 / side**2
    cost = (-move_cost * torch.tensor([0.0, 1, 1, 1, 1], dtype=dtype)).to(device)
    k = 2 * window + 1

    def state_reward(t, mu: torch.Tensor) -> torch.Tensor:
        lead = mu.shape[:-1]
        grid = mu.reshape(-1, 1, rows, cols)
        # the box mean as two 1-D means (exact, padding counted as empty cells): 2k operations per cell, not k^2
        pool = torch.nn.functional.avg_pool2d
        rho = pool(pool(grid, (k, 1), 1, (window, 0)), (1, k), 1, (0, window))
        return goal - (congestion / rho0) * rho.reshape(*lead, rows * cols)

    def reward(t, mu: torch.Tensor) -> torch.Tensor:
        return state_reward(t, mu).unsqueeze(-1) + cost

    return FiniteMFG(
        n_states=rows * cols,
        n_actions=5,
        mu0=mu0,
        reward=reward,
        transition=kernel,
        horizon=horizon,
        name="evacuation",
        batched_reward=True,
        separable_reward=True,
        state_reward=state_reward,
        dtype=dtype,
        layout={"grid_shape": (rows, cols), "actions": list(GRID_ACTIONS), "exit": (er, ec)},
        params=dict(
            rows=rows,
            cols=cols,
            horizon=horizon,
            noise=noise,
            start=tuple(start),
            start_size=start_size,
            exit=tuple(exit),
            goal_weight=goal_weight,
            congestion=congestion,
            window=window,
            move_cost=move_cost,
        ),  # fmt: skip
        device=device,
    )


def four_rooms_map(size: int = 13) -> tuple[str, ...]:
    """A ``size x size`` four-rooms map (odd ``size >= 7``): walls between the rooms, one-cell doors.

    ``size=13`` is exactly OpenSpiel's ``FOUR_ROOMS`` map.
    """
    _check(size >= 7 and size % 2 == 1, f"four-rooms size must be odd and >= 7, got {size}")
    mid = size // 2
    doors = (mid // 2, mid + mid // 2)
    rows = []
    for r in range(size):
        row = []
        for c in range(size):
            wall = r in (0, size - 1) or c in (0, size - 1)
            wall |= c == mid and r not in doors
            wall |= r == mid and c not in doors
            row.append("#" if wall else " ")
        rows.append("".join(row))
    return tuple(rows)


def four_rooms_crowd(
    size: int = 13,
    crowd_aversion: float = 1.0,
    stay_reward: float = 0.2,
    move_reward: float = -0.2,
    noise: float = 0.1,
    gamma: float = 0.9,
    device=None,
) -> FiniteMFG:
    """The MF-TRPO paper's four-rooms crowd game (discounted, ergodic).

    Four rooms joined by one-cell doors; reward ``r(s, a, mu) = -K log mu(s) + Gamma(a)``
    with ``K = crowd_aversion``, ``Gamma(stay) = stay_reward`` and ``Gamma(move) = move_reward``;
    noisy moves (probability ``noise`` of a uniformly random move); uniform initial distribution.
    """
    g = crowd_grid(
        four_rooms_map(size),
        noise=noise,
        crowd_aversion=crowd_aversion,
        move_cost=-move_reward,
        stay_reward=stay_reward,
        start="uniform",
        gamma=gamma,
        device=device,
    )
    g.name = "four_rooms_crowd"
    g.params = dict(
        size=size,
        crowd_aversion=crowd_aversion,
        stay_reward=stay_reward,
        move_reward=move_reward,
        noise=noise,
        gamma=gamma,
    )
    return g


def grid_poi(
    size: int = 5,
    crowd_aversion: float = 1.0,
    poi_reward: float = 1.0,
    move_cost: float = 0.1,
    noise: float = 0.1,
    gamma: float = 0.9,
    device=None,
) -> FiniteMFG:
    """A crowd on an open ``size x size`` grid with a point of interest in the bottom-right corner (discounted).

    Reward ``r(s, a, mu) = poi_reward * (1 - dist(s, poi) / (2 (size - 1))) - crowd_aversion * log mu(s)
    - move_cost [a != stay]``: agents are drawn to the corner but avoid crowding it.
    """
    _check(size >= 2, f"size must be >= 2, got {size}")
    rows = tuple(" " * (size - 1) + ("G" if r == size - 1 else " ") for r in range(size))
    g = crowd_grid(
        rows,
        noise=noise,
        crowd_aversion=crowd_aversion,
        move_cost=move_cost,
        goal_reward=poi_reward * 2 * size / (2 * (size - 1)),
        start="uniform",
        gamma=gamma,
        device=device,
    )
    g.name = "grid_poi"
    g.params = dict(
        size=size, crowd_aversion=crowd_aversion, poi_reward=poi_reward, move_cost=move_cost, noise=noise, gamma=gamma
    )
    return g
