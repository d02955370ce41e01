"""Prior descent (Cui & Koeppl 2021; GMF-V of Guo et al. 2022 when the prior is never refreshed)."""

from __future__ import annotations

import torch

from mfglearn._common.checks import check_int
from mfglearn.algorithm import Alias
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.value import softmax_policy
from mfglearn.errors import ValidationError
from mfglearn.solvers.base import Solver, check_positive


class PriorDescent(Solver):
    """Prior descent: ``pi_{k+1} ∝ q_k exp(Q*_{mu^{pi_k}} / eta)``, the prior ``q`` refreshed every ``n_inner`` steps.

    ``Q*`` is the optimal Q-function against the current policy's mean field; ``q_0 = pi_0``
    and ``q <- pi_{k+1}`` whenever ``(k + 2)`` is a multiple of ``n_inner`` (MFGLib's
    schedule); ``n_inner=None`` keeps the prior forever (GMF-V). Computed in the log
    domain, so it does not overflow where MFGLib's ``exp(Q / eta)`` does; otherwise the
    iterates equal MFGLib's ``PriorDescent(eta, n_inner)``.

    Args:
        game: a finite-horizon or discounted game.
        temperature: softmax temperature ``eta`` (> 0; alias ``eta``).
        inner_steps: prior refresh period ``n_inner`` (positive integer) or ``None`` (alias ``n_inner``).

    The defaults ``temperature=10, inner_steps=10`` lower the exploitability on every game they were tried on (the crowd
    grids, beach bars, SIS, four_rooms_crowd, grid_poi); MFGLib's
    (``eta=1, n_inner=None``) cycle on the crowd games (pass them for MFGLib's runs).
    """

    name = "prior_descent"
    game_kinds = frozenset({"finite_horizon", "discounted"})
    aliases = {"eta": Alias("temperature"), "n_inner": Alias("inner_steps")}
    description = "prior descent: softmax of log-prior + Q*/eta, prior refreshed every n_inner steps (GMF-V if never)"
    _state_tensors = ("log_prior",)
    batch_hyperparameters = {"temperature": "eta"}

    def __init__(self, game, temperature: float = 10.0, inner_steps: int | None = 10, **kw):
        super().__init__(game, **kw)
        self.eta = check_positive("temperature", temperature)
        try:
            self.n_inner = None if inner_steps is None else check_int("inner_steps", inner_steps)
        except ValidationError:
            raise ValidationError(f"inner_steps must be a positive integer or None, got {inner_steps!r}") from None
        self.log_prior = torch.log(self.policy.clamp_min(1e-300)).masked_fill_(self.policy == 0, float("-inf"))

    @property
    def hyperparameters(self) -> dict:
        return {"temperature": self.eta, "inner_steps": self.n_inner}

    def _update(self, ev: Evaluation):
        logits = self.log_prior + ev.Q_best / self.eta
        pi = softmax_policy(logits, 1.0, self.game.legal)
        if self.n_inner and (self.iteration + 2) % self.n_inner == 0:
            self.log_prior = torch.log(pi.clamp_min(1e-300)).masked_fill_(pi == 0, float("-inf"))
        return pi, None
