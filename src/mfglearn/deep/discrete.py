"""Building blocks of deep RL on finite games: state features, networks over ``(t, s)``, rollouts, DQN.

A network sees a state ``s`` at time ``t`` through :class:`StateFeatures` (one-hot of ``s`` on
small games, grid or line coordinates when the game's ``layout`` has them, and ``t / H``) and
outputs one number per action. :func:`tabulate` evaluates it on every ``(t, s)`` at once, which
turns a network policy into the ``(H, S, A)`` tensor the exact primitives take: its exact
mean field and exploitability then come from :mod:`mfglearn.core` (as OpenSpiel's deep MFG
algorithms compute distributions). :func:`rollout` simulates agents against a frozen MDP
(the game's rewards and kernels along a mean-field flow), one batch of agents per time step.
"""

from __future__ import annotations

import math

import torch

from mfglearn._common.sampling import categorical
from mfglearn.deep.sampled import environment
from mfglearn.deep.train import mlp
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG

NEG = -1e9  # masked logits: exp underflows to exactly 0 without the NaNs of -inf arithmetic


class StateFeatures:
    """Features of ``(t, s)`` for networks: ``[one-hot(s)] + [coordinates(s)] + [one-hot(t)] + [t / H]``, float32.

    Args:
        game: a finite-horizon :class:`~mfglearn.model.finite.FiniteMFG`.
        onehot_max: one-hot features when ``S <= onehot_max`` (they make any tabular policy
            representable); larger games get coordinates only.

    Coordinates come from ``game.layout``: ``cells`` (row, column per state), ``grid_shape``
    (row-major grid) or ``line`` (positions on a line), scaled to ``[-1, 1]``. A game with
    neither needs ``S <= onehot_max``. Time is one-hot too when ``H <= onehot_max``: with ``t / H``
    alone, a Q-network barely separates consecutive steps, and bootstrapping on its own next-step
    values ran away in an early version of these solvers on ``four_rooms``.
    """

    def __init__(self, game: FiniteMFG, onehot_max: int = 4096):
        self.S, self.H = game.S, game.H
        self.onehot_max = int(onehot_max)
        coords = _coordinates(game)
        if coords is None and game.S > onehot_max:
            raise ValidationError(
                f"game {game.name!r} has {game.S} states and no coordinates in its layout: raise onehot_max "
                f"(now {onehot_max}) or give the game a layout with 'cells', 'grid_shape' or 'line'"
            )
        self.onehot = game.S <= onehot_max
        self.time_onehot = game.H <= onehot_max
        self.coords = None if coords is None else coords.to(device=game.device)
        coord_dim = 0 if coords is None else coords.shape[1]
        self.dim = (game.S if self.onehot else 0) + coord_dim + (game.H if self.time_onehot else 0) + 1

    def __call__(self, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Features ``(N, dim)`` of times ``t`` ``(N,)`` and states ``s`` ``(N,)`` (long tensors)."""
        parts = []
        if self.onehot:
            parts.append(torch.nn.functional.one_hot(s, self.S).to(torch.float32))
        if self.coords is not None:
            parts.append(self.coords[s])
        if self.time_onehot:
            parts.append(torch.nn.functional.one_hot(t, self.H).to(torch.float32))
        parts.append((t.to(torch.float32) / max(self.H, 1)).unsqueeze(-1))
        return torch.cat(parts, -1)


def _coordinates(game: FiniteMFG) -> torch.Tensor | None:
    lay = game.layout or {}
    if "cells" in lay and len(lay["cells"]) == game.S:
        c = torch.tensor(lay["cells"], dtype=torch.float32)
    elif "grid_shape" in lay:
        rows, cols = (int(v) for v in lay["grid_shape"])
        if rows * cols != game.S:
            return None
        s = torch.arange(game.S)
        c = torch.stack([s // cols, s % cols], 1).to(torch.float32)
    elif "line" in lay:
        c = torch.arange(game.S, dtype=torch.float32).unsqueeze(1)
    else:
        return None
    lo, hi = c.min(0).values, c.max(0).values
    return 2 * (c - lo) / (hi - lo).clamp_min(1.0) - 1


class ActionNetwork(torch.nn.Module):
    """An MLP from :class:`StateFeatures` to one output per action (Q-values or logits), ``(N, A)``.

    Outputs are ``scale`` times the MLP's: Q-networks :meth:`calibrate` the scale once to the size
    of the returns, so that Adam's roughly fixed parameter steps fit values of any magnitude
    (undiscounted returns of a 30-step game reach the hundreds).
    """

    def __init__(self, in_dim: int, n_actions: int, hidden=(128, 128)):
        super().__init__()
        self.config = {"in_dim": int(in_dim), "n_actions": int(n_actions), "hidden": [int(h) for h in hidden]}
        self.net = mlp(in_dim, n_actions, hidden)
        self.register_buffer("scale", torch.zeros(()))  # 0: not calibrated (outputs in units of 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features) * self.scale.clamp_min(1.0)

    def calibrate(self, values: torch.Tensor) -> None:
        """Fix the output scale to the mean magnitude of ``values`` (once; later calls keep it)."""
        if float(self.scale) == 0.0:
            self.scale.fill_(max(float(values.abs().mean()), 1.0))

    @torch.no_grad()
    def zero_output_(self) -> ActionNetwork:
        """Set every output to 0 (as logits: the uniform policy); returns the network."""
        self.net[-1].weight.zero_()
        self.net[-1].bias.zero_()
        return self

    @torch.no_grad()
    def rescale(self, values: torch.Tensor) -> None:
        """Calibrate, or when ``values`` outgrew the scale 2x, grow it keeping every output unchanged."""
        if float(self.scale) == 0.0:
            return self.calibrate(values)
        old, new = float(self.scale.clamp_min(1.0)), float(values.abs().mean())
        if new > 2 * old:
            last = self.net[-1]
            last.weight.mul_(old / new)
            last.bias.mul_(old / new)
            self.scale.fill_(new)


def tabulate(net: ActionNetwork, features: StateFeatures, chunk: int = 1 << 16) -> torch.Tensor:
    """The network on every ``(t, s)``: ``(H, S, A)`` float32 (``chunk`` rows per forward pass)."""
    H, S = features.H, features.S
    dev = next(net.parameters()).device
    t = torch.arange(H, device=dev).repeat_interleave(S)
    s = torch.arange(S, device=dev).repeat(H)
    with torch.no_grad():
        out = torch.cat([net(features(t[i : i + chunk], s[i : i + chunk])) for i in range(0, H * S, chunk)])
    return out.view(H, S, -1)


def masked(values: torch.Tensor, legal: torch.Tensor | None, s: torch.Tensor | None = None) -> torch.Tensor:
    """``values`` with illegal actions set to a large negative number (``legal[s]`` when ``s`` is given)."""
    if legal is None:
        return values
    mask = legal if s is None else legal[s]
    return values.masked_fill(~mask, NEG)


def softmax_of(values: torch.Tensor, temperature: float, legal: torch.Tensor | None, s=None) -> torch.Tensor:
    """``softmax(values / temperature)`` over legal actions (last axis)."""
    return torch.softmax(masked(values / temperature, legal, s), -1)


def greedy_of(values: torch.Tensor, legal: torch.Tensor | None) -> torch.Tensor:
    """One-hot greedy policy (first maximiser) of ``values`` ``(..., A)`` over legal actions."""
    idx = masked(values, legal).argmax(-1)
    return torch.nn.functional.one_hot(idx, values.shape[-1]).to(values.dtype)


class NetworkPolicy:
    """A network over :class:`StateFeatures` as a policy: the softmax of its outputs over legal actions.

    What the deep solvers return on games too large to tabulate (``population="simulated"``);
    :meth:`tabulate` gives the ``(H, S, A)`` tensor where it fits.

    Args:
        net: an :class:`ActionNetwork` (logits).
        features: its :class:`StateFeatures`.
        legal: the game's ``(S, A)`` legal-action mask or ``None``.
    """

    def __init__(self, net: ActionNetwork, features: StateFeatures, legal: torch.Tensor | None):
        self.net, self.features, self.legal = net, features, legal

    def probs(self, t: int, s: torch.Tensor) -> torch.Tensor:
        """Action probabilities ``(N, A)`` float32 at time ``t`` in states ``s`` ``(N,)``."""
        with torch.no_grad():
            return softmax_of(self.net(self.features(torch.full_like(s, int(t)), s)), 1.0, self.legal, s)

    def log_probs(self, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(N, A)`` at times ``t`` and states ``s`` (both ``(N,)``), with gradients."""
        return torch.log_softmax(masked(self.net(self.features(t, s)), self.legal, s), -1)

    def act(self, t: int, s: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Sampled actions ``(N,)``."""
        return categorical(self.probs(t, s), generator)

    def tabulate(self) -> torch.Tensor:
        """The policy on every ``(t, s)``: ``(H, S, A)`` float32 (small games only)."""
        return softmax_of(tabulate(self.net, self.features), 1.0, self.legal)


def to_game_policy(game: FiniteMFG, pi: torch.Tensor) -> torch.Tensor:
    """A float32 network policy ``(H, S, A)`` in the game's dtype, renormalised over legal actions."""
    pi = pi.to(device=game.device, dtype=game.dtype)
    if game.legal is not None:
        pi = pi * game.legal
    return pi / pi.sum(-1, keepdim=True)


def rollout(
    env, mu0: torch.Tensor, act, n_agents: int, generator: torch.Generator, start: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Simulate ``n_agents`` agents against a frozen mean field: a :class:`~mfglearn.core.value.FrozenMDP` or a
    :class:`~mfglearn.deep.sampled.SampledPopulation` (a simulated population, no ``(H, S, A)`` tensor).

    ``act(t, s) -> a`` gives ``(N,)`` actions for ``(N,)`` states at time ``t``; ``mu0`` ``(S,)`` the
    initial distribution. ``start`` ``(N,)``: optional start times; agent ``i`` is put in a uniformly
    random state at ``start[i]`` (exploring starts) and its steps before that are not valid
    experience. Returns ``states (H+1, N)``, ``actions (H, N)`` and ``rewards (H, N)`` (float32; the
    terminal reward is added to the last step's).
    """
    env = environment(env)
    S = mu0.shape[0]
    s = torch.multinomial(mu0.to(torch.float64), n_agents, replacement=True, generator=generator)
    if start is not None:
        fresh = torch.randint(S, (n_agents,), generator=generator, device=mu0.device)
        s = torch.where(start == 0, fresh, s)
    states, actions, rewards = [s], [], []
    for t in range(env.H):
        if start is not None and t > 0:
            s = torch.where(start == t, fresh, s)
            states[-1] = s
        a = act(t, s)
        rewards.append(env.reward_of(t, s, a))
        s = env.step(t, s, a, generator)
        states.append(s)
        actions.append(a)
    rewards[-1] = rewards[-1] + env.terminal_of(s)
    return torch.stack(states), torch.stack(actions), torch.stack(rewards)


def flat_steps(states: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The steps of :func:`rollout`'s episodes as flat ``(H N,)`` times, states and actions (time-major)."""
    H = actions.shape[0]
    times = torch.arange(H, device=actions.device).view(H, 1).expand_as(actions)
    return times.reshape(-1), states[:-1].reshape(-1), actions.reshape(-1)


def returns_of(mdp, mu0: torch.Tensor, pi, n_agents: int, generator) -> tuple[float, float]:
    """Mean return and its standard error of a policy on fresh episodes against ``mdp`` (see :func:`rollout`):
    a tabular ``pi`` ``(H, S, A)``, or a callable ``act(t, s) -> a`` (e.g. :meth:`NetworkPolicy.act`)."""
    if callable(pi):
        act = pi
    else:
        pi64 = pi.to(torch.float64)

        def act(t, s):
            return categorical(pi64[t, s], generator)

    _, _, r = rollout(mdp, mu0, act, n_agents, generator)
    ret = r.to(torch.float64).sum(0)
    return float(ret.mean()), float(ret.std() / math.sqrt(n_agents))


def dqn_best_response(
    mdp,
    mu0: torch.Tensor,
    features: StateFeatures,
    q: ActionNetwork,
    steps: int,
    generator: torch.Generator,
    n_agents: int = 256,
    batch_size: int = 512,
    optimizer_lr: float = 1e-3,
    epsilon: float = 0.2,
    target_every: int = 10,
    buffer_episodes: int = 4096,
    explore_starts: float = 0.5,
) -> ActionNetwork:
    """Train ``q`` (in place) by DQN to a best response against the frozen ``mdp``; returns it.

    Finite horizon, undiscounted: the target of ``(t, s, a, r, s')`` is ``r + max_a' q_target(t+1, s')``
    over legal actions, and ``r`` alone at ``t = H - 1`` (the terminal reward is in it). Every
    ``target_every`` gradient steps, ``n_agents`` fresh epsilon-greedy episodes enter a replay
    buffer of the last ``buffer_episodes`` episodes and the target network is refreshed (values
    need about ``H`` refreshes to propagate from the end). A fraction ``explore_starts`` of the
    episodes starts at a uniformly random time in a uniformly random state: a best response must
    know the value of states the population never visits.

    Its accuracy depends on the budget and the step size. On an 8-step, 14-cell crowd grid against the
    uniform policy's mean field (the exact gain is 22.4), 600 steps left a gap of 0.05-3.8 over six
    seeds at ``optimizer_lr=1e-3`` and 0.00-0.11 at ``3e-3`` (``tests/deep/test_discrete.py``). On
    60-step games (``maze``) 1500 steps find a small part of the gain
    (``benchmarks/study_deep_discrete.py``): the estimate it feeds is a lower bound.
    """
    env = environment(mdp)
    H, legal = env.H, env.legal
    dev = mu0.device
    target = ActionNetwork(**q.config).to(dev)
    opt = torch.optim.Adam(q.parameters(), lr=optimizer_lr)
    buf: list[tuple[torch.Tensor, ...]] = []  # (t, s, a, s', r) of each batch of episodes, oldest first
    times = torch.arange(H, device=dev).view(H, 1)
    n_explore = int(round(explore_starts * n_agents))

    def act(t, s):
        with torch.no_grad():
            greedy = masked(q(features(torch.full_like(s, t), s)), legal, s).argmax(-1)
        explore = torch.rand(s.shape, generator=generator, device=dev) < epsilon
        uniform = categorical(_legal_rows(legal, s, q.config["n_actions"]), generator)
        return torch.where(explore, uniform, greedy)

    for step in range(int(steps)):
        if step % target_every == 0:
            target.load_state_dict(q.state_dict())
            start = torch.zeros(n_agents, dtype=torch.long, device=dev) - 1
            start[:n_explore] = torch.randint(H, (n_explore,), generator=generator, device=dev)
            st, ac, rw = rollout(env, mu0, act, n_agents, generator, start if n_explore else None)
            q.calibrate(rw.flip(0).cumsum(0))  # returns to go
            target.load_state_dict(q.state_dict())
            valid = (times >= start.view(1, -1)).reshape(-1)
            rows = (*flat_steps(st, ac), st[1:].reshape(-1), rw.reshape(-1))
            buf.append(tuple(z[valid] for z in rows))
            while len(buf) > 1 and (len(buf) - 1) * n_agents >= buffer_episodes:
                buf.pop(0)
            t0, s0, a0, s1, r0 = (torch.cat(z) for z in zip(*buf, strict=True))
            with torch.no_grad():  # targets from the frozen target network, computed once per refresh
                t1 = (t0 + 1).clamp_max(H - 1)
                nxt = masked(target(features(t1, s1)), legal, s1).amax(-1)
                y = r0 + torch.where(t0 + 1 < H, nxt, torch.zeros_like(nxt))
            inputs = features(t0, s0)
        idx = torch.randint(y.shape[0], (min(batch_size, y.shape[0]),), generator=generator, device=dev)
        pred = q(inputs[idx]).gather(1, a0[idx, None])[:, 0]
        loss = torch.nn.functional.smooth_l1_loss(pred, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return q


def ppo_update(
    logits: ActionNetwork,
    value: ActionNetwork,
    inputs: torch.Tensor,
    s0: torch.Tensor,
    a0: torch.Tensor,
    old_logp: torch.Tensor,
    returns: torch.Tensor,
    legal: torch.Tensor | None,
    generator: torch.Generator,
    epochs: int = 4,
    clip: float = 0.2,
    entropy: float = 0.0,
    batch_size: int = 1024,
    optimizer_lr: float = 1e-3,
) -> float:
    """PPO's clipped-surrogate epochs on one batch of steps (in place); returns the last minibatch's loss.

    ``inputs`` ``(M, dim)`` are the steps' features, ``s0``/``a0`` ``(M,)`` their states and actions,
    ``old_logp`` ``(M,)`` the actions' log-probabilities under the policy that took them and ``returns``
    ``(M,)`` the Monte-Carlo returns from each step; advantages are ``returns - value(inputs)``,
    standardised, and ``value`` is fitted to the returns alongside. Fresh Adam optimisers each call:
    checkpoints hold weights only.
    """
    value.calibrate(returns)
    with torch.no_grad():
        adv = returns - value(inputs)[:, 0]
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    n = returns.shape[0]
    opt = torch.optim.Adam(logits.parameters(), lr=optimizer_lr)
    vopt = torch.optim.Adam(value.parameters(), lr=optimizer_lr)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=generator, device=inputs.device)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            logp_all = torch.log_softmax(masked(logits(inputs[idx]), legal, s0[idx]), -1)
            ratio = (logp_all.gather(1, a0[idx, None])[:, 0] - old_logp[idx]).exp()
            surrogate = torch.min(ratio * adv[idx], ratio.clamp(1 - clip, 1 + clip) * adv[idx])
            ent = -(logp_all.exp() * logp_all.clamp_min(-1e4)).sum(-1)
            loss = -(surrogate + entropy * ent).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            vloss = torch.nn.functional.mse_loss(value(inputs[idx])[:, 0], returns[idx])
            vopt.zero_grad()
            vloss.backward()
            vopt.step()
    return float(loss.detach())


def ppo_best_response(
    env,
    mu0: torch.Tensor,
    features: StateFeatures,
    logits: ActionNetwork,
    value: ActionNetwork,
    iterations: int,
    generator: torch.Generator,
    n_agents: int = 1024,
    **ppo_kwargs,
) -> ActionNetwork:
    """Train ``logits`` (in place) by PPO to a best response against a frozen mean field; returns it.

    ``env``: a :class:`~mfglearn.core.value.FrozenMDP` or a :class:`~mfglearn.deep.sampled.SampledPopulation`.
    Each of the ``iterations`` simulates ``n_agents`` episodes of the current policy and takes
    :func:`ppo_update`'s epochs (``ppo_kwargs``) on their Monte-Carlo returns. No bootstrapping: unlike
    :func:`dqn_best_response`, whose values need about ``H`` target refreshes to travel back from the end,
    it learns on long horizons (``benchmarks/study_evacuation.py``, 300 steps).
    """
    env = environment(env)
    legal = env.legal
    policy = NetworkPolicy(logits, features, legal)
    for _ in range(int(iterations)):
        st, ac, rw = rollout(env, mu0, lambda t, s: policy.act(t, s, generator), n_agents, generator)
        t0, s0, a0 = flat_steps(st, ac)
        with torch.no_grad():
            old_logp = policy.log_probs(t0, s0).gather(1, a0[:, None])[:, 0]
        returns = rw.flip(0).cumsum(0).flip(0).reshape(-1)
        ppo_update(logits, value, features(t0, s0), s0, a0, old_logp, returns, legal, generator, **ppo_kwargs)
    return logits


def _legal_rows(legal: torch.Tensor | None, s: torch.Tensor, A: int) -> torch.Tensor:
    """Uniform distributions over the legal actions of each state in ``s``: ``(N, A)``."""
    if legal is None:
        return torch.full((s.shape[0], A), 1.0 / A, device=s.device)
    rows = legal[s].to(torch.float32)
    return rows / rows.sum(-1, keepdim=True)


__all__ = [
    "ActionNetwork",
    "NetworkPolicy",
    "StateFeatures",
    "dqn_best_response",
    "flat_steps",
    "greedy_of",
    "masked",
    "ppo_best_response",
    "ppo_update",
    "returns_of",
    "rollout",
    "softmax_of",
    "tabulate",
    "to_game_policy",
]
