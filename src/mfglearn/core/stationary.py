"""Discounted, stationary (ergodic) primitives for games built with ``gamma=``.

A stationary policy ``pi[s, a]`` induces the chain ``P_pi,mu[s, s'] = sum_a pi[s, a] P(s'|s, a, mu)``;
its mean field is the stationary distribution ``mu = mu P_pi,mu``. Values are
discounted: ``V = (I - gamma P_pi)^{-1} r_pi``. Following the MF-TRPO paper, the
return of a policy is ``J(pi, mu) = mu . V`` (the population starts from its own
stationary distribution), and exploitability is ``max_pi' J(pi', mu^pi) - J(pi, mu^pi)``.

Small games use dense linear solves (exact); games with more than
``DENSE_MAX_STATES`` states use the sparse kernels with iterative solvers and a
tolerance, never an ``S x S`` matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfglearn.core.evaluation import Evaluation
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import Kernel

DENSE_MAX_STATES = 1500


def _mask(q: torch.Tensor, legal: torch.Tensor | None) -> torch.Tensor:
    return q if legal is None else q.masked_fill(~legal, float("-inf"))


def _mf_input(game: FiniteMFG, mu: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
    return mu.unsqueeze(-1) * pi if game.mean_field == "state_action" else mu


def chain_matrix(kernel: Kernel, pi: torch.Tensor) -> torch.Tensor:
    """Dense ``(S, S)`` matrix ``P_pi`` (small games only)."""
    return torch.einsum("sa,sat->st", pi, kernel.dense())


_GTH_FIXED_POINT_STEPS = 50


def stationary_distribution(
    game: FiniteMFG, pi: torch.Tensor, mu_init: torch.Tensor | None = None, tol: float = 1e-12, max_iter: int = 100_000
) -> torch.Tensor:
    """Stationary mean field ``mu = mu P_{pi, mu}`` of stationary policy ``pi`` (``(S, A)``) -> ``(S,)``.

    Mean-field-independent kernels with few states: the GTH algorithm (exact and
    numerically stable even for nearly reducible chains, where a plain linear solve
    loses all accuracy). Otherwise the lazy iteration ``mu <- (mu + mu P_{pi,mu}) / 2`` (which converges
    for irreducible chains, periodic ones included) until the l1 change is below ``tol``.
    """
    S = game.S
    if not game.transition_depends_on_mean_field and S <= DENSE_MAX_STATES:
        mu = gth_stationary(chain_matrix(game.kernel_at(0), pi))
        if mu is not None:
            return mu
    mu = (game.mu0 if mu_init is None else mu_init).clone()
    if S <= DENSE_MAX_STATES:
        # mean-field-dependent chain: iterate mu <- stationary(P_{pi, mu}); with weak coupling this
        # contracts far faster than the lazy power iteration, which remains the fallback
        for _ in range(_GTH_FIXED_POINT_STEPS):
            nxt = gth_stationary(chain_matrix(game.kernel_at(0, _mf_input(game, mu, pi)), pi))
            if nxt is None:
                break
            if (nxt - mu).abs().sum() < tol:
                return nxt
            mu = nxt
    for _ in range(max_iter):
        k = game.kernel_at(0, _mf_input(game, mu, pi))
        nxt = 0.5 * (mu + k.push(mu.unsqueeze(-1) * pi))
        if (nxt - mu).abs().sum() < tol:
            return nxt
        mu = nxt
    raise ValidationError(
        f"stationary distribution did not converge in {max_iter} iterations (tol={tol}); "
        "the induced chain may not be ergodic or the mean-field coupling too strong"
    )


def gth_stationary(P: torch.Tensor) -> torch.Tensor | None:
    """Stationary distribution of a row-stochastic ``(S, S)`` matrix by Grassmann-Taksar-Heyman reduction.

    Subtraction-free, hence accurate to round-off even when the chain mixes very
    slowly. ``O(S^3)`` work in ``S`` vectorised steps. Returns ``None`` when the chain
    is reducible (several recurrent classes: no unique stationary distribution).
    """
    A = P.clone()
    S = A.shape[0]
    for k in range(S - 1, 0, -1):
        s = A[k, :k].sum()
        if s <= 0:
            return None
        A[:k, k] /= s
        A[:k, :k] += torch.outer(A[:k, k], A[k, :k])
    mu = torch.zeros(S, dtype=P.dtype, device=P.device)
    mu[0] = 1.0
    for k in range(1, S):
        mu[k] = mu[:k] @ A[:k, k]
    return mu / mu.sum()


@dataclass
class StationaryMDP:
    """The discounted MDP faced by an agent against a fixed stationary mean field ``mu``."""

    reward: torch.Tensor  # (S, A)
    kernel: Kernel
    gamma: float
    legal: torch.Tensor | None
    mu: torch.Tensor  # (S,) the population (and initial) distribution
    m: torch.Tensor | None = None  # the game's mean-field input (mu, or L for state-action games)

    @property
    def S(self) -> int:
        return self.reward.shape[0]


def freeze_stationary(game: FiniteMFG, mu: torch.Tensor, pi: torch.Tensor | None = None) -> StationaryMDP:
    """The agent's discounted MDP against mean field ``mu`` (``pi`` only for state-action mean fields)."""
    pi = game.uniform_policy() if pi is None else pi
    m = _mf_input(game, mu, pi)
    return StationaryMDP(game.reward_at(0, m), game.kernel_at(0, m), float(game.gamma), game.legal, mu, m)


