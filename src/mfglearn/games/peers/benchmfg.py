"""Bench-MFG's stationary environments (bench-mfg-suite 0.1.3), with its formulas and defaults.

Bench-MFG (Bench-MFG: a benchmark suite for stationary mean-field games) models a
discounted game by a deterministic next state ``T(s, a, n, mu)`` per noise value ``n``
drawn with probability ``noise_prob[n]``; the kernel is
``P(s'|s, a, mu) = sum_n noise_prob[n] [T(s, a, n, mu) = s']``. The games here are
``FiniteMFG(gamma=...)`` games whose reward and kernel tensors equal Bench-MFG's
``_build_reward_matrix`` / ``_build_transition_matrix`` exactly (tests in
``tests/games/peers/test_benchmfg_parity.py``). Defaults are those of Bench-MFG's
packaged configuration files (``benchmfg/config/environment/*.yaml``), not its class
defaults where the two differ.

Quirks of Bench-MFG that are kept, for parity:

* Probabilities that depend on the mean field (SIS infection, kinetic congestion's
  moves, MF-Garnet's kernel) are *quantised*: the noise is ``N`` evenly spaced points
  ``u_n = (n + 1/2) / N`` of ``[0, 1]`` and an event of probability ``p`` happens for the
  noises with ``u_n < p`` (inverse CDF for MF-Garnet). ``quantize=None`` gives the exact
  probabilities instead (a different, continuous game).
* MF-Garnet draws its coupling coefficients ``cp, rho_p, cr, rho_r`` from ``U[0, 1]`` with
  its seed; the configured values are ignored (Bench-MFG does the same). A successor drawn
  twice for the same pair keeps only its last Dirichlet weight in the base kernel ``P0``.
* Four rooms with obstacles: the wall cells are states too (the uniform initial law puts
  mass on them); a move into a wall or off the grid leaves the agent where it is.
* The configuration names ``potential_game2d``, but bench-mfg-suite 0.1.3 has no
  implementation of it (``create_environment`` raises ``NotImplementedError``), so it is
  not reproduced; its ``StrictContractionGame`` is :func:`multiple_equilibria` with other
  parameters (``alpha=1, beta=1, movement_penalty=1, targets=(2, 8)``).

Bench-MFG evaluates policies with finitely many mean-field steps and truncated Bellman
backups rather than exactly; :mod:`mfglearn.games.benchmfg_convention` reproduces that
convention. mfglearn's own metrics are exact (stationary law, discounted values).
"""

from __future__ import annotations

import numpy as np
import torch

from mfglearn._common.checks import check_int, check_positive
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG, check_distribution
from mfglearn.model.kernels import SparseKernel

F64 = torch.float64
GAMMA = 0.9
# Bench-MFG's actions on grids, as (row, col) moves; row 0 is the bottom row
GRID_MOVES = ((1, 0), (0, 1), (-1, 0), (0, -1), (0, 0))  # up, right, down, left, stay
CHAIN_MOVES = (-1, 0, 1)  # left, stay, right (and the chain noises)


def _mu0(mu0, S: int) -> torch.Tensor:
    if isinstance(mu0, str):
        if mu0 != "uniform":
            raise ValidationError(f"mu0 must be 'uniform' or an ({S},) tensor, got {mu0!r}")
        return torch.full((S,), 1.0 / S, dtype=F64)
    m = torch.as_tensor(mu0, dtype=F64)
    if m.shape != (S,):
        raise ValidationError(f"mu0 must have shape ({S},), got {tuple(m.shape)}")
    check_distribution(m, "mu0")
    return m


def _noise_prob(p, n: int, what: str) -> torch.Tensor:
    q = torch.as_tensor(p, dtype=F64)
    if q.shape != (n,):
        raise ValidationError(f"{what} must have {n} entries, got {tuple(q.shape)}")
    check_distribution(q, what)
    return q


def _noise_kernel(next_state: torch.Tensor, noise_prob: torch.Tensor) -> SparseKernel:
    """Kernel of ``T[s, a, n]`` ``(S, A, N)`` with noise law ``noise_prob`` ``(N,)``."""
    return SparseKernel(next_state, noise_prob.expand(next_state.shape).clone())


