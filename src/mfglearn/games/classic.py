"""Small classic games: left-right, rock-paper-scissors, SIS epidemic, discretised LQ, random games."""

from __future__ import annotations

import math

import torch

from mfglearn._common.checks import check_int
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import DenseKernel, SparseKernel


def left_right(horizon: int = 2, crowd_cost: float = 1.0, device=None) -> FiniteMFG:
    """Left-right: from the centre everyone picks a side; a side's crowd is costly.

    States ``center, left, right``; actions ``left, right`` (ignored once on a side:
    sides are absorbing). Reward ``-crowd_cost * mu_t(s)`` on a side, 0 in the centre.
    Unique equilibrium: half the population goes each way.
    """
    if horizon < 2:
        raise ValidationError(f"left_right needs horizon >= 2 (one move, one payoff), got {horizon}")
    nxt = torch.tensor([[1, 2], [1, 1], [2, 2]])
    side = torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)

    def reward(t: int, mu: torch.Tensor) -> torch.Tensor:
        return -crowd_cost * side.to(mu) * mu

    return FiniteMFG(
        n_states=3,
        n_actions=2,
        mu0=torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64),
        reward=reward,
        transition=SparseKernel.deterministic(nxt),
        horizon=horizon,
        name="left_right",
        layout={"states": ["center", "left", "right"], "actions": ["left", "right"]},
        params={"horizon": horizon, "crowd_cost": crowd_cost},
        device=device,
    )


def rock_paper_scissors(
    horizon: int = 2, payoff: tuple[float, float, float] = (1.0, 1.0, 1.0), device=None
) -> FiniteMFG:
    """Population rock-paper-scissors.

    From the start state each agent picks rock, paper or scissors (absorbing
    states). Payoff in state ``s``: ``sum_s' M[s, s'] mu_t(s')`` with the zero-sum
    cyclic matrix ``M`` scaled by ``payoff = (w_rock, w_paper, w_scissors)``: rock
    beats scissors by ``w_rock``, paper beats rock by ``w_paper``, scissors beats
    paper by ``w_scissors``. The equilibrium (:func:`rps_equilibrium`) puts mass
    proportional to ``(w_scissors, w_rock, w_paper)``; for equal weights it is uniform.
    """
    if horizon < 2:
        raise ValidationError(f"rock_paper_scissors needs horizon >= 2, got {horizon}")
    wr, wp, ws = (float(w) for w in payoff)
    if min(wr, wp, ws) <= 0:
        raise ValidationError(f"payoff weights must be > 0, got {payoff}")
    M = torch.zeros(4, 4, dtype=torch.float64)
    R, P, Sc = 1, 2, 3
    M[R, Sc], M[Sc, R] = wr, -wr
    M[P, R], M[R, P] = wp, -wp
    M[Sc, P], M[P, Sc] = ws, -ws
    nxt = torch.tensor([[1, 2, 3], [1, 1, 1], [2, 2, 2], [3, 3, 3]])

    def reward(t: int, mu: torch.Tensor) -> torch.Tensor:
        return M.to(mu) @ mu

    return FiniteMFG(
        n_states=4,
        n_actions=3,
        mu0=torch.tensor([1.0, 0, 0, 0], dtype=torch.float64),
        reward=reward,
        transition=SparseKernel.deterministic(nxt),
        horizon=horizon,
        name="rock_paper_scissors",
        layout={"states": ["start", "rock", "paper", "scissors"], "actions": ["rock", "paper", "scissors"]},
        params={"horizon": horizon, "payoff": list(payoff)},
        device=device,
    )


def rps_equilibrium(payoff: tuple[float, float, float]) -> torch.Tensor:
    """Closed-form equilibrium mix ``(rock, paper, scissors)`` of :func:`rock_paper_scissors`.

    Indifference ``M p = 0`` gives ``p ∝ (w_scissors, w_rock, w_paper)``.
    """
    wr, wp, ws = payoff
    p = torch.tensor([ws, wr, wp], dtype=torch.float64)
    return p / p.sum()


def sis(
    horizon: int = 50,
    infection_rate: float = 0.8,
    recovery_rate: float = 0.2,
    infection_cost: float = 1.0,
    distancing_cost: float = 0.3,
    initial_infected: float = 0.3,
    device=None,
) -> FiniteMFG:
    """SIS epidemic with social distancing (Cui & Koeppl 2021 style).

    States ``susceptible, infected``; actions ``go out, distance``. A susceptible
    agent who goes out is infected with probability ``infection_rate * mu_t(I)``;
    distancing protects fully. Infected agents recover with ``recovery_rate``.
    Reward ``-infection_cost [s = I] - distancing_cost [a = distance]``.
    The transition depends on the mean field.
    """
    for nm, v in (
        ("infection_rate", infection_rate),
        ("recovery_rate", recovery_rate),
        ("initial_infected", initial_infected),
    ):
        if not 0.0 <= v <= 1.0:
            raise ValidationError(f"{nm} must be in [0, 1], got {v}")
    base = torch.tensor(
        [[0.0, -distancing_cost], [-infection_cost, -infection_cost - distancing_cost]], dtype=torch.float64
    )

    def transition(t: int, mu: torch.Tensor) -> DenseKernel:
        p_inf = infection_rate * mu[1]
        P = torch.zeros(2, 2, 2, dtype=mu.dtype, device=mu.device)
        P[0, 0, 1] = p_inf
        P[0, 0, 0] = 1 - p_inf
        P[0, 1, 0] = 1.0
        P[1, :, 0] = recovery_rate
        P[1, :, 1] = 1 - recovery_rate
        return DenseKernel(P)

    return FiniteMFG(
        n_states=2,
        n_actions=2,
        mu0=torch.tensor([1 - initial_infected, initial_infected], dtype=torch.float64),
        reward=base,
        transition=transition,
        horizon=horizon,
        name="sis",
        layout={"states": ["susceptible", "infected"], "actions": ["go_out", "distance"]},
        params=dict(
            horizon=horizon,
            infection_rate=infection_rate,
            recovery_rate=recovery_rate,
            infection_cost=infection_cost,
            distancing_cost=distancing_cost,
            initial_infected=initial_infected,
        ),
        device=device,
    )


