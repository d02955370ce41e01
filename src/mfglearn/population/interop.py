"""Interop with external agents: :func:`policy_from_agent` tabulates any external agent (a
Stable-Baselines3 model, or a plain callable) into a policy tensor, so that ``mfglearn.exploitability``
can score it exactly. (The Gymnasium id ``mfglearn/BestResponse-v0`` is registered by
:func:`mfglearn.api.register_envs`.)
"""

from __future__ import annotations

import numpy as np
import torch

from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG


def _observations(game: FiniteMFG) -> np.ndarray:
    """Every observation of :func:`best_response_env`: ``[s, t]`` rows ``(H * S, 2)``, or states ``(S,)``."""
    S = game.S
    if not game.is_finite_horizon:
        return np.arange(S)
    t, s = np.meshgrid(np.arange(game.H), np.arange(S), indexing="ij")
    return np.stack([s.reshape(-1), t.reshape(-1)], -1)


def policy_from_agent(game: FiniteMFG, agent, *, deterministic: bool = False) -> torch.Tensor:
    """The policy ``(H, S, A)`` (``(S, A)`` on discounted games) an external ``agent`` plays in ``game``.

    ``agent`` is observed on every observation of
    :func:`~mfglearn.population.adapters.best_response_env` at once:

    * a Stable-Baselines3 model: its action probabilities (PPO, A2C: categorical policies), or its
      greedy action (DQN, or ``deterministic=True``);
    * a callable ``agent(observations) -> actions`` or ``-> probabilities``: given the ``(N, 2)`` array of
      ``[state, t]`` (finite horizon) or the ``(N,)`` states (discounted), it returns ``(N,)`` integer
      actions or ``(N, A)`` probability rows.

    Raises a clear error when the agent's answer has the wrong shape, an action outside ``0..A-1``, or rows
    that are not distributions.
    """
    obs = _observations(game)
    N, A = len(obs), game.A
    probs = None
    policy = getattr(agent, "policy", None)
    if policy is not None and hasattr(policy, "get_distribution") and not deterministic:
        with torch.no_grad():
            dist = policy.get_distribution(policy.obs_to_tensor(obs)[0]).distribution
        probs = getattr(dist, "probs", None)
        probs = None if probs is None else probs.detach().cpu().double().numpy()
    if probs is None:
        if hasattr(agent, "predict"):
            out, _ = agent.predict(obs, deterministic=True)
        elif callable(agent):
            out = agent(obs)
        else:
            raise ValidationError(
                f"agent must be a Stable-Baselines3 model or a callable agent(observations); got {type(agent).__name__}"
            )
        out = np.asarray(out.detach().cpu() if isinstance(out, torch.Tensor) else out)
        if out.shape == (N,) or out.shape == (N, 1):
            acts = out.reshape(N)
            if not np.issubdtype(acts.dtype, np.integer) and not np.all(acts == np.round(acts)):
                raise ValidationError("the agent returned non-integer actions; return action indices or (N, A) rows")
            acts = acts.astype(np.int64)
            if acts.min() < 0 or acts.max() >= A:
                raise ValidationError(f"the agent returned action {int(acts.max())}, outside 0..{A - 1}")
            probs = np.eye(A)[acts]
        elif out.shape == (N, A):
            probs = out.astype(np.float64)
        else:
            raise ValidationError(f"the agent returned shape {out.shape}; expected ({N},) actions or ({N}, {A}) rows")
    if (probs < -1e-9).any() or np.abs(probs.sum(-1) - 1).max() > 1e-6:
        raise ValidationError("the agent's action probabilities are not distributions (rows >= 0 summing to 1)")
    pi = torch.as_tensor(probs, dtype=game.dtype, device=game.device)
    if game.is_finite_horizon:
        pi = pi.view(game.H, game.S, A)
    if game.legal is not None:  # the env replaces illegal actions by the first legal one: do the same
        first = torch.nn.functional.one_hot(game.legal.to(torch.int64).argmax(-1), A).to(pi.dtype)
        illegal = (pi * (~game.legal)).sum(-1, keepdim=True)
        pi = pi * game.legal + illegal * first
    return pi
