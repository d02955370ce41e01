"""Run directories: one pipeline for every algorithm (tabular, learning, mean-field control, deep).

Layout of a run directory::

    config.json              game id and parameters, solver and hyperparameters, iterations, checkpoint interval
    env.json                 versions, device, threads, start time
    checkpoint.safetensors   the algorithm's state (safe format), rewritten atomically every checkpoint_every
    history.csv/.json        per-iteration metrics
    result.safetensors       the final Result (policy, mean field, history, settings; mfglearn.Result.load(dir))
    summary.json             final exploitability / value, iterations, seconds, stop reason, files
    .lock                    held while a process writes the run

Every file is written atomically, so a crash or Ctrl-C leaves the previous checkpoint intact;
:func:`resume_run` continues from it and gives the same result as an uninterrupted run. Nothing is
ever unpickled. A run directory is locked while a process drives it, so two processes cannot
write one run.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import platform
import time
from pathlib import Path

import torch

from mfglearn._common.checks import check_int
from mfglearn._common.io import atomic_write_json, atomic_write_text
from mfglearn.algorithm import CHECKPOINT_FILE, Checkpoint
from mfglearn.errors import ValidationError
from mfglearn.result import RESULT_FILE, Result

CONFIG = "config.json"
CHECKPOINT = CHECKPOINT_FILE


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
    from mfglearn.api import make_algorithm
    from mfglearn.registry import make

    game = make(config["game"], **config.get("game_params", {}))
    return game, make_algorithm(game, config["solver"], **dict(config.get("solver_params", {})))


@contextlib.contextmanager
def run_lock(run_dir: Path):
    """Hold ``run_dir/.lock`` (an exclusive ``flock``) while a process writes the run."""
    import fcntl

    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / ".lock", "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValidationError(
                f"{run_dir} is being written by another process; wait for it or use another --out"
            ) from None
        _remove_orphans(run_dir)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _remove_orphans(run_dir: Path) -> None:
    """Delete temporary files left by writes that a kill interrupted (safe: the caller holds the run's lock)."""
    for folder in (run_dir, run_dir / "plots"):
        for tmp in folder.glob(".*.tmp") if folder.is_dir() else ():
            tmp.unlink(missing_ok=True)


def read_json(path: Path) -> dict:
    """A run file's JSON, or one clear error naming the file."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path} is corrupted (not JSON: {exc}); restore it or start a new run") from None


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
) -> Result:
    """Solve ``game_id`` with any registered algorithm ``solver``, writing a run directory to ``out``.

    Returns the :class:`~mfglearn.result.Result`. ``out`` must not already hold a run
    (use :func:`resume_run` to continue one).
    """
    out = Path(out)
    if (out / CONFIG).exists():
        raise ValidationError(f"{out} already holds a run; resume it with --resume {out} or choose another --out")
    checkpoint_every = check_int("checkpoint_every", checkpoint_every)
    from mfglearn.games.registry import resolve_game_id

    config = {
        "game": resolve_game_id(game_id),  # a user game's file is stored with its absolute path
        "game_params": dict(game_params or {}),
        "solver": solver,
        "solver_params": dict(solver_params or {}),
        "iterations": int(iterations),
        "checkpoint_every": int(checkpoint_every),
        "target_exploitability": target_exploitability,
    }
    game, algo = _build(config)  # validates everything before anything is written
    if out.exists() and not out.is_dir():
        raise ValidationError(f"--out {out} is a file; give a directory for the run")
    with run_lock(out):
        if (out / CONFIG).exists():  # another process may have created the run since the check above
            raise ValidationError(f"{out} already holds a run; resume it with --resume {out} or choose another --out")
        _write_config(out, config, game, algo)
        return _drive(algo, config, out, progress)


def _write_config(out: Path, config: dict, game, algo, **resolved) -> None:
    """``config.json`` (with what the settings resolved to) and ``env.json`` of a new run."""
    config["resolved"] = {
        "game_name": game.name,
        "game_params": getattr(game, "params", {}),
        "hyperparameters": algo.hyperparameters,
        "kind": getattr(game, "kind", ""),
        "problem": algo.problem,
        **resolved,
    }
    atomic_write_json(out / CONFIG, config)
    atomic_write_json(out / "env.json", environment_info(getattr(game, "device", "cpu")))


def run_batched(
    game_id: str,
    solver: str,
    iterations: int,
    outs: list[str | Path],
    game_params: list[dict],
    solver_params: list[dict],
    on_start=None,
) -> list[Result] | None:
    """Runs of one solver on ``len(outs)`` settings as one batch (:func:`mfglearn.solve_batch`), each
    written to its own run directory as :func:`run` writes it (resumable one by one).

    Returns ``None``, having written nothing, when the members cannot share a batch; the caller runs them
    one by one. A batch is one tensor program: each run's checkpoint is written once, at the end.
    ``on_start()`` is called once the batch is sure to run.
    """
    from mfglearn.api import make_algorithm
    from mfglearn.games.registry import resolve_game_id
    from mfglearn.solvers.base import Solver
    from mfglearn.solvers.batch import batch_incompatible, run_batch

    games: dict[str, object] = {}  # equal game parameters share one game object (its callables run once)
    configs, algos = [], []
    for gp, sp in zip(game_params, solver_params, strict=True):
        config = {
            "game": resolve_game_id(game_id),
            "game_params": dict(gp),
            "solver": solver,
            "solver_params": dict(sp),
            "iterations": int(iterations),
            "checkpoint_every": int(iterations),
            "target_exploitability": None,
        }
        key = json.dumps(config["game_params"], sort_keys=True, default=str)
        if key not in games:
            games[key] = _build(config)[0]
        algos.append(make_algorithm(games[key], solver, **config["solver_params"]))
        configs.append(config)
    if len(algos) < 2 or not all(isinstance(a, Solver) for a in algos) or batch_incompatible(algos) is not None:
        return None
    for out in outs:
        if (Path(out) / CONFIG).exists():
            raise ValidationError(f"{out} already holds a run; resume it with --resume {out} or choose another --out")
    if on_start is not None:
        on_start()
    results = run_batch(algos, int(iterations), checked=True)  # batch_incompatible said yes above
    for config, algo, res, out in zip(configs, algos, results, outs, strict=True):
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        with run_lock(out):
            _write_config(out, config, algo.game, algo, batch_size=len(algos))
            algo.save_checkpoint(Checkpoint(out, every=config["checkpoint_every"]).path)
            _write_outputs(res, out)
    return results


def resume_run(run_dir: str | Path, progress: bool = False, iterations: int | None = None) -> Result:
    """Continue the run in ``run_dir`` from its last checkpoint up to its configured iterations.

    ``iterations`` extends the run to that many iterations (recorded in ``config.json``); it cannot
    be lower than the iterations the run already has.
    """
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).exists():
        raise ValidationError(f"{run_dir} is not a run directory (no {CONFIG}); start one with 'mfglearn solve --out'")
    config = read_json(run_dir / CONFIG)
    missing = [k for k in ("game", "solver", "iterations", "checkpoint_every") if k not in config]
    if missing:
        raise ValidationError(f"{run_dir / CONFIG} lacks {', '.join(missing)}; it was not written by mfglearn")
    _, algo = _build(config)
    with run_lock(run_dir):
        if iterations is not None:
            done = (
                len(read_json(run_dir / "history.json").get("iteration", []))
                if (run_dir / "history.json").exists()
                else 0
            )
            try:
                iterations = check_int("iterations", iterations, minimum=max(1, done))
            except ValidationError:
                raise ValidationError(
                    f"--iterations must be an integer >= {max(1, done)} (the run has {done}); got {iterations!r}"
                ) from None
            config["iterations"] = int(iterations)
            atomic_write_json(run_dir / CONFIG, config)
        return _drive(algo, config, run_dir, progress)


def _drive(algo, config: dict, out: Path, progress: bool) -> Result:
    ck = Checkpoint(out, every=config["checkpoint_every"])
    result = algo.solve(
        config["iterations"],
        progress=progress,
        target_exploitability=config.get("target_exploitability"),
        checkpoint=ck,
    )
    _write_outputs(result, out)
    return result


def _write_outputs(result: Result, out: Path) -> None:
    """History, result and summary of a finished run."""
    write_history(out, result.history)
    result.save(out)
    summary = result.summary()
    summary["run_dir"] = str(out)
    summary["files"] = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    if "summary.json" not in summary["files"]:
        summary["files"] = sorted([*summary["files"], "summary.json"])
    atomic_write_json(out / "summary.json", summary)


def load_run(run_dir: str | Path, game=None) -> dict:
    """Read a run directory: ``config``, ``summary``, ``history``, ``env`` (dicts or ``None``),
    ``result`` (the :class:`~mfglearn.result.Result`, ``None`` until the run finished) and ``game``
    (the one given, or built from the config for a finished run); for tabular runs also ``policy``
    and ``mean_field`` tensors."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).exists():
        raise ValidationError(f"{run_dir} is not a run directory (no {CONFIG})")
    d = {"config": read_json(run_dir / CONFIG)}
    for name in ("summary", "history", "env"):
        p = run_dir / f"{name}.json"
        d[name] = read_json(p) if p.exists() else None
    finished = (run_dir / RESULT_FILE).exists() and d["summary"]
    if finished and game is None:  # planner policies that query the model (DP lookahead) need the game
        from mfglearn.registry import make

        game = make(d["config"]["game"], **d["config"].get("game_params", {}))
    d["result"] = Result.load(run_dir, game=game) if finished else None
    d["game"] = game
    res = d["result"]
    tabular = res is not None and isinstance(res.policy, torch.Tensor) and isinstance(res.mean_field, torch.Tensor)
    d["policy"] = res.policy if tabular else None
    d["mean_field"] = res.mean_field if tabular else None
    return d
