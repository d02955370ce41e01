"""Independent Q-learners in an N-player stationary game: the baseline GMF-Q is compared with.

Every agent keeps its own Q-table and learns online from its own experience
(epsilon-greedy exploration, step ``1 / (1 + n)^omega``), ignoring that the others
learn too. All ``N`` tables live in one ``(N, S, A)`` tensor and are updated
together: no loop over agents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG

StepFn = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class IndependentLearners:
    """Outcome of :func:`independent_q_learning`.

    Attributes:
        Q: ``(N, S, A)`` every agent's final Q-table.
        mean_reward: ``(rounds,)`` average reward per agent in each round.
        policies: ``(N, S, A)`` every agent's greedy policy.
        population_policy: ``(S, A)`` the policy of a randomly drawn agent (mean of ``policies``).
    """

    Q: torch.Tensor
    mean_reward: torch.Tensor
    policies: torch.Tensor

    @property
    def population_policy(self) -> torch.Tensor:
        return self.policies.mean(0)


def empirical_step(game: FiniteMFG) -> StepFn:
    """N-player step from the game's simulator: each agent faces the empirical state-action measure.

    Needs a game with a ``sampler``; the auction has an exact one, :func:`~mfglearn.games.markets.auction_round`.
    """
    if game.sampler is None:
        raise ValidationError(f"game {game.name!r} has no sampler; pass step_fn= explicitly")

    def step(states: torch.Tensor, actions: torch.Tensor, gen: torch.Generator):
        N = states.shape[0]
        L = torch.zeros(game.S, game.A, dtype=game.dtype, device=states.device)
        L.index_put_((states, actions), torch.full((N,), 1.0 / N, dtype=game.dtype, device=states.device), True)
        m = L if game.mean_field == "state_action" else L.sum(-1)
        return game.sampler(m, states, actions, gen)

    return step


def independent_q_learning(
    game: FiniteMFG,
    n_agents: int,
    rounds: int,
    step_fn: StepFn | None = None,
    explore: float = 0.1,
    omega: float = 0.7,
    seed: int = 0,
    policy_every: int = 0,
    callback: Callable[[int, torch.Tensor], None] | None = None,
) -> IndependentLearners:
    """Run ``n_agents`` independent epsilon-greedy Q-learners for ``rounds`` rounds of a discounted game.

    Args:
        game: a discounted game (its ``gamma`` discounts each learner's Q-learning).
        n_agents: ``N``.
        rounds: number of simultaneous rounds.
        step_fn: ``(states, actions, generator) -> (next_states, rewards)`` for the ``N`` agents;
            default :func:`empirical_step`.
        explore: exploration probability of epsilon-greedy.
        omega: step ``1 / (1 + n)^omega`` where ``n`` counts an agent's visits of ``(s, a)``.
        seed: random seed.
        policy_every: if > 0, call ``callback(round, greedy_policies)`` every that many rounds.
        callback: see ``policy_every``.
    """
    if game.is_finite_horizon:
        raise ValidationError("independent_q_learning needs a discounted game (gamma=...)")
    if n_agents < 1 or rounds < 1:
        raise ValidationError(f"n_agents and rounds must be >= 1, got {n_agents}, {rounds}")
    if not 0.0 <= explore <= 1.0:
        raise ValidationError(f"explore must be in [0, 1], got {explore}")
    step_fn = empirical_step(game) if step_fn is None else step_fn
    gen = torch.Generator(device=game.device).manual_seed(int(seed))
    N, S, A, dt, dev = int(n_agents), game.S, game.A, game.dtype, game.device
    legal = game.legal if game.legal is not None else torch.ones(S, A, dtype=torch.bool, device=dev)
    Q = torch.zeros(N, S, A, dtype=dt, device=dev)
    counts = torch.zeros(N, S, A, dtype=dt, device=dev)
    states = torch.multinomial(game.mu0, N, replacement=True, generator=gen)
    agents = torch.arange(N, device=dev)
    rewards = torch.empty(rounds, dtype=dt, device=dev)
    uniform = legal.to(dt) / legal.sum(-1, keepdim=True)

    def greedy_of(Qs: torch.Tensor) -> torch.Tensor:  # (N, S, A) -> one-hot of the best legal action
        return torch.nn.functional.one_hot(Qs.masked_fill(~legal, float("-inf")).argmax(-1), A).to(dt)

    for k in range(rounds):
        q_s = Q[agents, states].masked_fill(~legal[states], float("-inf"))
        rand_a = torch.multinomial(uniform[states], 1, generator=gen).squeeze(1)
        explore_now = torch.rand(N, generator=gen, dtype=dt, device=dev) < explore
        actions = torch.where(explore_now, rand_a, q_s.argmax(-1))
        nxt, r = step_fn(states, actions, gen)
        v_next = Q[agents, nxt].masked_fill(~legal[nxt], float("-inf")).amax(-1)
        counts[agents, states, actions] += 1
        lr = 1.0 / (1.0 + counts[agents, states, actions]) ** omega
        Q[agents, states, actions] += lr * (r + game.gamma * v_next - Q[agents, states, actions])
        rewards[k] = r.mean()
        states = nxt
        if policy_every and callback is not None and (k + 1) % policy_every == 0:
            callback(k + 1, greedy_of(Q))
    return IndependentLearners(Q=Q, mean_reward=rewards, policies=greedy_of(Q))


def play_policy(
    game: FiniteMFG, policy: torch.Tensor, n_agents: int, rounds: int, step_fn: StepFn | None = None, seed: int = 0
) -> torch.Tensor:
    """Average reward per agent in each of ``rounds`` rounds when all ``n_agents`` play ``policy`` ``(S, A)``."""
    step_fn = empirical_step(game) if step_fn is None else step_fn
    gen = torch.Generator(device=game.device).manual_seed(int(seed))
    states = torch.multinomial(game.mu0, int(n_agents), replacement=True, generator=gen)
    out = torch.empty(rounds, dtype=game.dtype, device=game.device)
    for k in range(rounds):
        actions = torch.multinomial(policy[states], 1, generator=gen).squeeze(1)
        states, r = step_fn(states, actions, gen)
        out[k] = r.mean()
    return out
