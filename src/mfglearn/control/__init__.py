"""Mean-field control: a central planner maximising the population's average reward.

Solvers (all usable as ``mfglearn.solve(game, name, iterations=...)``, returning an
:class:`~mfglearn.control.policies.MFCResult` with a closed-loop policy ``h(mu, t)``):

* ``mfc_dp``: dynamic programming on a simplex grid of ``P(S)`` (reference);
* ``mfc_open_loop``: gradient ascent on open-loop local policies through the flow (reference);
* ``mfc_kq``: MFC-K-Q kernel Q-learning on an epsilon-net of ``P(S) x H``;
* ``mfc_q_learning``: plain Q-learning on the same net.
"""

from __future__ import annotations

from mfglearn.control.exact import brute_force, legal_policy_net, optimize_open_loop, solve_dp
from mfglearn.control.kq import MFCKQ, MFCQLearning, _check_resolution
from mfglearn.control.lifted import LiftedMFC, SimplexInterpolator, policy_net, simplex_grid
from mfglearn.control.nagent import CooperativeRollout, simulate_cooperative
from mfglearn.control.policies import Kernel, KernelQPolicy, LookaheadPolicy, MFCResult, OpenLoopPolicy
from mfglearn.solvers.base import check_positive


class MFCDP:
    """Dynamic programming on a simplex grid (see :func:`~mfglearn.control.exact.solve_dp`); ``iterations`` caps VI."""

    name = "mfc_dp"
    description = "mean-field control by dynamic programming on a simplex grid of P(S) (small S; reference)"
    is_mfc = True

    def __init__(self, game, mu_resolution: int = 20, policy_resolution: int = 2, tol: float = 1e-9):
        LiftedMFC(game)  # validates the game
        self.game, self.tol = game, check_positive("tol", tol)
        self.mu_resolution = _check_resolution("mu_resolution", mu_resolution)
        self.policy_resolution = _check_resolution("policy_resolution", policy_resolution)

    @property
    def hyperparameters(self) -> dict:
        return dict(mu_resolution=self.mu_resolution, policy_resolution=self.policy_resolution, tol=self.tol)

    def solve(self, iterations: int = 5000, callback=None) -> MFCResult:
        return solve_dp(self.game, self.mu_resolution, self.policy_resolution, self.tol, max_iter=iterations)


class MFCOpenLoop:
    """Gradient ascent on an open-loop policy sequence (see :func:`~mfglearn.control.exact.optimize_open_loop`)."""

    name = "mfc_open_loop"
    description = "mean-field control by gradient ascent on open-loop local policies through the flow (reference)"
    is_mfc = True

    def __init__(self, game, horizon: int | None = None, lr: float = 0.1, restarts: int = 4, seed: int = 0):
        LiftedMFC(game)
        self.game, self.lr, self.seed = game, check_positive("lr", lr), int(seed)
        self.horizon = None if horizon is None else _check_resolution("horizon", horizon)
        self.restarts = _check_resolution("restarts", restarts)

    @property
    def hyperparameters(self) -> dict:
        return dict(horizon=self.horizon, lr=self.lr, restarts=self.restarts, seed=self.seed)

    def solve(self, iterations: int = 400, callback=None) -> MFCResult:
        return optimize_open_loop(
            self.game, horizon=self.horizon, steps=iterations, lr=self.lr, restarts=self.restarts, seed=self.seed
        )


MFC_SOLVERS = {cls.name: cls for cls in (MFCDP, MFCOpenLoop, MFCKQ, MFCQLearning)}

__all__ = [
    "MFC_SOLVERS",
    "CooperativeRollout",
    "Kernel",
    "KernelQPolicy",
    "LiftedMFC",
    "LookaheadPolicy",
    "MFCDP",
    "MFCKQ",
    "MFCOpenLoop",
    "MFCQLearning",
    "MFCResult",
    "OpenLoopPolicy",
    "SimplexInterpolator",
    "brute_force",
    "legal_policy_net",
    "optimize_open_loop",
    "policy_net",
    "simplex_grid",
    "simulate_cooperative",
    "solve_dp",
]