def _quantized(p: torch.Tensor, n: int | None, rolls: torch.Tensor | None = None) -> torch.Tensor:
    """Bench-MFG's probability of an event of probability ``p``: the share of the ``n`` noises ``(k + 1/2)/n < p``."""
    if n is None:
        return p.clamp(0.0, 1.0)
    rolls = _rolls(n) if rolls is None else rolls
    return (rolls < p.unsqueeze(-1)).sum(-1).to(F64) / n


def _rolls(n: int) -> torch.Tensor:
    return (torch.arange(n, dtype=F64) + 0.5) / n


def _game(S, A, mu0, reward, transition, gamma, name, params, layout=None) -> FiniteMFG:
    # The formulas are valid by construction (checked once here, and against Bench-MFG in the tests), so the
    # per-call data checks are skipped: on these tiny games they would cost more than the arithmetic. Reward
    # callables accept a batch of mean fields (B, S) (time is ignored: the games are stationary).
    g = FiniteMFG(
        S,
        A,
        _mu0(mu0, S),
        reward,
        transition,
        gamma=check_positive("gamma", gamma),
        name=name,
        params=params,
        layout=layout or {},
        batched_reward=callable(reward),
    )
    g.validate = False
    return g


def _chain_kernel(S: int, noise, noisy: bool) -> SparseKernel:
    """The chain games' kernel: ``x' = clip(x + a + eps)``, ``eps`` in ``{-1, 0, 1}`` with law ``noise``."""
    return _noise_kernel(_chain_next(S, noisy), _noise_prob(noise, 3, "noise"))


def _move_cost(c: float) -> torch.Tensor:
    """``c |a|`` for the chain actions left, stay, right: ``(1, 3)``."""
    return c * torch.tensor([[1.0, 0.0, 1.0]], dtype=F64)


def _chain_next(S: int, noisy: bool) -> torch.Tensor:
    s = torch.arange(S).view(S, 1, 1)
    a = torch.tensor(CHAIN_MOVES).view(1, 3, 1)
    e = torch.tensor(CHAIN_MOVES).view(1, 1, 3) * int(noisy)
    return (s + a + e).clamp(0, S - 1)


def lasry_lions_chain(
    n_states: int = 7,
    crowd_penalty: float = 40.0,
    movement_penalty: float = 2.0,
    center_attraction: float = 3.0,
    noise: tuple[float, float, float] = (0.025, 0.95, 0.025),
    noisy: bool = True,
    gamma: float = GAMMA,
    mu0="uniform",
) -> FiniteMFG:
    """Bench-MFG's Lasry-Lions chain: ``r = -c|a| - k (x - center)^2 - alpha mu(x)``, ``x' = x + a + eps``."""
    S = check_int("n_states", n_states, 2)
    center = (S - 1) / 2.0
    x = torch.arange(S, dtype=F64)
    base = -_move_cost(movement_penalty) - (center_attraction * (x - center).abs() ** 2).view(S, 1)

    def reward(t, mu):
        return base - (crowd_penalty * mu).unsqueeze(-1)

    kernel = _chain_kernel(S, noise, noisy)
    params = dict(
        n_states=S,
        crowd_penalty=crowd_penalty,
        movement_penalty=movement_penalty,
        center_attraction=center_attraction,
        noise=tuple(noise),
        noisy=noisy,
        gamma=gamma,
    )
    return _game(S, 3, mu0, reward, kernel, gamma, "benchmfg/lasry_lions_chain", params)


def no_interaction(
    n_states: int = 7,
    movement_penalty: float = 0.1,
    noise: tuple[float, float, float] = (0.025, 0.95, 0.025),
    noisy: bool = True,
    gamma: float = GAMMA,
    mu0="uniform",
) -> FiniteMFG:
    """Bench-MFG's no-interaction chain: ``r = x - c|a|`` (no mean-field term), ``x' = x + a + eps``."""
    S = check_int("n_states", n_states, 2)
    r = torch.arange(S, dtype=F64).view(S, 1) - _move_cost(movement_penalty)
    kernel = _chain_kernel(S, noise, noisy)
    params = dict(n_states=S, movement_penalty=movement_penalty, noise=tuple(noise), noisy=noisy, gamma=gamma)
    return _game(S, 3, mu0, r, kernel, gamma, "benchmfg/no_interaction", params)


