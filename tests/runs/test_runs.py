"""Results directories: atomic files, checkpoints, resume after a kill, plots from the CLI."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import mfglearn
from mfglearn._common.io import atomic_write_text
from mfglearn.errors import ValidationError
from mfglearn.runs import rundir


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "mfglearn", *args], capture_output=True, text=True, timeout=300, **kw)


def test_run_directory_contents(tmp_path):
    r = rundir.run(
        "beach_bar", "mirror_descent", 12, tmp_path / "run", {"size": 8}, {"learning_rate": 0.5}, checkpoint_every=5
    )
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {
        "config.json",
        "env.json",
        "checkpoint.safetensors",
        "history.csv",
        "history.json",
        "result.safetensors",
        "summary.json",
    } <= files
    d = rundir.load_run(tmp_path / "run")
    assert d["summary"]["exploitability"] == pytest.approx(r.exploitability)
    assert len(d["history"]["exploitability"]) == 12
    assert d["config"]["resolved"]["hyperparameters"]["learning_rate"] == 0.5
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]  # no temp files left
    assert d["result"].policy.shape == r.policy.shape and d["policy"] is d["result"].policy
    with pytest.raises(ValidationError, match="already holds a run"):
        rundir.run("beach_bar", "mirror_descent", 1, tmp_path / "run")


def test_resume_equals_uninterrupted(tmp_path):
    full = mfglearn.solve(mfglearn.make("four_rooms", horizon=10), "fictitious_play", iterations=20)
    rundir.run("four_rooms", "fictitious_play", 20, tmp_path / "a", {"horizon": 10}, checkpoint_every=3)
    # simulate a crash after iteration 9: keep only that checkpoint and the config
    s = mfglearn.get_solver("fictitious_play")(mfglearn.make("four_rooms", horizon=10))
    s.solve(9)
    s.save_checkpoint(tmp_path / "a" / "checkpoint.safetensors")
    for name in ("summary.json", "history.json", "history.csv", "result.safetensors"):
        (tmp_path / "a" / name).unlink()
    resumed = rundir.resume_run(tmp_path / "a")
    assert resumed.history["exploitability"] == pytest.approx(full.history["exploitability"], abs=1e-12)


def test_kill_mid_run_then_resume(tmp_path):
    out = tmp_path / "run"
    args = [
        "solve",
        "maze",
        "--solver",
        "fictitious_play",
        "--iterations",
        "400",
        "--set",
        "game.horizon=60",
        "--out",
        str(out),
        "--checkpoint-every",
        "2",
    ]
    p = subprocess.Popen(
        [sys.executable, "-m", "mfglearn", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while not (out / "checkpoint.safetensors").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert (out / "checkpoint.safetensors").exists() and not (out / "summary.json").exists()
    show = cli("show", str(out))
    assert "not finished" in show.stdout
    res = cli("solve", "--resume", str(out), "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["iterations"] == 400
    ref = mfglearn.solve(mfglearn.make("maze", horizon=60), "fictitious_play", iterations=400)
    assert summary["exploitability"] == pytest.approx(ref.exploitability, rel=1e-9)


def test_cli_plot_and_compare(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "r"
    assert cli("solve", "four_rooms", "--iterations", "3", "--set", "game.horizon=6", "--out", str(out)).returncode == 0
    p = cli("plot", str(out))
    assert p.returncode == 0, p.stderr
    assert (out / "plots" / "metrics.png").stat().st_size > 5000
    assert (out / "plots" / "density.png").stat().st_size > 5000
    assert (out / "plots" / "policy.png").stat().st_size > 5000
    from PIL import Image

    assert Image.open(out / "plots" / "crowd.gif").n_frames == 7  # t = 0..H
    c = cli(
        "compare",
        "left_right",
        "--solvers",
        "fictitious_play,mirror_descent",
        "--iterations",
        "5",
        "--out",
        str(tmp_path / "cmp"),
    )
    assert c.returncode == 0, c.stderr
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 5000
    bad = cli("compare", "left_right", "--solvers", "fictitious_play,nope")
    assert bad.returncode == 2 and "unknown solver 'nope'" in bad.stderr


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_config_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'game = "beach_bar"\nsolver = "mirror_descent"\niterations = 4\n[game_params]\nsize = 6\n'
        "[solver_params]\nlearning_rate = 0.3\n"
    )
    p = cli("solve", "--config", str(cfg), "--set", "solver.learning_rate=0.2", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["iterations"] == 4 and d["hyperparameters"]["learning_rate"] == 0.2
    bad = tmp_path / "bad.toml"
    bad.write_text("gam = 1\n")
    p = cli("solve", "--config", str(bad))
    assert p.returncode == 2 and "unknown key(s) gam" in p.stderr


@pytest.mark.parametrize("solver", ["mfc_dp", "mfc_kq"])
def test_show_and_plot_a_control_run(tmp_path, solver):
    out = tmp_path / solver
    p = cli("solve", "congestion", "--solver", solver, "--set", "solver.mu_resolution=5", "--out", str(out))
    assert p.returncode == 0, p.stderr
    show = cli("show", str(out))
    assert show.returncode == 0 and "value -" in show.stdout and "not finished" not in show.stdout, show.stderr
    plot = cli("plot", str(out))
    assert plot.returncode == 0, plot.stderr
    assert (out / "plots" / "population.png").stat().st_size > 0
    d = rundir.load_run(out)
    assert d["result"].solver == solver and d["result"].value == d["summary"]["value"]
