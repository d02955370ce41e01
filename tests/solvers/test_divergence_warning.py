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