def multiple_equilibria(
    n_states: int = 7,
    alpha: float = 5.0,
    beta: float = 20.0,
    movement_penalty: float = 4.0,
    targets: tuple[int, ...] = (2, 4),
    noise: tuple[float, float, float] = (0.025, 0.95, 0.025),
    noisy: bool = True,
    gamma: float = GAMMA,
    mu0="uniform",
) -> FiniteMFG:
    """Bench-MFG's two-beach-bar coordination game: ``r = -c1|a| - c2 min_i |x - x_i| + alpha mu(x)``."""
    S = check_int("n_states", n_states, 2)
    tg = [int(t) for t in targets]
    if len(tg) < 2 or any(not 0 <= t < S for t in tg):
        raise ValidationError(f"targets must be at least 2 states in [0, {S - 1}], got {targets!r}")
    x = torch.arange(S, dtype=F64)
    dist = torch.stack([(x - t).abs() for t in tg]).amin(0)
    base = -_move_cost(movement_penalty) - (beta * dist).view(S, 1)

    def reward(t, mu):
        return base + (alpha * mu).unsqueeze(-1)

    kernel = _chain_kernel(S, noise, noisy)
    params = dict(
        n_states=S,
        alpha=alpha,
        beta=beta,
        movement_penalty=movement_penalty,
        targets=tuple(tg),
        noise=tuple(noise),
        noisy=noisy,
        gamma=gamma,
    )
    return _game(S, 3, mu0, reward, kernel, gamma, "benchmfg/multiple_equilibria", params)


def contraction_game(
    switching_cost: float = 2.0, congestion: float = 2.0, gamma: float = GAMMA, mu0="uniform"
) -> FiniteMFG:
    """Bench-MFG's contraction game: two states, stay or switch, ``r = -C [switch] - alpha mu(x)``."""
    nxt = torch.tensor([[0, 1], [1, 0]])
    cost = torch.tensor([0.0, switching_cost], dtype=F64).view(1, 2)

    def reward(t, mu):
        return -cost - (congestion * mu).unsqueeze(-1)

    params = dict(switching_cost=switching_cost, congestion=congestion, gamma=gamma)
    return _game(2, 2, mu0, reward, SparseKernel.deterministic(nxt), gamma, "benchmfg/contraction_game", params)


