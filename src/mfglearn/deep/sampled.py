"""Finite games against simulated populations: no ``(H, S, A)`` tensor, for games beyond exact tabular reach.

The exact path (:func:`~mfglearn.core.value.freeze`) evaluates a game's rewards along a mean-field
flow into an ``(H, S, A)`` tensor; with a million cells and hundreds of steps that tensor alone
outgrows one machine. Here the population is ``N`` simulated agents instead, and an agent only
ever needs the reward at its own ``(t, s, a)`` and one sampled move:

* :func:`simulate_states` plays a policy (a callable ``act(t, s) -> a``) with ``N`` agents;
* :class:`SampledPopulation` freezes their empirical measures ``mu^N_t`` as the mean field an
  agent faces, and answers ``reward_of(t, s, a)``, ``step(t, s, a)`` and ``terminal_of(s)`` for any
  batch of agents. On games with ``separable_reward`` it stores the ``(H, S)`` state terms once
  (float32) and the ``(S, A)`` action cost; otherwise it evaluates the ``(S, A)`` reward of one
  time at a time and keeps the last.
* :class:`FrozenEnvironment` gives a :class:`~mfglearn.core.value.FrozenMDP` the same interface,
  so :func:`mfglearn.deep.discrete.rollout` and the DQN best response run on either.

The mean field ``mu^N`` is that of the ``N``-player game (each agent counted in its own measure),
which converges to the mean-field flow as ``N`` grows (tested against the exact flow).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from mfglearn.core.value import FrozenMDP
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG

Act = Callable[[int, torch.Tensor], torch.Tensor]


def check_simulable(game: FiniteMFG) -> None:
    """A clear error unless ``game`` can be simulated here: finite horizon, one population, state mean field,
    a transition kernel that does not depend on the mean field."""
    if not isinstance(game, FiniteMFG) or not game.is_finite_horizon or game.n_populations != 1:
        raise ValidationError(f"simulated populations need a single-population finite-horizon FiniteMFG; got {game!r}")
    if game.transition_depends_on_mean_field or game.mean_field != "state":
        raise ValidationError(
            f"game {game.name!r}: simulated populations need a state mean field and a kernel that does not depend "
            "on it; use population='exact' (the tabulated flow) on this game"
        )


def simulate_states(game: FiniteMFG, act: Act, n_agents: int, generator: torch.Generator):
    """``n_agents`` agents of ``game`` playing ``act(t, s) -> a`` from ``mu0``: states ``(H+1, N)``, actions ``(H, N)``.

    One sampled move per agent and step (:meth:`~mfglearn.model.kernels.Kernel.sample`); memory ``O(H N)``.
    """
    check_simulable(game)
    kernel = game.kernel_at(0)
    s = torch.multinomial(game.mu0.to(torch.float64), int(n_agents), replacement=True, generator=generator)
    states, actions = [s], []
    for t in range(game.H):
        a = act(t, s)
        s = kernel.sample(s, a, generator)
        states.append(s)
        actions.append(a)
    return torch.stack(states), torch.stack(actions)


class SampledPopulation:
    """The mean field of ``N`` simulated agents, frozen: what one more agent earns and where it moves.

    Args:
        game: a game accepted by :func:`check_simulable`.
        states: ``(H+1, N)`` states of the population's agents (:func:`simulate_states`).
    """

    def __init__(self, game: FiniteMFG, states: torch.Tensor):
        check_simulable(game)
        if states.dim() != 2 or states.shape[0] != game.H + 1:
            raise ValidationError(f"states must have shape (H+1, N) = ({game.H + 1}, N); got {tuple(states.shape)}")
        if states.numel() and not (0 <= int(states.min()) and int(states.max()) < game.S):
            raise ValidationError(
                f"states must be state indices in [0, {game.S}); got [{int(states.min())}, {int(states.max())}]"
            )
        self.game, self.H, self.S, self.A = game, game.H, game.S, game.A
        self.legal, self.mu0 = game.legal, game.mu0
        self.n_agents = states.shape[1]
        self.states = states
        self.kernel = game.kernel_at(0)
        self.terminal = game.terminal_at(self.measure(game.H)).to(torch.float32)
        self._cached: tuple[int, torch.Tensor] | None = None
        self.state_terms = None
        if game.separable_reward:
            self.cost = game.action_cost().to(torch.float32)
            ts = torch.arange(self.H, device=game.device)
            # time by time into one buffer: a batched call would hold the H measures in the game's dtype
            self.state_terms = torch.empty(self.H, self.S, dtype=torch.float32, device=game.device)
            for t in range(self.H):
                self.state_terms[t] = game.state_rewards_along(self.measure(t)[None], ts[t : t + 1])[0]

    def measure(self, t: int) -> torch.Tensor:
        """The empirical measure ``mu^N_t`` ``(S,)`` in the game's dtype."""
        counts = torch.bincount(self.states[t], minlength=self.S)
        return counts.to(self.game.dtype) / self.n_agents

    def reward_of(self, t: int, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Rewards ``(N,)`` float32 of agents in states ``s`` taking actions ``a`` at time ``t``."""
        if self.state_terms is not None:
            return self.state_terms[t, s] + self.cost[s, a]
        if self._cached is None or self._cached[0] != t:
            r = self.game.rewards_along(self.measure(t)[None], torch.tensor([t], device=self.game.device))[0]
            self._cached = (t, r.to(torch.float32))
        return self._cached[1][s, a]

    def step(self, t: int, s: torch.Tensor, a: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Sampled next states ``(N,)``."""
        return self.kernel.sample(s, a, generator)

    def terminal_of(self, s: torch.Tensor) -> torch.Tensor:
        """Terminal rewards ``(N,)`` float32 at the final states ``s``."""
        return self.terminal[s]


class FrozenEnvironment:
    """A :class:`~mfglearn.core.value.FrozenMDP` seen through :class:`SampledPopulation`'s interface."""

    def __init__(self, mdp: FrozenMDP):
        self.mdp, self.H = mdp, mdp.H
        self.S, self.A = mdp.reward.shape[1], mdp.reward.shape[2]
        self.legal, self.mu0 = mdp.legal, mdp.mu0

    def reward_of(self, t: int, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.mdp.reward[t, s, a].to(torch.float32)

    def step(self, t: int, s: torch.Tensor, a: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.mdp.kernels[t].sample(s, a, generator)

    def terminal_of(self, s: torch.Tensor) -> torch.Tensor:
        return self.mdp.terminal[s].to(torch.float32)


def environment(env) -> SampledPopulation | FrozenEnvironment:
    """``env`` as an environment: a :class:`SampledPopulation` as it is, a ``FrozenMDP`` wrapped."""
    if isinstance(env, FrozenMDP):
        return FrozenEnvironment(env)
    if isinstance(env, (SampledPopulation, FrozenEnvironment)):
        return env
    raise ValidationError(f"expected a FrozenMDP or a SampledPopulation, got {type(env).__name__}")


__all__ = ["FrozenEnvironment", "SampledPopulation", "check_simulable", "environment", "simulate_states"]
