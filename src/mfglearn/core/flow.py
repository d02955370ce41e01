"""Mean-field flows: propagate a policy's population forward in time.

Finite horizon: ``mu[t+1] = push_t(mu[t] * pi[t])`` with the kernel evaluated at
the current mean field, ``t = 0..H-1``; the result ``mu`` has shape ``(H+1, S)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfglearn.games.base import FiniteMFG
from mfglearn.games.kernels import Kernel


@dataclass
class Flow:
    """A policy's mean-field flow and the kernels it was propagated with.

    Attributes:
        mu: ``(H+1, S)`` state distributions, ``mu[0] = mu0``.
        sa: ``(H, S, A)`` state-action measures ``mu[t, s] pi[t, s, a]``.
        kernels: the ``H`` transition kernels used (the same object repeated for
            games whose transitions do not depend on the mean field).
    """

    mu: torch.Tensor
    sa: torch.Tensor
    kernels: list[Kernel]

    def input_at(self, game: FiniteMFG, t: int) -> torch.Tensor:
        """The mean field ``m_t`` handed to the game's reward/transition callables."""
        if game.mean_field == "state_action":
            return self.sa[t] if t < self.sa.shape[0] else self.mu[t]
        return self.mu[t]


def mean_field_flow(game: FiniteMFG, pi: torch.Tensor) -> Flow:
    """Propagate ``pi`` (``(H, S, A)``) from ``game.mu0``; returns the :class:`Flow`."""
    H = game.H
    mu = torch.empty(H + 1, game.S, dtype=pi.dtype, device=pi.device)
    sa = torch.empty(H, game.S, game.A, dtype=pi.dtype, device=pi.device)
    mu[0] = game.mu0
    kernels: list[Kernel] = []
    state_action = game.mean_field == "state_action"
    static = None if game.transition_depends_on_mean_field else game.kernel_at(0)
    for t in range(H):
        torch.mul(mu[t].unsqueeze(-1), pi[t], out=sa[t])
        k = static if static is not None else game.kernel_at(t, sa[t] if state_action else mu[t])
        kernels.append(k)
        mu[t + 1] = k.push(sa[t])
    return Flow(mu=mu, sa=sa, kernels=kernels)


def flow_from_mu(game: FiniteMFG, mu: torch.Tensor, sa: torch.Tensor | None = None) -> Flow:
    """A :class:`Flow` for a given state flow ``mu`` (``(H+1, S)``), evaluating the kernels along it.

    For ``state_action`` games pass the state-action measures ``sa`` (``(H, S, A)``) too.
    """
    H = game.H
    if game.mean_field == "state_action" and sa is None:
        raise ValueError("this game's mean field is over state-action pairs: pass sa=(H, S, A) too")
    if sa is None:
        sa = mu[:-1].unsqueeze(-1).expand(H, game.S, game.A) / game.A
    kernels = [game.kernel_at(t, sa[t] if game.mean_field == "state_action" else mu[t]) for t in range(H)]
    return Flow(mu=mu, sa=sa, kernels=kernels)
