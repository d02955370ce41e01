"""DEDA-FP (Magnino, Shao, Wu, Shen, Lauriere 2025): deep fictitious play for continuous, non-stationary MFGs.

Iteration ``k``:

1. **best response** by deep RL (:func:`~mfglearn.deep.best_response.ppo_best_response`)
   against the current average mean field ``G_{k-1}``;
2. **average policy** by behavioural cloning on the ``(t, x, a)`` samples of *all* best
   responses so far (a replay memory that grows by one batch per iteration);
3. **average mean field**: a time-conditioned normalizing flow fitted by maximum
   likelihood on population samples ``(t, x)`` of the average policy.

The flow gives both samples and densities of ``mu_t``, so rewards with local
interactions (``log mu_t(x)``) and population inference need no further simulation.
The equilibrium estimate is the last (average policy, flow) pair.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from mfglearn.deep.best_response import ppo_best_response, rollout
from mfglearn.deep.cloning import GaussianPolicy, behavioural_cloning
from mfglearn.deep.flows import TimeFlow
from mfglearn.errors import ValidationError
from mfglearn.games.continuous import MeanField


@dataclass
class DEDAFPResult:
    """Average policy, mean-field flow and per-iteration history of :func:`deda_fp`."""

    policy: GaussianPolicy
    flow: TimeFlow
    history: dict[str, list[float]] = field(default_factory=dict)

    def mean_fields(self, horizon: int, n: int = 2000) -> list[MeanField]:
        """``mu_0..mu_T`` from the flow: samples for means, the flow's own density for local rewards."""
        out = []
        for t in range(horizon + 1):
            tt = float(t)
            out.append(MeanField(self.flow.sample(tt, n), density_fn=lambda x, tt=tt: self.flow.density(x, tt)))
        return out


def _population_samples(game, policy, n_agents: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``(t, x)`` samples of the population playing ``policy`` against its own empirical mean field."""
    sim_seed = int(torch.randint(1 << 30, (1,), generator=gen))
    ro = game.simulate(lambda t, x: policy.act(t.float(), x.float(), gen).to(x), n_agents, seed=sim_seed)
    T1 = ro.states.shape[0]
    t = torch.arange(T1, dtype=torch.float32).repeat_interleave(n_agents)
    return t, ro.states.reshape(T1 * n_agents, -1).to(torch.float32)


def deda_fp(
    game,
    iterations: int = 10,
    n_agents: int = 1024,
    br_iterations: int = 50,
    bc_steps: int = 500,
    flow_steps: int = 500,
    flow_kind: str = "nsf",
    memory_per_iteration: int = 4096,
    seed: int = 0,
    callback=None,
) -> DEDAFPResult:
    """Run DEDA-FP on a :class:`~mfglearn.games.continuous.ContinuousMFG`.

    Args:
        game: the game.
        iterations: fictitious-play iterations ``K``.
        n_agents: agents per simulated batch (best-response training and population samples).
        br_iterations: PPO iterations per best response (warm-started from the previous one).
        bc_steps, flow_steps: gradient steps of behavioural cloning and of the flow fit per iteration.
        flow_kind: ``"nsf"`` or ``"realnvp"`` (``dim >= 2``).
        memory_per_iteration: ``(t, x, a)`` samples of each best response kept for cloning.
        seed: random seed.
        callback: ``callback(k, result)`` after each iteration.
    """
    if int(iterations) != iterations or iterations < 1:
        raise ValidationError(f"iterations must be a positive integer, got {iterations!r}")
    T = int(game.horizon)
    gen = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(seed)
    avg = GaussianPolicy(game.state_dim, game.action_dim, T)
    flow = TimeFlow(game.state_dim, T, kind=flow_kind)
    # G_0: the population of the initial (untrained) average policy
    t0, x0 = _population_samples(game, avg, n_agents, gen)
    flow.fit(t0, x0, steps=flow_steps, seed=seed)
    result = DEDAFPResult(avg, flow, {"iteration": [], "br_return": [], "seconds": []})
    memory: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    br_policy = None
    start = time.perf_counter()
    for k in range(int(iterations)):
        mfs = result.mean_fields(T, n_agents)
        br = ppo_best_response(
            game,
            mfs,
            iterations=br_iterations,
            n_agents=n_agents,
            policy=br_policy,
            eval_every=br_iterations,
            seed=seed + k,
        )
        br_policy = br.policy
        xs, acts, _, _ = rollout(game, br_policy, mfs, n_agents, gen)
        keep = torch.randperm(T * n_agents, generator=gen)[:memory_per_iteration]
        times = torch.arange(T, dtype=torch.float32).repeat_interleave(n_agents)
        memory.append((times[keep], xs.reshape(T * n_agents, -1)[keep], acts.reshape(T * n_agents, -1)[keep]))
        mt, mx, ma = (torch.cat(z) for z in zip(*memory, strict=True))
        behavioural_cloning(avg, mt, mx, ma, steps=bc_steps, seed=seed + k)
        tp, xp = _population_samples(game, avg, n_agents, gen)
        flow.fit(tp, xp, steps=flow_steps, seed=seed + k)
        result.history["iteration"].append(k + 1)
        result.history["br_return"].append(br.history["return"][-1])
        result.history["seconds"].append(time.perf_counter() - start)
        if callback is not None:
            callback(k, result)
    return result
