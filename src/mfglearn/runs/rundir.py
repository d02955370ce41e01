"""Results directories: config, history, tensors, environment, checkpoints; resumable runs.

Layout of a run directory::

    config.json        game id and parameters, solver and hyperparameters, iterations, checkpoint interval
    env.json           versions, device, threads, start time
    checkpoint.pt      solver state (policy, iteration, history, solver tensors), rewritten atomically
    history.csv/.json  per-iteration metrics
    policy.pt          final policy tensor;  mean_field.pt: its mean field
    summary.json       final exploitability, iterations, seconds, paths

Every file is written atomically, so a crash or Ctrl-C leaves the previous
checkpoint intact; :func:`resume_run` continues from it and produces the same
result as an uninterrupted run (the solvers are deterministic given their state).
"""

from __future__ import annotations

import csv
import io
import json
import platform
import time
from pathlib import Path

import torch

from mfglearn.errors import ValidationError
from mfglearn.runs.io import atomic_write_bytes, atomic_write_json, atomic_write_text

CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"


def environment_info(device: str = "cpu") -> dict:
    """Versions and machine facts recorded with every run."""
    import numpy

    import mfglearn

    return {
        "mfglearn": mfglearn.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _save_tensor(path: Path, t: torch.Tensor) -> None:
    buf = io.BytesIO()
    torch.save(t.detach().cpu(), buf)
    atomic_write_bytes(path, buf.getvalue())


def write_history(run_dir: Path, history: dict) -> None:
    """Write the per-iteration history as ``history.json`` and ``history.csv``."""
    atomic_write_json(run_dir / "history.json", history)
    keys = list(history)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(keys)
    for row in zip(*(history[k] for k in keys), strict=False):
        w.writerow(row)
    atomic_write_text(run_dir / "history.csv", out.getvalue())


def _build(config: dict):
    import mfglearn

    game = mfglearn.make(config["game"], **config.get("game_params", {}))
    cls = mfglearn.get_solver(config["solver"])
    solver = cls(game, **mfglearn._check_hparams(cls, dict(config.get("solver_params", {}))))
    return game, solver


def run(
    game_id: str,
    solver: str,
    iterations: int,
    out: str | Path,
    game_params: dict | None = None,
    solver_params: dict | None = None,
    checkpoint_every: int = 10,
    progress: bool = False,
    target_exploitability: float | None = None,
):
    """Solve ``game_id`` with ``solver`` for ``iterations``, writing a results directory to ``out``.

    Returns the :class:`~mfglearn.solvers.base.Result`. ``out`` must not already hold a run
    (use :func:`resume_run` to continue one).
    """
    out = Path(out)
    if (out / CONFIG).exists():
        raise ValidationError(f"{out} already holds a run; resume it with --resume {out} or choose another --out")
    if int(checkpoint_every) < 1:
        raise ValidationError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    config = {
        "game": game_id,
        "game_params": dict(game_params or {}),
        "solver": solver,
        "solver_params": dict(solver_params or {}),
        "iterations": int(iterations),
        "checkpoint_every": int(checkpoint_every),
        "target_exploitability": target_exploitability,
    }
    game, s = _build(config)  # validates everything before anything is written
    out.mkdir(parents=True, exist_ok=True)
    config["resolved"] = {"game_name": game.name, "game_params": game.params, "hyperparameters": s.hyperparameters}
    atomic_write_json(out / CONFIG, config)
    atomic_write_json(out / "env.json", environment_info(game.device))
    return _drive(s, config, out, progress)


def resume_run(run_dir: str | Path, progress: bool = False):
    """Continue the run in ``run_dir`` from its last checkpoint up to its configured iterations."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).exists():
        raise ValidationError(f"{run_dir} is not a run directory (no {CONFIG}); start one with 'mfglearn solve --out'")
    config = json.loads((run_dir / CONFIG).read_text())
    _, s = _build(config)
    ck = run_dir / CHECKPOINT
    if ck.exists():
        s.load_state_dict(torch.load(ck, map_location="cpu", weights_only=False))
    return _drive(s, config, run_dir, progress)


def _drive(s, config: dict, out: Path, progress: bool):
    total = config["iterations"]
    every = config["checkpoint_every"]
    target = config.get("target_exploitability")
    stopped = ["iterations"]

    def on_iteration(solver, info):
        if solver.iteration % every == 0 or solver.iteration == total:
            buf = io.BytesIO()
            torch.save(solver.state_dict(), buf)
            atomic_write_bytes(out / CHECKPOINT, buf.getvalue())

    remaining = max(0, total - s.iteration)
    if target is not None and s.history["exploitability"] and s.history["exploitability"][-1] <= target:
        remaining = 0
        stopped[0] = "target"
    result = s.solve(remaining, callback=on_iteration, progress=progress, target_exploitability=target)
    if remaining:
        stopped[0] = result.stopped
    buf = io.BytesIO()
    torch.save(s.state_dict(), buf)
    atomic_write_bytes(out / CHECKPOINT, buf.getvalue())
    write_history(out, result.history)
    _save_tensor(out / "policy.pt", result.policy)
    _save_tensor(out / "mean_field.pt", result.mean_field)
    summary = result.summary()
    summary["stopped"] = stopped[0]
    summary["run_dir"] = str(out)
    summary["files"] = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    atomic_write_json(out / "summary.json", summary)
    result.stopped = stopped[0]
    return result


def load_run(run_dir: str | Path) -> dict:
    """Read a run directory: ``config``, ``summary``, ``history``, ``policy``, ``mean_field``."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).exists():
        raise ValidationError(f"{run_dir} is not a run directory (no {CONFIG})")
    d = {"config": json.loads((run_dir / CONFIG).read_text())}
    for name in ("summary", "history", "env"):
        p = run_dir / f"{name}.json"
        d[name] = json.loads(p.read_text()) if p.exists() else None
    for name in ("policy", "mean_field"):
        p = run_dir / f"{name}.pt"
        d[name] = torch.load(p, map_location="cpu", weights_only=True) if p.exists() else None
    return d
