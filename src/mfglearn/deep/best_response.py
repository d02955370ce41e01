"""Best response by deep RL against a frozen mean-field flow: PPO, vectorised over many agents.

The agents of a :class:`~mfglearn.games.continuous.ContinuousMFG` are simulated as one
``(N, d)`` batch against given mean fields ``mu_0..mu_T`` (the population is frozen: a
best response does not move it). The policy is a time-conditioned Gaussian
(:class:`~mfglearn.deep.cloning.GaussianPolicy`), the critic an MLP on ``(t, x)``;
finite horizon, undiscounted returns-to-go, normalised advantages, clipped surrogate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from mfglearn.deep.cloning import GaussianPolicy
from mfglearn.deep.train import mlp
from mfglearn.errors import ValidationError


@dataclass
class BestResponse:
    """Outcome of :func:`ppo_best_response`: the policy, its critic and the evaluation history."""

    policy: GaussianPolicy
    value_net: torch.nn.Module
    history: dict[str, list[float]] = field(default_factory=dict)


def rollout(game, policy, mean_fields: list, n_agents: int, generator: torch.Generator, deterministic: bool = False):
    """Simulate ``n_agents`` agents playing ``policy`` against ``mean_fields``.

    Returns ``(states (T, N, d), actions (T, N, k), rewards (T, N), log_probs (T, N))``; the
    terminal reward is added to the last step's reward.
    """
    T = int(game.horizon)
    x = game.initial(n_agents, generator).to(torch.float32)
    xs, acts, rs, lps = [], [], [], []
    for t in range(T):
        tt = torch.full((n_agents,), float(t))
        with torch.no_grad():
            mean, log_std = policy(tt, x)
            a = mean if deterministic else mean + log_std.exp() * torch.randn(mean.shape, generator=generator)
            lp = policy.log_prob(tt, x, a)
            r = game.reward(t, x, a, mean_fields[t]).to(torch.float32)
            nxt = game.step(t, x, a, mean_fields[t], generator).to(torch.float32)
        xs.append(x)
        acts.append(a)
        rs.append(r)
        lps.append(lp)
        x = nxt
    if game.terminal_reward is not None:
        with torch.no_grad():
            rs[-1] = rs[-1] + game.terminal_reward(x, mean_fields[T]).to(torch.float32)
    return torch.stack(xs), torch.stack(acts), torch.stack(rs), torch.stack(lps)


def ppo_best_response(
    game,
    mean_fields: list,
    iterations: int = 100,
    n_agents: int = 2048,
    epochs: int = 4,
    batch_size: int = 4096,
    lr: float = 3e-4,
    clip: float = 0.2,
    init_std: float = 0.5,
    hidden=(64, 64),
    eval_every: int = 0,
    eval_agents: int = 10_000,
    policy: GaussianPolicy | None = None,
    seed: int = 0,
) -> BestResponse:
    """Train a best response to the frozen flow ``mean_fields`` (``T + 1`` mean fields) by PPO.

    Args:
        game: a :class:`~mfglearn.games.continuous.ContinuousMFG`.
        mean_fields: the population at ``t = 0..T``.
        iterations: PPO iterations (one batch of ``n_agents`` episodes each).
        epochs, batch_size, lr, clip: PPO's update.
        init_std: initial action standard deviation.
        eval_every: every that many iterations, record the mean return of the deterministic policy.
        policy: warm start (e.g. the previous best response).
        seed: random seed.
    """
    T = int(game.horizon)
    if len(mean_fields) != T + 1:
        raise ValidationError(f"need one mean field per time 0..T ({T + 1}), got {len(mean_fields)}")
    torch.manual_seed(seed)  # network initialisation
    gen = torch.Generator().manual_seed(int(seed))
    if policy is None:
        policy = GaussianPolicy(game.state_dim, game.action_dim, T, hidden)
        with torch.no_grad():
            policy.net[-1].bias[game.action_dim :] = math.log(init_std)
    value_net = mlp(game.state_dim + 1, 1, hidden)
    opt = torch.optim.Adam(policy.net.parameters(), lr=lr)
    vopt = torch.optim.Adam(value_net.parameters(), lr=3 * lr)
    history: dict[str, list[float]] = {"iteration": [], "return": []}
    times = torch.arange(T, dtype=torch.float32).view(T, 1).expand(T, n_agents)
    for it in range(int(iterations)):
        xs, acts, rs, lps = rollout(game, policy, mean_fields, n_agents, gen)
        returns = rs.flip(0).cumsum(0).flip(0)
        inputs = torch.cat([(times / T).unsqueeze(-1), xs], -1)
        with torch.no_grad():
            adv = returns - value_net(inputs)[..., 0]
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        n = T * n_agents
        X, Aa, LP, ADV = xs.reshape(n, -1), acts.reshape(n, -1), lps.reshape(n), adv.reshape(n)
        G, TT, INP = returns.reshape(n), times.reshape(n), inputs.reshape(n, -1)
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n, batch_size):
                idx = perm[i : i + batch_size]
                ratio = (policy.log_prob(TT[idx], X[idx], Aa[idx]) - LP[idx]).exp()
                loss = -torch.min(ratio * ADV[idx], ratio.clamp(1 - clip, 1 + clip) * ADV[idx]).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                vloss = ((value_net(INP[idx])[..., 0] - G[idx]) ** 2).mean()
                vopt.zero_grad()
                vloss.backward()
                vopt.step()
        if eval_every and ((it + 1) % eval_every == 0 or it + 1 == iterations):
            _, _, r_eval, _ = rollout(game, policy, mean_fields, eval_agents, gen, deterministic=True)
            history["iteration"].append(it + 1)
            history["return"].append(float(r_eval.sum(0).mean()))
    return BestResponse(policy, value_net, history)
