"""Best response by deep RL against a frozen mean-field flow: PPO and SAC, vectorised over many agents.

The agents of a :class:`~mfglearn.games.continuous.ContinuousMFG` are simulated as one
``(N, d)`` batch against given mean fields ``mu_0..mu_T`` (the population is frozen: a
best response does not move it). Policies are time-conditioned Gaussians
(:class:`~mfglearn.deep.cloning.GaussianPolicy`), critics MLPs on ``(t, x)`` (PPO) or
``(t, x, a)`` (SAC); finite horizon, undiscounted, time is part of the input.

* :func:`sac_best_response`: soft actor-critic (twin critics, target networks, learned
  temperature), tanh-squashed actions when the game bounds them; sample efficient.
* :func:`ppo_best_response`: clipped-surrogate PPO on returns-to-go; on-policy, simple.
* :func:`pathwise_best_response`: gradients of the simulated return through the game's
  differentiable dynamics (no critic); the most accurate on ``lq``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from mfglearn._common.checks import check_positive
from mfglearn.deep.cloning import GaussianPolicy
from mfglearn.deep.train import mlp, seeded
from mfglearn.errors import ValidationError


@dataclass
class BestResponse:
    """Outcome of a deep best response: the policy, its critic(s) and the evaluation history.

    ``critic`` is PPO's value net or SAC's state (twin critics, targets, temperature); it warm-starts
    the next best response in fictitious play.
    """

    policy: GaussianPolicy
    critic: object = None
    history: dict[str, list[float]] = field(default_factory=dict)
    method: str = "ppo"
    critic_config: dict = field(default_factory=dict)  # rebuilds a blank critic to load weights into


def _device_of(policy) -> torch.device:
    return next(policy.parameters()).device


def rollout(game, policy, mean_fields: list, n_agents: int, generator: torch.Generator, deterministic: bool = False):
    """Simulate ``n_agents`` agents playing ``policy`` against ``mean_fields``.

    ``policy`` has ``sample(t, x, generator) -> (a, log_prob)`` and ``mean_action(t, x)``.
    Returns ``(states (T+1, N, d), actions (T, N, k), rewards (T, N), log_probs (T, N))``;
    the terminal reward is added to the last step's reward. Rewards are paid on the actions as
    played (clipped to the game's bound).
    """
    T = int(game.horizon)
    dev = generator.device
    x = game.initial(n_agents, generator).to(device=dev, dtype=torch.float32)
    xs, acts, rs, lps = [x], [], [], []
    with torch.no_grad():
        for t in range(T):
            tt = torch.full((n_agents,), float(t), device=dev)
            if deterministic:
                a, lp = policy.mean_action(tt, x), torch.zeros(n_agents, device=dev)
            else:
                a, lp = policy.sample(tt, x, generator)
            r = game.reward(t, x, game.clip_action(a), mean_fields[t]).to(torch.float32)
            x = game.step(t, x, a, mean_fields[t], generator).to(torch.float32)
            xs.append(x)
            acts.append(a)
            rs.append(r)
            lps.append(lp)
        if game.terminal_reward is not None:
            rs[-1] = rs[-1] + game.terminal_reward(x, mean_fields[T]).to(torch.float32)
    return torch.stack(xs), torch.stack(acts), torch.stack(rs), torch.stack(lps)


def evaluate_policy(game, policy, mean_fields: list, n_agents: int = 10_000, seed: int = 0, deterministic=True):
    """Mean return and its standard error of ``policy`` against the frozen ``mean_fields``."""
    dev = _device_of(policy) if isinstance(policy, torch.nn.Module) else torch.device("cpu")
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    _, _, r, _ = rollout(game, policy, mean_fields, n_agents, gen, deterministic=deterministic)
    ret = r.sum(0)
    return float(ret.mean()), float(ret.std() / math.sqrt(n_agents))


def _record_return(history: dict, it: int, game, policy, mean_fields, n_agents: int, gen) -> None:
    """Append the deterministic policy's mean return (fresh episodes) to ``history``."""
    _, _, r_eval, _ = rollout(game, policy, mean_fields, n_agents, gen, deterministic=True)
    history["iteration"].append(it)
    history["return"].append(float(r_eval.sum(0).mean()))


def _check_flow(game, mean_fields):
    T = int(game.horizon)
    if len(mean_fields) != T + 1:
        raise ValidationError(f"need one mean field per time 0..T ({T + 1}), got {len(mean_fields)}")
    return T


def _new_policy(game, hidden, init_std, device, bound=None, time_onehot: bool = False) -> GaussianPolicy:
    policy = GaussianPolicy(game.state_dim, game.action_dim, game.horizon, hidden, bound, time_onehot).to(device)
    with torch.no_grad():  # start near N(0, init_std^2) everywhere: a random feedback gain can blow up the state
        scale = 1.0 if bound is None else bound
        policy.net[-1].weight.mul_(0.01)
        policy.net[-1].bias[: game.action_dim] = 0.0
        policy.net[-1].bias[game.action_dim :] = math.log(init_std / scale)
    return policy


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
    warm: BestResponse | None = None,
    device="cpu",
    seed: int = 0,
    time_onehot: bool = False,
) -> BestResponse:
    """Train a best response to the frozen flow ``mean_fields`` (``T + 1`` mean fields) by PPO.

    Args:
        game: a :class:`~mfglearn.games.continuous.ContinuousMFG`.
        mean_fields: the population at ``t = 0..T``.
        iterations: PPO iterations (one batch of ``n_agents`` episodes each).
        epochs, batch_size, lr, clip: PPO's update.
        init_std: initial action standard deviation.
        eval_every: every that many iterations, record the mean return of the deterministic policy.
        warm: a previous PPO best response to continue from (policy and value net).
        time_onehot: the new policy also sees a one-hot of the time step (``GaussianPolicy``).
        device: torch device of the networks and the simulated agents.
        seed: random seed.
    """
    T = _check_flow(game, mean_fields)
    gen = torch.Generator(device=device).manual_seed(int(seed))
    if warm is not None and warm.method == "ppo":
        policy, value_net = warm.policy, warm.critic
    else:
        with seeded(seed, device):  # network initialisation
            policy = warm.policy if warm is not None else _new_policy(game, hidden, init_std, device, None, time_onehot)
            value_net = mlp(game.state_dim + 1, 1, hidden).to(device)
    opt = torch.optim.Adam(policy.net.parameters(), lr=lr)
    vopt = torch.optim.Adam(value_net.parameters(), lr=3 * lr)
    history: dict[str, list[float]] = {"iteration": [], "return": []}
    times = torch.arange(T, dtype=torch.float32, device=device).view(T, 1).expand(T, n_agents)
    for it in range(int(iterations)):
        xs, acts, rs, lps = rollout(game, policy, mean_fields, n_agents, gen)
        xs = xs[:-1]
        returns = rs.flip(0).cumsum(0).flip(0)
        inputs = torch.cat([(times / T).unsqueeze(-1), xs], -1)
        with torch.no_grad():
            adv = returns - value_net(inputs)[..., 0]
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        n = T * n_agents
        X, Aa, LP, ADV = xs.reshape(n, -1), acts.reshape(n, -1), lps.reshape(n), adv.reshape(n)
        G, TT, INP = returns.reshape(n), times.reshape(n), inputs.reshape(n, -1)
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen, device=device)
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
            _record_return(history, it + 1, game, policy, mean_fields, eval_agents, gen)
    return BestResponse(policy, value_net, history, "ppo", {"hidden": [int(h) for h in hidden]})


