"""Exact primitives against brute force and closed forms."""

import itertools

import pytest
import torch

import mfglearn
from mfglearn.core.flow import mean_field_flow
from mfglearn.core.metrics import evaluate, quality
from mfglearn.core.value import best_response, evaluate_policy, freeze, soft_best_response


def all_deterministic_policies(H, S, A):
    for choice in itertools.product(range(A), repeat=H * S):
        pi = torch.zeros(H, S, A, dtype=torch.float64)
        c = torch.tensor(choice).view(H, S, 1)
        yield pi.scatter_(-1, c, 1.0)


def brute_value(game, mdp, pi):
    """Expected return by explicit enumeration of state-time probabilities (dense matrices)."""
    P = [k.dense() for k in mdp.kernels]
    total = 0.0
    d = game.mu0.clone()
    for t in range(mdp.H):
        total += float((d.unsqueeze(-1) * pi[t] * mdp.reward[t]).sum())
        d = torch.einsum("s,sa,sat->t", d, pi[t], P[t])
    return total + float((d * mdp.terminal).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_response_beats_every_deterministic_policy(seed):
    game = mfglearn.make("random", n_states=3, n_actions=2, horizon=3, seed=seed)
    g = torch.Generator().manual_seed(seed)
    pi = torch.rand(3, 3, 2, generator=g, dtype=torch.float64)
    pi = pi / pi.sum(-1, keepdim=True)
    mdp = freeze(game, mean_field_flow(game, pi))
    Vb, _, br = best_response(mdp)
    best = float((game.mu0 * Vb[0]).sum())
    values = [brute_value(game, mdp, d) for d in all_deterministic_policies(3, 3, 2)]
    assert best == pytest.approx(max(values), abs=1e-12)
    assert brute_value(game, mdp, br) == pytest.approx(best, abs=1e-12)
    V, _ = evaluate_policy(mdp, pi)
    assert float((game.mu0 * V[0]).sum()) == pytest.approx(brute_value(game, mdp, pi), abs=1e-12)


def test_terminal_reward_counts_once():
    game = mfglearn.make("lq_discrete", size=7, horizon=2, n_actions_per_side=1)
    pi = game.uniform_policy()
    mdp = freeze(game, mean_field_flow(game, pi))
    V, _ = evaluate_policy(mdp, pi)
    assert float((game.mu0 * V[0]).sum()) == pytest.approx(brute_value(game, mdp, pi), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exploitability_equals_brute_force_over_every_deterministic_deviation(seed):
    """Independent of the best-response code: enumerate all 2^(H S) deterministic deviations and
    evaluate each against the policy's frozen mean field with plain policy evaluation."""
    import itertools

    from mfglearn.core.flow import mean_field_flow
    from mfglearn.core.value import evaluate_policy, freeze, policy_return

    game = mfglearn.make("random", n_states=2, n_actions=2, horizon=3, seed=seed)
    g = torch.Generator().manual_seed(seed + 10)
    pi = torch.rand(game.H, game.S, game.A, generator=g, dtype=torch.float64)
    pi = pi / pi.sum(-1, keepdim=True)
    mdp = freeze(game, mean_field_flow(game, pi))
    j_pi = float(policy_return(mdp, evaluate_policy(mdp, pi)[0]))
    best = -float("inf")
    for choice in itertools.product(range(game.A), repeat=game.H * game.S):
        dev = torch.nn.functional.one_hot(torch.tensor(choice).view(game.H, game.S), game.A).to(torch.float64)
        best = max(best, float(policy_return(mdp, evaluate_policy(mdp, dev)[0])))
    assert best - j_pi > 1e-3  # a random policy is not an equilibrium here
    assert mfglearn.exploitability(game, pi) == pytest.approx(best - j_pi, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("gid", ["beach_bar", "four_rooms", "sis", "random", "openspiel/crowd_modelling"])
def test_exploitability_is_positive_off_equilibrium(gid):
    game = mfglearn.make(gid)
    g = torch.Generator().manual_seed(3)
    pi = torch.rand(game.H, game.S, game.A, generator=g, dtype=torch.float64)
    if game.legal is not None:
        pi = pi * game.legal
    pi = pi / pi.sum(-1, keepdim=True)
    assert mfglearn.exploitability(game, pi) > 1e-6  # a random policy is no equilibrium of these games


def test_soft_best_response_tends_to_best_response():
    game = mfglearn.make("beach_bar", size=8, horizon=5)
    mdp = freeze(game, mean_field_flow(game, game.uniform_policy()))
    Vb, _, _ = best_response(mdp)
    prev = None
    for tau in (1.0, 0.1, 0.01, 0.001):
        Vs, _, pis = soft_best_response(mdp, tau)
        gap = float((Vs[0] - Vb[0]).abs().max())
        # soft value exceeds the hard one by at most tau * H * log A
        assert 0 <= float((Vs[0] - Vb[0]).min()) + 1e-12
        assert gap <= tau * game.H * torch.log(torch.tensor(3.0)).item() + 1e-9
        if prev is not None:
            assert gap <= prev + 1e-12
        prev = gap
        # the soft-optimal policy's soft value is its value plus entropy
        V, _ = evaluate_policy(mdp, pis)
        assert float((game.mu0 * V[0]).sum()) <= float((game.mu0 * Vb[0]).sum()) + 1e-12


def test_quality_equals_exploitability_on_own_flow():
    game = mfglearn.make("beach_bar", size=8, horizon=5)
    pi = game.uniform_policy()
    ev = evaluate(game, pi)
    assert quality(game, pi, ev.flow.mu) == pytest.approx(ev.exploitability, abs=1e-12)
