"""Best responses learned by deep RL (Stable-Baselines3 PPO or DQN), for fictitious play on discounted games.

``pip install 'mfglearn[rl]'``. :class:`SB3BestResponse` trains an agent on
:func:`~mfglearn.population.adapters.best_response_env` (the discounted MDP against a frozen
stationary mean field, episodes starting from the mean field) and reads back a deterministic
tabular policy, as Bench-MFG's ``PPOBestResponse`` / ``DQNBestResponse`` do. Pass it as
``best_response=`` to ``benchmfg_fixed_point``; the learned policy's exact exploitability
is still computed by the model.
"""

from __future__ import annotations

import numpy as np
import torch

from mfglearn._common.checks import check_choice, check_int, check_unit_interval
from mfglearn.errors import missing_extra
from mfglearn.model.finite import FiniteMFG
from mfglearn.population.adapters import best_response_env


class SB3BestResponse:
    """``br(game, mean_field) -> (S, A)`` one-hot policy learned by Stable-Baselines3.

    Args:
        algorithm: ``"ppo"`` or ``"dqn"``.
        total_timesteps: environment steps of training per best response (Bench-MFG: 10,000).
        seed: the agent's seed (a new agent per call unless ``warm_start``).
        reset_uniform_eps: probability that an episode starts uniformly instead of from the mean field.
        episode_length: steps before truncation (default: the env's ``ceil(10 / (1 - gamma))``).
        normalize_reward: wrap the env in ``VecNormalize`` (rewards only), as Bench-MFG does for PPO.
        warm_start: keep training the same agent across calls (its state is not checkpointed).
        **sb3_kwargs: passed to the SB3 constructor (e.g. ``learning_rate``, ``n_steps``, ``batch_size``).
    """

    def __init__(
        self,
        algorithm: str = "ppo",
        total_timesteps: int = 10_000,
        seed: int = 0,
        reset_uniform_eps: float = 0.1,
        episode_length: int | None = None,
        normalize_reward: bool | None = None,
        warm_start: bool = False,
        **sb3_kwargs,
    ):
        self.algorithm = check_choice("algorithm", algorithm, ("ppo", "dqn"))
        self.total_timesteps = check_int("total_timesteps", total_timesteps)
        self.seed = int(seed)
        self.reset_uniform_eps = check_unit_interval("reset_uniform_eps", reset_uniform_eps, closed_low=True)
        self.episode_length = None if episode_length is None else check_int("episode_length", episode_length)
        self.normalize_reward = (algorithm == "ppo") if normalize_reward is None else bool(normalize_reward)
        self.warm_start = bool(warm_start)
        self.sb3_kwargs = dict(sb3_kwargs)
        self._agent = None

    def config(self) -> dict:
        """The settings, for a solver's hyperparameters (JSON-safe)."""
        return {
            "algorithm": self.algorithm,
            "total_timesteps": self.total_timesteps,
            "seed": self.seed,
            "reset_uniform_eps": self.reset_uniform_eps,
            "episode_length": self.episode_length,
            "normalize_reward": self.normalize_reward,
            "warm_start": self.warm_start,
            **self.sb3_kwargs,
        }

    def __repr__(self) -> str:
        return f"SB3BestResponse({', '.join(f'{k}={v!r}' for k, v in self.config().items())})"

    def __call__(self, game: FiniteMFG, mean_field: torch.Tensor) -> torch.Tensor:
        try:
            import stable_baselines3 as sb3
            from stable_baselines3.common.logger import Logger
            from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
        except ImportError:
            raise missing_extra("stable_baselines3", "rl") from None

        def make():
            return best_response_env(
                game,
                mean_field=mean_field,
                episode_length=self.episode_length,
                reset_uniform_eps=self.reset_uniform_eps,
            )

        env = make()
        if self.normalize_reward:
            env = VecNormalize(DummyVecEnv([make]), norm_obs=False, norm_reward=True, gamma=float(game.gamma))
        cls = sb3.PPO if self.algorithm == "ppo" else sb3.DQN
        if self._agent is None or not self.warm_start:
            self._agent = cls(
                "MlpPolicy", env, gamma=float(game.gamma), seed=self.seed, device="cpu", verbose=0, **self.sb3_kwargs
            )
            if "tensorboard_log" not in self.sb3_kwargs:
                # a logger with no outputs: without one, every learn() makes an empty SB3-<time> folder in /tmp
                self._agent.set_logger(Logger(None, []))
            fresh = True
        else:
            self._agent.set_env(env)
            fresh = False
        self._agent.learn(total_timesteps=self.total_timesteps, reset_num_timesteps=fresh)
        actions, _ = self._agent.predict(np.arange(game.S), deterministic=True)
        pi = torch.zeros(game.S, game.A, dtype=game.dtype, device=game.device)
        pi[torch.arange(game.S), torch.as_tensor(np.asarray(actions).reshape(-1), device=game.device)] = 1.0
        return pi
