"""Safe files, run directories that cannot be corrupted, strict arguments, a CLI without tracebacks."""

from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys

import pytest
import torch

import mfglearn
from mfglearn._common.io import save_state
from mfglearn.errors import UnknownNameError, ValidationError
from mfglearn.runs import rundir


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mfglearn", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


class _Payload:
    """Unpickling this creates a marker file: the proof that a loader ran foreign code."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def _plant_pickle(path: pathlib.Path, marker: pathlib.Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"policy": torch.zeros(2), "x": _Payload(marker)}, path)


def test_no_load_path_runs_foreign_code(tmp_path):
    marker = tmp_path / "pwned"
    game = mfglearn.make("left_right")
    # Result.load on a crafted result file
    _plant_pickle(tmp_path / "res" / "result.safetensors", marker)
    with pytest.raises(ValidationError, match="not an mfglearn state file"):
        mfglearn.Result.load(tmp_path / "res")
    # an algorithm's checkpoint
    _plant_pickle(tmp_path / "ck.safetensors", marker)
    with pytest.raises(ValidationError, match="not an mfglearn state file"):
        mfglearn.make_algorithm(game, "fictitious_play").load_checkpoint(tmp_path / "ck.safetensors")
    # a run directory's checkpoint, through the API and through the CLI
    rundir.run("left_right", "fictitious_play", 3, tmp_path / "run", checkpoint_every=1)
    _plant_pickle(tmp_path / "run" / "checkpoint.safetensors", marker)
    with pytest.raises(ValidationError, match="not an mfglearn state file"):
        rundir.resume_run(tmp_path / "run", iterations=5)
    p = cli("solve", "--resume", str(tmp_path / "run"), "--iterations", "5")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "not an mfglearn state file" in p.stderr
    _plant_pickle(tmp_path / "run" / "result.safetensors", marker)
    p = cli("plot", str(tmp_path / "run"))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert not marker.exists()


def test_a_safetensors_file_of_another_tool_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(3)}, tmp_path / "result.safetensors")
    with pytest.raises(ValidationError, match="holds no mfglearn state"):
        mfglearn.Result.load(tmp_path)
    save_state(tmp_path / "x" / "result.safetensors", {"kind": "nonsense"})
    with pytest.raises(ValidationError, match="unknown kind 'nonsense'"):
        mfglearn.Result.load(tmp_path / "x")


def test_resume_extends_a_run_and_equals_an_uninterrupted_one(tmp_path):
    rundir.run("beach_bar", "mirror_descent", 3, tmp_path / "r", {"size": 6}, {"learning_rate": 0.5}, 1)
    (tmp_path / "r" / ".history.json.abc123.tmp").write_text("half a file")  # left by a kill mid-write
    p = cli("solve", "--resume", str(tmp_path / "r"), "--iterations", "6", "--json")
    assert p.returncode == 0, p.stderr
    full = mfglearn.solve(mfglearn.make("beach_bar", size=6), "mirror_descent", iterations=6, learning_rate=0.5)
    assert json.loads(p.stdout)["iterations"] == 6
    assert json.loads((tmp_path / "r" / "history.json").read_text())["exploitability"] == full.history["exploitability"]
    assert not list((tmp_path / "r").glob("*.tmp")) and not list((tmp_path / "r").glob(".*.tmp"))
    for bad in ("2", "x"):
        q = cli("solve", "--resume", str(tmp_path / "r"), "--iterations", bad)
        assert q.returncode == 2 and "Traceback" not in q.stderr
    q = cli("solve", "--resume", str(tmp_path / "r"), "--set", "solver.learning_rate=1")
    assert q.returncode == 2 and "give only the run directory" in q.stderr


def test_summary_files_are_standard_json(tmp_path):
    rundir.run("congestion", "mfc_kq", 5, tmp_path / "kq", solver_params={"mu_resolution": 4})
    text = (tmp_path / "kq" / "summary.json").read_text()
    summary = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert summary["exploitability"] is None and summary["value"] < 0
    p = cli("solve", "congestion", "--solver", "mfc_kq", "--set", "solver.mu_resolution=4", "--json")
    assert json.loads(p.stdout, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))["exploitability"] is None


def test_concurrent_starts_into_one_out_leave_one_valid_run(tmp_path):
    out = str(tmp_path / "run")
    args = ["solve", "maze", "--iterations", "60", "--set", "game.horizon=30", "--out", out, "--no-plots", "--json"]
    procs = [subprocess.Popen([sys.executable, "-m", "mfglearn", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]  # fmt: skip
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    ok = [r for r in results if r[0] == 0]
    assert len(ok) == 1, results
    for rc, _, err in results:
        if rc != 0:
            assert rc == 2 and "Traceback" not in err
            assert "being written by another process" in err or "already holds a run" in err
    d = rundir.load_run(out)
    assert len(d["history"]["iteration"]) == 60 and d["config"]["solver"] == "fictitious_play"


@pytest.mark.parametrize(
    "args, message",
    [
        (("solve", "left_right", "--out", "/dev/null/run"), "Not a directory"),
        (("solve", "left_right", "--set", "solver.damping=yes"), "damping must be a number"),
        (("solve", "mf_trpo_four", "--solver", "mf_trpo"), "unknown game"),
        (("solve", "four_rooms_crowd", "--solver", "mf_trpo", "--set", "solver.inner_steps=1e999"), "inner_steps"),
        (("show", "/nonexistent/run"), "not a run directory"),
        (("solve", "left_right", "--set", "solver.damping=" + "-" * 100_000), "characters long"),
        (("solve", "left_right", "--set", "game.horizon=abc"), "horizon must be a positive integer"),
        (("tune", "fictitious_play", "--games", "left_right", "--trials", "0"), "n_trials must be a positive integer"),
        (("sweep", "left_right", "--grid", "solver.damping=0.5", "--seeds", "4..0"), "--seeds must list"),
        (("compare", "congestion", "--solvers", "mfc_kq,nope"), "unknown solver 'nope'"),
    ],
)
def test_bad_command_lines_end_in_one_line(args, message, tmp_path):
    p = cli(*args, cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_out_onto_a_file_and_a_corrupted_config(tmp_path):
    (tmp_path / "file").write_text("x")
    p = cli("solve", "left_right", "--out", str(tmp_path / "file"))
    assert p.returncode == 2 and "is a file" in p.stderr
    rundir.run("left_right", "fictitious_play", 2, tmp_path / "r")
    (tmp_path / "r" / "config.json").write_text("{not json")
    p = cli("solve", "--resume", str(tmp_path / "r"))
    assert p.returncode == 2 and "config.json is corrupted" in p.stderr and "Traceback" not in p.stderr
    p = cli("--debug", "show", str(tmp_path / "r"))
    assert p.returncode != 0 and "Traceback" in p.stderr  # --debug shows where it came from


@pytest.mark.parametrize(
    "hp, match",
    [
        ({"learning_rate": "0.1"}, "learning_rate must be a number, got '0.1'"),
        ({"learning_rate": True}, "learning_rate must be a number, got True"),
        ({"learning_rate": math.nan}, "learning_rate must be a finite number"),
    ],
)
def test_strict_numbers(hp, match):
    with pytest.raises(ValidationError, match=match):
        mfglearn.solve("left_right", "mirror_descent", iterations=1, **hp)


def test_strict_counts_and_names():
    with pytest.raises(ValidationError, match="iterations must be a non-negative integer, got '5'"):
        mfglearn.solve("left_right", "fictitious_play", iterations="5")
    with pytest.raises(ValidationError, match="inner_steps must be a positive integer"):
        mfglearn.solve("four_rooms_crowd", "mf_trpo", iterations=1, inner_steps=math.inf)
    with pytest.raises(UnknownNameError, match="a game id is a string"):
        mfglearn.make(123)


def test_zero_iterations_report_the_starting_point():
    game = mfglearn.make("beach_bar")
    res = mfglearn.solve(game, "mirror_descent", iterations=0)
    assert res.iterations == 0 and res.exploitability == mfglearn.exploitability("beach_bar", game.uniform_policy())
    assert res.exploitability > 1


def test_written_files_follow_the_umask(tmp_path):
    import os
    import stat

    from mfglearn._common import io

    p = io.atomic_write_text(tmp_path / "x.json", "{}")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~io._umask()
    assert not any(tmp_path.glob(".x.json.*"))  # no temporary file left behind
