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

from mfglearn.core.chains import check_distribution_finite, communicating_classes, gth, limit_distribution
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


def stationary_distribution(
    game: FiniteMFG,
    pi: torch.Tensor,
    mu_init: torch.Tensor | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """Stationary mean field ``mu = mu P_{pi, mu}`` of stationary policy ``pi`` (``(S, A)``) -> ``(S,)``.

    Always answers or raises a clear error; never returns NaN or inf.

    * Chains with a unique stationary law (irreducible, or one recurrent class plus transient
      states): that law, by GTH elimination (exact to round-off, even for probabilities of 1e-300).
    * Reducible chains with several recurrent classes: the law the population reaches from
      ``start`` (default: the game's ``stationary.start``, itself ``mu0`` by default), see
      :func:`~mfglearn.core.chains.limit_distribution`.
    * Mean-field-dependent kernels: the fixed point ``mu = limit(P_{pi, mu})``, iterated from
      ``mu_init`` (default: the start) at most ``max_iter`` times (default: the game's
      ``stationary.max_iter``) to l1 tolerance ``tol``; a search that cycles or stalls raises an
      error naming the residual and the knobs.
    * More than ``DENSE_MAX_STATES`` states: the lazy power iteration from ``start`` (no ``S x S``
      matrix), to tolerance ``tol``.
    """
    opts = game.stationary
    tol = opts.tol if tol is None else tol
    start = _start(game, start)
    if game.S > DENSE_MAX_STATES:
        return _power(game, pi, start if mu_init is None else mu_init, tol, opts.power_max_iter)
    if not game.transition_depends_on_mean_field:
        P = chain_matrix(game.kernel_at(0), pi)
        return check_distribution_finite(limit_distribution(P, start), "the stationary distribution")
    return _mean_field_fixed_point(
        game, pi, start, start if mu_init is None else mu_init, tol, max_iter or opts.max_iter
    )


def _start(game: FiniteMFG, start: torch.Tensor | None) -> torch.Tensor:
    if start is not None:
        return start
    s = game.stationary.start
    return game.mu0 if isinstance(s, str) else s


_CYCLE_MEMORY = 16


def _mean_field_fixed_point(game, pi, start, mu, tol: float, max_iter: int) -> torch.Tensor:
    """``mu = limit(P_{pi, mu}, start)``: Picard iteration, damped by half once it stops contracting
    (cycling or stalling), then Cesaro-averaged (Krasnoselskii-Mann steps ``1/k``) if that stalls too."""
    recent: list[torch.Tensor] = []
    best = float("inf")
    stalled = 0
    phase, k = 0, 0  # 0: Picard, 1: damping 1/2, 2: steps 1/k
    period = None
    res = float("nan")
    it = 0
    for it in range(max_iter):  # noqa: B007 (reported in the error)
        P = chain_matrix(game.kernel_at(0, _mf_input(game, mu, pi)), pi)
        nxt = check_distribution_finite(limit_distribution(P, start), "the stationary distribution")
        res = float((nxt - mu).abs().sum())
        if res < tol:
            return nxt
        if phase == 0 and period is None:
            for lag, old in enumerate(reversed(recent), start=1):
                if lag > 1 and float((nxt - old).abs().sum()) < tol:
                    period = lag
                    break
            recent = (recent + [nxt])[-_CYCLE_MEMORY:]
        stalled = 0 if res < best else stalled + 1  # slow but steady contraction is left alone
        best = min(best, res)
        if phase < 2 and (period is not None and phase == 0 or stalled >= 10):
            phase, stalled, best = phase + 1, 0, float("inf")
        elif phase == 2 and stalled >= 50:
            break  # averaging makes no progress either: no fixed point within reach, say so now
        k += phase == 2
        step = 1.0 if phase == 0 else 0.5 if phase == 1 else 1.0 / (k + 1)
        mu = nxt if step == 1.0 else mu + step * (nxt - mu)
    cause = f"it cycles with period {period}" if period else f"the residual stalls at {res:.3g} (best {best:.3g})"
    raise ValidationError(
        f"the stationary mean field of this policy was not found in {it + 1} fixed-point iterations (tol={tol:g}): "
        f"{cause}. The transition depends on the mean field, possibly discontinuously, so mu = stationary(P_(pi,mu)) "
        "may have no exact solution. Loosen or extend the search with game.with_stationary(tol=..., max_iter=...) "
        "(stationary={'tol': ..., 'max_iter': ...} in solve/exploitability, --set stationary.tol=... on the command "
        "line), or use Bench-MFG's finite-step "
        "convention (mfglearn.core.finite_step.finite_step_exploitability; solvers benchmfg_*)"
    )


def _power(game, pi, mu, tol: float, max_iter: int) -> torch.Tensor:
    """Large chains: the lazy iteration ``mu <- (mu + mu P_{pi,mu}) / 2`` (converges on periodic chains too)."""
    mu = mu.clone()
    for _ in range(max_iter):
        k = game.kernel_at(0, _mf_input(game, mu, pi))
        nxt = 0.5 * (mu + k.push(mu.unsqueeze(-1) * pi))
        if not bool(torch.isfinite(nxt).all()):
            check_distribution_finite(nxt, "the stationary distribution")
        if (nxt - mu).abs().sum() < tol:
            return nxt
        mu = nxt
    raise ValidationError(
        f"the stationary distribution did not converge in {max_iter} power iterations (tol={tol:g}) on "
        f"{game.S} states; raise game.with_stationary(power_max_iter=...) or loosen tol"
    )


def gth_stationary(P: torch.Tensor) -> torch.Tensor | None:
    """Unique stationary distribution of a row-stochastic ``(S, S)`` matrix by GTH elimination.

    Returns ``None`` when the chain's stationary law is not unique (several recurrent classes)
    or elimination met a zero pivot; :func:`~mfglearn.core.chains.limit_distribution` always answers.
    """
    mu, ok = gth(P)
    if ok:
        return mu
    labels, closed = communicating_classes(P)
    return limit_distribution(P, torch.full_like(mu, 1.0 / mu.numel())) if int(closed.sum()) == 1 else None


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
    return float((game.return_weights(mu) * (Vb - V)).sum())


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
        value=float((game.return_weights(mu) * V).sum()),
        best_value=float((game.return_weights(mu) * Vb).sum()),
        V=V,
        Q=Q,
        V_best=Vb,
        Q_best=Qb,
        best_policy=br,
    )
