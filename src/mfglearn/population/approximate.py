"""Approximate exploitability of any policy by a fresh deep best response, with a confidence interval.

Where exact NashConv does not fit (a large grid, a continuous game without a closed form), the
exploitability ``max_pi' J_mu(pi') - J_mu(pi)`` is estimated as OpenSpiel's users do with RL:

1. the policy's population: ``n_agents`` agents play it against their own empirical mean field
   (the N-player simulation of :mod:`mfglearn.population.nplayer`), or, with
   ``exact_mean_field=True`` on a tabular game, its exact flow;
2. a fresh best response is trained against that frozen population (DQN over ``(t, s)``
   features on finite games, :func:`mfglearn.deep.discrete.dqn_best_response`; PPO or SAC on
   continuous ones);
3. both the best response and the policy are evaluated on fresh episodes against the same
   population, and the gap is reported with its standard error and a 95% interval.

The estimate is biased low by the best response's own error (a learned best response is never
better than the exact one), and the interval covers only the Monte-Carlo error of the two values.
That bias can be large. Against exact values (``benchmarks/study_deep_discrete.py``, exact mean
fields, 1500 DQN steps), the estimate found 81%, 56% and 28% of the gain of three deep policies
on ``four_rooms`` (30 steps), and 2%, 8% and less than nothing on ``maze`` (60 steps). A
simulated population adds the error of the empirical mean field, which rewards in ``log mu``
amplify (a finite population leaves empty the cells that the exact flow reaches with tiny mass),
in either direction. The tests check the estimate against the exact value on small games.
"""

from __future__ import annotations

import math

import torch

from mfglearn._common.checks import check_choice, check_int
from mfglearn.core.flow import flow_from_mu, mean_field_flow
from mfglearn.core.policy import check_policy
from mfglearn.core.value import freeze
from mfglearn.deep.discrete import (
    ActionNetwork,
    NetworkPolicy,
    StateFeatures,
    dqn_best_response,
    greedy_of,
    masked,
    ppo_best_response,
    returns_of,
    tabulate,
)
from mfglearn.deep.sampled import SampledPopulation, simulate_states
from mfglearn.deep.train import seeded
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.population.nplayer import simulate


def approximate_exploitability(
    game,
    policy,
    n_agents: int = 10_000,
    br_steps: int = 1000,
    eval_episodes: int = 10_000,
    seed: int = 0,
    exact_mean_field: bool = False,
    hidden=(128, 128),
    onehot_max: int = 4096,
    best_response: str = "dqn",
    **br_kwargs,
) -> dict:
    """Exploitability of ``policy`` estimated with a fresh deep best response (see the module docstring).

    Args:
        game: a finite-horizon :class:`~mfglearn.model.finite.FiniteMFG` (``policy`` ``(H, S, A)``, or a
            :class:`~mfglearn.deep.discrete.NetworkPolicy` on games too large to tabulate: the
            population, the best response's training and both values then run on simulated agents,
            :mod:`mfglearn.deep.sampled`, with no ``(H, S, A)`` tensor) or a continuous game
            (``policy`` a network with ``sample`` / ``mean_action``, e.g. a deep result's; passed to
            :func:`mfglearn.deep.fictitious_play.approximate_exploitability`).
        n_agents: agents of the simulated population.
        br_steps: the best response's training: DQN gradient steps or PPO iterations (finite games); on
            continuous games, PPO/SAC iterations.
        eval_episodes: fresh episodes for each of the two values.
        seed: the one source of randomness.
        exact_mean_field: finite games: use the policy's exact flow instead of a simulated population.
        hidden: the best response's hidden layers (finite games).
        onehot_max: the best response's features (:class:`~mfglearn.deep.discrete.StateFeatures`).
        best_response: finite games: ``"dqn"`` (:func:`~mfglearn.deep.discrete.dqn_best_response`) or
            ``"ppo"`` (:func:`~mfglearn.deep.discrete.ppo_best_response`: Monte-Carlo returns, no
            bootstrapping; the one that learns on long horizons). Its greedy policy is evaluated.
        br_kwargs: passed to the best-response trainer.

    Returns: ``exploitability``, its standard error ``se``, ``ci95`` ``(low, high)``,
    ``br_value`` and ``policy_value`` (both against the frozen population, on fresh episodes).
    """
    if not isinstance(game, FiniteMFG):
        from mfglearn.deep.fictitious_play import approximate_exploitability as continuous

        game = game.as_continuous() if hasattr(game, "as_continuous") else game
        out = continuous(game, policy, n_agents, br_iterations=br_steps, seed=seed, **br_kwargs)
        return {**out, "ci95": (out["exploitability"] - 1.96 * out["se"], out["exploitability"] + 1.96 * out["se"])}
    if not game.is_finite_horizon or game.n_populations != 1:
        raise ValidationError("approximate_exploitability on a finite game needs one population and a finite horizon")
    n_agents, br_steps = check_int("n_agents", n_agents), check_int("br_steps", br_steps)
    eval_episodes, seed = check_int("eval_episodes", eval_episodes), check_int("seed", seed, minimum=0)
    best_response = check_choice("best_response", best_response, ("dqn", "ppo"))
    trainer = (best_response, br_steps, hidden, seed, br_kwargs)
    if isinstance(policy, NetworkPolicy):
        if exact_mean_field:
            raise ValidationError("exact_mean_field=True needs a tabular policy; tabulate the network first")
        return _simulated(game, policy, n_agents, eval_episodes, seed, onehot_max, trainer)
    pi = check_policy(game, policy)
    if exact_mean_field:
        flow = mean_field_flow(game, pi)
    else:
        mu = simulate(game, pi, n_agents, seed=seed).empirical[0]
        sa = mu[:-1].unsqueeze(-1) * pi if game.mean_field == "state_action" else None
        flow = flow_from_mu(game, mu, sa)
    mdp = freeze(game, flow)
    features = StateFeatures(game, onehot_max)
    dev = game.device
    q = _train(mdp, game, features, *trainer)
    br = greedy_of(masked(tabulate(q, features), game.legal), None).to(game.dtype)
    j_br, se_br = returns_of(mdp, game.mu0, br, eval_episodes, torch.Generator(device=dev).manual_seed(seed + 2))
    j_pi, se_pi = returns_of(mdp, game.mu0, pi, eval_episodes, torch.Generator(device=dev).manual_seed(seed + 3))
    return _gap(j_br, se_br, j_pi, se_pi)


