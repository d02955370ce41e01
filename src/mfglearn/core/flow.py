"""Mean-field flows: propagate a policy's population forward in time.

Finite horizon: ``mu[t+1] = push_t(mu[t] * pi[t])`` with the kernel evaluated at
the current mean field, ``t = 0..H-1``; the result ``mu`` has shape ``(H+1, S)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import Kernel


@dataclass
class Flow:
    """A policy's mean-field flow and the kernels it was propagated with.

    Attributes:
        mu: ``(H+1, S)`` state distributions, ``mu[0] = mu0``.
        kernels: the ``H`` transition kernels used (the same object repeated for
            games whose transitions do not depend on the mean field).
        pi: the policy ``(H, S, A)`` that generated the flow, if any.
        sa_store: stored state-action measures (``state_action`` games and mixtures).
    """

    mu: torch.Tensor
    kernels: list[Kernel]
    pi: torch.Tensor | None = None
    sa_store: torch.Tensor | None = None

    @property
    def sa(self) -> torch.Tensor:
        """``(H, S, A)`` state-action measures ``mu[t, s] pi[t, s, a]`` (computed on demand)."""
        if self.sa_store is not None:
            return self.sa_store
        if self.pi is None:
            raise ValueError("this flow has no policy: its state-action measures are unknown")
        return self.mu[:-1].unsqueeze(-1) * self.pi

    def input_at(self, game: FiniteMFG, t: int) -> torch.Tensor:
        """The mean field ``m_t`` handed to the game's reward/transition callables."""
        if game.mean_field == "state_action":
            return self.sa[t] if t < self.mu.shape[0] - 1 else self.mu[t]
        return self.mu[t]


def mean_field_flow(game: FiniteMFG, pi: torch.Tensor) -> Flow:
    """Propagate ``pi`` (``(H, S, A)``) from ``game.mu0``; returns the :class:`Flow`.

    On a :class:`~mfglearn.model.batch.GameBatch` ``pi`` is ``(H, B, S, A)`` and the flow ``(H+1, B, S)``.
    """
    H = game.H
    mu = torch.empty(H + 1, *pi.shape[1:-1], dtype=pi.dtype, device=pi.device)
    state_action = game.mean_field == "state_action"
    # (H, S, A) measures are stored only when the game's callables need them
    sa = torch.empty(H, *pi.shape[1:], dtype=pi.dtype, device=pi.device) if state_action else None
    mu[0] = game.mu0
    kernels: list[Kernel] = []
    static = None if game.transition_depends_on_mean_field else game.kernel_at(0)
    # per-step views from unbind (one call each) rather than an index per step: small games are dispatch-bound
    mus, pis = mu.unbind(0), pi.unbind(0)
    sas = sa.unbind(0) if state_action else [None] * H
    for t in range(H):
        if state_action:  # the measures are the kernel's input and are kept
            m = torch.mul(mus[t].unsqueeze(-1), pis[t], out=sas[t])
            k = static if static is not None else game.kernel_at(t, m)
            mus[t + 1].copy_(k.push(m))
        else:  # push_policy: a kernel may fuse the product into its push (the stencil's)
            k = static if static is not None else game.kernel_at(t, mus[t])
            mus[t + 1].copy_(k.push_policy(mus[t], pis[t]))
        kernels.append(k)
    return Flow(mu=mu, kernels=kernels, pi=pi, sa_store=sa)


def flow_from_mu(game: FiniteMFG, mu: torch.Tensor, sa: torch.Tensor | None = None) -> Flow:
    """A :class:`Flow` for a given state flow ``mu`` (``(H+1, S)``), evaluating the kernels along it.

    For ``state_action`` games pass the state-action measures ``sa`` (``(H, S, A)``) too.
    """
    H = game.H
    if game.mean_field == "state_action" and sa is None:
        raise ValueError("this game's mean field is over state-action pairs: pass sa=(H, S, A) too")
    kernels = [game.kernel_at(t, sa[t] if game.mean_field == "state_action" else mu[t]) for t in range(H)]
    return Flow(mu=mu, kernels=kernels, sa_store=sa)