def lq_discrete(
    size: int = 21,
    horizon: int = 10,
    n_actions_per_side: int = 3,
    volatility: float = 1.0,
    mean_revert: float = 0.0,
    action_cost: float = 0.5,
    mean_cost: float = 0.5,
    terminal_cost: float = 1.0,
    device=None,
) -> FiniteMFG:
    """Discretised linear-quadratic MFG on a line ``0..size-1`` (clipped at the ends).

    ``x_{t+1} = clip(x_t + a_t + round(mean_revert (m_t - x_t)) + eps_t)``, ``eps`` a
    discretised ``N(0, volatility^2)`` on ``{-n..n}``, and reward
    ``-action_cost a^2 - mean_cost (x - m_t)^2`` with ``m_t`` the population mean,
    plus ``-terminal_cost (x - m_H)^2`` at ``t = H``. Textbook conventions: the
    action cost is the current action's, the terminal cost is paid.
    """
    if size < 3 or n_actions_per_side < 1 or volatility < 0:
        raise ValidationError("need size >= 3, n_actions_per_side >= 1 and volatility >= 0")
    n = n_actions_per_side
    A = 2 * n + 1
    moves = torch.arange(-n, n + 1)
    if volatility > 0:
        cdf = [0.5 * math.erfc(-(m + 0.5) / (volatility * math.sqrt(2))) for m in range(-n, n + 1)]
        pm = [cdf[0]] + [cdf[i] - cdf[i - 1] for i in range(1, A - 1)] + [1 - cdf[A - 2]]
    else:
        pm = [0.0] * n + [1.0] + [0.0] * n
    noise_p = torch.tensor(pm, dtype=torch.float64)
    x = torch.arange(size)

    def kernel(t: int, mu: torch.Tensor) -> SparseKernel:
        mean = (x.to(mu) * mu).sum()
        drift = torch.round(mean_revert * (mean - x.to(mu))).long() if mean_revert else torch.zeros_like(x)
        y = x.unsqueeze(1) + moves + drift.unsqueeze(1)  # (S, A)
        idx = (y.unsqueeze(-1) + moves).clamp(0, size - 1)  # (S, A, B)
        return SparseKernel(idx, noise_p.to(mu).expand(size, A, A), size)

    a2 = (moves.to(torch.float64) ** 2).unsqueeze(0)

    def reward(t: int, mu: torch.Tensor) -> torch.Tensor:
        xm = x.to(mu)
        mean = (xm * mu).sum()
        return -action_cost * a2.to(mu) - mean_cost * ((xm - mean) ** 2).unsqueeze(1)

    def terminal(mu: torch.Tensor) -> torch.Tensor:
        xm = x.to(mu)
        return -terminal_cost * (xm - (xm * mu).sum()) ** 2

    mu0 = torch.exp(-0.5 * ((x.to(torch.float64) - size / 4) / (size / 10)) ** 2)
    static = mean_revert == 0
    return FiniteMFG(
        n_states=size,
        n_actions=A,
        mu0=mu0 / mu0.sum(),
        reward=reward,
        transition=kernel(0, torch.ones(size, dtype=torch.float64) / size) if static else kernel,
        horizon=horizon,
        terminal_reward=terminal,
        name="lq_discrete",
        layout={"line": size},
        params=dict(
            size=size,
            horizon=horizon,
            n_actions_per_side=n,
            volatility=volatility,
            mean_revert=mean_revert,
            action_cost=action_cost,
            mean_cost=mean_cost,
            terminal_cost=terminal_cost,
        ),
        device=device,
    )


def random_game(
    n_states: int = 4,
    n_actions: int = 3,
    horizon: int | None = 3,
    crowd_aversion: float = 1.0,
    seed: int = 0,
    gamma: float | None = None,
    device=None,
) -> FiniteMFG:
    """A random dense game (for tests and benchmarks): random kernel, random base reward, crowd aversion.

    Reward ``r0[s, a] - crowd_aversion * mu(s)``: monotone, so the equilibrium is unique.
    Give ``gamma`` for the discounted stationary version (``horizon`` is then ignored).
    """
    n_states, n_actions = check_int("n_states", n_states), check_int("n_actions", n_actions)
    g = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    P = torch.rand(n_states, n_actions, n_states, generator=g, dtype=torch.float64) ** 3
    P = P / P.sum(-1, keepdim=True)
    r0 = torch.rand(n_states, n_actions, generator=g, dtype=torch.float64)
    mu0 = torch.rand(n_states, generator=g, dtype=torch.float64)

    def reward(t: int, mu: torch.Tensor) -> torch.Tensor:
        return r0.to(mu) - crowd_aversion * mu.unsqueeze(-1)

    return FiniteMFG(
        n_states=n_states,
        n_actions=n_actions,
        mu0=mu0 / mu0.sum(),
        reward=reward,
        transition=P,
        horizon=None if gamma is not None else horizon,
        gamma=gamma,
        name="random",
        batched_reward=True,
        params=dict(
            n_states=n_states,
            n_actions=n_actions,
            horizon=horizon,
            crowd_aversion=crowd_aversion,
            seed=seed,
            gamma=gamma,
        ),
        device=device,
    )
