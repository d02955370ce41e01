"""Simulated populations: sampled moves, empirical mean fields, deep solvers and approximate exploitability
on them, each against the exact primitives on small games."""

import math

import pytest
import torch

import mfglearn
from mfglearn._common.sampling import categorical
from mfglearn.core.flow import mean_field_flow
from mfglearn.core.metrics import evaluate
from mfglearn.core.value import freeze
from mfglearn.deep.discrete import NetworkPolicy, returns_of, to_game_policy
from mfglearn.deep.finite_solvers import DeepFiniteResult
from mfglearn.deep.sampled import SampledPopulation, simulate_states
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import GridKernel, Kernel
from mfglearn.population.approximate import approximate_exploitability

SMALL = dict(rows=12, cols=12, horizon=12, window=1, start_size=0.25)


@pytest.fixture(scope="module")
def evac():
    return mfglearn.make("evacuation", **SMALL)


def _empirical_kernel(sample, S: int, A: int, n: int) -> torch.Tensor:
    s = torch.arange(S).repeat_interleave(A * n)
    a = torch.arange(A).repeat_interleave(n).repeat(S)
    nxt = sample(s, a, torch.Generator().manual_seed(0))
    emp = torch.zeros(S, A, S, dtype=torch.float64)
    emp.index_put_((s, a, nxt), torch.ones(s.shape[0], dtype=torch.float64), accumulate=True)
    return emp / n


@pytest.mark.parametrize("generic", [False, True])
def test_sampled_moves_follow_the_kernel(generic):
    free = torch.rand(5, 6, generator=torch.Generator().manual_seed(1)) > 0.25
    k = GridKernel(free, 0.3)
    sample = (lambda s, a, g: Kernel.sample(k, s, a, g)) if generic else k.sample  # the stencil, or to_sparse
    n = 20_000
    emp = _empirical_kernel(sample, k.n_states, 5, n)
    P = k.dense()
    se = (P * (1 - P) / n).clamp_min(0).sqrt()  # P = 1 may exceed 1 by round-off
    assert bool(((emp - P).abs() <= 5 * se + 1e-12).all())  # 5 standard errors per entry
    assert bool((emp[P == 0] == 0).all())  # never an impossible move


def test_empirical_mean_field_and_rewards_converge_to_the_exact_flow(evac):
    pi = evac.uniform_policy()
    flow = mean_field_flow(evac, pi)
    exact_r = freeze(evac, flow).reward[:, :, 0].to(torch.float32)
    pi32 = pi.to(torch.float32)
    errs = []
    for n in (2_000, 200_000):
        gen = torch.Generator().manual_seed(0)
        states, _ = simulate_states(evac, lambda t, s, g=gen: categorical(pi32[t, s], g), n, gen)
        env = SampledPopulation(evac, states)
        mu_err = max(float((env.measure(t) - flow.mu[t]).abs().sum()) for t in range(evac.H + 1))
        errs.append((mu_err, float((env.state_terms - exact_r).abs().max())))
    # Monte Carlo: 100x the agents, ~10x smaller errors (measured 0.200 -> 0.020 and 0.023 -> 0.0025)
    assert errs[1][0] < errs[0][0] / 5 and errs[1][1] < errs[0][1] / 5
    assert errs[1][0] < 0.05
    torch.testing.assert_close(env.cost, evac.action_cost().to(torch.float32))


def test_returns_against_a_large_population_match_the_exact_value(evac):
    pi = mfglearn.solve(evac, "mirror_descent", 3, learning_rate=0.1).policy
    pi32 = pi.to(torch.float32)
    gen = torch.Generator().manual_seed(1)
    states, _ = simulate_states(evac, lambda t, s: categorical(pi32[t, s], gen), 400_000, gen)
    env = SampledPopulation(evac, states)
    mean, se = returns_of(env, evac.mu0, pi, 40_000, torch.Generator().manual_seed(2))
    exact = evaluate(evac, pi).value
    # Monte Carlo of the returns plus the population's own error (tiny at 400k agents)
    assert abs(mean - exact) < 4 * se + 0.02 * abs(exact)


def test_non_separable_games_evaluate_one_time_at_a_time():
    g = mfglearn.make("crowd_grid", map=("#####", "#   #", "#   #", "#####"), horizon=4)
    assert not g.separable_reward
    pi = g.uniform_policy()
    mdp = freeze(g, mean_field_flow(g, pi))
    gen = torch.Generator().manual_seed(0)
    states, _ = simulate_states(g, lambda t, s: categorical(pi[t, s].float(), gen), 1000, gen)
    env = SampledPopulation(g, states)
    s, a = torch.arange(g.S), torch.zeros(g.S, dtype=torch.long)
    # empirical measure in log(mu): the reward at t=0 (mu0, exactly known) is exact
    torch.testing.assert_close(env.reward_of(0, s, a), mdp.reward[0, s, a].to(torch.float32))


