"""Sample-based MF-TRPO: the MF-TRPO loop with Q-values and population updates estimated by simulation."""

from __future__ import annotations

import math

import torch

from mfglearn._common.checks import check_int
from mfglearn.learning.simulator import Simulator, SimulatorCheckpoint, empirical_distribution
from mfglearn.solvers.mf_trpo import MFTRPO, _check_count, _log_policy


class SampledMFTRPO(SimulatorCheckpoint, MFTRPO):
    """MF-TRPO where the learner only samples the game.

    * ``q(s, a) + lambda log pi(a|s)`` is estimated for every pair by ``n_samples``
      rollouts of ``rollout_length`` steps (start in ``s``, play ``a``, then follow
      ``pi_k``; discounted sum of the regularised rewards the simulator returns)
      against the frozen population ``mu_p``;
    * the population update replaces ``mu_p P^M`` by the empirical distribution of
      ``n_agents`` agents drawn from ``mu_p`` and simulated ``M`` steps.

    All pairs and rollouts run as one batch per step. Seeded: the same ``seed``
    gives the same iterates. The reported exploitability is exact (computed with
    the model, for monitoring only; the learner never reads it).

    Args (besides :class:`~mfglearn.solvers.mf_trpo.MFTRPO`'s):
        n_samples: rollouts per state-action pair and inner step.
        rollout_length: steps per rollout (default: enough for ``gamma^L < 1e-3``).
        n_agents: agents in the sampled population update.
        seed: random seed.
    """

    name = "mf_trpo_sampled"
    description = "sample-based MF-TRPO: Q-values and population updates from simulated trajectories"

    def __init__(
        self,
        game,
        n_samples: int = 16,
        rollout_length: int | None = None,
        n_agents: int = 10_000,
        seed: int = 0,
        **kw,
    ):
        super().__init__(game, **kw)
        self.n_samples = _check_count("n_samples", n_samples)
        if rollout_length is None:
            g = float(game.gamma)
            rollout_length = 1 if g == 0 else max(1, math.ceil(math.log(1e-3) / math.log(g)))
        self.rollout_length = _check_count("rollout_length", rollout_length)
        self.n_agents = _check_count("n_agents", n_agents)
        self.seed = check_int("seed", seed, minimum=0)
        self.sim = Simulator(game, seed)
        pairs = self.sim.legal_pairs()
        # every legal (s, a) pair, n_samples times
        self._s0 = pairs[:, 0].repeat_interleave(self.n_samples)
        self._a0 = pairs[:, 1].repeat_interleave(self.n_samples)
        self._pairs = pairs

    @property
    def hyperparameters(self) -> dict:
        hp = super().hyperparameters
        hp.update(n_samples=self.n_samples, rollout_length=self.rollout_length, n_agents=self.n_agents, seed=self.seed)
        return hp

    def estimate_action_values(self, mdp, pi: torch.Tensor) -> torch.Tensor:
        """Monte-Carlo estimate of ``q(s, a) + lambda log pi(a|s)`` for all legal pairs: ``(S, A)``."""
        g = mdp.gamma
        logp = _log_policy(pi)
        s, a = self._s0, self._a0
        # the first step's regularisation cancels with + lambda log pi_k: add only the raw reward
        s, ret = self.sim.sample(mdp, s, a)
        ret = ret.clone()
        disc = 1.0
        for _ in range(self.rollout_length - 1):
            a = self.sim.act(pi, s)
            s2, r = self.sim.sample(mdp, s, a)
            disc *= g
            ret += disc * (r - self.lam * logp[s, a])
            s = s2
        est = ret.view(-1, self.n_samples).mean(-1)
        q = torch.zeros(self.game.S, self.game.A, dtype=ret.dtype, device=ret.device)
        q[self._pairs[:, 0], self._pairs[:, 1]] = est
        return q

    def sampled_population_step(self, mdp, pi: torch.Tensor, beta: float) -> torch.Tensor:
        states = self.sim.sample_states(self.mu, self.n_agents)
        for _ in range(self.population_steps):
            states, _ = self.sim.sample(mdp, states, self.sim.act(pi, states))
        mu_hat = empirical_distribution(states, self.game.S, self.mu.dtype)
        return self.mu + beta * (mu_hat - self.mu)

    # the exact loop of MFTRPO._update, with its two model-based pieces replaced by estimates
    def action_values(self, mdp, pi: torch.Tensor) -> torch.Tensor:
        return self.estimate_action_values(mdp, pi)

    def population_step(self, mdp, pi: torch.Tensor, beta: float) -> torch.Tensor:
        return self.sampled_population_step(mdp, pi, beta)
