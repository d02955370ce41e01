"""Mean-field control: a central planner maximising the population's average reward.

Solvers (all usable as ``mfglearn.solve(game, name, iterations=...)``, returning an
:class:`~mfglearn.control.policies.MFCResult` with a closed-loop policy ``h(mu, t)``):

* ``mfc_dp``: dynamic programming on a simplex grid of ``P(S)`` (reference);
* ``mfc_open_loop``: gradient ascent on open-loop local policies through the flow (reference);
* ``mfc_kq``: MFC-K-Q kernel Q-learning on an epsilon-net of ``P(S) x H``;
* ``mfc_q_learning``: plain Q-learning on the same net.
"""

from __future__ import annotations

from mfglearn.control.algorithms import MFC_ALGORITHMS, MFCDP, MFCKQ, MFCOpenLoop, MFCQLearning
from mfglearn.control.exact import brute_force, legal_policy_net, optimize_open_loop, solve_dp
from mfglearn.control.lifted import LiftedMFC, SimplexInterpolator, policy_net, simplex_grid
from mfglearn.control.nagent import CooperativeRollout, simulate_cooperative
from mfglearn.control.policies import Kernel, KernelQPolicy, LookaheadPolicy, MFCResult, OpenLoopPolicy

__all__ = [
    "MFC_ALGORITHMS",
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
