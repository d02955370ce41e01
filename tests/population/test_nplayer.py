"""N-player simulation: empirical measures converge to the mean field; seeds; deviators; bad input."""

import pytest
import torch

import mfglearn
from mfglearn.errors import ValidationError
from mfglearn.population.nplayer import finite_n_exploitability, simulate


def test_empirical_measure_converges_to_mean_field():
    g = mfglearn.make("beach_bar", size=10, horizon=8)
    pi = g.uniform_policy()
    mu = mfglearn.evaluate(g, pi).flow.mu
    errs = [
        float((simulate(g, pi, n, episodes=32, seed=1).empirical - mu).abs().sum(-1).mean())
        for n in (10, 100, 1000, 10000)
    ]
    assert errs == sorted(errs, reverse=True)
    assert errs[-1] < 0.05
    # ~ 1/sqrt(N): 100x more agents, about 10x smaller error
    assert errs[0] / errs[2] == pytest.approx(10, rel=0.5)


def test_returns_match_the_mean_field_value_for_large_n():
    g = mfglearn.make("sis", horizon=10)
    pi = g.uniform_policy()
    r = simulate(g, pi, 5000, episodes=4, seed=0)
    assert float(r.returns.mean()) == pytest.approx(mfglearn.evaluate(g, pi).value, rel=2e-2)


def test_seeded_and_deviator():
    g = mfglearn.make("left_right")
    pi = g.uniform_policy()
    a, b = simulate(g, pi, 50, 3, seed=4), simulate(g, pi, 50, 3, seed=4)
    assert torch.equal(a.returns, b.returns)
    go_left = torch.zeros_like(pi)
    go_left[..., 0] = 1.0
    r = simulate(g, pi, 20, episodes=200, seed=0, deviator_policy=go_left)
    assert float(r.empirical[:, 1, 1].min()) >= 1 / 20  # the deviator is always on the left
    fe = finite_n_exploitability(g, pi, 1000, episodes=50)
    assert abs(fe.gain) < 5 * fe.stderr + 1e-3  # uniform is the equilibrium: no profitable deviation


def test_bad_input():
    g = mfglearn.make("left_right")
    with pytest.raises(ValidationError, match="n_agents >= 1"):
        simulate(g, g.uniform_policy(), 0)
    with pytest.raises(ValidationError, match="policy must have shape"):
        simulate(g, torch.ones(3, 3), 5)


def test_conditional_deviation_gain_tends_to_mean_field_exploitability():
    from mfglearn.population.nplayer import conditional_deviation_gain

    g = mfglearn.make("lq_discrete", horizon=10)
    pi = g.uniform_policy()
    exact = mfglearn.exploitability(g, pi)
    errors = []
    for n in (3, 30, 3000):
        best = conditional_deviation_gain(g, pi, n, episodes=50, seed=1)
        mf_br = conditional_deviation_gain(g, pi, n, episodes=50, seed=1, deviation="mean_field")
        # same flows: the best Markov deviation is at least as good as the mean-field best response
        assert best.gain >= mf_br.gain - 1e-9
        errors.append(abs(best.gain - exact))
    assert errors[-1] < 0.02 and errors[-1] < errors[0]  # measured 0.54 (N=3) -> 0.0001 (N=3000)
    with pytest.raises(mfglearn.ValidationError, match="n_agents >= 2"):
        conditional_deviation_gain(g, pi, 1)
