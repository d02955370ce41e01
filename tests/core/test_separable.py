"""Large separable games: state terms plus an action cost instead of (H, S, A) rewards, Q_best on demand."""

import pytest
import torch

import mfglearn
import mfglearn.core.value as value
from mfglearn.core.metrics import evaluate
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG

# 100 x 100 cells, 5 actions, 21 steps: 1.05e6 entries, just above the 2^20 from which freeze keeps the
# separable form and the evaluation recomputes Q_best instead of keeping it
GRID = dict(rows=100, cols=100, horizon=21, wall_density=0.2)


@pytest.fixture
def full_path(monkeypatch):
    """Run the next calls on the full (H, S, A) rewards with Q_best kept (what small games do)."""

    def use():
        monkeypatch.setattr(value, "SEPARABLE_MIN_ELEMENTS", 1 << 40)

    return use


def _policy(game):
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(game.H, game.S, game.A, generator=g, dtype=game.dtype)
    return torch.softmax(logits, -1)


def test_evaluation_equals_the_full_path(full_path):
    game = mfglearn.make("large_grid", **GRID)
    pi = _policy(game)
    sep = evaluate(game, pi)
    assert sep.mdp.separable and sep.mdp._reward is None  # nothing of size (H, S, A) built for the rewards
    assert callable(sep._Q_best)  # not computed yet
    full_path()
    ref = evaluate(game, pi)
    assert not ref.mdp.separable and isinstance(ref._Q_best, torch.Tensor)
    assert sep.value == pytest.approx(ref.value, rel=1e-13) and sep.best_value == pytest.approx(
        ref.best_value, rel=1e-13
    )
    for name in ("V", "Q", "V_best", "Q_best"):
        assert torch.allclose(getattr(sep, name), getattr(ref, name), rtol=1e-13, atol=1e-12), name
    assert torch.equal(sep.best_policy, ref.best_policy)
    assert torch.allclose(sep.mdp.reward, ref.mdp.reward, rtol=1e-14, atol=1e-14)  # built on demand


@pytest.mark.parametrize("solver", ["mirror_descent", "fictitious_play"])
def test_solves_equal_the_full_path(solver, full_path):
    game = mfglearn.make("large_grid", **GRID)
    a = mfglearn.solve(game, solver, iterations=3)
    full_path()
    b = mfglearn.solve(game, solver, iterations=3)
    assert a.history["exploitability"] == pytest.approx(b.history["exploitability"], rel=1e-11)
    assert torch.allclose(a.policy, b.policy, atol=1e-12)


def test_in_place_mirror_descent_resumes_bit_for_bit():
    game = mfglearn.make("large_grid", **GRID)
    algo = mfglearn.make_algorithm(game, "mirror_descent", learning_rate=0.1)
    assert algo._large
    algo.step()
    snap = algo.state_dict()
    y = snap["y"].clone()
    algo.step()
    assert torch.equal(snap["y"], y)  # the snapshot is not the tensor updated in place
    algo.step()
    resumed = mfglearn.make_algorithm(game, "mirror_descent", learning_rate=0.1)
    resumed.load_state_dict(snap)
    resumed.step()
    assert torch.equal(snap["y"], y)  # nor is the loaded one
    resumed.step()
    assert torch.equal(resumed.policy, algo.policy)
    assert resumed.history["exploitability"] == algo.history["exploitability"]


def test_state_rewards_along_without_a_state_reward_callable():
    game = mfglearn.make("large_grid", rows=6, cols=5, horizon=4)
    ms = torch.rand(4, game.S, dtype=game.dtype)
    ms = ms / ms.sum(-1, keepdim=True)
    want = game.rewards_along(ms)[..., 0]
    assert torch.equal(game.state_rewards_along(ms), want)
    game.state_reward = None  # the fallback: full rewards one time step at a time
    assert torch.equal(game.state_rewards_along(ms), want)


def _game(**kw):
    cost = torch.tensor([0.0, -0.5])

    def reward(t, mu):
        return -mu.unsqueeze(-1) + cost

    return FiniteMFG(
        n_states=3,
        n_actions=2,
        mu0=torch.tensor([1.0, 0.0, 0.0]),
        reward=reward,
        transition=torch.full((3, 2, 3), 1 / 3),
        horizon=2,
        **kw,
    )


def test_state_reward_is_checked():
    assert _game(separable_reward=True, state_reward=lambda t, mu: -mu).separable_reward
    with pytest.raises(ValidationError, match="separable_reward=True"):
        _game(state_reward=lambda t, mu: -mu)
    with pytest.raises(ValidationError, match=r"is not reward\(0, m0\)\[:, 0\]"):
        _game(separable_reward=True, state_reward=lambda t, mu: mu)
