"""Kill a run at a random moment (SIGKILL, checkpoints included), resume it: the same numbers as an uninterrupted
run, for every algorithm kind (tabular in tests/runs/test_runs.py; learning, control and deep here)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import mfglearn

# Each run must outlast its first checkpoint by well over the 0.15 s wait before the kill, on a fast machine too:
# at 12 iterations the learning run left only ~0.5 s here, and CI's faster machine finished it before the kill.
CASES = [
    ("learning", "ad_auction", "gmf_q", 60, {"inner_steps": 60, "n_agents": 2000, "seed": 3}, {}),
    ("control", "congestion", "mfc_open_loop", 80, {"restarts": 2, "seed": 1, "horizon": 40}, {}),
    (
        "deep",
        "lq",
        "deda_fp",
        5,
        {"n_agents": 64, "br_iterations": 2, "first_br_iterations": 2, "bc_steps": 20, "flow_steps": 20, "seed": 2},
        {"horizon": 4},
    ),
]


def _sets(game_params: dict, hp: dict) -> list[str]:
    out = []
    for k, v in game_params.items():
        out += ["--set", f"game.{k}={v}"]
    for k, v in hp.items():
        out += ["--set", f"solver.{k}={v}"]
    return out


@pytest.mark.parametrize("kind, game, solver, iterations, hp, game_params", CASES, ids=[c[0] for c in CASES])
def test_kill_then_resume_equals_an_uninterrupted_run(tmp_path, kind, game, solver, iterations, hp, game_params):
    out = tmp_path / "run"
    args = ["solve", game, "--solver", solver, "--iterations", str(iterations), "--out", str(out)]
    args += ["--checkpoint-every", "1", "--no-plots", *_sets(game_params, hp)]
    p = subprocess.Popen(
        [sys.executable, "-m", "mfglearn", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 180
    while not (out / "checkpoint.safetensors").exists() and time.time() < deadline and p.poll() is None:
        time.sleep(0.02)
    time.sleep(0.15)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    killed_early = not (out / "summary.json").exists()
    res = subprocess.run(
        [sys.executable, "-m", "mfglearn", "solve", "--resume", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    ref = mfglearn.solve(mfglearn.make(game, **game_params), solver, iterations=iterations, **hp)
    got = json.loads((out / "history.json").read_text())
    assert killed_early, "the run finished before the kill: make it longer"
    for key, vals in ref.history.items():
        if key in ("seconds", "mean_field_seconds"):
            continue
        assert got[key] == [None if isinstance(v, float) and v != v else v for v in vals], key
    assert json.loads(res.stdout)["value"] == pytest.approx(ref.value, rel=1e-12)
