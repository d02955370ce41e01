"""Fictitious play with distribution-weighted policy averaging."""

from __future__ import annotations

import torch

from mfglearn.algorithm import Alias
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.metrics import policy_mean_field
from mfglearn.core.value import argmax_e, softmax_policy
from mfglearn.errors import ValidationError
from mfglearn.solvers.base import Solver, check_positive, check_unit_interval


def mix_policies(
    pi_a: torch.Tensor, mu_a: torch.Tensor, pi_b: torch.Tensor, mu_b: torch.Tensor, w: float, fallback: torch.Tensor
) -> torch.Tensor:
    """The policy whose population is ``(1-w) mu_a + w mu_b``: state-wise mix weighted by mass.

    ``pi_*`` are ``(H, S, A)`` with ``(H+1, S)`` flows (``(H, B, S, A)`` and ``(H+1, B, S)`` for a batch
    of games), or stationary ``(S, A)`` with ``(S,)`` mean fields. ``w`` is a number or a tensor that
    broadcasts against the policies (one weight per batch member: ``(B, 1, 1)``). Where both flows have
    zero mass the ``fallback`` policy is used (OpenSpiel uses uniform).
    """
    if mu_a.dim() >= 2 and mu_a.shape[0] == pi_a.shape[0] + 1:  # finite horizon: flows carry the terminal law
        mu_a, mu_b = mu_a[:-1], mu_b[:-1]
    wa = (1.0 - w) * mu_a.unsqueeze(-1)
    wb = w * mu_b.unsqueeze(-1)
    den = wa + wb
    mixed = (wa * pi_a + wb * pi_b) / torch.where(den > 0, den, torch.ones_like(den))
    return torch.where(den > 0, mixed, fallback)


class FictitiousPlay(Solver):
    """Fictitious play (Perrin et al. 2020), as OpenSpiel's ``FictitiousPlay``.

    Each iteration computes a best response ``BR_k`` to the mean field of the
    average policy ``pi_k``, then averages *populations*:
    ``mu^{pi_{k+1}} = (1 - w_k) mu^{pi_k} + w_k mu^{BR_k}`` by mixing the two
    policies state by state with weights proportional to their mass. That identity (the mixed
    policy's population is the mixture of the populations) holds when the transition does not
    depend on the mean field; with a mean-field-dependent kernel the mixed policy is still the
    update, but its population is recomputed rather than mixed.
    ``w_k = 1/(k+1)`` (k = 1, 2, ...) from the uniform policy unless ``damping`` is set.
    On discounted games the same scheme runs on stationary policies and mean fields.

    Args:
        game: a finite-horizon game.
        damping: constant mixing weight in ``(0, 1]``; ``None`` for ``1/(k+1)`` (alias ``learning_rate``, deprecated).
        temperature: ``None`` for greedy best responses, else ``softmax(Q*/temperature)``.
        ties: greedy best responses break exact ties towards the ``"first"`` action
            (OpenSpiel) or spread ``"uniform"``-ly over them (MFGLib).
    """

    name = "fictitious_play"
    game_kinds = frozenset({"finite_horizon", "discounted"})
    aliases = {"learning_rate": Alias("damping", note="the mixing weight of the average policy")}
    description = "fictitious play: average best responses, weighting by population mass"
    batch_hyperparameters = {"damping": "damping", "temperature": "temperature"}

    def __init__(self, game, damping: float | None = None, temperature: float | None = None, ties: str = "first", **kw):
        super().__init__(game, **kw)
        if ties not in ("first", "uniform"):
            raise ValidationError(f"ties must be 'first' (OpenSpiel) or 'uniform' (MFGLib), got {ties!r}")
        self.ties = ties
        self.damping = None if damping is None else check_unit_interval("damping", damping)
        self.temperature = None if temperature is None else check_positive("temperature", temperature)
        self._bind_game()

    def _bind_game(self) -> None:
        self._uniform = self.game.uniform_policy()

    @property
    def hyperparameters(self) -> dict:
        return {"damping": self.damping, "temperature": self.temperature, "ties": self.ties}

    def _update(self, ev: Evaluation):
        k = self.iteration + 1
        if self.temperature is not None:
            br = softmax_policy(ev.Q_best, self.temperature, self.game.legal)
        elif self.ties == "uniform":
            br = argmax_e(ev.Q_best, self.game.legal)
        else:
            br = ev.best_policy
        br_flow = policy_mean_field(self.game, br)
        w = self.damping if self.damping is not None else 1.0 / (k + 1)
        if isinstance(w, torch.Tensor):  # a batch of dampings (solve_batch): members with 1 take the best response
            mixed = mix_policies(ev.policy, ev.flow.mu, br, br_flow.mu, w, self._uniform)
            return torch.where(w == 1.0, br, mixed), None
        if w == 1.0:
            return br, br_flow
        return mix_policies(ev.policy, ev.flow.mu, br, br_flow.mu, w, self._uniform), None