def pathwise_best_response(
    game,
    mean_fields: list,
    iterations: int = 200,
    n_agents: int = 2048,
    lr: float = 3e-3,
    init_std: float = 0.5,
    hidden=(64, 64),
    eval_every: int = 0,
    eval_agents: int = 10_000,
    warm: BestResponse | None = None,
    device="cpu",
    seed: int = 0,
    time_onehot: bool = False,
) -> BestResponse:
    """Train a best response to the frozen flow ``mean_fields`` by gradients through the simulated dynamics.

    Each iteration simulates ``n_agents`` episodes with reparameterised actions
    (``a = mean + std * eps``) and takes one Adam step on minus their mean return, differentiated
    through the game's drift and reward (backpropagation through time, the "direct" method of
    Carmona and Lauriere). It needs a game whose ``drift`` and ``reward`` are differentiable torch
    functions of ``x`` and ``a`` (every continuous game in mfglearn; wall stops and bounds give
    zero gradients where they bind). On ``lq`` its best responses are several times closer to
    Riccati's than PPO's at equal time (``benchmarks/study_deda_fp.py budget``): there is no value
    function to learn and no score-function variance. The action spread is learned too, and
    shrinks where noise only costs.

    Args:
        iterations: gradient steps, one batch of ``n_agents`` episodes each.
        lr: Adam's step size.
        init_std, hidden, time_onehot: the new policy's initial action spread, layers and time inputs
            (:class:`~mfglearn.deep.cloning.GaussianPolicy`; ignored when ``warm``).
        eval_every: every that many iterations, record the mean return of the deterministic policy.
        warm: a previous best response to continue from (its policy).
        device, seed: torch device and random seed.
    """
    T = _check_flow(game, mean_fields)
    lr = check_positive("lr", lr)
    gen = torch.Generator(device=device).manual_seed(int(seed))
    if warm is not None:
        policy = warm.policy
    else:
        with seeded(seed, device):
            policy = _new_policy(game, hidden, init_std, device, time_onehot=time_onehot)
    opt = torch.optim.Adam(policy.net.parameters(), lr=lr)
    history: dict[str, list[float]] = {"iteration": [], "return": []}
    for it in range(int(iterations)):
        x = game.initial(n_agents, gen).to(device=device, dtype=torch.float32)
        total = torch.zeros(n_agents, device=device)
        for t in range(T):
            a, _ = policy.sample(torch.full((n_agents,), float(t), device=device), x, gen)
            total = total + game.reward(t, x, game.clip_action(a), mean_fields[t]).to(torch.float32)
            x = game.step(t, x, a, mean_fields[t], gen).to(torch.float32)
        if game.terminal_reward is not None:
            total = total + game.terminal_reward(x, mean_fields[T]).to(torch.float32)
        loss = -total.mean()
        if not loss.requires_grad:
            raise ValidationError(
                f"the pathwise best response needs rewards differentiable in the actions; {game.name!r}'s are not "
                "(use br_method='ppo')"
            )
        opt.zero_grad()
        loss.backward()
        opt.step()
        if eval_every and ((it + 1) % eval_every == 0 or it + 1 == iterations):
            _record_return(history, it + 1, game, policy, mean_fields, eval_agents, gen)
    return BestResponse(policy, None, history, "pathwise", {"hidden": [int(h) for h in hidden]})


