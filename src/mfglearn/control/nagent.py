"""N-agent cooperative simulation of a planner's closed-loop policy.

``N`` agents start i.i.d. from ``mu0``; every round the planner observes the
empirical distribution ``mu^N_t``, announces ``h_t = policy(mu^N_t, t)``, each agent
draws its action from ``h_t(s)``, and rewards and transitions use the empirical
mean field (state, or state-action of the realised actions). The social value is
the discounted average reward per agent. ``E`` episodes run as one batch of
``(E, N)`` agents: no loop over agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from mfglearn._common.sampling import categorical as _draw
from mfglearn.control.lifted import LiftedMFC
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG


@dataclass
class CooperativeRollout:
    """Social values of ``episodes`` N-agent episodes.

    Attributes:
        n_agents: ``N``.
        values: ``(E,)`` discounted average reward per agent in each episode.
        mean: mean of ``values``.
        stderr: its standard error.
    """

    n_agents: int
    values: torch.Tensor

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    @property
    def stderr(self) -> float:
        return float(self.values.std() / math.sqrt(self.values.numel())) if self.values.numel() > 1 else float("nan")


def simulate_cooperative(
    game: FiniteMFG,
    policy,
    n_agents: int,
    episodes: int = 100,
    steps: int | None = None,
    seed: int = 0,
) -> CooperativeRollout:
    """Play ``policy`` (``(mu (B, S), t) -> h (B, S, A)``) with ``n_agents`` agents.

    Args:
        game: a discounted or finite-horizon game.
        policy: a closed-loop planner policy, e.g. ``result.policy`` of an MFC solver.
        n_agents: ``N``.
        episodes: independent episodes ``E`` (simulated together).
        steps: rounds simulated (discounted default: until ``gamma^t < 1e-6``; finite horizon: ``H``).
        seed: random seed.
    """
    if n_agents < 1 or episodes < 1:
        raise ValidationError(f"n_agents and episodes must be >= 1, got {n_agents}, {episodes}")
    lm = LiftedMFC(game)
    S, A, dt, dev = game.S, game.A, game.dtype, game.device
    finite = game.is_finite_horizon
    g = 1.0 if finite else float(game.gamma)
    T = game.H if finite else (steps or int(math.ceil(math.log(1e-6) / math.log(max(g, 1e-12)))) + 1)
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    E, N = int(episodes), int(n_agents)
    states = _draw(game.mu0.expand(E, N, S), gen)
    ep = torch.arange(E, device=dev).unsqueeze(1)
    total = torch.zeros(E, dtype=dt, device=dev)
    disc = 1.0
    for t in range(T):
        mu = torch.nn.functional.one_hot(states, S).to(dt).mean(1)  # (E, S)
        h = policy(mu, t)  # (E, S, A)
        actions = _draw(h[ep, states], gen)  # (E, N)
        if game.mean_field == "state_action":
            m = torch.zeros(E, S * A, dtype=dt, device=dev)
            m.scatter_add_(1, states * A + actions, torch.full((E, N), 1.0 / N, dtype=dt, device=dev))
            m = m.view(E, S, A)
        else:
            m = mu
        r = game.rewards_along(m, torch.full((E,), t, device=dev))  # (E, S, A)
        total += disc * r[ep, states, actions].mean(1)
        if lm.static_kernel is not None:
            P = lm.static_kernel[states, actions]
        elif game.transition_batch is not None:
            P = game.transition_batch(m)[ep, states, actions]
        else:
            P = torch.stack([game.kernel_at(t, m[e]).dense()[states[e], actions[e]] for e in range(E)])
        states = _draw(P, gen)
        disc *= g
    if finite and game.terminal_reward is not None:
        mu = torch.nn.functional.one_hot(states, S).to(dt).mean(1)
        total += torch.stack([game.terminal_at(mu[e])[states[e]].mean() for e in range(E)])
    return CooperativeRollout(N, total)
