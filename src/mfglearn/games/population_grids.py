"""Several populations on one grid: predator-prey and crowd avoidance.

Both games put ``P`` populations on a ``size x size`` grid (cells ``s = x + size * y``, ``x`` the
column and ``y`` the row), with the five moves ``stay, x+1, y+1, y-1, x-1`` followed by a noise
move (``stay`` with probability ``1 - p``, each other move with ``p / 4``), on a square (moves
off the grid are clipped) or a torus. They follow OpenSpiel's ``python_mfg_predator_prey`` and
``python_mfg_crowd_avoidance``; the ``openspiel/*`` ids of the registry are these constructors
at OpenSpiel's factory settings with ``openspiel_quirks=True`` (see each docstring).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import ComposedKernel
from mfglearn.model.populations import Population, multi_population_game

# OpenSpiel's action order: (dx, dy)
MOVES = ((0, 0), (1, 0), (0, 1), (0, -1), (-1, 0))
ACTION_NAMES = ["stay", "right", "down", "up", "left"]  # x+1 is right, y+1 is the next row down

PREDATOR_PREY_3 = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=np.float64)
PREDATOR_PREY_4 = np.array([[0, 1, 0, -1], [-1, 0, 1, 0], [0, -1, 0, 1], [1, 0, -1, 0]], dtype=np.float64)
# corner starts of OpenSpiel's factory settings, as (x, y) per population
_CORNERS_3 = ((0, 0), (4, 0), (0, 4))
_CORNERS_4 = ((0, 0), (0, 4), (4, 4), (4, 0))

CROWD_AVOIDANCE_GRID = ("#######", "#  #  #", "#     #", "#  #  #", "#     #", "#  #  #", "#######")
_CROWD_AVOIDANCE_INIT = {0: {(1, 2): 0.4, (2, 2): 0.4, (1, 4): 0.2}, 1: {(5, 2): 0.2, (4, 4): 0.4, (5, 4): 0.4}}


def _geometry(geometry: str) -> str:
    if geometry not in ("square", "torus"):
        raise ValidationError(f"geometry must be 'square' or 'torus', got {geometry!r}")
    return geometry


def grid_kernel(size: int, geometry: str, noise: float, blocked: np.ndarray | None = None) -> ComposedKernel:
    """The move-then-noise kernel on a ``size x size`` grid (OpenSpiel's ``update_pos``).

    A move into a ``blocked[x, y]`` cell leaves the agent where it is (checked before clipping,
    as OpenSpiel does); ``noise`` is the probability that the noise move is not ``stay``.
    """
    if not 0.0 <= noise <= 1.0:
        raise ValidationError(f"the noise probability must be in [0, 1], got {noise}")
    S = size * size
    xs, ys = np.arange(S) % size, np.arange(S) // size
    nxt = np.zeros((S, 5), dtype=np.int64)
    for a, (dx, dy) in enumerate(MOVES):
        cx, cy = xs + dx, ys + dy
        if geometry == "torus":
            tx, ty = cx % size, cy % size
        else:
            tx, ty = np.clip(cx, 0, size - 1), np.clip(cy, 0, size - 1)
        if blocked is not None:
            inside = (cx >= 0) & (cx < size) & (cy >= 0) & (cy < size)
            hit = inside & blocked[np.clip(cx, 0, size - 1), np.clip(cy, 0, size - 1)]
            tx, ty = np.where(hit, xs, tx), np.where(hit, ys, ty)
        nxt[:, a] = tx + size * ty
    move = torch.as_tensor(nxt)
    prob = torch.tensor([1.0 - noise] + [noise / 4.0] * 4, dtype=torch.float64).expand(S, 5).clone()
    return ComposedKernel(move, move.clone(), prob)


def _initial(init, P: int, size: int, default) -> np.ndarray:
    """``(P, size * size)`` initial distributions from ``(P, size, size)`` rows-y arrays, or start cells."""
    if init is None:
        init = default
    if isinstance(init, str) and init == "uniform":
        return np.full((P, size * size), 1.0 / (size * size))
    arr = np.asarray(init, dtype=np.float64) if not _is_cells(init) else None
    if arr is None:
        if len(init) != P:
            raise ValidationError(f"init lists {len(init)} start cells; the game has {P} populations")
        out = np.zeros((P, size * size))
        for p, (x, y) in enumerate(init):
            if not (0 <= x < size and 0 <= y < size):
                raise ValidationError(f"start cell {(x, y)} of population {p} is outside the {size}x{size} grid")
            out[p, x + size * y] = 1.0
        return out
    if arr.shape not in ((P, size, size), (P, size * size)):
        raise ValidationError(
            f"init must have shape ({P}, {size}, {size}) (population, row y, column x), got {arr.shape}"
        )
    return arr.reshape(P, size * size)


def _is_cells(init) -> bool:
    try:
        return all(len(c) == 2 and all(isinstance(v, (int, np.integer)) for v in c) for c in init)
    except TypeError:
        return False


def _openspiel_t0(init: np.ndarray, P: int, size: int) -> torch.Tensor:
    """What OpenSpiel's rewards read at ``t = 0``: ``(P, S)``, the flat initial vector at index
    ``q + P * (y + size * x)`` (the support order of later steps), not population ``q``'s cell."""
    flat = init.reshape(-1)
    S = size * size
    xs, ys = np.arange(S) % size, np.arange(S) // size
    out = np.stack([flat[q + P * (ys + size * xs)] for q in range(P)])
    return torch.as_tensor(out)


def _densities(mf, t, t0: torch.Tensor | None) -> torch.Tensor:
    """``(P, S)`` (or ``(P, T, S)``) densities the rewards read: the mean fields, or at ``t = 0`` what
    OpenSpiel reads there (``t0``, see :func:`_openspiel_t0`) when its quirks are on."""
    d = mf.stack()
    if t0 is None:
        return d
    tt = torch.as_tensor(t)
    first = (tt == 0).reshape((1,) + tt.shape + (1,) * (d.dim() - 1 - tt.dim()))
    return torch.where(first, (t0 if d.dim() == 2 else t0.unsqueeze(1)).to(d), d)


def _grid_game(rewards, mu0, kernel, size, horizon, name, device, layout: dict, params: dict) -> FiniteMFG:
    """The populations ``pop0..`` of a grid game (one reward each, a shared kernel) as one game."""
    pops = [
        Population(size * size, 5, mu0[p], r, kernel, name=f"pop{p}", layout={"grid": (size, size)})
        for p, r in enumerate(rewards)
    ]
    return multi_population_game(
        pops,
        horizon=horizon,
        name=name,
        batched_reward=True,
        layout={"grid": (size, size), **layout, "actions": ACTION_NAMES, "cell_order": "x + size * y"},
        params=params,
        device=device,
    )


def predator_prey(
    size: int = 5,
    horizon: int = 10,
    reward_matrix: Sequence[Sequence[float]] | None = None,
    init: object = None,
    geometry: str = "square",
    noise_probability: float = 0.8,
    congestion_coeff: float = 1.0,
    openspiel_quirks: bool = False,
    name: str = "predator_prey",
    device=None,
) -> FiniteMFG:
    """Predator-prey: ``P`` populations chasing and fleeing each other on a grid.

    Pérolat et al. 2022, section 5.4; OpenSpiel's ``python_mfg_predator_prey``.

    Population ``p`` at cell ``s`` and time ``t`` is paid
    ``-congestion_coeff * log(mu_p[t, s] + 1e-25) + sum_q R[p, q] mu_q[t, s]``: ``R[p, q] > 0``
    means ``p`` chases ``q``. Decisions at ``t = 0..horizon-1``; no terminal reward.

    Args:
        size: grid side.
        horizon: number of decisions.
        reward_matrix: ``(P, P)``; its size is the number of populations (default: OpenSpiel's
            three-population cycle ``[[0, -1, 1], [1, 0, -1], [-1, 1, 0]]``).
        init: ``(P, size, size)`` initial distributions (rows are ``y``), ``P`` start cells
            ``(x, y)``, or ``"uniform"`` (default: OpenSpiel's corner starts for 3 or 4 populations).
        geometry: ``"square"`` (moves clipped at the border) or ``"torus"``.
        noise_probability: probability that the noise move is not ``stay``.
        congestion_coeff: weight of the crowd-aversion term.
        openspiel_quirks: reproduce OpenSpiel at ``t = 0``: no mean-field node precedes the
            first decision, so its reward reads the flat initial vector in the support order of
            later steps (entry ``q + P * (y + size * x)``), which is not population ``q``'s
            density except at cells where the two orders agree. This changes values at ``t = 0``
            but not the NashConv (the reward at ``t = 0`` does not depend on the policy).
    """
    R = PREDATOR_PREY_3 if reward_matrix is None else np.asarray(reward_matrix, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 1:
        raise ValidationError(f"reward_matrix must be square (P, P), got shape {R.shape}")
    if not np.isfinite(R).all():
        raise ValidationError("reward_matrix has a NaN or infinite entry")
    P = R.shape[0]
    default = {3: _CORNERS_3, 4: _CORNERS_4}.get(P, "uniform") if size == 5 else "uniform"
    mu0 = _initial(init, P, size, default)
    kernel = grid_kernel(size, _geometry(geometry), float(noise_probability))
    Rt = torch.as_tensor(R)
    t0 = _openspiel_t0(mu0, P, size) if openspiel_quirks else None
    c = float(congestion_coeff)

    def make_reward(p: int):
        def reward(t, mf):
            d = _densities(mf, t, t0)
            inter = torch.tensordot(Rt[p].to(d), d, dims=([0], [0]))
            return -c * torch.log(d[p] + 1e-25) + inter

        return reward

    return _grid_game(
        [make_reward(p) for p in range(P)],
        mu0,
        kernel,
        size,
        horizon,
        name,
        device,
        {},
        {
            "size": size,
            "horizon": horizon,
            "reward_matrix": R.tolist(),
            "geometry": geometry,
            "noise_probability": noise_probability,
            "congestion_coeff": congestion_coeff,
        },
    )


def crowd_avoidance(
    grid: Sequence[str] = CROWD_AVOIDANCE_GRID,
    horizon: int = 10,
    congestion_matrix: Sequence[Sequence[float]] | None = None,
    init: object = None,
    targets: Sequence[tuple[int, int]] = ((5, 3), (1, 3)),
    geometry: str = "square",
    proba_noise: float = 0.5,
    coef_congestion: float = 0.0,
    coef_target: float = 1.0,
    openspiel_quirks: bool = False,
    name: str = "crowd_avoidance",
    device=None,
) -> FiniteMFG:
    """Two (or more) crowds crossing a room with walls (OpenSpiel's ``python_mfg_crowd_avoidance``).

    Population ``p`` at cell ``s`` is paid ``-coef_congestion * sum_q C[p, q] mu_q[t, s]`` plus
    ``coef_target`` on its target cell. A move into a wall (``#``) leaves the agent in place.
    OpenSpiel's factory setting has ``coef_congestion = 0``: the populations then only race to
    their targets; raise it to make them avoid each other.

    Args:
        grid: square map, rows are ``y``; ``#`` are walls (kept as unreachable states).
        horizon: number of decisions.
        congestion_matrix: ``(P, P)`` (default ``[[0, 1], [1, 0]]``: each crowd is slowed by the other).
        init: ``(P, size, size)`` initial distributions (rows ``y``) or start cells (default:
            OpenSpiel's two groups of three cells).
        targets: one target cell ``(x, y)`` per population (OpenSpiel: ``(5, 3)`` and ``(1, 3)``).
        geometry, proba_noise: as in :func:`predator_prey`.
        openspiel_quirks: the first decision's congestion reads the flat initial vector in a
            different order (see :func:`predator_prey`); moot at ``coef_congestion = 0``.
    """
    grid = tuple(grid)
    size = len(grid)
    if size < 2 or any(len(r) != size for r in grid):
        raise ValidationError("crowd_avoidance needs a square map: len(grid) rows of len(grid) characters")
    C = np.array([[0.0, 1.0], [1.0, 0.0]]) if congestion_matrix is None else np.asarray(congestion_matrix, float)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValidationError(f"congestion_matrix must be square (P, P), got shape {C.shape}")
    P = C.shape[0]
    if len(targets) != P:
        raise ValidationError(f"give one target cell per population: {P} populations, {len(targets)} targets")
    blocked = np.array([[grid[y][x] == "#" for y in range(size)] for x in range(size)])  # blocked[x, y]
    for p, (x, y) in enumerate(targets):
        if not (0 <= x < size and 0 <= y < size) or blocked[x, y]:
            raise ValidationError(f"target {(x, y)} of population {p} is outside the grid or in a wall")
    if init is None and P == 2 and size == 7:
        init = np.zeros((2, 7, 7))
        for p, cells in _CROWD_AVOIDANCE_INIT.items():
            for (x, y), w in cells.items():
                init[p, y, x] = w
    mu0 = _initial(init, P, size, "uniform")
    S = size * size
    on_wall = blocked.T.reshape(-1)  # s = x + size * y
    if (mu0[:, on_wall] > 0).any():
        raise ValidationError("the initial distribution puts mass on a wall cell; move it to a free cell")
    kernel = grid_kernel(size, _geometry(geometry), float(proba_noise), blocked)
    Ct = torch.as_tensor(C)
    t0 = _openspiel_t0(mu0, P, size) if openspiel_quirks else None
    bonus = torch.zeros(P, S, dtype=torch.float64)
    for p, (x, y) in enumerate(targets):
        bonus[p, x + size * y] = coef_target

    def make_reward(p: int):
        def reward(t, mf):
            d = _densities(mf, t, t0)
            return -coef_congestion * torch.tensordot(Ct[p].to(d), d, dims=([0], [0])) + bonus[p].to(d)

        return reward

    return _grid_game(
        [make_reward(p) for p in range(P)],
        mu0,
        kernel,
        size,
        horizon,
        name,
        device,
        {"walls": grid},
        {
            "horizon": horizon,
            "congestion_matrix": C.tolist(),
            "targets": [list(t) for t in targets],
            "geometry": geometry,
            "proba_noise": proba_noise,
            "coef_congestion": coef_congestion,
            "coef_target": coef_target,
        },
    )


def openspiel_predator_prey_5x5x3(horizon: int = 10, device=None) -> FiniteMFG:
    """OpenSpiel's factory setting ``predator_prey_5x5x3``: 3 populations on a 5x5 square, H=10."""
    return predator_prey(horizon=horizon, openspiel_quirks=True, name="openspiel/predator_prey_5x5x3", device=device)


def openspiel_predator_prey_5x5x4(horizon: int = 20, device=None) -> FiniteMFG:
    """OpenSpiel's factory setting ``predator_prey_5x5x4``: 4 populations on a 5x5 square, H=20."""
    return predator_prey(
        horizon=horizon,
        reward_matrix=PREDATOR_PREY_4,
        openspiel_quirks=True,
        name="openspiel/predator_prey_5x5x4",
        device=device,
    )


def openspiel_crowd_avoidance(horizon: int = 10, coef_congestion: float = 0.0, device=None) -> FiniteMFG:
    """OpenSpiel's factory setting ``crowd_avoidance``: 2 crowds in a 7x7 room with walls, H=10."""
    return crowd_avoidance(
        horizon=horizon,
        coef_congestion=coef_congestion,
        openspiel_quirks=True,
        name="openspiel/crowd_avoidance",
        device=device,
    )
