"""A solver whose exploitability runs away says so once, naming the hyperparameter to change."""

import warnings

import pytest

import mfglearn


def test_a_diverging_run_warns_once_with_the_knob():
    # the README's old headline example: online mirror descent with learning_rate 0.1 on four rooms, horizon 40
    game = mfglearn.make("four_rooms", horizon=40)
    with pytest.warns(RuntimeWarning, match=r"not converging .* lower learning_rate \(now 0.1\)") as caught:
        mfglearn.solve(game, "mirror_descent", iterations=40, learning_rate=0.1)
    assert sum("not converging" in str(w.message) for w in caught) == 1


def test_a_converging_run_stays_silent():
    game = mfglearn.make("four_rooms", horizon=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = mfglearn.solve(game, "mirror_descent", iterations=40, learning_rate=0.03)
    assert r.history["exploitability"][-1] < r.history["exploitability"][0]


def test_a_converged_regularised_iteration_stays_silent():
    # the damped softmax fixed point on the ad auction settles (mean-field delta ~1e-15) on a limit whose
    # exploitability (0.13, the temperature's bias) is above an early iterate's (0.036): converged, not diverging
    game = mfglearn.make("ad_auction")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = mfglearn.solve(game, "fixed_point", iterations=120, temperature=1 / 20, damping=0.2)
    assert r.history["mean_field_delta"][-1] < 1e-9
    assert r.exploitability > 3 * min(r.history["exploitability"])


def test_a_cycling_fixed_point_says_it_cycles():
    # the greedy fixed point on the beach bar alternates between two crowds (exploitability 366, 391, 366, ...)
    with pytest.warns(RuntimeWarning, match=r"it cycles .* use a smaller damping \(now 1.0\); use a softmax"):
        mfglearn.solve("beach_bar", "fixed_point", iterations=25)
