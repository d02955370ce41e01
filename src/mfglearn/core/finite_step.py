"""Bench-MFG's finite-step evaluation of stationary policies (an alternative to the exact one).

mfglearn evaluates a discounted game exactly: the stationary law of the policy's chain and
the discounted values ``(I - gamma P_pi)^{-1} r_pi``. Bench-MFG (bench-mfg-suite 0.1.3)
approximates both, and its published numbers follow from these approximations:

* the mean field is ``n`` normalised transition steps ``mu <- mu P_{pi, mu}`` from a given
  starting law (the solver's current mean field), not the chain's limit;
* values are ``horizon - 1`` Bellman backups from ``V = 0`` with reward and kernel frozen at
  that mean field (discount ``gamma``, so a truncation error ``~ gamma^(horizon-1)``);
* the Q-function its solvers update with is one backup *earlier* (``horizon - 2`` backups of
  ``V`` before the last ``R + gamma P V``) than its value;
* exploitability is ``mu . (V* - V^pi)`` with both after ``horizon - 1`` backups.

On an ergodic game with a mean-field-independent kernel both conventions converge to the
same numbers as ``n`` and ``horizon`` grow (``tests/games/test_benchmfg_games.py``); they differ
on reducible chains (the finite-step law depends on where it starts) and on kernels with no
exact mean-field fixed point (kinetic congestion), where only this convention is defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfglearn._common.checks import check_int
from mfglearn.core.policy import check_policy
from mfglearn.errors import ShapeError
from mfglearn.model.finite import FiniteMFG, check_distribution


@dataclass(frozen=True)
class FiniteStepConvention:
    """Bench-MFG's settings: ``horizon`` (backups + 1), ``mean_field_steps`` per solver update,
    ``evaluation_steps`` inside the exploitability (its defaults: 100, 20 and 50)."""

    horizon: int = 100
    mean_field_steps: int = 20
    evaluation_steps: int = 50

    def __post_init__(self) -> None:
        # stored as ints: an integral float (20.0) passes the check but torch's matrix_power and range() need ints
        object.__setattr__(self, "horizon", check_int("horizon", self.horizon, 2))
        object.__setattr__(self, "mean_field_steps", check_int("mean_field_steps", self.mean_field_steps, 0))
        object.__setattr__(self, "evaluation_steps", check_int("evaluation_steps", self.evaluation_steps, 0))


def _m(game: FiniteMFG, mu: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
    return mu.unsqueeze(-1) * pi if game.mean_field == "state_action" else mu


DENSE_MAX_STATES = 1500  # dense S x S powers below this; sparse step-by-step loops above


def _matrix_power(M: torch.Tensor, n: int) -> torch.Tensor:
    return torch.linalg.matrix_power(M, n)  # repeated squaring: log2(n) products


def transition_steps(game: FiniteMFG, pi: torch.Tensor, mu: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` normalised steps ``mu <- mu P_{pi, mu} / |.|`` of stationary ``pi`` ``(S, A)`` from ``mu`` ``(S,)``.

    A mean-field-independent kernel on a small game takes ``mu P_pi^steps`` by repeated squaring
    (equal to the step-by-step loop to round-off).
    """
    static = None if game.transition_depends_on_mean_field else game.kernel_at(0)
    if static is not None and steps > 4 and game.S <= DENSE_MAX_STATES:
        P = torch.einsum("sa,sat->st", pi, static.dense())
        nxt = mu @ _matrix_power(P, steps)
        return nxt / nxt.sum()
    for _ in range(steps):
        k = static if static is not None else game.kernel_at(0, _m(game, mu, pi))
        nxt = k.push(mu.unsqueeze(-1) * pi)
        mu = nxt / nxt.sum()
    return mu


def _frozen(game: FiniteMFG, mu: torch.Tensor, pi: torch.Tensor):
    m = _m(game, mu, pi)
    return game.reward_at(0, m), game.kernel_at(0, m)


def _masked(Q: torch.Tensor, legal: torch.Tensor | None) -> torch.Tensor:
    return Q if legal is None else Q.masked_fill(~legal, float("-inf"))


