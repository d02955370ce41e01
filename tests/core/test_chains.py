"""Stationary distributions that always answer: reducible chains, tiny probabilities, cycling mean fields."""

import time

import numpy as np
import pytest
import torch

import mfglearn
from mfglearn.core import stationary as st
from mfglearn.core.chains import communicating_classes, gth, limit_distribution

D = torch.float64


def t(x):
    return torch.tensor(x, dtype=D)


def test_one_recurrent_class_plus_transient_states():
    # the example: state 0 is transient, state 1 absorbing; GTH alone had returned None
    P = t([[0.0, 1.0], [0.0, 1.0]])
    torch.testing.assert_close(limit_distribution(P, t([0.5, 0.5])), t([0.0, 1.0]))
    torch.testing.assert_close(st.gth_stationary(P), t([0.0, 1.0]))


def test_several_recurrent_classes_depend_on_the_start():
    P = t([[1.0, 0, 0], [0.3, 0.2, 0.5], [0, 0, 1.0]])
    # from the transient state: absorbed into 0 w.p. 0.3 / 0.8, into 2 w.p. 0.5 / 0.8
    torch.testing.assert_close(limit_distribution(P, t([0, 1.0, 0])), t([0.375, 0, 0.625]))
    torch.testing.assert_close(limit_distribution(P, t([0.5, 0, 0.5])), t([0.5, 0, 0.5]))
    labels, closed = communicating_classes(P)
    assert sorted(closed.tolist()) == [False, True, True] and len(set(labels.tolist())) == 3
    assert st.gth_stationary(P) is None  # no unique stationary law


def test_periodic_classes_give_the_cesaro_limit():
    # a 2-cycle and an absorbing state, entered half and half from a transient state
    P = t([[0, 1.0, 0, 0], [1.0, 0, 0, 0], [0, 0, 1.0, 0], [0.5, 0, 0.5, 0]])
    mu = limit_distribution(P, t([0, 0, 0, 1.0]))
    torch.testing.assert_close(mu, t([0.25, 0.25, 0.5, 0]))
    torch.testing.assert_close(mu @ P, mu)


