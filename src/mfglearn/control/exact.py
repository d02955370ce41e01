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
import time

import torch

from mfglearn.control.lifted import LiftedMFC, SimplexInterpolator, policy_net
from mfglearn.control.policies import LookaheadPolicy, MFCResult, OpenLoopPolicy, chunked_model
from mfglearn.errors import ValidationError
from mfglearn.games.base import FiniteMFG


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
    """Optimal planner value on a grid of ``P(S)`` and its greedy lookahead policy.

    Args:
        game: a finite game (discounted: value iteration; finite horizon: backward induction).
        mu_resolution: grid of ``P(S)`` in multiples of ``1 / mu_resolution``.
        policy_resolution: local policies with probabilities in multiples of ``1 / policy_resolution``.
        tol: value-iteration stopping tolerance (sup norm).
        max_iter: value-iteration cap.

    Returns: an :class:`MFCResult` whose ``value`` is the exact objective of the lookahead
    policy from ``mu0`` and ``extra["grid_value"]`` the interpolated DP value at ``mu0``.
    """
    t0 = time.perf_counter()
    lm = LiftedMFC(game)
    interp = SimplexInterpolator(game.S, mu_resolution, game.dtype)
    grid = interp.grid.to(game.device)
    h_net = legal_policy_net(game, policy_resolution)
    G, J = grid.shape[0], h_net.shape[0]
    mus = grid.repeat_interleave(J, 0)
    hs = h_net.repeat(G, 1, 1)
    history: dict[str, list[float]] = {"residual": []}

    def tables(t: int):
        r, nxt = chunked_model(lm, mus, hs, t)
        idx, lam = interp.weights(nxt)
        return r.view(G, J), idx.view(G, J, -1), lam.view(G, J, -1)

    if game.is_finite_horizon:
        H = game.H
        V = torch.empty(H + 1, G, dtype=game.dtype, device=game.device)
        V[H] = lm.terminal(grid)
        for t in range(H - 1, -1, -1):
            r, idx, lam = tables(t)
            V[t] = (r + (lam * V[t + 1][idx]).sum(-1)).amax(-1)
        values = V
        grid_value = float((interp.matrix(game.mu0.view(1, -1)) @ V[0])[0])
    else:
        g = float(game.gamma)
        r, idx, lam = tables(0)
        V = r.amax(-1) / (1 - g) if g < 1 else r.amax(-1)
        for _ in range(max_iter):
            nxt = (r + g * (lam * V[idx]).sum(-1)).amax(-1)
            res = float((nxt - V).abs().max())
            history["residual"].append(res)
            V = nxt
            if res < tol:
                break
        values = V
        grid_value = float((interp.matrix(game.mu0.view(1, -1)) @ V)[0])
    policy = LookaheadPolicy(lm, h_net, values, mu_resolution)
    value = lm.rollout_value(game.mu0, policy)
    return MFCResult(
        "mfc_dp",
        game.name,
        value,
        policy,
        history,
        dict(mu_resolution=mu_resolution, policy_resolution=policy_resolution, tol=tol, max_iter=max_iter),
        dict(grid_value=grid_value, grid_points=G, net_policies=J, seconds=time.perf_counter() - t0),
    )


def optimize_open_loop(
    game: FiniteMFG,
    mu0: torch.Tensor | None = None,
    horizon: int | None = None,
    steps: int = 400,
    lr: float = 0.1,
    restarts: int = 4,
    seed: int = 0,
) -> MFCResult:
    """Best open-loop sequence ``h_0..h_{T-1}`` by Adam on softmax logits through the flow.

    Args:
        game: a finite game; discounted games are truncated at ``horizon`` (default: where
            ``gamma^T < 1e-8``), after which the last local policy is kept.
        mu0: initial population (default ``game.mu0``).
        steps, lr: Adam iterations and step size.
        restarts: independent random initialisations optimised together; the best is kept.
        seed: seed of the initial logits.
    """
    t0 = time.perf_counter()
    lm = LiftedMFC(game)
    mu0 = game.mu0 if mu0 is None else torch.as_tensor(mu0, dtype=game.dtype, device=game.device)
    finite = game.is_finite_horizon
    T = game.H if finite else (horizon or _discounted_horizon(float(game.gamma)))
    g = 1.0 if finite else float(game.gamma)
    gen = torch.Generator(device=game.device).manual_seed(int(seed))
    R, S, A = int(restarts), game.S, game.A
    theta = (0.1 * torch.randn(R, T, S, A, generator=gen, dtype=game.dtype, device=game.device)).requires_grad_()
    opt = torch.optim.Adam([theta], lr=lr)
    mask = None if game.legal is None else ~game.legal

    def objective(th: torch.Tensor) -> torch.Tensor:
        logits = th if mask is None else th.masked_fill(mask, float("-inf"))
        hs = torch.softmax(logits, -1)
        mu = mu0.expand(R, S)
        total = torch.zeros(R, dtype=game.dtype, device=game.device)
        disc = 1.0
        for t in range(T):
            total = total + disc * lm.reward(mu, hs[:, t], t)
            mu = lm.phi(mu, hs[:, t], t)
            disc *= g
        if finite:
            total = total + lm.terminal(mu)
        return total

    history: dict[str, list[float]] = {"objective": []}
    for _ in range(int(steps)):
        opt.zero_grad()
        obj = objective(theta)
        (-obj.sum()).backward()
        opt.step()
        history["objective"].append(float(obj.detach().max()))
    with torch.no_grad():
        best = int(objective(theta).argmax())
        logits = theta[best] if mask is None else theta[best].masked_fill(mask, float("-inf"))
        hs = torch.softmax(logits, -1)
    policy = OpenLoopPolicy(hs)
    value = lm.rollout_value(mu0, policy)
    return MFCResult(
        "mfc_open_loop",
        game.name,
        value,
        policy,
        history,
        dict(horizon=T, steps=steps, lr=lr, restarts=restarts, seed=seed),
        dict(seconds=time.perf_counter() - t0),
    )


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
