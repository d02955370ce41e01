"""Occupation-measure formulation of a finite-horizon MFG (Guo, Hu, Zhang 2022), shared by MF-OMO and MF-OMI.

The variable is the state-action flow ``L[t, s, a]`` (``t = 0..H-1``). With the game's
kernels and rewards evaluated at ``L`` itself:

* flow residual ``A_L L - b`` (``(H, S)``): rows ``t < H-1`` are
  ``sum_{s,a} P_t(s'|s,a) L_t(s,a) - sum_a L_{t+1}(s',a)``, the last row
  ``sum_a L_0(s,a) - mu0(s)`` (MFGLib's ordering);
* ``A_L^T y`` (``(H, S, A)``) for a dual ``y`` shaped like the residual;
* ``c_L = -r_t(s, a; L_t)``.

Everything is computed with the kernels' push/pull (sparse), never with MFGLib's dense
``HS x HSA`` matrix, and is differentiable through the game's reward and kernel.
"""

from __future__ import annotations

import torch

from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import DenseKernel, Kernel


def mean_field_input(game: FiniteMFG, L_t: torch.Tensor) -> torch.Tensor:
    return L_t if game.mean_field == "state_action" else L_t.sum(-1)


def push(kernel: Kernel, m: torch.Tensor) -> torch.Tensor:
    """``sum_{s,a} m[s,a] P(.|s,a)``, differentiable in ``m`` and the kernel's probabilities."""
    if isinstance(kernel, DenseKernel):
        return kernel.push(m)
    sp = kernel.to_sparse()
    out = torch.zeros(sp.n_states, dtype=m.dtype, device=m.device)
    return out.index_add(0, sp.index.reshape(-1), (m.unsqueeze(-1) * sp.prob).reshape(-1))


def kernels_and_rewards(game: FiniteMFG, L: torch.Tensor) -> tuple[list[Kernel], torch.Tensor]:
    """Kernels ``t = 0..H-2`` and rewards ``(H, S, A)`` at the flow ``L``."""
    H = L.shape[0]
    ms = torch.stack([mean_field_input(game, L[t]) for t in range(H)])
    kernels = [game.kernel_at(t, ms[t]) for t in range(H - 1)]
    return kernels, game.rewards_along(ms)


def flow_residual(game: FiniteMFG, L: torch.Tensor, kernels: list[Kernel]) -> torch.Tensor:
    """``A_L L - b``: ``(H, S)``."""
    rows = [push(kernels[t], L[t]) - L[t + 1].sum(-1) for t in range(L.shape[0] - 1)]
    rows.append(L[0].sum(-1) - game.mu0.to(L))
    return torch.stack(rows)


def adjoint(kernels: list[Kernel], y: torch.Tensor) -> torch.Tensor:
    """``A_L^T y``: ``(H, S, A)`` for ``y`` of shape ``(H, S)``."""
    H = y.shape[0]
    pulled = torch.stack([kernels[t].pull(y[t]) for t in range(H - 1)])  # (H-1, S, A)
    A = pulled.shape[-1]
    # row t (< H-1) takes y_t off L_{t+1}; the initial-condition row adds y_{H-1} to L_0
    shift = torch.cat([-y[-1:], y[:-1]])  # (H, S)
    return torch.cat([pulled, torch.zeros_like(pulled[:1])]) - shift.unsqueeze(-1).expand(H, y.shape[1], A)


def project_simplex(x: torch.Tensor, radius: float = 1.0) -> torch.Tensor:
    """Euclidean projection of each row of ``x`` onto ``{p >= 0, sum p = radius}`` (Duchi et al. 2008)."""
    srt = torch.sort(x, dim=-1, descending=True).values
    k = torch.arange(1, x.shape[-1] + 1, dtype=x.dtype, device=x.device)
    theta = (srt.cumsum(-1) - radius) / k
    last = ((srt - theta) > 0).to(x.dtype).mul(k).argmax(-1, keepdim=True)
    p = (x - theta.gather(-1, last)).clamp(min=0)
    return p / p.sum(-1, keepdim=True) * radius


def policy_from_flow(L: torch.Tensor) -> torch.Tensor:
    """``pi = L / sum_a L`` (uniform where a state has no mass), as MFGLib."""
    tot = L.sum(-1, keepdim=True)
    return torch.where(tot > 0, L / torch.where(tot > 0, tot, torch.ones_like(tot)), 1.0 / L.shape[-1])
