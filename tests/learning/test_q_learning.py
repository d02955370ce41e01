"""Naive Q-learning oscillates on a game with a mixed equilibrium; GMF-Q converges to the exact equilibrium."""

import pytest
import torch

import mfglearn
from mfglearn.errors import ValidationError
from mfglearn.learning.q_learning import argmax_e, project_simplex_net


def two_state_game(cA=0.3, cB=0.0):
    """Choose the next state; reward c_s - mu(s). Unique equilibrium: mu(A) = (1 + cA - cB) / 2 = 0.65 (mixed)."""

    def reward(t, mu):
        return (torch.tensor([cA, cB], dtype=mu.dtype) - mu).unsqueeze(-1).expand(2, 2)

    return mfglearn.FiniteMFG(
        n_states=2, n_actions=2, mu0=[0.5, 0.5], reward=reward, transition=torch.tensor([[0, 1], [0, 1]]), gamma=0.5
    )


def test_naive_q_learning_oscillates():
    r = mfglearn.solve(two_state_game(), "q_learning_naive", iterations=30, inner_steps=200)
    # argmax-e sends everyone to the currently better state: the population flips back and forth
    assert max(r.history["l1_delta"][-10:]) == pytest.approx(2.0)
    assert r.exploitability > 0.5


def test_gmf_q_converges_to_the_exact_equilibrium():
    r = mfglearn.solve(two_state_game(), "gmf_q", iterations=40, inner_steps=200, temperature=1 / 30.0, epsilon=0.01)
    mu = r.extra["L"].sum(-1)
    exact = mfglearn.solve(two_state_game(), "mf_trpo", iterations=60, trust_region=1.0, beta=0.5)
    distance = float((mu - exact.mean_field).abs().sum())
    assert distance < 0.05  # measured 0.02: softmax_c smoothing biases by O(1/c)
    assert r.exploitability < 0.01
    assert max(r.history["l1_delta"][-5:]) <= 0.2


def test_gmf_q_on_a_random_game_beats_its_start():
    game = mfglearn.make("random", n_states=5, n_actions=3, gamma=0.8, seed=0)
    r = mfglearn.solve(game, "gmf_q", iterations=20, inner_steps=200, temperature=1 / 20.0, smoothing="mellowmax")
    assert r.exploitability < 0.5 * r.history["exploitability"][0]


def test_helpers():
    q = torch.tensor([[1.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    torch.testing.assert_close(argmax_e(q), torch.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]))
    L = torch.tensor([[0.333, 0.167], [0.25, 0.25]], dtype=torch.float64)
    P = project_simplex_net(L, 0.1)
    assert float(P.sum()) == pytest.approx(1.0)
    assert torch.allclose(P * 10, torch.round(P * 10))
    assert float((P - L).abs().max()) <= 0.1
    with pytest.raises(ValidationError, match="epsilon must divide 1"):
        project_simplex_net(L, 0.3)


@pytest.mark.parametrize(
    "hp, match",
    [
        ({"smoothing": "hardmax"}, "smoothing must be"),
        ({"omega": 0.4}, r"omega must be in \(0.5, 1\]"),
        ({"epsilon": 0.3}, "epsilon must divide 1"),
        ({"inner_steps": 0}, "inner_steps must be a positive integer"),
        ({"temperature": 2.225073858507203e-309}, "temperature must be at least 1e-06"),  # 1 / it is inf
        ({"temperature": 1e-300, "smoothing": "mellowmax"}, "use smoothing='argmax_e'"),
    ],
)
def test_bad_hyperparameters(hp, match):
    with pytest.raises(ValidationError, match=match):
        mfglearn.solve(two_state_game(), "gmf_q", iterations=1, **hp)


def test_needs_a_discounted_game():
    with pytest.raises(ValidationError, match="discounted games"):
        mfglearn.solve("beach_bar", "gmf_q", iterations=1)