class _SACCritic(torch.nn.Module):
    """Twin Q networks on ``(t / T, x, a / bound)``, their targets and the log temperature."""

    def __init__(self, game, hidden, init_alpha: float, scale: float | None):
        super().__init__()
        self.config = {"hidden": [int(h) for h in hidden], "init_alpha": float(init_alpha), "scale": scale}
        d_in = 1 + game.state_dim + game.action_dim
        self.q1, self.q2 = mlp(d_in, 1, hidden), mlp(d_in, 1, hidden)
        self.t1, self.t2 = mlp(d_in, 1, hidden), mlp(d_in, 1, hidden)
        self.t1.load_state_dict(self.q1.state_dict())
        self.t2.load_state_dict(self.q2.state_dict())
        for p in (*self.t1.parameters(), *self.t2.parameters()):
            p.requires_grad_(False)
        self.log_alpha = torch.nn.Parameter(torch.tensor(math.log(init_alpha)))
        self.horizon = float(game.horizon)
        self.scale = float(scale) if scale is not None else 1.0

    def inputs(self, t, x, a):
        return torch.cat([t.reshape(-1, 1) / self.horizon, x, a / self.scale], -1)

    def q(self, inp):
        return self.q1(inp)[:, 0], self.q2(inp)[:, 0]

    def target(self, inp):
        return torch.minimum(self.t1(inp)[:, 0], self.t2(inp)[:, 0])

    @torch.no_grad()
    def polyak(self, tau: float):
        for net, tgt in ((self.q1, self.t1), (self.q2, self.t2)):
            for p, pt in zip(net.parameters(), tgt.parameters(), strict=True):
                pt.lerp_(p, tau)


