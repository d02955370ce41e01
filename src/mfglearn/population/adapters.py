"""Gymnasium and PettingZoo adapters (``pip install 'mfglearn[envs]'``).

* :func:`best_response_env`: the representative agent's MDP against a fixed
  mean-field flow (finite horizon) or stationary mean field (discounted games), as a
  Gymnasium ``Env`` (plug any single-agent RL library in to learn a best response).
* :func:`nplayer_env`: the ``N``-player game as a PettingZoo ``ParallelEnv``; each
  agent's reward uses the population's empirical distribution.

Finite horizon: observations are ``[state, t]`` (``MultiDiscrete([S, H + 1])``).
Discounted: observations are the state (``Discrete(S)``), episodes start from the
mean field (mfglearn's objective ``J(pi, mu) = mu . V``) and are truncated after
``episode_length`` steps; the learner discounts with ``game.gamma``. Actions are
``Discrete(A)``. In games with a legal-action mask an illegal action is replaced
by the state's first legal action (``info["action_mask"]`` lists the legal ones).
"""

from __future__ import annotations

import numpy as np
import torch

from mfglearn.errors import ValidationError, missing_extra
from mfglearn.model.finite import FiniteMFG


def _need(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise missing_extra(module, "envs") from None


def _check_game(game) -> None:
    if not isinstance(game, FiniteMFG) or not game.is_finite_horizon:
        raise ValidationError("the adapters need a finite-horizon FiniteMFG")


def _legalise(game: FiniteMFG, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    if game.legal is None:
        return actions
    legal = game.legal.cpu().numpy()
    ok = legal[states, actions]
    first = legal.argmax(-1)
    return np.where(ok, actions, first[states])


def best_response_env(
    game: FiniteMFG,
    policy: torch.Tensor | None = None,
    mean_field: torch.Tensor | None = None,
    *,
    episode_length: int | None = None,
    reset_uniform_eps: float = 0.0,
):
    """A Gymnasium env: one agent against the flow of ``policy`` (default uniform) or a given ``mean_field``.

    Args:
        game: a finite-horizon or discounted game.
        policy: population policy whose mean field the agent faces: ``(H, S, A)`` (its flow) or, on a
            discounted game, ``(S, A)`` (its stationary mean field).
        mean_field: the mean field to face instead: an ``(H+1, S)`` flow, or ``(S,)`` on a discounted game
            (state mean-field games only).
        episode_length: discounted games: steps before an episode is truncated (default
            ``ceil(10 / (1 - gamma))``, where the discount has shrunk the tail below ``e^-10``).
        reset_uniform_eps: discounted games: start an episode from the uniform distribution with this
            probability instead of the mean field (exploration, as Bench-MFG's ``FixedMeanFieldEnv``).
    """
    gym = _need("gymnasium")
    from gymnasium import spaces

    if isinstance(game, FiniteMFG) and not game.is_finite_horizon:
        return _discounted_env(gym, spaces, game, policy, mean_field, episode_length, reset_uniform_eps)

    from mfglearn.core.flow import flow_from_mu, mean_field_flow
    from mfglearn.core.policy import check_policy
    from mfglearn.core.value import freeze

    _check_game(game)
    if mean_field is not None:
        flow = flow_from_mu(game, torch.as_tensor(mean_field, dtype=game.dtype, device=game.device))
    else:
        flow = mean_field_flow(game, check_policy(game, game.uniform_policy() if policy is None else policy))
    mdp = freeze(game, flow)
    sparse = [k.to_sparse() for k in mdp.kernels]
    rewards = mdp.reward.cpu().numpy()
    terminal = mdp.terminal.cpu().numpy()
    probs = [np.cumsum(sp.prob.cpu().numpy(), -1) for sp in sparse]
    index = [sp.index.cpu().numpy() for sp in sparse]
    mu0 = game.mu0.cpu().numpy()
    S, A, H = game.S, game.A, game.H
    legal = None if game.legal is None else game.legal.cpu().numpy()

    class MeanFieldBestResponseEnv(gym.Env):
        """Representative agent of ``game`` against a frozen mean-field flow."""

        metadata = {"render_modes": []}

        def __init__(self):
            self.observation_space = spaces.MultiDiscrete([S, H + 1])
            self.action_space = spaces.Discrete(A)
            self.mean_field = flow.mu
            self._s, self._t = 0, 0

        def _obs(self):
            return np.array([self._s, self._t], dtype=np.int64)

        def _info(self):
            return {} if legal is None else {"action_mask": legal[self._s].astype(np.int8)}

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self._s = int(self.np_random.choice(S, p=mu0 / mu0.sum()))
            self._t = 0
            return self._obs(), self._info()

        def step(self, action):
            a = int(_legalise(game, np.array([self._s]), np.array([int(action)]))[0])
            r = float(rewards[self._t, self._s, a])
            u = self.np_random.random()
            b = min(int((u > probs[self._t][self._s, a]).sum()), probs[self._t].shape[-1] - 1)
            self._s = int(index[self._t][self._s, a, b])
            self._t += 1
            done = self._t >= H
            if done:
                r += float(terminal[self._s])
            return self._obs(), r, done, False, self._info()

    return MeanFieldBestResponseEnv()


def _discounted_env(gym, spaces, game, policy, mean_field, episode_length, reset_uniform_eps):
    import math

    from mfglearn._common.checks import check_int, check_unit_interval
    from mfglearn.core.policy import check_policy
    from mfglearn.core.stationary import freeze_stationary, stationary_distribution

    pi = check_policy(game, game.uniform_policy() if policy is None else policy)
    if mean_field is not None:
        mu = torch.as_tensor(mean_field, dtype=game.dtype, device=game.device)
        if mu.shape != (game.S,):
            raise ValidationError(f"mean_field must be an ({game.S},) stationary distribution, got {tuple(mu.shape)}")
    else:
        mu = stationary_distribution(game, pi)
    mdp = freeze_stationary(game, mu, pi)
    sp = mdp.kernel.to_sparse()
    rewards = mdp.reward.cpu().numpy()
    cdf = np.cumsum(sp.prob.cpu().numpy(), -1)
    index = sp.index.cpu().numpy()
    S, A = game.S, game.A
    eps = check_unit_interval("reset_uniform_eps", reset_uniform_eps, closed_low=True)
    start = (1 - eps) * mu.cpu().numpy() + eps / S
    start = start / start.sum()
    length = check_int("episode_length", episode_length) if episode_length is not None else None
    length = length or int(math.ceil(10.0 / (1.0 - float(game.gamma))))
    legal = None if game.legal is None else game.legal.cpu().numpy()

    class StationaryBestResponseEnv(gym.Env):
        """Representative agent of a discounted ``game`` against a frozen stationary mean field."""

        metadata = {"render_modes": []}

        def __init__(self):
            self.observation_space = spaces.Discrete(S)
            self.action_space = spaces.Discrete(A)
            self.mean_field = mu
            self.gamma = float(game.gamma)
            self.episode_length = length
            self._s, self._n = 0, 0

        def _info(self):
            return {} if legal is None else {"action_mask": legal[self._s].astype(np.int8)}

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self._s = int(self.np_random.choice(S, p=start))
            self._n = 0
            return self._s, self._info()

        def step(self, action):
            a = int(_legalise(game, np.array([self._s]), np.array([int(action)]))[0])
            r = float(rewards[self._s, a])
            u = self.np_random.random()
            b = min(int((u > cdf[self._s, a]).sum()), cdf.shape[-1] - 1)
            self._s = int(index[self._s, a, b])
            self._n += 1
            return self._s, r, False, self._n >= length, self._info()

    return StationaryBestResponseEnv()


def nplayer_env(game: FiniteMFG, n_agents: int):
    """The ``N``-player version of ``game`` as a PettingZoo ``ParallelEnv`` (agents ``agent_0..agent_{N-1}``)."""
    _need("pettingzoo")
    from gymnasium import spaces
    from pettingzoo import ParallelEnv

    _check_game(game)
    if int(n_agents) < 1:
        raise ValidationError(f"n_agents must be >= 1, got {n_agents}")
    N, S, A, H = int(n_agents), game.S, game.A, game.H
    mu0 = game.mu0.cpu().numpy()
    legal = None if game.legal is None else game.legal.cpu().numpy()

    class NPlayerParallelEnv(ParallelEnv):
        """``N`` agents playing ``game``; rewards and dynamics use the empirical distribution."""

        metadata = {"name": "mfglearn_nplayer_v0", "render_modes": []}

        def __init__(self):
            self.possible_agents = [f"agent_{i}" for i in range(N)]
            self.agents = []
            self._obs_space = spaces.MultiDiscrete([S, H + 1])
            self._act_space = spaces.Discrete(A)
            self._rng = np.random.default_rng()
            self._states = np.zeros(N, dtype=np.int64)
            self._t = 0

        def observation_space(self, agent):
            return self._obs_space

        def action_space(self, agent):
            return self._act_space

        def _observations(self):
            return {a: np.array([self._states[i], self._t], dtype=np.int64) for i, a in enumerate(self.agents)}

        def _infos(self):
            if legal is None:
                return {a: {} for a in self.agents}
            return {a: {"action_mask": legal[self._states[i]].astype(np.int8)} for i, a in enumerate(self.agents)}

        def reset(self, seed=None, options=None):
            if seed is not None:
                self._rng = np.random.default_rng(seed)
            self.agents = list(self.possible_agents)
            self._states = self._rng.choice(S, size=N, p=mu0 / mu0.sum())
            self._t = 0
            return self._observations(), self._infos()

        def step(self, actions):
            acts = np.array([int(actions.get(a, 0)) for a in self.possible_agents], dtype=np.int64)
            acts = _legalise(game, self._states, acts)
            emp = np.bincount(self._states, minlength=S) / N
            mu = torch.as_tensor(emp, dtype=game.dtype, device=game.device)
            if game.mean_field == "state_action":
                sa = np.zeros((S, A))
                np.add.at(sa, (self._states, acts), 1.0 / N)
                mu = torch.as_tensor(sa, dtype=game.dtype, device=game.device)
            r = game.reward_at(self._t, mu).cpu().numpy()[self._states, acts]
            sp = game.kernel_at(self._t, mu).to_sparse()
            cum = np.cumsum(sp.prob.cpu().numpy()[self._states, acts], -1)
            b = np.minimum((self._rng.random((N, 1)) > cum).sum(-1), cum.shape[-1] - 1)
            self._states = sp.index.cpu().numpy()[self._states, acts, b]
            self._t += 1
            done = self._t >= H
            if done and game.terminal_reward is not None:
                emp = torch.as_tensor(np.bincount(self._states, minlength=S) / N, dtype=game.dtype)
                r = r + game.terminal_at(emp.to(game.device)).cpu().numpy()[self._states]
            obs, infos = self._observations(), self._infos()
            rewards = {a: float(r[i]) for i, a in enumerate(self.agents)}
            terms = {a: done for a in self.agents}
            truncs = {a: False for a in self.agents}
            if done:
                self.agents = []
            return obs, rewards, terms, truncs, infos

    return NPlayerParallelEnv()
