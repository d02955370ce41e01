"""MF-TRPO, exact and sample-based, on discounted games."""

import pytest
import torch

import mfglearn
from mfglearn.errors import ValidationError


def random_game(seed, S=6, A=3, gamma=0.8):
    return mfglearn.make("random", n_states=S, n_actions=A, gamma=gamma, seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_mf_trpo_drives_exploitability_down_1000x(seed):
    r = mfglearn.solve(random_game(seed), "mf_trpo", iterations=100, trust_region=0.3, beta=0.3)
    h = r.history["exploitability"]
    assert h[-1] < 1e-3 * h[0]
    assert {"quality", "mu_pi_delta", "population_delta"} <= set(r.history)
    torch.testing.assert_close(r.extra["population"], r.mean_field, atol=1e-3, rtol=0)


def two_state_game(cA=0.3, cB=0.0):
    """Pick the next state; reward c_s - mu(s). Equilibrium: mu(A) = (1 + cA - cB) / 2 (indifference)."""

    def reward(t, mu):
        return (torch.tensor([cA, cB], dtype=mu.dtype) - mu).unsqueeze(-1).expand(2, 2)

    nxt = torch.tensor([[0, 1], [0, 1]])
    return mfglearn.FiniteMFG(n_states=2, n_actions=2, mu0=[0.5, 0.5], reward=reward, transition=nxt, gamma=0.5)


def test_finds_the_known_equilibrium():
    r = mfglearn.solve(two_state_game(), "mf_trpo", iterations=60, trust_region=1.0, beta=0.5)
    assert r.exploitability < 1e-8
    torch.testing.assert_close(r.mean_field, torch.tensor([0.65, 0.35], dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(r.extra["population"], r.mean_field, atol=1e-6, rtol=0)


def test_four_rooms_crowd_equilibrium_is_stay_and_uniform():
    # doubly stochastic noise keeps the uniform crowd uniform; staying earns +0.2: an exact equilibrium
    game = mfglearn.make("four_rooms_crowd")
    r = mfglearn.solve(game, "mf_trpo", iterations=40)
    assert r.history["exploitability"][0] > 0.1
    assert r.exploitability < 1e-9
    torch.testing.assert_close(r.mean_field, torch.full((game.S,), 1 / game.S, dtype=torch.float64))
    assert float(r.policy[:, 0].min()) > 0.99


def test_sampled_converges_to_exact_as_samples_grow():
    game = random_game(0)
    exact = mfglearn.solve(game, "mf_trpo", iterations=20, trust_region=1.0, beta=0.3)

    def err(n, agents):
        out = []
        for seed in (0, 1):
            r = mfglearn.solve(
                game,
                "mf_trpo_sampled",
                iterations=20,
                trust_region=1.0,
                beta=0.3,
                n_samples=n,
                n_agents=agents,
                seed=seed,
            )
            out.append(float((r.policy - exact.policy).abs().sum(-1).max()))
        return sum(out) / len(out)

    small, large = err(2, 500), err(64, 16000)
    assert large < 0.5 * small
    assert large < 0.05


def test_sampled_is_reproducible():
    game = random_game(1, S=4, A=2)
    a = mfglearn.solve(game, "mf_trpo_sampled", iterations=3, n_samples=4, n_agents=100, seed=7)
    b = mfglearn.solve(game, "mf_trpo_sampled", iterations=3, n_samples=4, n_agents=100, seed=7)
    c = mfglearn.solve(game, "mf_trpo_sampled", iterations=3, n_samples=4, n_agents=100, seed=8)
    assert torch.equal(a.policy, b.policy)
    assert not torch.equal(a.policy, c.policy)


@pytest.mark.parametrize(
    "hp, match",
    [
        ({"trust_region": 0}, "trust_region must be a finite number > 0"),
        ({"trust_region": -1.0}, "trust_region must be a finite number > 0"),
        ({"beta": 0.0}, r"beta must be in \(0, 1\]"),
        ({"beta": 1.5}, r"beta must be in \(0, 1\]"),
        ({"entropy": -0.1}, "entropy must be a finite number >= 0"),
        ({"inner_steps": 0}, "inner_steps must be a positive integer"),
        ({"population_steps": 2.5}, "population_steps must be a positive integer"),
        ({"initial_mean_field": "gaussian"}, "initial_mean_field must be"),
    ],
)
def test_invalid_parameters(hp, match):
    with pytest.raises(ValidationError, match=match):
        mfglearn.solve(random_game(0), "mf_trpo", iterations=1, **hp)


def test_rejects_finite_horizon_games():
    with pytest.raises(ValidationError, match="discounted .*finite horizon"):
        mfglearn.solve("beach_bar", "mf_trpo", iterations=1)
    with pytest.raises(ValidationError, match="n_samples must be a positive integer"):
        mfglearn.solve(random_game(0), "mf_trpo_sampled", iterations=1, n_samples=0)


def test_trpo_step_matches_the_papers_formula():
    game = random_game(2, S=3, A=2)
    s = mfglearn.get_solver("mf_trpo")(game, trust_region=2.0, entropy=0.3)
    from mfglearn.core.stationary import freeze_stationary, stationary_distribution

    pi = torch.tensor([[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]], dtype=torch.float64)
    mdp = freeze_stationary(game, stationary_distribution(game, pi), pi)
    # closed form: J = (I - g P_pi)^-1 r_pi with r_lambda = r - lam log pi; q = r_lambda + g P J
    P = mdp.kernel.dense()
    r_lam = mdp.reward - 0.3 * torch.log(pi)
    P_pi = torch.einsum("sa,sat->st", pi, P)
    J = torch.linalg.solve(torch.eye(3, dtype=torch.float64) - 0.8 * P_pi, (pi * r_lam).sum(-1))
    q = r_lam + 0.8 * P @ J
    k = 3
    expect = pi * torch.exp((q + 0.3 * torch.log(pi)) / (2.0 * (k + 2)))
    expect = expect / expect.sum(-1, keepdim=True)
    got = s.policy_step(pi, s.action_values(mdp, pi), k)
    torch.testing.assert_close(got, expect)


def test_simulator_samples_the_kernel():
    from mfglearn.learning.simulator import Simulator, empirical_distribution

    game = random_game(0, S=4, A=2)
    sim = Simulator(game, seed=3)
    k = game.kernel_at(0, game.mu0)
    n = 200_000
    s = torch.full((n,), 2, dtype=torch.long)
    a = torch.ones(n, dtype=torch.long)
    freq = empirical_distribution(sim.step(k, s, a), 4)
    torch.testing.assert_close(freq, k.dense()[2, 1], atol=5e-3, rtol=0)
    # zero-probability outcomes are never drawn
    probs = torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]], dtype=torch.float64).repeat(5000, 1)
    draws = sim.categorical(probs).view(-1, 2)
    assert (draws[:, 0] == 1).all() and (draws[:, 1] != 1).all()