def sac_best_response(
    game,
    mean_fields: list,
    iterations: int = 100,
    n_agents: int = 256,
    updates_per_iteration: int = 50,
    batch_size: int = 512,
    buffer_size: int = 200_000,
    lr: float = 1e-3,
    tau: float = 0.01,
    init_alpha: float = 0.1,
    target_entropy: float | None = None,
    init_std: float = 0.5,
    action_scale: float | None = 3.0,
    hidden=(64, 64),
    eval_every: int = 0,
    eval_agents: int = 10_000,
    warm: BestResponse | None = None,
    device="cpu",
    seed: int = 0,
    time_onehot: bool = False,
) -> BestResponse:
    """Train a best response to the frozen flow ``mean_fields`` by soft actor-critic.

    Each iteration simulates ``n_agents`` episodes (``T * n_agents`` transitions into a replay
    buffer) and takes ``updates_per_iteration`` gradient steps. Finite horizon: the target of a
    step at ``t = T - 1`` is its reward (terminal reward included), otherwise
    ``r + min_i Q'_i(t+1, x', a') - alpha log pi(a' | t+1, x')``. The temperature ``alpha`` is
    learned towards ``target_entropy`` (default ``-action_dim``). Actions are squashed by tanh
    into the game's ``action_bound`` when it has one.

    Why it did worse than PPO inside fictitious play (``benchmarks/study_deda_fp.py best_responses``,
    on ``lq``'s equilibrium mean path, from scratch, 1024 episodes per iteration): after 20 iterations its
    error ``V* - J`` is 36 (PPO: 2.1), because its critic extrapolates the unbounded quadratic costs from
    few transitions; it needs ~60 iterations to reach 0.67, and its 240 iterations took 2.6x PPO's wall time; its
    learned temperature keeps an action spread that costs 0.36 with sampled actions against 0.07 with mean
    actions after 240 iterations. Fictitious play gives each best response 20 warm-started iterations
    (60 for the first), too few for it. Replay staleness is not the cause: the buffer starts empty for
    every best response.

    Args:
        game: a :class:`~mfglearn.games.continuous.ContinuousMFG`.
        mean_fields: the population at ``t = 0..T``.
        iterations: simulation batches.
        n_agents: episodes per batch.
        updates_per_iteration, batch_size, buffer_size, lr, tau: SAC's update.
        init_alpha, target_entropy: entropy temperature and its target.
        init_std: initial action standard deviation.
        action_scale: for games without an action bound, actions are squashed into
            ``[-action_scale, action_scale]`` (``None``: an unsquashed Gaussian). Bounding them keeps the
            critic's extrapolation from driving actions, and unstable dynamics, to infinity.
        eval_every: every that many iterations, record the mean return of the deterministic policy.
        warm: a previous SAC best response to continue from (policy, critics, temperature).
        time_onehot: the new policy also sees a one-hot of the time step (``GaussianPolicy``).
        device: torch device.
        seed: random seed.
    """
    T = _check_flow(game, mean_fields)
    gen = torch.Generator(device=device).manual_seed(int(seed))
    bound = game.action_bound if game.action_bound is not None else action_scale
    if warm is not None and warm.method == "sac":
        policy, critic = warm.policy, warm.critic
    else:
        with seeded(seed, device):  # network initialisation
            policy = (
                warm.policy if warm is not None else _new_policy(game, hidden, init_std, device, bound, time_onehot)
            )
            critic = _SACCritic(game, hidden, init_alpha, bound).to(device)
    target_entropy = -float(game.action_dim) if target_entropy is None else float(target_entropy)
    popt = torch.optim.Adam(policy.net.parameters(), lr=lr)
    qopt = torch.optim.Adam([*critic.q1.parameters(), *critic.q2.parameters()], lr=lr)
    aopt = torch.optim.Adam([critic.log_alpha], lr=lr)
    d, k = game.state_dim, game.action_dim
    width = 1 + d + k + 1 + d  # t, x, a, r, x'
    buf = torch.zeros(buffer_size, width, device=device)
    filled = pos = 0
    history: dict[str, list[float]] = {"iteration": [], "return": []}
    times = torch.arange(T, dtype=torch.float32, device=device).view(T, 1, 1).expand(T, n_agents, 1)
    for it in range(int(iterations)):
        xs, acts, rs, _ = rollout(game, policy, mean_fields, n_agents, gen)
        rows = torch.cat([times, xs[:-1], acts, rs.unsqueeze(-1), xs[1:]], -1).reshape(T * n_agents, width)
        rows = rows[-buffer_size:]
        idx = (pos + torch.arange(rows.shape[0], device=device)) % buffer_size
        buf[idx] = rows
        pos, filled = (pos + rows.shape[0]) % buffer_size, min(filled + rows.shape[0], buffer_size)
        for _ in range(int(updates_per_iteration)):
            b = buf[torch.randint(filled, (batch_size,), generator=gen, device=device)]
            t, x, a, r, x2 = b[:, 0], b[:, 1 : 1 + d], b[:, 1 + d : 1 + d + k], b[:, 1 + d + k], b[:, 2 + d + k :]
            alpha = critic.log_alpha.exp().detach()
            with torch.no_grad():
                a2, lp2 = policy.sample(t + 1, x2, gen)
                soft = critic.target(critic.inputs(t + 1, x2, a2)) - alpha * lp2
                y = r + torch.where(t < T - 1, soft, torch.zeros_like(soft))
            q1, q2 = critic.q(critic.inputs(t, x, a))
            qloss = ((q1 - y) ** 2).mean() + ((q2 - y) ** 2).mean()
            qopt.zero_grad()
            qloss.backward()
            qopt.step()
            an, lpn = policy.sample(t, x, gen)
            qn1, qn2 = critic.q(critic.inputs(t, x, an))
            ploss = (alpha * lpn - torch.minimum(qn1, qn2)).mean()
            popt.zero_grad()
            ploss.backward()
            popt.step()
            aloss = -(critic.log_alpha * (lpn.detach() + target_entropy)).mean()
            aopt.zero_grad()
            aloss.backward()
            aopt.step()
            critic.polyak(tau)
        if eval_every and ((it + 1) % eval_every == 0 or it + 1 == iterations):
            _record_return(history, it + 1, game, policy, mean_fields, eval_agents, gen)
    return BestResponse(policy, critic, history, "sac", critic.config)


