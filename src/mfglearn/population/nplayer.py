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


def _histogram(idx: torch.Tensor, n: int, weight, dtype) -> torch.Tensor:
    """``(E, n)`` empirical measure of ``(E, N)`` indices; ``weight`` a scalar or an ``(N,)`` per-agent mass."""
    E = idx.shape[0]
    flat = idx + n * torch.arange(E, device=idx.device).unsqueeze(1)
    if isinstance(weight, torch.Tensor):
        w = weight.to(dtype).expand(idx.shape).reshape(-1)
        return torch.bincount(flat.reshape(-1), w, minlength=E * n).view(E, n)
    return torch.bincount(flat.reshape(-1), minlength=E * n).to(dtype).view(E, n) * weight


def population_counts(game: FiniteMFG, n_agents: int) -> list[int]:
    """Players per population for ``n_agents`` in all: proportional to the populations' masses
    (largest remainders), at least one each. One population: ``[n_agents]``."""
    lay = game.populations
    if lay is None:
        return [int(n_agents)]
    if n_agents < lay.P:
        raise ValidationError(f"{n_agents} agents cannot populate {lay.P} populations; give n_agents >= {lay.P}")
    w = torch.tensor(lay.weights, dtype=torch.float64)
    raw = w * (n_agents - lay.P)
    counts = raw.floor().long() + 1
    rest = int(n_agents - counts.sum())
    if rest > 0:
        counts[torch.argsort(raw - raw.floor(), descending=True)[:rest]] += 1
    return [int(c) for c in counts]


def _initial_states(game: FiniteMFG, counts: list[int], E: int, gen: torch.Generator):
    """``(E, N)`` initial states (each population's players drawn from its own ``mu0``) and the
    ``(N,)`` mass of each player in the empirical measure (``m_p / (sum m) / N_p``)."""
    lay = game.populations
    if lay is None:
        N = counts[0]
        return categorical(game.mu0.expand(E, N, game.S), gen), None
    parts, mass = [], []
    for p, n in enumerate(counts):
        block = lay.block(p)
        mu0_p = torch.zeros_like(game.mu0)
        mu0_p[block] = game.mu0[block] / lay.weights[p]
        parts.append(categorical(mu0_p.expand(E, n, game.S), gen))
        mass.append(torch.full((n,), lay.weights[p] / n, dtype=game.dtype, device=game.device))
    return torch.cat(parts, 1), torch.cat(mass)