def rock_paper_scissors(gamma: float = GAMMA, mu0="uniform") -> FiniteMFG:
    """Bench-MFG's rock-paper-scissors: the action is the next state, ``r(x, mu) = [A mu]_x`` (skew-symmetric A)."""
    M = torch.tensor([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=F64)
    nxt = torch.arange(3).view(1, 3).expand(3, 3)

    def reward(t, mu):
        return (mu @ M.T).unsqueeze(-1).expand(*mu.shape, 3)

    return _game(
        3, 3, mu0, reward, SparseKernel.deterministic(nxt), gamma, "benchmfg/rock_paper_scissors", dict(gamma=gamma)
    )


def sis_epidemic(
    n_actions: int = 5,
    beta: float = 0.8,
    nu: float = 0.1,
    cost_infection: float = 10.0,
    quantize: int | None = 100,
    gamma: float = GAMMA,
    mu0="uniform",
) -> FiniteMFG:
    """Bench-MFG's SIS epidemic: activity ``a in [0, 1]``, infection w.p. ``beta a mu(I)``, recovery w.p. ``nu``.

    Reward ``a - C [x = I]``. State 0 is susceptible, 1 infected.
    """
    A = check_int("n_actions", n_actions, 2)
    if quantize is not None:
        quantize = check_int("quantize", quantize)
    levels = torch.as_tensor(np.linspace(0, 1, A), dtype=F64)  # numpy's grid, bit for bit
    r = torch.stack([levels, levels - cost_infection])
    recover = _quantized(torch.tensor(nu, dtype=F64), quantize)
    rolls = None if quantize is None else _rolls(quantize)
    bl = beta * levels
    infected = torch.stack([recover, 1 - recover]).expand(1, A, 2)

    def transition(t, mu):
        p_inf = _quantized((bl * mu[1]).clamp(0.0, 1.0), quantize, rolls)  # (A,)
        return torch.cat([torch.stack([1 - p_inf, p_inf], -1).unsqueeze(0), infected])

    params = dict(n_actions=A, beta=beta, nu=nu, cost_infection=cost_infection, quantize=quantize, gamma=gamma)
    return _game(2, A, mu0, r, transition, gamma, "benchmfg/sis_epidemic", params)


def _grid_target(rows: int, cols: int, move: tuple[int, int]) -> torch.Tensor:
    """``(S,)`` row, col of each cell moved by ``move`` (no clipping)."""
    s = torch.arange(rows * cols)
    return s // cols + move[0], s % cols + move[1]


def kinetic_congestion(
    rows: int = 5,
    cols: int = 5,
    target_state: int = 24,
    movement_cost: float = 0.1,
    capacity_threshold: float = 0.18,
    quantize: int | None = 100,
    gamma: float = GAMMA,
    mu0="uniform",
) -> FiniteMFG:
    """Bench-MFG's kinetic congestion: a move into cell ``y`` fails w.p. ``min(1, mu(y) / threshold)``.

    Reward ``-[x != target] - c [a != stay]`` (no mean-field term): the crowd slows itself.
    A cell at or above the threshold admits nobody, so the kernel is discontinuous in ``mu``.
    """
    rows, cols = check_int("rows", rows), check_int("cols", cols)
    S = rows * cols
    if not 0 <= int(target_state) < S:
        raise ValidationError(f"target_state must be in [0, {S - 1}], got {target_state!r}")
    check_positive("capacity_threshold", capacity_threshold)
    if quantize is not None:
        quantize = check_int("quantize", quantize)
    dest = []
    for dr, dc in GRID_MOVES:  # moves clip at the border (Bench-MFG's _get_neighbor)
        r, c = _grid_target(rows, cols, (dr, dc))
        dest.append(r.clamp(0, rows - 1) * cols + c.clamp(0, cols - 1))
    dest = torch.stack(dest, 1)  # (S, 5)
    here = torch.arange(S).view(S, 1).expand(S, 5)
    moving = dest != here
    index = torch.stack([dest, here], -1)  # (S, 5, 2): success, bounce back
    at_target = (torch.arange(S) == int(target_state)).to(F64)
    r = -(1 - at_target).view(S, 1) - movement_cost * torch.tensor([1.0, 1, 1, 1, 0], dtype=F64)
    thr = float(capacity_threshold)
    rolls = None if quantize is None else _rolls(quantize)

    def transition(t, mu):
        d = mu[dest]
        reject = torch.where(d >= thr, torch.ones_like(d), (d / thr).clamp(max=1.0))
        ok = torch.where(moving, _quantized(1.0 - reject, quantize, rolls), torch.ones_like(d))
        return SparseKernel(index, torch.stack([ok, 1 - ok], -1))

    params = dict(
        rows=rows,
        cols=cols,
        target_state=int(target_state),
        movement_cost=movement_cost,
        capacity_threshold=thr,
        quantize=quantize,
        gamma=gamma,
    )
    return _game(
        S,
        5,
        mu0,
        r,
        transition,
        gamma,
        "benchmfg/kinetic_congestion",
        params,
        {"grid": (rows, cols), "row_zero": "bottom"},
    )


FOUR_ROOMS_DOORS = ((2, 5), (8, 5), (5, 8), (5, 2))


def four_rooms_obstacles(
    alpha: float = 1.0,
    epsilon: float = 1e-12,
    doors: tuple[tuple[int, int], ...] = FOUR_ROOMS_DOORS,
    noise: tuple[float, ...] = (0.2, 0.2, 0.2, 0.2, 0.2),
    gamma: float = GAMMA,
    mu0="uniform",
) -> FiniteMFG:
    """Bench-MFG's four rooms with obstacles: 11 x 11 grid, a cross of walls with four doors, ``r = -alpha log mu(x)``.

    ``x' = x + a + eps`` with ``eps`` one of the five moves; a move into a wall or off the grid stays.
    """
    n = 11
    wall = torch.zeros(n, n, dtype=torch.bool)
    wall[:, n // 2] = True
    wall[n // 2, :] = True
    for r_, c_ in doors:
        if not (0 <= r_ < n and 0 <= c_ < n):
            raise ValidationError(f"door {(r_, c_)} is off the 11 x 11 grid")
        wall[r_, c_] = False
    S = n * n
    s = torch.arange(S)
    mv = torch.tensor(GRID_MOVES)
    row = (s // n).view(S, 1, 1) + mv[:, 0].view(1, 5, 1) + mv[:, 0].view(1, 1, 5)
    col = (s % n).view(S, 1, 1) + mv[:, 1].view(1, 5, 1) + mv[:, 1].view(1, 1, 5)
    inside = (row >= 0) & (row < n) & (col >= 0) & (col < n)
    free = inside & ~wall[row.clamp(0, n - 1), col.clamp(0, n - 1)]
    nxt = torch.where(free, row.clamp(0, n - 1) * n + col.clamp(0, n - 1), s.view(S, 1, 1))
    kernel = _noise_kernel(nxt, _noise_prob(noise, 5, "noise"))

    def reward(t, mu):
        return (-alpha * torch.log(mu.clamp_min(epsilon))).unsqueeze(-1).expand(*mu.shape, 5)

    params = dict(alpha=alpha, epsilon=epsilon, doors=tuple(map(tuple, doors)), noise=tuple(noise), gamma=gamma)
    return _game(
        S,
        5,
        mu0,
        reward,
        kernel,
        gamma,
        "benchmfg/four_rooms_obstacles",
        params,
        {"grid": (n, n), "walls": wall, "row_zero": "bottom"},
    )


def mf_garnet(
    n_states: int = 100,
    n_actions: int = 6,
    n_noises: int = 64,
    branching_factor: int = 6,
    dynamics_structure: str = "additive",
    reward_structure: str = "additive",
    game_type: str = "potential",
    reward_scale: float = 1.0,
    eps: float = 1e-12,
    relu_eps: float = 0.0,
    seed: int = 0,
    quantize: bool = True,
    gamma: float = GAMMA,
    mu0="uniform",
) -> FiniteMFG:
    """Bench-MFG's MF-Garnet generator: random sparse base kernel and rewards coupled to the mean field.

    ``p(.|s, a, mu) ~ relu(cp P0(.|s, a) + rho_p C[s, a] mu)`` (additive) or
    ``P0 relu(cp + rho_p C[s, a] mu)`` (multiplicative); ``r = cr R0 + rho_r [M mu]_s`` (additive) or
    ``R0 (cr + rho_r [M mu]_s)``, ``M`` symmetric (``potential``) or skew (``cyclic``). Drawn with
    numpy's ``default_rng(seed)`` in Bench-MFG's order, so a seed gives Bench-MFG's game. The
    kernel is sampled on ``n_noises`` points by inverse CDF (``quantize=False``: exact ``p``). Memory:
    the coupling tensor ``C`` is ``S^3 A`` float64 (48 MB at the default size, 384 MB at ``S = 200``).
    """
    S, A = check_int("n_states", n_states, 2), check_int("n_actions", n_actions)
    N = check_int("n_noises", n_noises, 2)
    b = check_int("branching_factor", branching_factor)
    if b > S:
        raise ValidationError(f"branching_factor must be at most n_states={S}, got {b}")
    for name, v, ok in (
        ("dynamics_structure", dynamics_structure, ("additive", "multiplicative")),
        ("reward_structure", reward_structure, ("additive", "multiplicative")),
        ("game_type", game_type, ("potential", "cyclic")),
    ):
        if v not in ok:
            raise ValidationError(f"{name} must be one of {', '.join(ok)}; got {v!r}")
    rng = np.random.default_rng(int(seed))
    cp, rho_p, cr, rho_r = (float(rng.uniform(0.0, 1.0)) for _ in range(4))
    support = np.zeros((S, A, b), dtype=int)
    prob = np.zeros((S, A, b))
    for s in range(S):  # one draw after the other, as Bench-MFG does (the stream must match)
        for a in range(A):
            support[s, a] = rng.integers(0, S, size=(b,))
            prob[s, a] = rng.dirichlet(np.ones(b))
    P0 = np.zeros((S, A, S))
    # Bench-MFG builds P0 with `base[support] += prob`: a successor drawn twice keeps its last weight
    # only (so P0's rows may sum to less than 1; the normalisation below absorbs it). Kept for parity.
    for s in range(S):
        for a in range(A):
            P0[s, a][support[s, a]] += prob[s, a]
    # Bench-MFG keeps C in float32 and multiplies it with a float64 mean field: the same values, held in float64
    C = torch.from_numpy(rng.normal(size=(S, A, S, S)).astype(np.float32).astype(np.float64))
    R0 = torch.from_numpy(rng.normal(loc=0.0, scale=reward_scale, size=(S, A)).astype(float))
    M = rng.normal(size=(S, S)).astype(float)
    M = torch.from_numpy(0.5 * (M + M.T) if game_type == "potential" else 0.5 * (M - M.T))
    P0 = torch.from_numpy(P0)
    u = (torch.arange(N, dtype=F64) + 0.5) / float(N)

    def _norm(mu):
        return mu / mu.sum(-1, keepdim=True).clamp_min(eps)

    def reward(t, mu):
        inter = (_norm(mu) @ M.T).unsqueeze(-1)
        return cr * R0 + rho_r * inter if reward_structure == "additive" else R0 * (cr + rho_r * inter)

    def transition(t, mu):
        g = (C.view(S * A * S, S) @ _norm(mu)).view(S, A, S)
        if dynamics_structure == "additive":
            inten = (cp * P0 + rho_p * g).clamp_min(0.0)
        else:
            inten = P0 * (cp + rho_p * g).clamp_min(0.0)
        if relu_eps > 0:
            inten = inten + relu_eps
        p = inten / (inten.sum(-1, keepdim=True) + eps)
        p = p / p.sum(-1, keepdim=True).clamp_min(eps)
        if not quantize:
            return p
        nxt = torch.searchsorted(torch.cumsum(p, -1), u.expand(S, A, N).contiguous(), right=True).clamp(max=S - 1)
        return torch.zeros(S, A, S, dtype=F64).scatter_add_(-1, nxt, torch.full((S, A, N), 1.0 / N, dtype=F64))

    params = dict(
        n_states=S,
        n_actions=A,
        n_noises=N,
        branching_factor=b,
        dynamics_structure=dynamics_structure,
        reward_structure=reward_structure,
        game_type=game_type,
        reward_scale=reward_scale,
        eps=eps,
        relu_eps=relu_eps,
        seed=int(seed),
        quantize=bool(quantize),
        gamma=gamma,
        coefficients=dict(cp=cp, rho_p=rho_p, cr=cr, rho_r=rho_r),
    )
    return _game(S, A, mu0, reward, transition, gamma, "benchmfg/mf_garnet", params)


# Bench-MFG's configuration name (``environment=...``) -> our game id
CONFIG_NAMES = {
    "contraction_game": "benchmfg/contraction_game",
    "four_rooms_obstacles": "benchmfg/four_rooms_obstacles",
    "kinetic_congestion": "benchmfg/kinetic_congestion",
    "lasry_lions_chain": "benchmfg/lasry_lions_chain",
    "mf_garnet": "benchmfg/mf_garnet",
    "multiple_equilibria": "benchmfg/multiple_equilibria",
    "no_interaction_game": "benchmfg/no_interaction",
    "rock_paper_scissors": "benchmfg/rock_paper_scissors",
    "sis_epidemic": "benchmfg/sis_epidemic",
}

ENVS = {
    "benchmfg/contraction_game": contraction_game,
    "benchmfg/four_rooms_obstacles": four_rooms_obstacles,
    "benchmfg/kinetic_congestion": kinetic_congestion,
    "benchmfg/lasry_lions_chain": lasry_lions_chain,
    "benchmfg/mf_garnet": mf_garnet,
    "benchmfg/multiple_equilibria": multiple_equilibria,
    "benchmfg/no_interaction": no_interaction,
    "benchmfg/rock_paper_scissors": rock_paper_scissors,
    "benchmfg/sis_epidemic": sis_epidemic,
}