def test_simulated_mf_ppo_lowers_the_exact_exploitability(evac, tmp_path):
    res = mfglearn.solve(
        evac, "mf_ppo", iterations=8, n_agents=500, population="simulated", n_population=4000, hidden=(32, 32)
    )
    assert isinstance(res, DeepFiniteResult) and isinstance(res.policy, NetworkPolicy)
    assert len(res.history["population_value"]) == 8 and "exploitability" not in res.history
    pi = to_game_policy(evac, res.policy.tabulate())
    uniform = mfglearn.exploitability(evac, evac.uniform_policy())
    assert mfglearn.exploitability(evac, pi) < 0.5 * uniform  # measured 4.26 against 15.03
    res.save(tmp_path / "r")
    back = mfglearn.Result.load(tmp_path / "r", game=evac)
    assert type(back) is DeepFiniteResult and back.history == res.history
    torch.testing.assert_close(back.policy.tabulate(), res.policy.tabulate(), rtol=0, atol=0)
    with pytest.raises(ValidationError, match="Result.load\\(path, game\\)"):
        mfglearn.Result.load(tmp_path / "r")


TINY = {
    "deep_mirror_descent": {"n_agents": 16, "inner_steps": 2, "hidden": (8,)},
    "deep_average_network_fp": {"br_steps": 3, "br_agents": 8, "memory_per_iteration": 16, "avg_steps": 2},
    "mf_ppo": {"n_agents": 16, "epochs": 1, "batch_size": 16, "hidden": (8,)},
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_simulated_mode_keeps_the_contract(name, tmp_path):
    game = mfglearn.make("evacuation", rows=6, cols=6, horizon=3, window=1)

    def build():
        return mfglearn.make_algorithm(game, name, population="simulated", n_population=64, **TINY[name])

    full = build().solve(3)
    build().solve(2, checkpoint=tmp_path)
    resumed = build().solve(3, checkpoint=tmp_path)
    assert resumed.history["population_value"] == full.history["population_value"]
    torch.testing.assert_close(resumed.policy.tabulate(), full.policy.tabulate(), rtol=0, atol=0)
    with pytest.raises(ValidationError, match="target_exploitability"):
        build().solve(2, target_exploitability=0.1)


@pytest.mark.parametrize("best_response, steps, found", [("dqn", 400, 0.5), ("ppo", 10, 0.9)])
def test_approximate_exploitability_of_a_network_policy_bounds_the_exact_one(evac, best_response, steps, found):
    algo = mfglearn.make_algorithm(evac, "mf_ppo", population="simulated", n_population=1000)
    uniform = algo.policy()  # zero outputs: the uniform policy
    exact = mfglearn.exploitability(evac, evac.uniform_policy())
    out = approximate_exploitability(
        evac, uniform, n_agents=20_000, br_steps=steps, eval_episodes=4000, best_response=best_response
    )
    # measured: the DQN finds 14.65 and PPO 15.20 of 15.03
    assert out["ci95"][0] <= exact and out["exploitability"] > found * exact


def test_ppo_best_response_on_a_tabular_population_finds_the_exact_gain(evac):
    pi = mfglearn.solve(evac, "mirror_descent", 2, learning_rate=0.1).policy
    exact = mfglearn.exploitability(evac, pi)
    out = approximate_exploitability(
        evac, pi, br_steps=10, eval_episodes=4000, exact_mean_field=True, best_response="ppo"
    )
    assert out["ci95"][0] <= exact and out["exploitability"] > 0.9 * exact  # measured 9.60 of 9.47
    with pytest.raises(ValidationError, match="best_response must be one of"):
        approximate_exploitability(evac, pi, best_response="sac")
    network = mfglearn.make_algorithm(evac, "mf_ppo", population="simulated", n_population=10).policy()
    with pytest.raises(ValidationError, match="tabular policy"):
        approximate_exploitability(evac, network, exact_mean_field=True)


def test_bad_input_to_simulated_populations(evac):
    with pytest.raises(ValidationError, match="population must be one of"):
        mfglearn.make_algorithm(evac, "mf_ppo", population="sampled")
    mf_kernel = mfglearn.make("sis")  # its kernel depends on the mean field
    if mf_kernel.is_finite_horizon and mf_kernel.transition_depends_on_mean_field:
        with pytest.raises(ValidationError, match="kernel that does not depend"):
            mfglearn.make_algorithm(mf_kernel, "mf_ppo", population="simulated")
    with pytest.raises(ValidationError, match="shape \\(H\\+1, N\\)"):
        SampledPopulation(evac, torch.zeros(3, 5, dtype=torch.long))
    with pytest.raises(ValidationError, match="state indices in \\[0, 144\\)"):
        SampledPopulation(evac, torch.full((evac.H + 1, 4), evac.S))
    zero = mfglearn.solve(evac, "mf_ppo", 0, population="simulated", n_population=100)
    assert math.isfinite(zero.value)  # the starting policy's value, not a NaN
    with pytest.raises(ValidationError, match="separable_reward=True but"):
        FiniteMFG(
            n_states=2, n_actions=2, mu0=[0.5, 0.5], horizon=2, separable_reward=True,
            reward=lambda t, m: m.unsqueeze(-1) * torch.tensor([1.0, 2.0], dtype=m.dtype),
            transition=torch.tensor([[0, 1], [0, 1]]),
        )  # fmt: skip
    with pytest.raises(ValidationError, match="does not declare separable_reward"):
        mfglearn.make("four_rooms").action_cost()
