"""Sweeps: local process pool, Optuna search, Ray backend (when ray is installed)."""

import json
import subprocess
import sys

import pytest

from mfglearn.errors import ValidationError
from mfglearn.runs import sweep as sw


def test_parse_grid_and_seeds():
    assert sw.parse_grid(["solver.learning_rate=0.01,0.1", "game.size=8"]) == {
        "solver.learning_rate": [0.01, 0.1],
        "game.size": [8],
    }
    assert sw.parse_seeds("0..3") == [0, 1, 2, 3] and sw.parse_seeds("2,5") == [2, 5] and sw.parse_seeds(None) == [0]
    with pytest.raises(ValidationError, match="must start with 'game.' or 'solver.'"):
        sw.parse_grid(["learning_rate=1"])
    with pytest.raises(ValidationError, match="--seeds must look like"):
        sw.parse_seeds("a..b")


def test_local_grid_sweep(tmp_path):
    res = sw.sweep(
        "beach_bar",
        "mirror_descent",
        {"solver.learning_rate": [0.1, 1.0], "game.size": [6, 8]},
        iterations=8,
        out=tmp_path / "s",
        workers=2,
    )
    assert len(res["rows"]) == 4
    assert all((tmp_path / "s" / f"trial_{i:04d}" / "summary.json").exists() for i in range(4))
    best = json.loads((tmp_path / "s" / "best.json").read_text())
    expl = {(r["solver.learning_rate"], r["game.size"]): r["exploitability"] for r in res["rows"]}
    assert best["mean_exploitability"] == pytest.approx(min(expl.values()))
    assert (tmp_path / "s" / "results.csv").read_text().count("\n") == 5


def test_seeds_reach_seeded_solvers(tmp_path):
    res = sw.sweep(
        "random",
        "mf_trpo_sampled",
        {"game.gamma": [0.8], "solver.n_samples": [2]},
        seeds=[0, 1],
        iterations=2,
        out=tmp_path / "s",
        workers=1,
    )
    assert [r["seed"] for r in res["rows"]] == [0, 1]
    assert res["rows"][0]["exploitability"] != res["rows"][1]["exploitability"]
    assert res["best"]["runs"] == 2


def test_sweep_refuses_bad_input(tmp_path):
    with pytest.raises(Exception, match="unknown solver"):
        sw.sweep("beach_bar", "nope", {}, out=tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    with pytest.raises(ValidationError, match="not empty"):
        sw.sweep("beach_bar", "mirror_descent", {"solver.learning_rate": [1.0]}, out=tmp_path / "b")


def test_optuna_search(tmp_path):
    pytest.importorskip("optuna")
    res = sw.sweep(
        "beach_bar",
        "mirror_descent",
        {"solver.learning_rate": [0.01, 0.1, 1.0]},
        iterations=5,
        out=tmp_path / "o",
        search="optuna",
        trials=3,
    )
    assert len(res["rows"]) == 3
    assert res["best"]["config"]["solver.learning_rate"] in (0.01, 0.1, 1.0)


def test_ray_backend(tmp_path):
    pytest.importorskip("ray")
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "mfglearn",
            "sweep",
            "beach_bar",
            "--solver",
            "mirror_descent",
            "--grid",
            "solver.learning_rate=0.1,1",
            "--iterations",
            "5",
            "--out",
            str(tmp_path / "r"),
            "--ray",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    best = json.loads(p.stdout.strip().splitlines()[-1])
    assert best["config"]["solver.learning_rate"] == 0.1
    assert len(json.loads((tmp_path / "r" / "results.json").read_text())) == 2


def test_a_control_sweep_maximises_the_planner_value(tmp_path):
    grid = {"solver.mu_resolution": [3, 6], "solver.policy_resolution": [2]}
    res = sw.sweep("congestion", "mfc_kq", grid, iterations=50, out=tmp_path / "s", workers=1)
    values = {r["solver.mu_resolution"]: r["value"] for r in res["rows"]}
    best = res["best"]
    assert best["metric"] == "value" and best["mean_value"] == max(values.values())
    assert best["config"]["solver.mu_resolution"] == max(values, key=values.get)
    assert all(r["objective"] == -r["value"] for r in res["rows"])


def test_seeds_for_a_deterministic_solver_are_a_warning_not_silence(tmp_path):
    with pytest.warns(UserWarning, match="deterministic .* 3 seeds are ignored"):
        res = sw.sweep(
            "left_right",
            "mirror_descent",
            {"solver.learning_rate": [0.5]},
            iterations=2,
            out=tmp_path / "s",
            workers=1,
            seeds=[0, 1, 2],
        )
    assert len(res["rows"]) == 1


def test_a_batchable_grid_runs_as_one_batch_with_the_pool_s_numbers(tmp_path):
    from mfglearn.runs import rundir

    grid = {"solver.learning_rate": [0.03, 0.3], "game.crowd_aversion": [0.5, 1.0]}
    one = sw.sweep("beach_bar", "mirror_descent", grid, iterations=6, out=tmp_path / "batch")
    pool = sw.sweep("beach_bar", "mirror_descent", grid, iterations=6, out=tmp_path / "pool", batch=False, workers=1)
    assert [r["exploitability"] for r in one["rows"]] == [r["exploitability"] for r in pool["rows"]]
    cfg = json.loads((tmp_path / "batch" / "trial_0002" / "config.json").read_text())
    assert cfg["resolved"]["batch_size"] == 4
    assert "batch_size" not in json.loads((tmp_path / "pool" / "trial_0002" / "config.json").read_text())["resolved"]
    # every batched trial is an ordinary run directory: it resumes alone, like a pool trial
    a = rundir.resume_run(tmp_path / "batch" / "trial_0001", iterations=9)
    b = rundir.resume_run(tmp_path / "pool" / "trial_0001", iterations=9)
    assert a.history["exploitability"] == b.history["exploitability"] and len(a.history["iteration"]) == 9
