"""Fictitious play on the linear-quadratic MFG with exact best responses and the exact mixture population.

The reference DEDA-FP and its baselines are measured against (issue 17): the same scheme, with the
learned parts replaced by closed forms.

* Iteration ``k`` (``k = 1, 2, ...``) computes the Riccati best response ``BR_k`` to the mean path of
  the current average policy. The first plays against the initial policy's population (by default
  ``a = 0``, DEDA-FP's "population that stays put").
* The average policy after iteration ``k`` is the mixture of ``BR_1..BR_k`` with weights ``w``.
  DEDA-FP clones all best responses' samples in equal numbers, so its weights are uniform
  (``damping=None``); a constant ``damping`` ``a`` gives the newest best response
  weight ``a`` and scales the older ones by ``1 - a`` (damped fictitious play).

The mixture is fictitious play's average policy in the sense of populations: agent ``i`` follows
``BR_j`` with probability ``w_j`` for the whole episode. The behavioural policy that clones it,
``pi(a | t, x) = sum_j w_j mu^j_t(x) 1[a = BR_j(t, x)] / sum_j w_j mu^j_t(x)``, has the same
state-action distribution, hence the same population and the same value against any mean field.
Against the common mean path ``m``, the sub-population following ``BR_j`` has mean

    m^j_{t+1} = A m^j_t + B (k_j,t - K_j,t m^j_t) + Abar m_t,      m_t = sum_j w_j m^j_t,

so the mixture's mean path, each component's value against it (Riccati cost of an affine policy)
and the exploitability ``V*(m) - sum_j w_j J_m(BR_j)`` are all closed forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from mfglearn.errors import ValidationError
from mfglearn.exact.lq_riccati import F64, best_response, initial_value, policy_cost


@dataclass
class LQFictitiousPlay:
    """Exact fictitious play on an LQ model, iteration by iteration.

    Attributes:
        K: ``(k, T, d, d)`` the best responses' gains, ``BR_j: a = -K[j, t] x + k[j, t]``.
        k: ``(k, T, d)`` their offsets.
        weights: ``(k,)`` the final mixture weights.
        mean_paths: ``(k + 1, T + 1, d)``; ``mean_paths[0]`` is the initial policy's, ``mean_paths[j]``
            that of the average policy after iteration ``j``.
        exploitability: per iteration ``j = 1..k``, the exploitability of the average policy after it.
        best_response_value: per iteration, ``V*`` against the mean path the best response played against.
        history_weights: per iteration, the weights ``(j,)`` of the average after it.
    """

    K: torch.Tensor
    k: torch.Tensor
    weights: torch.Tensor
    mean_paths: torch.Tensor
    exploitability: list[float] = field(default_factory=list)
    best_response_value: list[float] = field(default_factory=list)
    history_weights: list[torch.Tensor] = field(default_factory=list)


def mixture_mean_paths(
    lq, K: torch.Tensor, k: torch.Tensor, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean paths of a mixture of affine policies: the total ``(T+1, d)`` and each component's ``(J, T+1, d)``.

    ``K (J, T, d, d)``, ``k (J, T, d)``, ``weights (J,)`` summing to 1: component ``j`` is followed by a
    fraction ``weights[j]`` of the population, all against the common mean field.
    """
    J, T = K.shape[0], lq.T
    w = weights.to(F64)
    sub = torch.empty(J, T + 1, lq.d, dtype=F64)
    sub[:, 0] = lq.init_mean
    for t in range(T):
        m = w @ sub[:, t]
        drift = sub[:, t] @ lq.A.T + (k[:, t] - torch.einsum("jab,jb->ja", K[:, t], sub[:, t])) @ lq.B.T
        sub[:, t + 1] = drift + m @ lq.Abar.T
    return w @ sub.reshape(J, -1), sub


def mixture_values(lq, K: torch.Tensor, k: torch.Tensor, mean_path: torch.Tensor) -> torch.Tensor:
    """Value ``(J,)`` of each affine policy ``(K[j], k[j])`` against the fixed ``mean_path`` ``(T+1, d)``."""
    return torch.tensor(
        [initial_value(lq, *policy_cost(lq, K[j], k[j], mean_path)) for j in range(K.shape[0])], dtype=F64
    )


def mixture_exploitability(lq, K: torch.Tensor, k: torch.Tensor, weights: torch.Tensor) -> float:
    """Exploitability of the mixture (fictitious play's average) of affine policies, against its own population."""
    m, _ = mixture_mean_paths(lq, K, k, weights)
    m = m.view(lq.T + 1, lq.d)
    _, _, P, (p, q) = best_response(lq, m)
    return initial_value(lq, P, p, q) - float(weights.to(F64) @ mixture_values(lq, K, k, m))


def lq_fictitious_play(
    lq,
    iterations: int,
    damping: float | None = None,
    initial_K: torch.Tensor | None = None,
    initial_k: torch.Tensor | None = None,
) -> LQFictitiousPlay:
    """Run ``iterations`` of exact fictitious play on ``lq`` (see the module docstring).

    Args:
        lq: a :class:`~mfglearn.games.lq.LinearQuadraticMFG`.
        iterations: best responses to compute (>= 1).
        damping: ``None`` for uniform weights over the best responses (DEDA-FP's, and
            classical fictitious play's ``1/k``), or a constant in ``(0, 1]`` for the newest one's weight.
        initial_K, initial_k: the initial policy ``(T, d, d)``, ``(T, d)``; default ``a = 0``.
    """
    if int(iterations) < 1:
        raise ValidationError(f"iterations must be >= 1, got {iterations}")
    if damping is not None and not 0 < float(damping) <= 1:
        raise ValidationError(f"damping must be in (0, 1] or None (uniform weights), got {damping}")
    T, d = lq.T, lq.d
    K0 = torch.zeros(T, d, d, dtype=F64) if initial_K is None else torch.as_tensor(initial_K, dtype=F64)
    k0 = torch.zeros(T, d, dtype=F64) if initial_k is None else torch.as_tensor(initial_k, dtype=F64)
    if K0.shape != (T, d, d) or k0.shape != (T, d):
        raise ValidationError(
            f"initial_K must be ({T}, {d}, {d}) and initial_k ({T}, {d}); got {tuple(K0.shape)}, {tuple(k0.shape)}"
        )
    m, _ = mixture_mean_paths(lq, K0[None], k0[None], torch.ones(1, dtype=F64))
    paths = [m.view(T + 1, d)]
    Ks, ks = [], []
    w = torch.zeros(0, dtype=F64)
    out = LQFictitiousPlay(K=K0[None], k=k0[None], weights=w, mean_paths=paths[0][None])
    for j in range(1, int(iterations) + 1):
        Kj, kj, P, (p, q) = best_response(lq, paths[-1])
        out.best_response_value.append(initial_value(lq, P, p, q))
        Ks.append(Kj)
        ks.append(kj)
        a = 1.0 / j if damping is None else (1.0 if j == 1 else float(damping))
        w = torch.cat([w * (1 - a), torch.tensor([a], dtype=F64)])
        K, k = torch.stack(Ks), torch.stack(ks)
        m, _ = mixture_mean_paths(lq, K, k, w)
        paths.append(m.view(T + 1, d))
        out.exploitability.append(mixture_exploitability(lq, K, k, w))
        out.history_weights.append(w.clone())
    out.K, out.k, out.weights, out.mean_paths = K, k, w, torch.stack(paths)
    return out


__all__ = ["LQFictitiousPlay", "lq_fictitious_play", "mixture_exploitability", "mixture_mean_paths", "mixture_values"]