@pytest.mark.parametrize("eps", [1e-100, 1e-190, 1e-300])
def test_probabilities_down_to_1e300_stay_exact(eps):
    # birth-death chain with one vanishing exit: detailed balance gives the answer in closed form
    P = t([[1 - eps, eps, 0], [0.5, 0.0, 0.5], [0, 0.5, 0.5]])
    mu = limit_distribution(P, t([1 / 3] * 3))
    assert torch.isfinite(mu).all()
    # mu1 * 0.5 = mu0 * eps, mu2 * 0.5 = mu1 * 0.5  ->  mu = (1, 2 eps, 2 eps) / (1 + 4 eps)
    torch.testing.assert_close(mu, t([1.0, 2 * eps, 2 * eps]) / (1 + 4 * eps), rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", range(6))
def test_random_chains_agree_with_a_dense_eigen_solve(seed):
    rng = np.random.default_rng(seed)
    S = int(rng.integers(3, 40))
    P = rng.random((S, S)) * (rng.random((S, S)) < 0.3)
    P[np.arange(S), (np.arange(S) + 1) % S] += 0.1  # a ring keeps it irreducible
    P /= P.sum(1, keepdims=True)
    w, v = np.linalg.eig(P.T)
    ref = np.real(v[:, np.argmin(abs(w - 1))])
    ref /= ref.sum()
    mu, ok = gth(t(P))
    assert ok
    np.testing.assert_allclose(mu.numpy(), ref, rtol=1e-9, atol=1e-14)


def _no_interaction_chain():
    # Bench-MFG's no-interaction chain: 7 states, left/stay/right with noise, reward = state - 0.1 |a|
    S = 7
    k = torch.zeros(S, 3, S, dtype=D)
    for s in range(S):
        for a, d in enumerate((-1, 0, 1)):
            for e, p in zip((-1, 0, 1), (0.025, 0.95, 0.025), strict=True):
                k[s, a, min(max(s + d + e, 0), S - 1)] += p
    r = torch.arange(S, dtype=D)[:, None] - 0.1 * torch.tensor([1.0, 0, 1.0], dtype=D)
    return mfglearn.FiniteMFG(S, 3, torch.full((S,), 1 / S, dtype=D), r, k, gamma=0.9, name="no_interaction")


@pytest.mark.parametrize("eps", [1e-100, 2e-190])
def test_near_deterministic_policy_has_a_finite_exploitability(eps):
    g = _no_interaction_chain()
    pi = torch.full((7, 3), eps / 2, dtype=D)
    pi[:, 2] = 1 - eps
    assert mfglearn.exploitability(g, pi) == pytest.approx(0.7525, abs=1e-4)


def test_nan_policy_gets_a_clear_error_not_a_nan():
    g = _no_interaction_chain()
    pi = g.uniform_policy().clone()
    pi[3] = float("nan")
    with pytest.raises(mfglearn.ValidationError, match="not finite|NaN"):
        st.stationary_distribution(g, pi)


def _flip_game():
    # everyone moves to the emptier state: mu = stationary(P_mu) has no solution and Picard cycles
    def transition(t_, mu):
        k = torch.zeros(2, 1, 2, dtype=D)
        go = 1.0 if float(mu[1]) < 0.5 else 0.0
        k[:, 0, 1] = go
        k[:, 0, 0] = 1 - go
        return k

    return mfglearn.FiniteMFG(2, 1, t([0.5, 0.5]), torch.zeros(2, 1, dtype=D), transition, gamma=0.9)


def test_cycling_mean_field_raises_quickly_with_the_knobs():
    g = _flip_game()
    chain = _no_interaction_chain()
    st.stationary_distribution(chain, chain.uniform_policy())  # first-call imports (scipy.sparse) are not timed
    t0 = time.perf_counter()
    with pytest.raises(mfglearn.ValidationError, match="cycles with period 2.*with_stationary"):
        st.stationary_distribution(g, g.uniform_policy())
    # its 1000 fixed-point iterations take 0.5-0.9 s on a loaded 2-core machine: the bound catches a
    # search that runs far longer than it says, not the machine's load
    assert time.perf_counter() - t0 < 5.0
    with pytest.raises(mfglearn.ValidationError, match="in 5 fixed-point iterations"):
        mfglearn.exploitability(g, g.uniform_policy(), stationary={"max_iter": 5})


def test_mean_field_dependent_kernel_converges_to_its_fixed_point():
    # a smooth coupling: the chance to move to state 1 falls with its crowding
    def transition(t_, mu):
        p = 0.8 - 0.6 * mu[1]
        k = torch.stack([1 - p, p]).expand(2, 1, 2).clone()
        return k

    g = mfglearn.FiniteMFG(2, 1, t([1.0, 0.0]), torch.zeros(2, 1, dtype=D), transition, gamma=0.9)
    mu = st.stationary_distribution(g, g.uniform_policy())
    # fixed point: mu1 = 0.8 - 0.6 mu1
    torch.testing.assert_close(mu, t([1 - 0.5, 0.5]))


def test_stationary_options_are_checked_and_copied():
    g = _no_interaction_chain()
    with pytest.raises(mfglearn.ValidationError, match="unknown stationary option.*'tolerance'"):
        g.with_stationary(tolerance=1e-3)
    with pytest.raises(mfglearn.ValidationError, match="max_iter"):
        g.with_stationary(max_iter=0)
    g2 = g.with_stationary(start=t([1.0, 0, 0, 0, 0, 0, 0]), max_iter=7)
    assert g2.stationary.max_iter == 7 and g.stationary.max_iter == 1000
    assert g2.with_stationary(tol=1e-6).stationary.start[0] == 1.0


def test_a_state_that_leaves_with_probability_1e20_is_still_absorbed_exactly():
    # 1 - (1 - 1e-20) is 0 in float64: the absorption system must use the exits, not the diagonal
    eps = 1e-20
    P = t([[1 - eps, eps / 2, eps / 2], [0, 1.0, 0], [0, 0, 1.0]])
    torch.testing.assert_close(limit_distribution(P, t([1.0, 0, 0])), t([0, 0.5, 0.5]))
    P = t([[1 - eps, 3 * eps / 4, eps / 4], [0, 1.0, 0], [0, 0.5, 0.5]])
    torch.testing.assert_close(limit_distribution(P, t([1.0, 0, 0])), t([0, 1.0, 0]))
    P = t([[0.5, 0.5 - eps, eps, 0], [0.5, 0.5, 0, 0], [0, 0, 0, 1.0], [0, 0, 1.0, 0]])
    torch.testing.assert_close(limit_distribution(P, t([1.0, 0, 0, 0])), t([0, 0, 0.5, 0.5]))


def test_finite_step_exploitability_rejects_bad_input_clearly():
    from mfglearn.core.finite_step import finite_step_exploitability, finite_step_exploitability_batch

    g = mfglearn.make("benchmfg/lasry_lions_chain")
    with pytest.raises(mfglearn.MFGError, match="shape"):
        finite_step_exploitability(g, torch.ones(3, 3))
    with pytest.raises(mfglearn.MFGError, match="nan"):
        finite_step_exploitability(g, torch.full((7, 3), float("nan")))
    with pytest.raises(mfglearn.MFGError, match="start sums to 7"):
        finite_step_exploitability(g, g.uniform_policy(), start=torch.ones(7))
    with pytest.raises(mfglearn.MFGError, match="pis sums to 3"):
        finite_step_exploitability_batch(g, torch.ones(2, 7, 3))
