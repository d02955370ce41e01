"""MFC-K-Q (Gu, Guo, Wei, Xu 2020): kernel Q-learning on an epsilon-net of ``P(S) x H``, and plain MFC Q-learning.

MFC-K-Q visits every point ``c_i = (mu_i, h_j)`` of the net **once**, recording the
aggregated reward ``r(c_i)`` and next population ``Phi(c_i)`` (deterministic), then
iterates the approximated Bellman operator

    ``(B_K q)(mu_i, h_j) = r(mu_i, h_j) + gamma max_{j'} (Gamma_K q)(Phi(mu_i, h_j), h_j')``

to its fixed point, where ``Gamma_K q(mu, h_j') = sum_i w_i(mu) q(mu_i, h_j')`` is a
normalised kernel regression on the population coordinate (the policy coordinate
of the next point is always on the net, so it needs no smoothing). ``B_K`` is a
``gamma``-contraction (kernel rows are probability vectors), so the iteration
converges linearly. The greedy closed-loop policy is
``h(mu) = argmax_j (Gamma_K q)(mu, h_j)``.

Samples come from the lifted model (``n_agents=None``: the exact aggregated reward and
dynamics, as in the paper) or from ``n_agents`` simulated agents per net point
(empirical next distribution and mean reward: model-free data with sampling noise).
"""

from __future__ import annotations

import warnings

import torch

from mfglearn._common.sampling import categorical
from mfglearn.control.lifted import LiftedMFC
from mfglearn.control.policies import CHUNK, Kernel
from mfglearn.model.finite import FiniteMFG


def sampled_model(
    game: FiniteMFG, mus: torch.Tensor, hs: torch.Tensor, n_agents: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Estimate ``r(mu, h)`` and ``Phi(mu, h)`` from ``n_agents`` simulated agents per pair.

    Agents start i.i.d. from ``mu``, act by ``h``, and move by the game's kernel at the
    pair's mean field; the estimates are the agents' mean reward and empirical next
    distribution. Vectorised over pairs and agents (kernels via ``transition_batch``).
    """
    lm = LiftedMFC(game)
    S, A = game.S, game.A
    rs, nxts = [], []
    step = max(1, CHUNK // max(1, n_agents // 16))
    for i in range(0, mus.shape[0], step):
        mu, h = mus[i : i + step], hs[i : i + step]
        B = mu.shape[0]
        m = lm.mean_field_input(mu, h)
        s = torch.multinomial(mu, n_agents, replacement=True, generator=gen)  # (B, N)
        a = torch.multinomial(h.gather(1, s.unsqueeze(-1).expand(B, n_agents, A)).reshape(-1, A), 1, generator=gen)
        a = a.view(B, n_agents)
        r_sa = game.rewards_along(m, torch.zeros(B, dtype=torch.long, device=mu.device))  # (B, S, A)
        rs.append(r_sa[torch.arange(B).unsqueeze(1), s, a].mean(1))
        if lm.static_kernel is not None:
            P = lm.static_kernel[s, a]  # (B, N, S)
        elif game.transition_batch is not None:
            P = game.transition_batch(m)[torch.arange(B).unsqueeze(1), s, a]
        else:
            P = torch.stack([game.kernel_at(0, m[b]).dense()[s[b], a[b]] for b in range(B)])
        s2 = categorical(P.to(mu.dtype), gen)
        nxts.append(torch.nn.functional.one_hot(s2, S).to(mu.dtype).mean(1))
    return torch.cat(rs), torch.cat(nxts)


def _sparse_weights(kernel: Kernel, points: torch.Tensor, net: torch.Tensor, block: int) -> list[torch.Tensor]:
    """Kernel weights as sparse CSR ``(b, G)`` row blocks of ``block`` rows (entries below 1e-12 dropped)."""
    out = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        for i in range(0, points.shape[0], block):
            w = kernel.weights(points[i : i + block], net)
            w = torch.where(w > 1e-12, w, torch.zeros_like(w))
            out.append((w / w.sum(-1, keepdim=True)).to_sparse_csr())
    return out