def _train(env, game, features, method, br_steps, hidden, seed, br_kwargs) -> ActionNetwork:
    """A fresh best response against ``env``: the DQN's Q-network or PPO's logits (greedy = argmax of either)."""
    dev = game.device
    gen = torch.Generator(device=dev).manual_seed(seed + 1)
    with seeded(seed, dev):
        net = ActionNetwork(features.dim, game.A, hidden).to(dev)
        value = ActionNetwork(features.dim, 1, hidden).to(dev) if method == "ppo" else None
    if method == "dqn":
        return dqn_best_response(env, game.mu0, features, net, br_steps, gen, **br_kwargs)
    net.zero_output_()  # PPO starts from the uniform policy
    return ppo_best_response(env, game.mu0, features, net, value, br_steps, gen, **br_kwargs)


def _simulated(game, policy, n_agents, eval_episodes, seed, onehot_max, trainer) -> dict:
    """The estimate for a network policy against ``n_agents`` simulated agents (no ``(H, S, A)`` tensor)."""
    dev = game.device
    gen = torch.Generator(device=dev).manual_seed(seed)
    states, _ = simulate_states(game, lambda t, s: policy.act(t, s, gen), n_agents, gen)
    env = SampledPopulation(game, states)
    features = StateFeatures(game, onehot_max)
    greedy = NetworkPolicy(_train(env, game, features, *trainer), features, game.legal)
    j_br, se_br = returns_of(env, game.mu0, lambda t, s: greedy.probs(t, s).argmax(-1), eval_episodes,
                             torch.Generator(device=dev).manual_seed(seed + 2))  # fmt: skip
    g3 = torch.Generator(device=dev).manual_seed(seed + 3)
    j_pi, se_pi = returns_of(env, game.mu0, lambda t, s: policy.act(t, s, g3), eval_episodes, g3)
    return _gap(j_br, se_br, j_pi, se_pi)


def _gap(j_br: float, se_br: float, j_pi: float, se_pi: float) -> dict:
    gap, se = j_br - j_pi, math.hypot(se_br, se_pi)
    return {
        "exploitability": gap,
        "se": se,
        "ci95": (gap - 1.96 * se, gap + 1.96 * se),
        "br_value": j_br,
        "policy_value": j_pi,
    }


__all__ = ["approximate_exploitability"]
