"""Discounted stationary primitives: closed forms, brute force, dense vs iterative paths."""

import itertools

import pytest
import torch

import mfglearn
from mfglearn.core import stationary as st


def game(seed=0, S=4, A=2, gamma=0.8):
    return mfglearn.make("random", n_states=S, n_actions=A, gamma=gamma, seed=seed)


def rand_policy(S, A, seed):
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(S, A, generator=g, dtype=torch.float64)
    return p / p.sum(-1, keepdim=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_stationary_distribution_is_invariant(seed):
    g = game(seed)
    pi = rand_policy(4, 2, seed)
    mu = st.stationary_distribution(g, pi)
    P = st.chain_matrix(g.kernel_at(0), pi)
    torch.testing.assert_close(mu @ P, mu)
    assert mu.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_discounted_best_response_beats_all_deterministic_policies(seed):
    g = game(seed, S=3, A=2, gamma=0.9)
    pi = rand_policy(3, 2, seed)
    mu = st.stationary_distribution(g, pi)
    mdp = st.freeze_stationary(g, mu, pi)
    Vb, Qb, br = st.best_response_stationary(mdp)
    for choice in itertools.product(range(2), repeat=3):
        d = torch.nn.functional.one_hot(torch.tensor(choice), 2).to(torch.float64)
        V, _ = st.evaluate_stationary(mdp, d)
        assert (V <= Vb + 1e-10).all()
    # Bellman optimality of the returned values
    torch.testing.assert_close(Vb, Qb.max(-1).values)
    V, _ = st.evaluate_stationary(mdp, br)
    torch.testing.assert_close(V, Vb)


def test_value_matches_closed_form_neumann_series():
    g = game(3, S=3, A=2, gamma=0.5)
    pi = rand_policy(3, 2, 3)
    mdp = st.freeze_stationary(g, st.stationary_distribution(g, pi), pi)
    P = st.chain_matrix(mdp.kernel, pi)
    r = (pi * mdp.reward).sum(-1)
    series = sum((0.5**k) * torch.linalg.matrix_power(P, k) @ r for k in range(200))
    V, _ = st.evaluate_stationary(mdp, pi)
    torch.testing.assert_close(V, series)


def test_iterative_paths_agree_with_dense(monkeypatch):
    g = game(4, S=6, A=3, gamma=0.9)
    pi = rand_policy(6, 3, 4)
    mu_d = st.stationary_distribution(g, pi)
    mdp = st.freeze_stationary(g, mu_d, pi)
    V_d, _ = st.evaluate_stationary(mdp, pi)
    Vb_d, _, _ = st.best_response_stationary(mdp)
    monkeypatch.setattr(st, "DENSE_MAX_STATES", 1)
    torch.testing.assert_close(st.stationary_distribution(g, pi, tol=1e-14), mu_d, atol=1e-10, rtol=0)
    torch.testing.assert_close(st.evaluate_stationary(mdp, pi, tol=1e-13)[0], V_d, atol=1e-9, rtol=0)
    torch.testing.assert_close(st.best_response_stationary(mdp, tol=1e-13)[0], Vb_d, atol=1e-9, rtol=0)


def test_stationary_exploitability_facade():
    g = game(0)
    e = mfglearn.exploitability(g, g.uniform_policy())
    assert e >= 0
    mu = st.stationary_distribution(g, g.uniform_policy())
    assert mfglearn.quality(g, g.uniform_policy(), mu) == pytest.approx(e)
    with pytest.raises(mfglearn.ValidationError, match="discounted"):
        mfglearn.solve(mfglearn.make("beach_bar"), "mf_trpo", iterations=1)


@pytest.mark.parametrize("solver, hp", [("fictitious_play", {}), ("mirror_descent", {"learning_rate": 0.5})])
def test_stationary_fp_and_omd_converge(solver, hp):
    g = game(5, S=5, A=3, gamma=0.7)
    r = mfglearn.solve(g, solver, iterations=150, **hp)
    h = r.history["exploitability"]
    assert r.policy.shape == (5, 3) and r.mean_field.shape == (5,)
    assert h[-1] < 0.1 * h[0]
