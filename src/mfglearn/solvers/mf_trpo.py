"""MF-TRPO: trust-region (KL mirror-descent) policy optimisation for ergodic discounted MFGs.

Ocello, Tiapkin, Mancini, Lauriere, Moulines (ICML 2025), "Tabular TRPO for MFG":
an outer loop over population updates ``p`` and, for each, ``K`` entropy-regularised
KL trust-region policy updates against the frozen mean field ``mu_p``::

    J_k   = (I - gamma P^{pi_k}_{mu_p})^{-1} r^{pi_k}_{lambda, mu_p}        (policy evaluation)
    q_k   = r_{lambda, mu_p} + gamma P_{mu_p} J_k                           (action values)
    pi_{k+1}(a|s) ∝ pi_k(a|s) exp((q_k(s, a) + lambda log pi_k(a|s)) / (eta (k + 2)))
    mu_{p+1} = mu_p + beta_p (mu_p (P^{pi_{p+1,K}}_{mu_p})^M - mu_p)

with the regularised reward ``r_lambda(s, a) = r(s, a, mu) - lambda log pi(a|s)``
(so ``q + lambda log pi_k`` is the unregularised one-step reward plus the
regularised continuation). ``lambda = 0`` gives plain KL mirror descent with the
paper's ``1/(eta (k+2))`` step sizes.
"""

from __future__ import annotations

import torch

from mfglearn._common.checks import check_int
from mfglearn.algorithm import Alias
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.stationary import (
    StationaryMDP,
    evaluate_stationary,
    freeze_stationary,
    stationary_distribution,
    stationary_quality,
)
from mfglearn.core.value import softmax_policy
from mfglearn.errors import ValidationError
from mfglearn.solvers.base import Solver, check_positive, check_unit_interval, require_discounted


def _log_policy(pi: torch.Tensor) -> torch.Tensor:
    # illegal actions have pi = 0: their log is irrelevant (masked later), keep it finite
    return torch.where(pi > 0, torch.log(pi.clamp_min(1e-300)), torch.zeros_like(pi))


class MFTRPO(Solver):
    """Exact MF-TRPO on a discounted :class:`~mfglearn.model.finite.FiniteMFG` (built with ``gamma=``).

    One solver iteration is one population update ``p`` (with its ``K`` inner
    policy updates). The history adds ``quality`` (``T(pi_{p+1,K}, mu_p)``, the
    policy's optimality gap against the population it was trained on) and
    ``mu_pi_delta`` (``||mu_p - mu^{pi_p}||_1``, the gap between the algorithm's
    population and the policy's own stationary distribution).

    Args:
        game: a discounted game.
        trust_region: trust-region strength ``eta > 0`` (step ``1/(eta (k+2))``; alias ``eta``).
        entropy: entropy regularisation ``lambda >= 0`` (alias ``lam``).
        inner_steps: ``K``, policy updates per population update.
        population_steps: ``M``, chain steps in the population update.
        beta: population step ``beta_0`` in ``(0, 1]``.
        beta_decay: ``beta_p = beta / (p + 1)^beta_decay`` (0: constant).
        initial_mean_field: ``"uniform"`` (the paper's ``mu_0``) or ``"mu0"`` (the game's).
    """

    name = "mf_trpo"
    description = "MF-TRPO: KL trust-region policy updates against a slowly updated population (discounted games)"
    game_kinds = frozenset({"discounted"})
    aliases = {"eta": Alias("trust_region"), "lam": Alias("entropy")}
    _state_tensors = ("mu",)

    def __init__(
        self,
        game,
        trust_region: float = 1.0,
        entropy: float = 0.0,
        inner_steps: int = 10,
        population_steps: int = 1,
        beta: float = 0.5,
        beta_decay: float = 0.0,
        initial_mean_field: str = "uniform",
        **kw,
    ):
        require_discounted(self.name, game)
        super().__init__(game, **kw)
        self.eta = check_positive("trust_region", trust_region)
        self.lam = check_positive("entropy", entropy, allow_zero=True)
        self.inner_steps = _check_count("inner_steps", inner_steps)
        self.population_steps = _check_count("population_steps", population_steps)
        self.beta = check_unit_interval("beta", beta)
        self.beta_decay = check_positive("beta_decay", beta_decay, allow_zero=True)
        if initial_mean_field not in ("uniform", "mu0"):
            raise ValidationError(f"initial_mean_field must be 'uniform' or 'mu0', got {initial_mean_field!r}")
        self.initial_mean_field = initial_mean_field
        if initial_mean_field == "uniform":
            self.mu = torch.full((game.S,), 1.0 / game.S, dtype=game.dtype, device=game.device)
        else:
            self.mu = game.mu0.clone()

    @property
    def hyperparameters(self) -> dict:
        return {
            "trust_region": self.eta,
            "entropy": self.lam,
            "inner_steps": self.inner_steps,
            "population_steps": self.population_steps,
            "beta": self.beta,
            "beta_decay": self.beta_decay,
            "initial_mean_field": self.initial_mean_field,
        }

    def beta_at(self, p: int) -> float:
        """Population step ``beta_p`` (``p = 0, 1, ...``)."""
        return self.beta / (p + 1) ** self.beta_decay

    # --------------------------------------------------------------- pieces
    def action_values(self, mdp: StationaryMDP, pi: torch.Tensor) -> torch.Tensor:
        """``q(s, a) + lambda log pi(a|s)``: the quantity in the exponent of the update."""
        logp = _log_policy(pi)
        reg = StationaryMDP(mdp.reward - self.lam * logp, mdp.kernel, mdp.gamma, mdp.legal, mdp.mu)
        _, q = evaluate_stationary(reg, pi)
        return q + self.lam * logp

    def policy_step(self, pi: torch.Tensor, q_plus: torch.Tensor, k: int) -> torch.Tensor:
        """One trust-region update ``pi_{k+1} ∝ pi_k exp(q_plus / (eta (k+2)))``."""
        logits = _log_policy(pi) + q_plus / (self.eta * (k + 2))
        return softmax_policy(logits, 1.0, self.game.legal)

    def population_step(self, mdp: StationaryMDP, pi: torch.Tensor, beta: float) -> torch.Tensor:
        """``mu + beta (mu P^M - mu)`` with the chain frozen at the current population."""
        m = self.mu
        for _ in range(self.population_steps):
            m = mdp.kernel.push(m.unsqueeze(-1) * pi)
        return self.mu + beta * (m - self.mu)

    def _update(self, ev: Evaluation):
        p = self.iteration
        mdp = freeze_stationary(self.game, self.mu, self.policy)
        pi = self.policy
        for k in range(self.inner_steps):
            pi = self.policy_step(pi, self.action_values(mdp, pi), k)
        quality = stationary_quality(self.game, pi, self.mu)
        new_mu = self.population_step(mdp, pi, self.beta_at(p))
        self._extra = {
            "quality": quality,
            "population_delta": float((new_mu - self.mu).abs().sum()),
            "mu_pi_delta": float((self.mu - stationary_distribution(self.game, pi)).abs().sum()),
        }
        self.mu = new_mu
        return pi, None

    def _result_extra(self) -> dict:
        return {"population": self.mu}


def _check_count(name: str, value) -> int:
    return check_int(name, value, minimum=1)