def best_response_state(br: BestResponse) -> dict:
    """A best response as tensors and JSON-able settings (for checkpoints; never pickled)."""
    return {
        "method": br.method,
        "policy": {"config": br.policy.config, "weights": br.policy.state_dict()},
        "critic": {"config": br.critic_config, "weights": None if br.critic is None else br.critic.state_dict()},
        "history": br.history,
    }


def best_response_from_state(game, d: dict, device) -> BestResponse:
    """Rebuild a :func:`best_response_state` (blank modules of the same shapes, then the weights)."""
    policy = GaussianPolicy(**d["policy"]["config"]).to(device)
    policy.load_state_dict(d["policy"]["weights"])
    cfg = d["critic"]["config"]
    if d["method"] == "pathwise":
        return BestResponse(policy, None, d["history"], "pathwise", cfg)
    if d["method"] == "ppo":
        critic = mlp(game.state_dim + 1, 1, cfg["hidden"]).to(device)
    else:
        critic = _SACCritic(game, cfg["hidden"], cfg["init_alpha"], cfg["scale"]).to(device)
    critic.load_state_dict(d["critic"]["weights"])
    return BestResponse(policy, critic, d["history"], d["method"], cfg)


BEST_RESPONSES = {"ppo": ppo_best_response, "sac": sac_best_response, "pathwise": pathwise_best_response}


def best_response(game, mean_fields: list, method: str = "sac", **kwargs) -> BestResponse:
    """Deep best response by ``method`` (``"sac"``, ``"ppo"`` or ``"pathwise"``); keywords go to that trainer."""
    if method not in BEST_RESPONSES:
        raise ValidationError(f"best-response method must be one of {sorted(BEST_RESPONSES)}, got {method!r}")
    return BEST_RESPONSES[method](game, mean_fields, **kwargs)
