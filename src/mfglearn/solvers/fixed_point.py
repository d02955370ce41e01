"""Damped fixed-point iteration (Banach-Picard) on the mean field."""

from __future__ import annotations

import torch

from mfglearn.core.evaluation import Evaluation
from mfglearn.core.flow import Flow, flow_from_mu, mean_field_flow
from mfglearn.core.stationary import best_response_stationary, freeze_stationary, stationary_distribution
from mfglearn.core.value import best_response, freeze, greedy, softmax_policy
from mfglearn.solvers.base import Solver, check_positive, check_unit_interval


class FixedPoint(Solver):
    """Fixed point: best-respond to the current mean field, then move the mean field.

    ``pi_{k+1} = BR(m_k)`` (greedy, or ``softmax(Q*/temperature)``) and
    ``m_{k+1} = (1 - damping) m_k + damping * mu^{pi_{k+1}}``. With ``damping=1``
    this is OpenSpiel's ``FixedPoint``; it may cycle on games with several
    near-optimal actions, which damping or a temperature cures.

    On discounted games the iterate is the population's state-action measure
    ``L_k``: ``pi_{k+1} = softmax(Q*_{L_k} / temperature)`` (or greedy) and
    ``L_{k+1} = (1 - damping) L_k + damping mu^{pi_{k+1}} pi_{k+1}``: the exact,
    model-based counterpart of GMF-Q (``c = 1 / temperature``), whose limit is the
    reference GMF-Q is checked against.

    Args:
        game: a finite-horizon :class:`~mfglearn.model.finite.FiniteMFG`.
        temperature: ``None`` for the greedy best response, else the softmax temperature (> 0).
        damping: weight of the new mean field, in ``(0, 1]``.

    The defaults are the textbook (and OpenSpiel's) iteration. It converges where the best response is a
    contraction of the mean field (``sis``, ``lq_discrete``, ``four_rooms_crowd``, the static meeting game) and
    cycles on the finite-horizon crowd games, where the best response to a crowd is the empty cell, which then
    fills (the solver warns that it cycles). There, ``temperature=2, damping=0.1`` converges, to the equilibrium
    of the entropy-regularised game.
    """

    name = "fixed_point"
    game_kinds = frozenset({"finite_horizon", "discounted"})
    description = "damped fixed-point iteration: best response to the (damped) mean field"
    batch_hyperparameters = {"temperature": "temperature", "damping": "damping"}

    def __init__(self, game, temperature: float | None = None, damping: float = 1.0, **kw):
        super().__init__(game, **kw)
        self.temperature = None if temperature is None else check_positive("temperature", temperature)
        self.damping = check_unit_interval("damping", damping)
        self._mf: Flow | None = None
        self._L: torch.Tensor | None = None  # discounted games: state-action measure

    @property
    def hyperparameters(self) -> dict:
        return {"temperature": self.temperature, "damping": self.damping}

    def _update(self, ev: Evaluation):
        if not self.game.is_finite_horizon:
            return self._update_stationary(ev)
        mf = self._mf if self._mf is not None else ev.flow
        _, Q, br = best_response(freeze(self.game, mf))
        pi = br if self.temperature is None else softmax_policy(Q, self.temperature, self.game.legal)
        flow = mean_field_flow(self.game, pi)
        if isinstance(self.damping, float) and self.damping == 1.0:
            self._mf = flow
        else:
            d = self.damping
            sa = (1 - d) * mf.sa + d * flow.sa if self.game.mean_field == "state_action" else None
            # mixed with a trailing unit axis so that a batch's (B, 1, 1) dampings broadcast like the policies'
            mu = ((1 - d) * mf.mu.unsqueeze(-1) + d * flow.mu.unsqueeze(-1)).squeeze(-1)
            self._mf = flow_from_mu(self.game, mu, sa)
        return pi, flow

    def _update_stationary(self, ev: Evaluation):
        L = self._L if self._L is not None else ev.flow.mu.unsqueeze(-1) * ev.policy
        mu = L.sum(-1)
        cond = torch.where(mu.unsqueeze(-1) > 0, L / mu.clamp_min(1e-300).unsqueeze(-1), ev.policy)
        _, Q, br = best_response_stationary(freeze_stationary(self.game, mu, cond))
        pi = br if self.temperature is None else softmax_policy(Q, self.temperature, self.game.legal)
        L_pi = stationary_distribution(self.game, pi, mu).unsqueeze(-1) * pi
        self._L = (1 - self.damping) * L + self.damping * L_pi
        return pi, None

    @property
    def population(self) -> torch.Tensor | None:
        """Discounted games: the current state-action measure ``L_k`` ``(S, A)``."""
        return self._L

    def _result_extra(self) -> dict:
        return {} if self._L is None else {"L": self._L}

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        self._L = d.get("L")
        self._mf = None if d.get("mf_mu") is None else flow_from_mu(self.game, d["mf_mu"], d["mf_sa"])

    def state_dict(self) -> dict:
        d = super().state_dict()
        d["mf_mu"] = None if self._mf is None else self._mf.mu.cpu()
        d["mf_sa"] = None if self._mf is None or self._mf.sa_store is None else self._mf.sa_store.cpu()
        d["L"] = None if self._L is None else self._L.cpu()
        return d


__all__ = ["FixedPoint", "greedy"]