def simulate(
    game: FiniteMFG,
    policy: torch.Tensor,
    n_agents: int,
    episodes: int = 1,
    seed: int = 0,
    deviator_policy: torch.Tensor | None = None,
    counts: list[int] | None = None,
    deviator: int = 0,
) -> NPlayerRollout:
    """Play ``game`` with ``n_agents`` agents for ``episodes`` independent episodes.

    Args:
        game: a finite-horizon game.
        policy: ``(H, S, A)`` policy of every agent (of the others when there is a deviator).
        n_agents: ``N`` (on a multi-population game, split by :func:`population_counts`
            unless ``counts`` gives the players of each population; agents are numbered
            population by population).
        episodes: ``E``, independent episodes simulated as one batch.
        seed: seed of the private generator (same seed, same rollout).
        deviator_policy: if given, agent ``deviator`` plays it instead.
        counts: players per population (multi-population games).
        deviator: the deviating agent's number.
    """
    if not isinstance(game, FiniteMFG) or not game.is_finite_horizon:
        raise ValidationError("N-player simulation needs a finite-horizon FiniteMFG")
    if int(n_agents) < 1 or int(episodes) < 1:
        raise ValidationError(f"need n_agents >= 1 and episodes >= 1, got {n_agents} and {episodes}")
    pi = check_policy(game, policy)
    dev = None if deviator_policy is None else check_policy(game, deviator_policy)
    counts = population_counts(game, int(n_agents)) if counts is None else [int(c) for c in counts]
    E, N, S, A, H = int(episodes), sum(counts), game.S, game.A, game.H
    dt, device = game.dtype, game.device
    gen = torch.Generator(device=device).manual_seed(int(seed))
    states, mass = _initial_states(game, counts, E, gen)
    w = 1.0 / N if mass is None else mass
    d = int(deviator)
    returns = torch.zeros(E, N, dtype=dt, device=device)
    empirical = torch.zeros(E, H + 1, S, dtype=dt, device=device)
    ep = torch.arange(E, device=device).unsqueeze(1)
    static = None if game.transition_depends_on_mean_field else game.kernel_at(0).to_sparse()
    for t in range(H):
        emp = _histogram(states, S, w, dt)
        empirical[:, t] = emp
        probs = pi[t][states]  # (E, N, A)
        if dev is not None:
            probs[:, d] = dev[t][states[:, d]]
        actions = categorical(probs, gen)
        if game.mean_field == "state_action":
            mf = _histogram(states * A + actions, S * A, w, dt).view(E, S, A)
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
    emp = _histogram(states, S, w, dt)
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
    population: int | str = 0,
) -> FiniteNExploitability:
    """Gain of a single deviator when ``N - 1`` agents play ``policy``.

    The deviator plays ``deviation`` (default: the exact best response to the
    mean field of ``policy``, the natural candidate in large populations); its
    return is compared with a conforming agent's in the same simulation (common
    random numbers). For a mean-field equilibrium the gain vanishes as ``N`` grows.
    On a multi-population game the deviator belongs to ``population`` and the ``N``
    players are split by :func:`population_counts`.
    """
    from mfglearn.core.metrics import evaluate

    pi = check_policy(game, policy)
    dev = evaluate(game, pi).best_policy if deviation is None else deviation
    counts = population_counts(game, int(n_agents))
    i = _first_agent(game, counts, population)
    with_dev = simulate(game, pi, n_agents, episodes, seed, deviator_policy=dev, counts=counts, deviator=i)
    without = simulate(game, pi, n_agents, episodes, seed, counts=counts)
    diff = with_dev.returns[:, i] - without.returns[:, i]
    se = float(diff.std() / max(1, diff.numel()) ** 0.5) if diff.numel() > 1 else float("nan")
    return FiniteNExploitability(
        int(n_agents), float(diff.mean()), se, float(with_dev.returns[:, i].mean()), float(without.returns[:, i].mean())
    )


def _first_agent(game: FiniteMFG, counts: list[int], population) -> int:
    if game.populations is None:
        if population not in (0, "pop0"):
            raise ValidationError(f"game {game.name!r} has one population; population must be 0, got {population!r}")
        return 0
    p = game.populations.index(population)
    return sum(counts[:p])


def conditional_deviation_gain(
    game: FiniteMFG,
    policy: torch.Tensor,
    n_agents: int,
    episodes: int = 200,
    seed: int = 0,
    deviation: torch.Tensor | str | None = None,
    population: int | str = 0,
) -> FiniteNExploitability:
    """Low-variance finite-N deviation gain: exact expectations given the others' realised measures.

    On a multi-population game the deviator belongs to ``population``; the others are the
    :func:`population_counts` split of ``N`` players less the deviator, and the gain is per
    unit of its own population's initial distribution.

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
    counts = population_counts(game, int(n_agents))
    lay = game.populations
    p = 0 if lay is None else lay.index(population)
    counts[p] -= 1
    if lay is not None and counts[p] < 1:
        raise ValidationError(
            f"population {lay.names[p]!r} has {counts[p] + 1} player(s) at n_agents={n_agents}; "
            "a deviation needs another one there: give more agents"
        )
    others = simulate(game, pi, n_agents - 1, episodes, seed, counts=counts).empirical
    if lay is None:
        start = game.mu0
    else:
        start = torch.zeros_like(game.mu0)
        start[lay.block(p)] = game.mu0[lay.block(p)] / lay.weights[p]
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
    v_pi = torch.stack([evaluate_policy(m, pi)[0][0] @ start for m in mdps])
    v_dev = torch.stack([evaluate_policy(m, dev)[0][0] @ start for m in mdps])
    gains = v_dev - v_pi
    se = float(gains.std() / episodes**0.5) if episodes > 1 else float("nan")
    return FiniteNExploitability(int(n_agents), float(gains.mean()), se, float(v_dev.mean()), float(v_pi.mean()))
