"""The linear-quadratic MFG's closed forms: Riccati best response, affine policies' costs, the equilibrium.

Pure functions of an LQ model ``lq`` (anything with ``A``, ``B``, ``Abar`` (``d x d``), ``cX``, ``cA``,
``cM``, ``x_target``, ``noise_std``, ``init_mean``, ``init_std``, ``d`` and ``T``; see
:mod:`mfglearn.games.lq` for the model). Against a given mean path the agent's problem is a
linear-quadratic tracking problem: its cost to go is ``x^T P_t x - 2 p_t . x + q_t``, the optimal
policy affine ``a = -K_t x + k_t``; the population mean under an affine policy evolves affinely, so the
equilibrium mean path solves one linear system.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

F64 = torch.float64


@dataclass
class LQSolution:
    """An affine policy ``a_t = -K[t] x + k[t]`` with its mean path and value.

    Attributes:
        K: ``(T, d, d)`` feedback gains.
        k: ``(T, d)`` offsets.
        mean_path: ``(T+1, d)`` population mean ``mubar_t``.
        value: expected return from the initial distribution.
    """

    K: torch.Tensor
    k: torch.Tensor
    mean_path: torch.Tensor
    value: float


def terminal_cost(lq, m_T: torch.Tensor):
    """Terminal cost to go ``(P_T, p_T, q_T)`` against the final population mean ``m_T``."""
    eye = torch.eye(lq.d, dtype=F64)
    P = (lq.cX + lq.cM) * eye
    p = lq.cX * lq.x_target + lq.cM * m_T
    q = lq.cX * lq.x_target @ lq.x_target + lq.cM * m_T @ m_T
    return P, p, q


def backstep(lq, Pn, pn, qn, K, k, c, m):
    """Cost to go at ``t`` of ``a = -K x + k`` given the cost to go ``(Pn, pn, qn)`` at ``t + 1``."""
    M = lq.A - lq.B @ K
    w = lq.B @ k + c
    eye = torch.eye(lq.d, dtype=F64)
    P = (lq.cX + lq.cM) * eye + lq.cA * K.T @ K + M.T @ Pn @ M
    p = lq.cX * lq.x_target + lq.cM * m + lq.cA * K.T @ k + M.T @ (pn - Pn @ w)
    q = (
        lq.cX * lq.x_target @ lq.x_target
        + lq.cM * m @ m
        + lq.cA * k @ k
        + w @ Pn @ w
        - 2 * pn @ w
        + qn
        + lq.noise_std**2 * torch.trace(Pn)
    )
    return P, p, q


def best_response(lq, mean_path: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list]:
    """Riccati recursion against ``mean_path`` (``(T+1, d)``): gains ``K``, offsets ``k`` and the cost-to-go.

    Returns ``(K (T, d, d), k (T, d), P (T+1, d, d), [p_t, q_t])`` with cost to go
    ``x^T P_t x - 2 p_t . x + q_t`` (value is its negative).
    """
    d, T = lq.d, lq.T
    eye = torch.eye(d, dtype=F64)
    B, c = lq.B, (lq.Abar @ mean_path.T).T  # c_t = Abar mubar_t
    P = torch.empty(T + 1, d, d, dtype=F64)
    p = torch.empty(T + 1, d, dtype=F64)
    q = torch.empty(T + 1, dtype=F64)
    K = torch.empty(T, d, d, dtype=F64)
    k = torch.empty(T, d, dtype=F64)
    P[T], p[T], q[T] = terminal_cost(lq, mean_path[T])
    for t in range(T - 1, -1, -1):
        G = lq.cA * eye + B.T @ P[t + 1] @ B
        K[t] = torch.linalg.solve(G, B.T @ P[t + 1] @ lq.A)
        k[t] = torch.linalg.solve(G, B.T @ (p[t + 1] - P[t + 1] @ c[t]))
        P[t], p[t], q[t] = backstep(lq, P[t + 1], p[t + 1], q[t + 1], K[t], k[t], c[t], mean_path[t])
    return K, k, P, [p, q]


def policy_cost(lq, K: torch.Tensor, k: torch.Tensor, mean_path: torch.Tensor):
    """Cost to go ``(P, p, q)`` of the affine policy ``(K, k)`` against ``mean_path``."""
    d, T = lq.d, lq.T
    c = (lq.Abar @ mean_path.T).T
    P = torch.empty(T + 1, d, d, dtype=F64)
    p = torch.empty(T + 1, d, dtype=F64)
    q = torch.empty(T + 1, dtype=F64)
    P[T], p[T], q[T] = terminal_cost(lq, mean_path[T])
    for t in range(T - 1, -1, -1):
        P[t], p[t], q[t] = backstep(lq, P[t + 1], p[t + 1], q[t + 1], K[t], k[t], c[t], mean_path[t])
    return P, p, q


def mean_path(lq, K: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Population mean ``(T+1, d)`` when everyone plays ``a = -K_t x + k_t``."""
    m = [lq.init_mean]
    for t in range(lq.T):
        m.append(lq.A @ m[t] + lq.B @ (k[t] - K[t] @ m[t]) + lq.Abar @ m[t])
    return torch.stack(m)


def initial_value(lq, P: torch.Tensor, p: torch.Tensor, q: torch.Tensor) -> float:
    """``E[-(x^T P_0 x - 2 p_0 . x + q_0)]`` for ``x_0 ~ N(init_mean, init_std^2 I)``."""
    m0 = lq.init_mean
    return float(-(lq.init_std**2 * torch.trace(P[0]) + m0 @ P[0] @ m0 - 2 * p[0] @ m0 + q[0]))


def exact_solution(lq) -> LQSolution:
    """The equilibrium: the mean path ``m`` with ``m = mean_path(best_response(m))``, by one linear solve."""
    T, d = lq.T, lq.d

    def image(m_flat: torch.Tensor) -> torch.Tensor:
        K, k, _, _ = best_response(lq, m_flat.view(T + 1, d))
        return mean_path(lq, K, k).reshape(-1)

    n = (T + 1) * d
    f0 = image(torch.zeros(n, dtype=F64))
    # the map is affine in m: its linear part column by column
    J = torch.stack([image(e) - f0 for e in torch.eye(n, dtype=F64)], 1)
    m = torch.linalg.solve(torch.eye(n, dtype=F64) - J, f0).view(T + 1, d)
    K, k, P, (p, q) = best_response(lq, m)
    return LQSolution(K, k, m, initial_value(lq, P, p, q))
