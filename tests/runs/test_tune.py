"""mfglearn.tune: Optuna over a solver's hyperparameters across games, MFGLib's metrics."""

import math

import pytest

import mfglearn
from mfglearn.errors import ValidationError

pytest.importorskip("optuna")

GAMES = ["mfglib/beach_bar", "mfglib/left_right"]


def test_tune_improves_on_a_bad_setting_and_is_reproducible():
    res = mfglearn.tune("mirror_descent", GAMES, n_trials=6, iterations=20, seed=0)
    again = mfglearn.tune("mirror_descent", GAMES, n_trials=6, iterations=20, seed=0)
    assert res.best_params == again.best_params and res.best_value == again.best_value
    # the metric is the geometric mean of each game's best exploitability, recomputed here
    vals = []
    for g in GAMES:
        r = mfglearn.solve(g, "mirror_descent", iterations=20, **res.best_params)
        vals.append(min(r.history["exploitability"]))
    assert res.best_value == pytest.approx(math.exp(sum(math.log(v) for v in vals) / len(vals)), rel=1e-9)
    bad = [
        min(mfglearn.solve(g, "mirror_descent", iterations=20, learning_rate=1e-5).history["exploitability"])
        for g in GAMES
    ]
    assert res.best_value < math.exp(sum(math.log(v) for v in bad) / len(bad))
    solver = res.make_solver(mfglearn.make(GAMES[0]))
    assert solver.learning_rate == res.best_params["learning_rate"]


def test_failure_rate_and_custom_space():
    res = mfglearn.tune(
        "prior_descent",
        GAMES,
        n_trials=4,
        iterations=10,
        metric="failure_rate",
        fail_threshold=1e-2,
        space={"temperature": ("float", 0.1, 10.0, True)},
        fixed={"inner_steps": 5},
    )
    assert 0.0 <= res.best_value <= 1.0
    assert res.best_params["inner_steps"] == 5 and 0.1 <= res.best_params["temperature"] <= 10.0
    assert res.best_value == sum(v >= 1e-2 for v in res.scores.values()) / len(GAMES)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"metric": "median"}, "metric must be"),
        ({"space": {"x": ("uniform", 0, 1)}}, "kind must be"),
    ],
)
def test_bad_input(kw, match):
    with pytest.raises(ValidationError, match=match):
        mfglearn.tune("mirror_descent", GAMES, n_trials=1, iterations=2, **kw)


def test_cli_tune(capsys):
    import json

    from mfglearn.cli import main

    rc = main(["tune", "mirror_descent", "--games", ",".join(GAMES), "--trials", "3", "--iterations", "5", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out["scores"]) == set(GAMES) and out["best_value"] > 0


def test_batched_trials_score_like_solo_runs():
    res = mfglearn.tune("mirror_descent", GAMES, n_trials=8, iterations=15, seed=0, batch_size=4)
    assert len(res.study.trials) == 8
    for t in res.study.trials[:3]:  # each trial's scores are those of its own solves
        for g in GAMES:
            r = mfglearn.solve(g, "mirror_descent", iterations=15, **t.params)
            assert t.user_attrs[mfglearn.make(g).name] == pytest.approx(min(r.history["exploitability"]), rel=1e-12)
    # prior descent's space has a categorical inner_steps: members with different values run in separate groups
    pd = mfglearn.tune("prior_descent", GAMES[:1], n_trials=6, iterations=5, seed=1, batch_size=3)
    assert len(pd.study.trials) == 6 and math.isfinite(pd.best_value)
