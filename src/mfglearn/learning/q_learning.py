"""Model-free Q-learning for stationary (discounted) MFGs: the naive algorithm and GMF-Q.

Guo, Hu, Xu, Zhang (NeurIPS 2019). The population is described by its
state-action measure ``L`` (state marginal ``mu``, conditional policy ``L / mu``).
Each outer iteration ``k``:

1. **inner**: ``T_k`` iterations of synchronous Q-learning on the MDP frozen at
   ``L_k`` (every state-action pair gets one simulated transition and reward per
   iteration, step ``1 / (1 + n)^omega``);
2. **policy**: ``pi_k = argmax-e(Q)`` (naive: equal mass on the maximisers) or a
   smoothed version: ``softmax_c``, ``mellowmax`` (softmax at the temperature that
   makes the mellowmax value consistent, computed per state) or ``momentum``
   (``pi_k = (1 - m) pi_{k-1} + m argmax-e(Q)``);
3. **population**: ``n_agents`` agents drawn from ``mu_k`` play ``pi_k`` one step in
   the simulator: ``L~_{k+1}(s', a') = mu_hat'(s') pi_k(a'|s')``;
4. **projection** (GMF-Q): ``L_{k+1}`` is the point of the ``epsilon``-net of the
   simplex (multiples of ``epsilon``) nearest to ``L~_{k+1}``.

The learners only call the simulator; exact exploitability is reported for monitoring.
"""

from __future__ import annotations

import torch

from mfglearn._common.checks import check_bool, check_int
from mfglearn.algorithm import Alias
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.stationary import freeze_stationary
from mfglearn.core.value import argmax_e
from mfglearn.errors import ValidationError
from mfglearn.learning.simulator import Simulator, SimulatorCheckpoint, empirical_distribution
from mfglearn.solvers.base import Solver, check_positive, check_unit_interval, require_discounted
from mfglearn.solvers.mf_trpo import _check_count


def project_simplex_net(L: torch.Tensor, eps: float) -> torch.Tensor:
    """Nearest point (l1) of ``L`` (a distribution over all entries) on the net of multiples of ``eps``.

    Largest-remainder rounding: floor every entry to a multiple of ``eps`` and hand the
    missing units to the largest remainders. Exact for ``1/eps`` integer.
    """
    # a net finer than 1e-9 is below the measure's float resolution (and its 1/eps units overflow top-k)
    units = round(1.0 / eps) if 1e-9 <= eps <= 1.0 else 0
    if not units or abs(units * eps - 1.0) > 1e-9:
        raise ValidationError(f"epsilon must divide 1 and be at least 1e-9 (e.g. 0.01, 0.05, 0.1), got {eps}")
    flat = L.reshape(-1) * units
    base = torch.floor(flat)
    missing = int(units - int(base.sum().item()))
    if missing > 0:
        idx = torch.topk(flat - base, missing).indices
        base[idx] += 1
    return (base / units).reshape(L.shape)


def _mellowmax_policy(q: torch.Tensor, omega: float, legal: torch.Tensor | None) -> torch.Tensor:
    """Maximum-entropy policy whose expected Q equals ``mellowmax_omega(Q)`` (Asadi & Littman 2017)."""
    qm = q if legal is None else q.masked_fill(~legal, float("-inf"))
    n = torch.isfinite(qm).sum(-1, keepdim=True).to(q.dtype)
    mm = (torch.logsumexp(omega * qm, -1, keepdim=True) - torch.log(n)) / omega
    adv = torch.where(torch.isfinite(qm), qm - mm, torch.zeros_like(qm))
    lo, hi = torch.full_like(mm, -1e3), torch.full_like(mm, 1e3)
    # beta solves sum_a exp(beta adv_a) adv_a = 0 (monotone in beta): bisection, vectorised over states
    for _ in range(80):
        beta = 0.5 * (lo + hi)
        f = (torch.softmax(torch.where(torch.isfinite(qm), beta * adv, qm), -1) * adv).sum(-1, keepdim=True)
        lo, hi = torch.where(f < 0, beta, lo), torch.where(f < 0, hi, beta)
    beta = 0.5 * (lo + hi)
    return torch.softmax(torch.where(torch.isfinite(qm), beta * adv, qm), -1)


MIN_TEMPERATURE = 1e-6  # softmax / mellowmax smoothing; hypothesis found 2.2e-309, whose inverse is inf


