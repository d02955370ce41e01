"""Game data is checked where the library evaluates it, at every time step, with errors that name the data."""

import pytest
import torch

import mfglearn
from mfglearn import FiniteMFG
from mfglearn.errors import ValidationError

S, A, H = 3, 2, 5
P = torch.full((S, A, S), 1 / S, dtype=torch.float64)
MU0 = torch.full((S,), 1 / S, dtype=torch.float64)
DATA = "the game's data must be finite: fix the game"


def _nan_after(t0):
    return lambda t, m: torch.zeros(S, A, dtype=torch.float64) + (float("nan") if t >= t0 else 0.0)


def test_a_reward_tensor_is_checked_at_every_time_step():
    R = torch.zeros(H, S, A, dtype=torch.float64)
    R[3, 1, 0] = float("nan")
    with pytest.raises(ValidationError, match=r"reward tensor .* \(axes \[t, s, a\]\) is nan at index \[3, 1, 0\]"):
        FiniteMFG(S, A, MU0, R, P, horizon=H)


@pytest.mark.parametrize("batched", [False, True])
def test_a_reward_callable_is_checked_where_it_is_evaluated(batched):
    def batched_reward(t, m):  # t: an int or a (T,) tensor of times; NaN from t = 2 on
        t = torch.as_tensor(t)
        bad = torch.where(t >= 2, float("nan"), 0.0).to(torch.float64)
        return torch.zeros(t.shape + (S, A), dtype=torch.float64) + bad.reshape(t.shape + (1, 1))

    reward = batched_reward if batched else _nan_after(2)
    game = FiniteMFG(S, A, MU0, reward, P, horizon=H, batched_reward=batched)
    with pytest.raises(ValidationError, match=rf"reward\(t, m\) .* is nan at index \[2, 0, 0\] .*{DATA}"):
        mfglearn.exploitability(game, game.uniform_policy())
    with pytest.raises(ValidationError, match="this is not the algorithm's settings"):
        mfglearn.solve(game, "mirror_descent", iterations=2)  # not a FloatingPointError blaming the settings
    with pytest.raises(ValidationError, match=r"reward\(t=4, m\)"):
        game.reward_at(4, MU0)


def test_terminal_rewards_and_transitions_are_checked_too():
    g = FiniteMFG(S, A, MU0, torch.zeros(S, A), P, horizon=H, terminal_reward=lambda m: torch.full((S,), float("inf")))
    with pytest.raises(ValidationError, match=r"terminal_reward\(m\) .* is inf"):
        mfglearn.exploitability(g, g.uniform_policy())
    with pytest.raises(ValidationError, match="terminal_reward of game 'custom' is nan"):
        FiniteMFG(S, A, MU0, torch.zeros(S, A), P, horizon=H, terminal_reward=torch.tensor([0.0, float("nan"), 0.0]))
    doubling = FiniteMFG(S, A, MU0, torch.zeros(S, A), lambda t, m: P * (1.0 if t == 0 else 2.0), horizon=H)
    with pytest.raises(ValidationError, match=r"transition\(t=1, m\) .* mass 1.* sum to 2, not 1"):
        mfglearn.exploitability(doubling, doubling.uniform_policy())


def test_validate_false_skips_the_per_call_checks_of_a_trusted_game():
    game = FiniteMFG(S, A, MU0, _nan_after(2), P, horizon=H, validate=False)
    assert torch.isnan(torch.tensor(mfglearn.exploitability(game, game.uniform_policy())))
    ok = mfglearn.make("beach_bar")
    ok.validate = False
    ref = mfglearn.make("beach_bar")
    assert mfglearn.exploitability(ok, ok.uniform_policy()) == mfglearn.exploitability(ref, ref.uniform_policy())


def test_evaluate_and_quality_check_their_arguments():
    game = mfglearn.make("beach_bar")
    with pytest.raises(ValidationError, match="policy sums to 3"):
        mfglearn.evaluate(game, 3 * game.uniform_policy())
    mu = torch.full((game.H + 1, game.S), 5.0 / game.S, dtype=torch.float64)
    with pytest.raises(ValidationError, match="mean field sums to 5"):
        mfglearn.quality(game, game.uniform_policy(), mu)
    with pytest.raises(ValidationError, match=r"mean field must have shape \("):
        mfglearn.quality(game, game.uniform_policy(), mu[0])


@pytest.mark.parametrize("solver", ["boltzmann_policy_iteration", "prior_descent", "fixed_point", "fictitious_play"])
def test_a_nan_mean_field_is_blamed_on_the_policy_not_the_game(solver):
    # a subnormal temperature: Q / temperature overflows, the softmax is NaN, and so is the flow it drives
    with pytest.raises(ValidationError, match="mean field it was given is not finite.*temperature") as info:
        mfglearn.solve("left_right", solver, iterations=1, temperature=2.225073858507203e-309)
    assert "fix the game" not in str(info.value)
