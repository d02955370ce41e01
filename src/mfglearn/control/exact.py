"""Reference solutions of mean-field control problems on small state spaces.

* :func:`solve_dp`: dynamic programming on the lifted MDP, with the value function
  tabulated on a simplex grid of ``P(S)`` (piecewise-linear interpolation) and the
  planner's local policies restricted to a net; value iteration (discounted) or
  backward induction (finite horizon).
* :func:`optimize_open_loop`: gradient ascent on an open-loop sequence of local
  policies through the differentiable population flow. The lifted dynamics are
  deterministic, so from a given ``mu0`` the best open-loop sequence is optimal among
  closed-loop policies too: a grid-free reference (up to local optima, which random
  restarts guard against).
* :func:`brute_force`: every sequence of net policies over a short horizon (tiny problems).
"""

from __future__ import annotations

import math

import torch

from mfglearn.control.lifted import LiftedMFC, policy_net
from mfglearn.control.policies import MFCResult, chunked_model
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG


def legal_policy_net(game: FiniteMFG, resolution: int) -> torch.Tensor:
    """:func:`policy_net` restricted to policies with no mass on illegal actions: ``(J, S, A)``."""
    net = policy_net(game.S, game.A, resolution, game.dtype).to(game.device)
    if game.legal is not None:
        net = net[(net * (~game.legal).to(net.dtype)).sum((-1, -2)) == 0]
    if net.shape[0] == 0:
        raise ValidationError("no local policy of the net respects the legal-action mask; raise the resolution")
    return net


def _discounted_horizon(gamma: float, tol: float = 1e-8) -> int:
    return int(math.ceil(math.log(tol) / math.log(max(gamma, 1e-12)))) + 1


def solve_dp(
    game: FiniteMFG,
    mu_resolution: int = 20,
    policy_resolution: int = 2,
    tol: float = 1e-9,
    max_iter: int = 5000,
) -> MFCResult:
    """Optimal planner value on a grid of ``P(S)`` and its lookahead policy: :class:`~mfglearn.control.algorithms.MFCDP`
    run to convergence (discounted: at most ``max_iter`` sweeps; finite horizon: ``H`` backward steps)."""
    from mfglearn.control.algorithms import MFCDP

    algo = MFCDP(game, mu_resolution=mu_resolution, policy_resolution=policy_resolution, tol=tol)
    return algo.solve(game.H if game.is_finite_horizon else max_iter)


def optimize_open_loop(
    game: FiniteMFG,
    mu0: torch.Tensor | None = None,
    horizon: int | None = None,
    steps: int = 400,
    lr: float = 0.1,
    restarts: int = 4,
    seed: int = 0,
) -> MFCResult:
    """Best open-loop sequence by Adam through the flow: :class:`~mfglearn.control.algorithms.MFCOpenLoop`
    run for ``steps`` iterations."""
    from mfglearn.control.algorithms import MFCOpenLoop

    algo = MFCOpenLoop(game, horizon=horizon, optimizer_lr=lr, restarts=restarts, seed=seed, mu0=mu0)
    return algo.solve(steps)


def brute_force(
    game: FiniteMFG, horizon: int, policy_resolution: int = 2, mu0: torch.Tensor | None = None
) -> tuple[float, torch.Tensor]:
    """Best sequence of net local policies over ``horizon`` steps, by exhaustive enumeration.

    Finite-horizon games add the terminal reward when ``horizon = H``; discounted games
    are truncated (no tail). Returns ``(value, sequence (horizon, S, A))``.
    """
    lm = LiftedMFC(game)
    h_net = legal_policy_net(game, policy_resolution)
    J = h_net.shape[0]
    if J**horizon > 3_000_000:
        raise ValidationError(f"brute force over {J}**{horizon} sequences is too large; shorten the horizon")
    g = 1.0 if game.is_finite_horizon else float(game.gamma)
    mu = (game.mu0 if mu0 is None else mu0).view(1, -1)
    value = torch.zeros(1, dtype=game.dtype, device=game.device)
    choice = torch.zeros(1, 0, dtype=torch.long, device=game.device)
    for t in range(horizon):
        P = mu.shape[0]
        mus = mu.repeat_interleave(J, 0)
        hs = h_net.repeat(P, 1, 1)
        r, mu = chunked_model(lm, mus, hs, t)
        value = value.repeat_interleave(J) + g**t * r
        choice = torch.cat([choice.repeat_interleave(J, 0), torch.arange(J).repeat(P).unsqueeze(1)], 1)
    if game.is_finite_horizon and horizon == game.H:
        value = value + lm.terminal(mu)
    best = int(value.argmax())
    return float(value[best]), h_net[choice[best]]