class GMFQ(SimulatorCheckpoint, Solver):
    """GMF-Q: Q-learning for stationary MFGs with smoothed policies and an epsilon-net projection.

    Args:
        game: a discounted game.
        inner_steps: ``T_k``, synchronous Q-learning sweeps per outer iteration (alias ``inner_iterations``).
        smoothing: ``"softmax"`` (``softmax_c``), ``"mellowmax"``, ``"momentum"`` or ``"argmax_e"``.
        temperature: softmax temperature ``1 / c`` (mellowmax parameter ``c``; alias ``c``, deprecated).
        momentum: mixing weight for ``"momentum"`` smoothing, in ``(0, 1]``.
        epsilon: epsilon-net resolution (must divide 1); ``0`` disables the projection.
        omega: Q-learning step ``1 / (1 + n)^omega`` with ``n`` the pair's update count.
        n_agents: sampled agents for the population update.
        warm_start: keep the Q-table across outer iterations.
        seed: simulator seed.
    """

    name = "gmf_q"
    description = "GMF-Q: Q-learning with softmax smoothing and epsilon-net projection (model-free, discounted)"
    game_kinds = frozenset({"discounted"})
    aliases = {
        "c": Alias("temperature", convert=lambda c: 1.0 / float(c), note="temperature = 1 / c"),
        "inner_iterations": Alias("inner_steps"),
    }
    _state_tensors = ("L", "Q", "counts")
    default_smoothing = "softmax"
    default_epsilon = 0.01

    def __init__(
        self,
        game,
        inner_steps: int = 200,
        smoothing: str | None = None,
        temperature: float = 0.2,
        momentum: float = 0.2,
        epsilon: float | None = None,
        omega: float = 0.7,
        n_agents: int = 10_000,
        warm_start: bool = True,
        seed: int = 0,
        **kw,
    ):
        require_discounted(self.name, game)
        super().__init__(game, **kw)
        self.inner_iterations = _check_count("inner_steps", inner_steps)
        self.smoothing = self.default_smoothing if smoothing is None else smoothing
        if self.smoothing not in ("softmax", "mellowmax", "momentum", "argmax_e"):
            raise ValidationError(
                f"smoothing must be 'softmax', 'mellowmax', 'momentum' or 'argmax_e', got {self.smoothing!r}"
            )
        self.temperature = check_positive("temperature", temperature)
        if self.temperature < MIN_TEMPERATURE:
            raise ValidationError(
                f"temperature must be at least {MIN_TEMPERATURE:g}, got {temperature!r}: below it the smoothed policy "
                "is the greedy one up to Q-gaps no Q-table resolves, and the logits c Q (c = 1 / temperature) "
                "overflow to a NaN policy; use smoothing='argmax_e' for the greedy policy"
            )
        self.c = 1.0 / self.temperature  # the paper's inverse temperature
        self.momentum = check_unit_interval("momentum", momentum)
        self.epsilon = self.default_epsilon if epsilon is None else check_positive("epsilon", epsilon, allow_zero=True)
        if self.epsilon:
            project_simplex_net(torch.ones(1, dtype=torch.float64), self.epsilon)  # validates divisibility
        self.omega = check_positive("omega", omega)
        if not 0.5 < self.omega <= 1.0:
            raise ValidationError(f"omega must be in (0.5, 1] for Q-learning to converge, got {omega}")
        self.n_agents = _check_count("n_agents", n_agents)
        self.warm_start = check_bool("warm_start", warm_start)
        self.seed = check_int("seed", seed, minimum=0)
        self.sim = Simulator(game, seed)
        S, A = game.S, game.A
        self.L = game.mu0.unsqueeze(-1) * self.policy
        self.Q = torch.zeros(S, A, dtype=game.dtype, device=game.device)
        self.counts = torch.zeros(S, A, dtype=game.dtype, device=game.device)
        self._pairs = self.sim.legal_pairs()

    @property
    def hyperparameters(self) -> dict:
        return dict(
            inner_steps=self.inner_iterations,
            smoothing=self.smoothing,
            temperature=self.temperature,
            momentum=self.momentum,
            epsilon=self.epsilon,
            omega=self.omega,
            n_agents=self.n_agents,
            warm_start=self.warm_start,
            seed=self.seed,
        )

    def q_learning(self, mdp) -> torch.Tensor:
        """``inner_iterations`` synchronous Q-learning sweeps on the frozen MDP, from the simulator only."""
        if not self.warm_start:
            self.Q.zero_()
            self.counts.zero_()
        s, a = self._pairs[:, 0], self._pairs[:, 1]
        g = mdp.gamma
        Q, n = self.Q, self.counts
        legal = self.game.legal
        for _ in range(self.inner_iterations):
            s2, r = self.sim.sample(mdp, s, a)
            v2 = (Q if legal is None else Q.masked_fill(~legal, float("-inf"))).amax(-1)[s2]
            target = r + g * v2
            n[s, a] += 1
            step = 1.0 / (1.0 + n[s, a]) ** self.omega
            Q[s, a] += step * (target - Q[s, a])
        return Q

    def smooth(self, Q: torch.Tensor) -> torch.Tensor:
        """The policy of step 2 from a Q-table."""
        legal = self.game.legal
        if self.smoothing == "argmax_e":
            return argmax_e(Q, legal)
        if self.smoothing == "softmax":
            qm = Q if legal is None else Q.masked_fill(~legal, float("-inf"))
            return torch.softmax(self.c * qm, -1)
        if self.smoothing == "mellowmax":
            return _mellowmax_policy(Q, self.c, legal)
        return (1 - self.momentum) * self.policy + self.momentum * argmax_e(Q, legal)

    def _update(self, ev: Evaluation):
        mu = self.L.sum(-1)
        cond = torch.where(mu.unsqueeze(-1) > 0, self.L / mu.clamp_min(1e-300).unsqueeze(-1), self.policy)
        mdp = freeze_stationary(self.game, mu, cond)
        pi = self.smooth(self.q_learning(mdp))
        states = self.sim.sample_states(mu, self.n_agents)
        nxt, _ = self.sim.sample(mdp, states, self.sim.act(pi, states))
        L_new = empirical_distribution(nxt, self.game.S, self.game.dtype).unsqueeze(-1) * pi
        if self.epsilon:
            L_new = project_simplex_net(L_new, self.epsilon)
        self._extra = {
            "l_inf_delta": float((L_new - self.L).abs().max()),
            "l1_delta": float((L_new - self.L).abs().sum()),
        }
        self.L = L_new
        return pi, None

    def _result_extra(self) -> dict:
        return {"L": self.L, "Q": self.Q}


class NaiveQLearning(GMFQ):
    """The naive algorithm (seed's Algorithm 1): argmax-e policies and no projection; it may oscillate."""

    name = "q_learning_naive"
    description = "naive Q-learning for GMFGs: argmax-e policy, no smoothing or projection (may oscillate)"
    default_smoothing = "argmax_e"
    default_epsilon = 0.0