def policy_backups(game: FiniteMFG, pi: torch.Tensor, mu: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(V_n, Q_n)``: ``n`` policy backups from ``V_0 = 0`` against frozen ``mu``; ``Q_n = R + gamma P V_{n-1}``.

    Small games use the closed form ``V_m = (I - (gamma P_pi)^m) (I - gamma P_pi)^{-1} r_pi`` (one
    solve and a matrix power instead of ``n`` backups; equal to round-off).
    """
    R, K = _frozen(game, mu, pi)
    g = float(game.gamma)
    if n > 4 and game.S <= DENSE_MAX_STATES:
        Kd = K.dense()
        gP = g * torch.einsum("sa,sat->st", pi, Kd)
        eye = torch.eye(game.S, dtype=R.dtype, device=R.device)
        # V_{n-1} and V_n from the Neumann partial sums of r_pi
        V_inf = torch.linalg.solve(eye - gP, (pi * R).sum(-1))
        Pm = _matrix_power(gP, n - 1)
        V_prev = V_inf - Pm @ V_inf
        Q = R + g * torch.einsum("sat,t->sa", Kd, V_prev)
        return (pi * Q).sum(-1), Q
    V = torch.zeros(game.S, dtype=R.dtype, device=R.device)
    Q = torch.zeros_like(R)
    for _ in range(n):
        Q = R + g * K.pull(V)
        V = (pi * Q).sum(-1)
    return V, Q


def optimal_backups(game: FiniteMFG, mu: torch.Tensor, n: int, pi: torch.Tensor | None = None):
    """``(V*_n, Q*_n, greedy(Q*_n))``: ``n`` optimal backups from ``V_0 = 0`` against frozen ``mu``.

    The greedy policy takes the first maximising action (Bench-MFG's ``argmax``).
    """
    R, K = _frozen(game, mu, game.uniform_policy() if pi is None else pi)
    g = float(game.gamma)
    S, A = game.S, game.A
    V = torch.zeros(S, dtype=R.dtype, device=R.device)
    Q = torch.zeros_like(R)
    if game.S <= DENSE_MAX_STATES and game.legal is None:
        # the hot loop of Bench-MFG's convention: one multiply-add and one max per backup, in NumPy on
        # the CPU (a microsecond an operation, a third of torch's dispatch on these tiny tensors)
        gK, r = g * K.dense().reshape(S * A, S), R.reshape(S * A)
        if gK.device.type == "cpu":
            gKn, rn, Vn, Qn = gK.numpy(), r.numpy(), V.numpy(), r.numpy()
            for _ in range(n):
                Qn = rn + gKn @ Vn
                Vn = Qn.reshape(S, A).max(-1)
            V, Q = torch.from_numpy(Vn), torch.from_numpy(Qn)
        else:
            for _ in range(n):
                Q = torch.addmv(r, gK, V)
                V = Q.view(S, A).amax(-1)
        Q = Q.view(S, A)
    for _ in range(0 if game.S <= DENSE_MAX_STATES and game.legal is None else n):
        Q = R + g * K.pull(V)
        V = _masked(Q, game.legal).amax(-1)
    idx = _masked(Q, game.legal).argmax(-1)
    return V, Q, torch.nn.functional.one_hot(idx, game.A).to(R.dtype)


def _start(game: FiniteMFG, start) -> torch.Tensor:
    if start is None:
        return game.mu0
    start = torch.as_tensor(start, dtype=game.dtype, device=game.device)
    if start.shape != (game.S,):
        raise ShapeError(f"start must be an ({game.S},) distribution, got shape {tuple(start.shape)}")
    check_distribution(start, "start")
    return start


def finite_step_q(game: FiniteMFG, pi: torch.Tensor, mu: torch.Tensor, conv: FiniteStepConvention) -> torch.Tensor:
    """The Q-function Bench-MFG's solvers update with (its ``Q_eval``): ``R + gamma P V_{horizon-3}`` ``(S, A)``."""
    if conv.horizon < 3:
        return torch.zeros(game.S, game.A, dtype=game.dtype, device=game.device)
    return policy_backups(game, pi, mu, conv.horizon - 2)[1]


def finite_step_exploitability(
    game: FiniteMFG, pi: torch.Tensor, start: torch.Tensor | None = None, conv: FiniteStepConvention | None = None
) -> float:
    """Bench-MFG's exploitability of stationary ``pi`` ``(S, A)``: mean field by ``evaluation_steps`` steps
    from ``start`` (default ``mu0``), values by ``horizon - 1`` backups; ``mu . (V* - V^pi)``."""
    conv = conv or FiniteStepConvention()
    pi, start = check_policy(game, pi), _start(game, start)
    mu = transition_steps(game, pi, start, conv.evaluation_steps)
    V, _ = policy_backups(game, pi, mu, conv.horizon - 1)
    Vs, _, _ = optimal_backups(game, mu, conv.horizon - 1, pi)
    return float((mu * (Vs - V)).sum())


def finite_step_exploitability_batch(
    game: FiniteMFG, pis: torch.Tensor, start: torch.Tensor | None = None, conv: FiniteStepConvention | None = None
) -> torch.Tensor:
    """:func:`finite_step_exploitability` of ``B`` policies ``pis`` ``(B, S, A)`` at once -> ``(B,)``.

    One batched tensor program when the kernel does not depend on the mean field and the game is
    small (dense); otherwise one policy after the other.
    """
    conv = conv or FiniteStepConvention()
    start = _start(game, start)
    pis = torch.as_tensor(pis, dtype=game.dtype, device=game.device)
    if pis.dim() != 3 or pis.shape[1:] != (game.S, game.A):
        raise ShapeError(f"pis must be (B, {game.S}, {game.A}) policies, got shape {tuple(pis.shape)}")
    check_distribution(pis, "pis")
    if game.transition_depends_on_mean_field or game.S > DENSE_MAX_STATES or game.legal is not None:
        return torch.tensor([finite_step_exploitability(game, p, start, conv) for p in pis], dtype=torch.float64)
    B, S, A = pis.shape
    g = float(game.gamma)
    Kd = game.kernel_at(0).dense()
    P = torch.einsum("bsa,sat->bst", pis, Kd)
    mu = (start @ _matrix_power(P, conv.evaluation_steps)) if conv.evaluation_steps else start.expand(B, S)
    mu = mu / mu.sum(-1, keepdim=True)
    ms = mu.unsqueeze(-1) * pis if game.mean_field == "state_action" else mu
    R = game.rewards_along(ms, torch.zeros(B, dtype=torch.long, device=mu.device))  # (B, S, A)
    n = conv.horizon - 1
    eye = torch.eye(S, dtype=R.dtype, device=R.device)
    V_inf = torch.linalg.solve(eye - g * P, (pis * R).sum(-1))
    V = V_inf - (_matrix_power(g * P, n) @ V_inf.unsqueeze(-1)).squeeze(-1)
    gK = g * Kd.reshape(S * A, S)
    Vs = torch.zeros(B, S, dtype=R.dtype, device=R.device)
    Rf = R.reshape(B, S * A)
    for _ in range(n):
        Vs = torch.addmm(Rf, Vs, gK.T).view(B, S, A).amax(-1)
    return (mu * (Vs - V)).sum(-1)
