"""N-player simulation of a finite mean-field game.

``N`` agents share the game's dynamics; the mean field each one faces is the
empirical distribution of the population (all ``N`` agents). ``E`` independent
episodes run as one batch: states are an ``(E, N)`` tensor, one categorical draw
per agent and step (inverse CDF), no loop over agents. Rewards come from the
game's reward at each episode's empirical measure; mean-field-dependent
transitions are evaluated episode by episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfglearn._common.sampling import categorical
from mfglearn.core.policy import check_policy
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG


@dataclass
class NPlayerRollout:
    """Outcome of :func:`simulate`.

    Attributes:
        returns: ``(E, N)`` total reward of every agent in every episode.
        empirical: ``(E, H+1, S)`` empirical state distributions.
    """

    returns: torch.Tensor
    empirical: torch.Tensor


def _histogram(idx: torch.Tensor, n: int, weight: float, dtype) -> torch.Tensor:
    E = idx.shape[0]
    flat = idx + n * torch.arange(E, device=idx.device).unsqueeze(1)
    return torch.bincount(flat.reshape(-1), minlength=E * n).to(dtype).view(E, n) * weight


def simulate(
    game: FiniteMFG,
    policy: torch.Tensor,
    n_agents: int,
    episodes: int = 1,
    seed: int = 0,
    deviator_policy: torch.Tensor | None = None,
) -> NPlayerRollout:
    """Play ``game`` with ``n_agents`` agents for ``episodes`` independent episodes.

    Args:
        game: a finite-horizon game.
        policy: ``(H, S, A)`` policy of every agent (of agents ``1..N-1`` when there is a deviator).
        n_agents: ``N``.
        episodes: ``E``, independent episodes simulated as one batch.
        seed: seed of the private generator (same seed, same rollout).
        deviator_policy: if given, agent ``0`` plays it instead.
    """
    if not isinstance(game, FiniteMFG) or not game.is_finite_horizon:
        raise ValidationError("N-player simulation needs a finite-horizon FiniteMFG")
    if int(n_agents) < 1 or int(episodes) < 1:
        raise ValidationError(f"need n_agents >= 1 and episodes >= 1, got {n_agents} and {episodes}")
    pi = check_policy(game, policy)
    dev = None if deviator_policy is None else check_policy(game, deviator_policy)
    E, N, S, A, H = int(episodes), int(n_agents), game.S, game.A, game.H
    dt, device = game.dtype, game.device
    gen = torch.Generator(device=device).manual_seed(int(seed))
    states = categorical(game.mu0.expand(E, N, S), gen)
    returns = torch.zeros(E, N, dtype=dt, device=device)
    empirical = torch.zeros(E, H + 1, S, dtype=dt, device=device)
    ep = torch.arange(E, device=device).unsqueeze(1)
    static = None if game.transition_depends_on_mean_field else game.kernel_at(0).to_sparse()
    for t in range(H):
        emp = _histogram(states, S, 1.0 / N, dt)
        empirical[:, t] = emp
        probs = pi[t][states]  # (E, N, A)
        if dev is not None:
            probs[:, 0] = dev[t][states[:, 0]]
        actions = categorical(probs, gen)
        if game.mean_field == "state_action":
            mf = _histogram(states * A + actions, S * A, 1.0 / N, dt).view(E, S, A)
        else:
            mf = emp
        r = game.rewards_along(mf, torch.full((E,), t, device=device))  # (E, S, A)
        returns += r[ep, states, actions]
        if static is not None:
            pr, nxt = static.prob[states, actions], static.index[states, actions]  # (E, N, B)
            states = nxt.gather(-1, categorical(pr, gen).unsqueeze(-1)).squeeze(-1)
        else:
            new = torch.empty_like(states)
            for e in range(E):  # the kernel depends on each episode's empirical measure
                sp = game.kernel_at(t, mf[e]).to_sparse()
                pr, nxt = sp.prob[states[e], actions[e]], sp.index[states[e], actions[e]]
                new[e] = nxt.gather(-1, categorical(pr, gen).unsqueeze(-1)).squeeze(-1)
            states = new
    emp = _histogram(states, S, 1.0 / N, dt)
    empirical[:, H] = emp
    for e in range(E) if game.terminal_reward is not None else ():
        returns[e] += game.terminal_at(emp[e])[states[e]]
    return NPlayerRollout(returns=returns, empirical=empirical)


@dataclass
class FiniteNExploitability:
    """Estimated gain of one deviating agent in an ``N``-player game (mean and standard error)."""

    n_agents: int
    gain: float
    stderr: float
    deviator_return: float
    follower_return: float


def finite_n_exploitability(
    game: FiniteMFG,
    policy: torch.Tensor,
    n_agents: int,
    episodes: int = 200,
    seed: int = 0,
    deviation: torch.Tensor | None = None,
) -> FiniteNExploitability:
    """Gain of a single deviator when ``N - 1`` agents play ``policy``.

    The deviator plays ``deviation`` (default: the exact best response to the
    mean field of ``policy``, the natural candidate in large populations); its
    return is compared with a conforming agent's in the same simulation (common
    random numbers). For a mean-field equilibrium the gain vanishes as ``N`` grows.
    """
    from mfglearn.core.metrics import evaluate

    pi = check_policy(game, policy)
    dev = evaluate(game, pi).best_policy if deviation is None else deviation
    with_dev = simulate(game, pi, n_agents, episodes, seed, deviator_policy=dev)
    without = simulate(game, pi, n_agents, episodes, seed)
    diff = with_dev.returns[:, 0] - without.returns[:, 0]
    se = float(diff.std() / max(1, diff.numel()) ** 0.5) if diff.numel() > 1 else float("nan")
    return FiniteNExploitability(
        int(n_agents), float(diff.mean()), se, float(with_dev.returns[:, 0].mean()), float(without.returns[:, 0].mean())
    )


def conditional_deviation_gain(
    game: FiniteMFG,
    policy: torch.Tensor,
    n_agents: int,
    episodes: int = 200,
    seed: int = 0,
    deviation: torch.Tensor | str | None = None,
) -> FiniteNExploitability:
    """Low-variance finite-N deviation gain: exact expectations given the others' realised measures.

    ``N - 1`` agents play ``policy``; for each simulated episode the deviator's
    expected returns are computed *exactly* by backward induction against that
    episode's empirical flow of the others (its own randomness is integrated out,
    so far fewer episodes are needed than with :func:`finite_n_exploitability`).
    The deviator faces the others' empirical measure (its own ``1/N`` mass excluded)
    and does not observe the others' states.

    ``deviation``: a policy; ``"mean_field"`` for the mean-field best response; or
    ``None`` (default) for the *best* Markov deviation against the distribution of the
    others' flows: with a mean-field-independent kernel the deviator's expected return is
    linear in the episode-averaged reward ``E[r(t, s, a, mu^N_t)]``, so backward
    induction on that average gives the exact finite-N exploitability (gain >= 0 up
    to sampling error). Falls back to ``"mean_field"`` when the kernel depends on the
    mean field. State mean-field games only.
    """
    from mfglearn.core.flow import flow_from_mu
    from mfglearn.core.metrics import evaluate
    from mfglearn.core.value import FrozenMDP, best_response, evaluate_policy, freeze

    if game.mean_field != "state":
        raise ValidationError("conditional_deviation_gain needs a game with a state mean field")
    if n_agents < 2:
        raise ValidationError(f"a deviation needs n_agents >= 2, got {n_agents}")
    pi = check_policy(game, policy)
    others = simulate(game, pi, n_agents - 1, episodes, seed).empirical
    mdps = [freeze(game, flow_from_mu(game, others[e])) for e in range(episodes)]
    if deviation is None and game.transition_depends_on_mean_field:
        deviation = "mean_field"
    if deviation is None:
        avg = FrozenMDP(
            reward=torch.stack([m.reward for m in mdps]).mean(0),
            kernels=mdps[0].kernels,
            terminal=torch.stack([m.terminal for m in mdps]).mean(0),
            legal=game.legal,
            mu0=game.mu0,
        )
        dev = best_response(avg)[2]
    elif isinstance(deviation, str):
        if deviation != "mean_field":
            raise ValidationError(f"deviation must be a policy, 'mean_field' or None, got {deviation!r}")
        dev = evaluate(game, pi).best_policy
    else:
        dev = check_policy(game, deviation)
    v_pi = torch.stack([evaluate_policy(m, pi)[0][0] @ game.mu0 for m in mdps])
    v_dev = torch.stack([evaluate_policy(m, dev)[0][0] @ game.mu0 for m in mdps])
    gains = v_dev - v_pi
    se = float(gains.std() / episodes**0.5) if episodes > 1 else float("nan")
    return FiniteNExploitability(int(n_agents), float(gains.mean()), se, float(v_dev.mean()), float(v_pi.mean()))