def evaluate_stationary(mdp: StationaryMDP, pi: torch.Tensor, tol: float = 1e-12) -> tuple[torch.Tensor, torch.Tensor]:
    """Discounted value ``V`` ``(S,)`` and ``Q`` ``(S, A)`` of stationary ``pi``: ``V = (I - gamma P_pi)^{-1} r_pi``."""
    r_pi = (pi * mdp.reward).sum(-1)
    g = mdp.gamma
    if mdp.S <= DENSE_MAX_STATES:
        P = chain_matrix(mdp.kernel, pi)
        V = torch.linalg.solve(torch.eye(mdp.S, dtype=P.dtype, device=P.device) - g * P, r_pi)
    else:
        V = r_pi / (1 - g)
        stop = tol * max(1.0, float(V.abs().max()))
        for _ in range(_iters(g, tol)):
            nxt = r_pi + g * (pi * mdp.kernel.pull(V)).sum(-1)
            if (nxt - V).abs().max() < stop:
                V = nxt
                break
            V = nxt
    return V, mdp.reward + g * mdp.kernel.pull(V)


def _iters(gamma: float, tol: float) -> int:
    import math

    return int(math.ceil(math.log(tol) / math.log(max(gamma, 1e-12)))) + 10 if gamma > 0 else 1


def best_response_stationary(mdp: StationaryMDP, tol: float = 1e-12, max_iter: int = 1000):
    """Optimal discounted ``V`` ``(S,)``, ``Q`` ``(S, A)`` and a deterministic optimal policy ``(S, A)``.

    Policy iteration (exact, a few linear solves) on small games; value iteration
    to tolerance ``tol`` on large ones.
    """
    from mfglearn.core.value import greedy

    g = mdp.gamma
    if mdp.S <= DENSE_MAX_STATES:
        pi = greedy(mdp.reward, mdp.legal)
        for _ in range(max_iter):
            V, Q = evaluate_stationary(mdp, pi)
            new = greedy(Q, mdp.legal)
            # keep the current action where it is still (numerically) optimal, to stop cycling on ties
            cur = (pi * Q).sum(-1, keepdim=True)
            best = _mask(Q, mdp.legal).amax(-1, keepdim=True)
            improve = (best - cur) > 1e-12 * (1 + best.abs())
            new = torch.where(improve, new, pi)
            if torch.equal(new, pi):
                return V, Q, pi
            pi = new
        return V, Q, pi
    V = _mask(mdp.reward, mdp.legal).amax(-1) / (1 - g)
    for _ in range(_iters(g, tol)):
        Q = mdp.reward + g * mdp.kernel.pull(V)
        nxt = _mask(Q, mdp.legal).amax(-1)
        done = (nxt - V).abs().max() < tol * max(1.0, float(nxt.abs().max()))
        V = nxt
        if done:
            break
    Q = mdp.reward + g * mdp.kernel.pull(V)
    return V, Q, greedy(Q, mdp.legal)


def stationary_exploitability(game: FiniteMFG, pi: torch.Tensor) -> float:
    """Exploitability of stationary ``pi`` (``(S, A)``): its quality against its own stationary mean field."""
    return stationary_quality(game, pi, stationary_distribution(game, pi))


def stationary_quality(game: FiniteMFG, pi: torch.Tensor, mu: torch.Tensor) -> float:
    """Quality ``T(pi, mu) = max_pi' J(pi', mu) - J(pi, mu)`` for a given stationary ``mu``."""
    mdp = freeze_stationary(game, mu, pi)
    V, _ = evaluate_stationary(mdp, pi)
    Vb, _, _ = best_response_stationary(mdp)
    return float((mu * (Vb - V)).sum())


@dataclass
class StationaryFlow:
    """A stationary mean field, shaped like :class:`~mfglearn.core.flow.Flow` for the solvers (``.mu`` is ``(S,)``)."""

    mu: torch.Tensor


def evaluate_stationary_policy(game: FiniteMFG, pi: torch.Tensor, mu: torch.Tensor | None = None):
    """:class:`~mfglearn.core.evaluation.Evaluation` of stationary ``pi`` against ``mu`` (default: its own).

    ``value`` and ``best_value`` are ``mu . V`` and ``mu . V*``.
    """
    if mu is None:
        mu = stationary_distribution(game, pi)
    mdp = freeze_stationary(game, mu, pi)
    V, Q = evaluate_stationary(mdp, pi)
    Vb, Qb, br = best_response_stationary(mdp)
    return Evaluation(
        policy=pi,
        flow=StationaryFlow(mu),
        mdp=mdp,
        value=float((mu * V).sum()),
        best_value=float((mu * Vb).sum()),
        V=V,
        Q=Q,
        V_best=Vb,
        Q_best=Qb,
        best_policy=br,
    )
