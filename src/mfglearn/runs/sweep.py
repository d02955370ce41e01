"""Hyperparameter sweeps: a grid (or an Optuna search) of runs, on a local process pool or a Ray cluster.

Every trial is an ordinary results directory (``out/trial_0007``); the sweep
writes ``results.csv`` / ``results.json`` (one row per trial) and ``best.json``
(the configuration with the best mean objective over seeds: the lowest final exploitability for
equilibrium algorithms, the highest planner value for mean-field control).

Backends:

* local (default): ``concurrent.futures.ProcessPoolExecutor`` with ``workers``
  processes, one torch thread each (started with "spawn": call ``sweep`` from a
  script under ``if __name__ == "__main__":``); a grid of a deterministic solver with a batched
  update (fictitious play, mirror descent, ...) whose trials can share a batch runs instead as one
  :func:`mfglearn.solve_batch` in this process (``batch=False`` to keep the pool);
* Ray (``backend="ray"`` or the ``RAY_ADDRESS`` environment variable): one Ray
  task per trial, on the cluster at ``RAY_ADDRESS`` or a local Ray instance
  (``pip install 'mfglearn[ray]'``).

``search="optuna"`` samples ``trials`` configurations from the grid's value
lists with Optuna's TPE sampler instead of enumerating the grid (through Ray
Tune's ``OptunaSearch`` on the Ray backend).
"""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path

from mfglearn._common.checks import check_int
from mfglearn._common.io import atomic_write_json, atomic_write_text
from mfglearn._common.progress import progress_bar
from mfglearn.errors import ValidationError, missing_extra


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["solver.learning_rate=0.01,0.1", "game.horizon=10,20"]`` -> ``{"solver.learning_rate": [0.01, 0.1], ...}``."""
    from mfglearn.runs.config import parse_value as _parse_value

    grid: dict[str, list] = {}
    for item in items:
        if "=" not in item:
            raise ValidationError(
                f"--grid expects scope.key=v1,v2,... (e.g. solver.learning_rate=0.01,0.1), got {item!r}"
            )
        key, vals = item.split("=", 1)
        scope, _, name = key.partition(".")
        if scope not in ("game", "solver") or not name:
            raise ValidationError(f"--grid key must start with 'game.' or 'solver.', got {key!r}")
        values = [_parse_value(v) for v in vals.split(",") if v != ""]
        if not values:
            raise ValidationError(f"--grid {key} has no values")
        grid[key] = values
    return grid


def parse_seeds(text: str | None) -> list[int]:
    """``"0..4"`` -> ``[0, 1, 2, 3, 4]``; ``"1,5"`` -> ``[1, 5]``; ``None`` -> ``[0]``."""
    if not text:
        return [0]
    try:
        if ".." in text:
            lo, hi = (int(x) for x in text.split(".."))
            seeds = list(range(lo, hi + 1))
        else:
            seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise ValidationError(f"--seeds must look like 0..4 or 0,3,7; got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise ValidationError(f"--seeds must list non-negative seeds in increasing ranges (e.g. 0..4), got {text!r}")
    return seeds


def _split(config: dict) -> tuple[dict, dict]:
    game, solver = {}, {}
    for k, v in config.items():
        scope, _, name = k.partition(".")
        (game if scope == "game" else solver)[name] = v
    return game, solver


def _accepts_seed(solver: str) -> bool:
    from mfglearn.registry import get_algorithm

    return "seed" in get_algorithm(solver).hyperparameter_spec()


def _metric(solver: str) -> str:
    """What a sweep of ``solver`` optimises: ``exploitability`` (minimised) or the planner's ``value`` (maximised)."""
    from mfglearn.registry import get_algorithm

    return "value" if get_algorithm(solver).problem == "control" else "exploitability"


def _objective(solver: str, result) -> float:
    """The number a sweep minimises: the final exploitability, or minus the planner's value."""
    return -result.value if _metric(solver) == "value" else result.exploitability


def _score(vals: list[float], solver: str) -> float:
    """Optuna's score over seeds: log-mean exploitability (scale-free), or the mean of minus the value."""
    return sum(vals) / len(vals) if _metric(solver) == "value" else _log_mean(vals)


def run_trial(spec: dict) -> dict:
    """Run one trial (in a worker process): returns its row for the results table."""
    import mfglearn
    from mfglearn.runs import rundir

    mfglearn.set_threads(1)
    game_params, solver_params = _split(spec["config"])
    if spec["seed"] is not None:
        solver_params["seed"] = spec["seed"]
    r = rundir.run(
        spec["game"],
        spec["solver"],
        spec["iterations"],
        spec["out"],
        game_params,
        solver_params,
        checkpoint_every=max(1, spec["iterations"] // 10),
    )
    return _row(spec, r)


def _row(spec: dict, r) -> dict:
    """A finished trial's row of the results table, also written to its run directory."""
    row = {
        "trial": spec["trial"],
        **spec["config"],
        "seed": spec["seed"],
        "exploitability": r.exploitability,
        "value": r.value,
        "objective": _objective(spec["solver"], r),
        "seconds": r.seconds,
        "run_dir": str(spec["out"]),
    }
    atomic_write_json(Path(spec["out"]) / "row.json", row)
    return row


def sweep(
    game: str,
    solver: str,
    grid: dict[str, list],
    seeds: list[int] | None = None,
    iterations: int = 100,
    out: str | Path = "sweep",
    backend: str | None = None,
    workers: int | None = None,
    search: str = "grid",
    trials: int | None = None,
    progress: bool = False,
    batch: bool = True,
) -> dict:
    """Run a sweep; returns ``{"rows": [...], "best": {...}, "out": path}``.

    Args:
        game, solver: registered names.
        grid: ``{"solver.x": [values], "game.y": [values]}``.
        seeds: seeds per configuration (passed to solvers that take ``seed``; others run once).
        iterations: iterations per trial.
        out: sweep directory (one sub-directory per trial).
        backend: ``"local"``, ``"ray"``, or ``None`` (Ray if ``RAY_ADDRESS`` is set, else local).
        workers: local processes (default: CPU count).
        search: ``"grid"`` (every combination) or ``"optuna"`` (``trials`` TPE samples).
        progress: a bar on stderr counting finished trials, with rate and time left (local backend).
        batch: on the local backend, solve a grid of a deterministic solver with a batched update as one
            batch in this process (:func:`mfglearn.solve_batch`) when its trials can share one; the trials'
            run directories are the same. ``False`` always uses the process pool.
    """
    import mfglearn

    mfglearn.get_solver(solver)  # clear errors before any process starts
    mfglearn.make(game, **_split({k: v[0] for k, v in grid.items()})[0])
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValidationError(f"sweep directory {out} is not empty; choose another --out")
    seeds = seeds or [0]
    seed_list: list[int | None] = list(seeds) if _accepts_seed(solver) else [None]
    if len(seeds) > 1 and seed_list == [None]:
        import warnings

        warnings.warn(
            f"{solver!r} is deterministic (it takes no seed): the {len(seeds)} seeds are ignored and each "
            "configuration runs once",
            UserWarning,
            stacklevel=2,
        )
    backend = backend or ("ray" if os.environ.get("RAY_ADDRESS") else "local")
    if backend not in ("local", "ray"):
        raise ValidationError(f"backend must be 'local' or 'ray', got {backend!r}")
    if search not in ("grid", "optuna"):
        raise ValidationError(f"search must be 'grid' or 'optuna', got {search!r}")
    out.mkdir(parents=True, exist_ok=True)
    if search == "optuna":
        n_trials = 10 if trials is None else check_int("trials", trials)
        rows = _optuna(game, solver, grid, seed_list, iterations, out, backend, n_trials, progress)
    else:
        keys = list(grid)
        configs = [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*grid.values())] or [{}]
        specs = []
        for config in configs:
            for seed in seed_list:
                specs.append(_spec(len(specs), config, seed, game, solver, iterations, out / f"trial_{len(specs):04d}"))
        rows = _run_batched(specs, progress) if backend == "local" and batch else None
        if rows is None:
            rows = _run_specs(specs, backend, workers, progress)
    return _summarise(rows, list(grid), out, solver)


def _run_batched(specs: list[dict], progress: bool) -> list[dict] | None:
    """Every trial of a deterministic solver's grid as one batch in this process (``None`` if they cannot
    share one: then the process pool runs them)."""
    from mfglearn.runs import rundir

    s0 = specs[0]
    if any(s["seed"] is not None for s in specs):
        return None
    splits = [_split(s["config"]) for s in specs]
    # the trials finish together: a bar (opened once the batch is sure to run) counts them at the end
    bar = None

    def start() -> None:
        nonlocal bar
        bar = progress_bar(len(specs), "sweep (one batch)", progress, unit="trial")

    try:
        results = rundir.run_batched(
            s0["game"],
            s0["solver"],
            s0["iterations"],
            [s["out"] for s in specs],
            *zip(*splits, strict=True),
            on_start=start,
        )
        if bar is not None:
            bar.update(len(specs))
    finally:
        if bar is not None:
            bar.close()
    if results is None:
        return None
    return [_row(spec, r) for spec, r in zip(specs, results, strict=True)]


def _spec(trial, config: dict, seed, game: str, solver: str, iterations: int, out: Path) -> dict:
    """One trial's description (picklable, for worker processes and Ray tasks)."""
    return dict(trial=trial, config=config, seed=seed, game=game, solver=solver, iterations=iterations, out=str(out))


def _run_specs(specs: list[dict], backend: str, workers: int | None, progress: bool = False) -> list[dict]:
    if backend == "ray":
        ray = _ray()
        remote = ray.remote(num_cpus=1)(run_trial)
        return ray.get([remote.remote(s) for s in specs])
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    n = max(1, min(workers or os.cpu_count() or 1, len(specs)))
    pool = ProcessPoolExecutor(n, mp_context=mp.get_context("spawn")) if n > 1 else None
    rows = []
    try:
        with progress_bar(len(specs), "sweep", progress, unit="trial") as bar:
            # in order: the bar moves as the earliest trials finish
            for row in pool.map(run_trial, specs) if pool else map(run_trial, specs):
                rows.append(row)
                bar.update(1)
    finally:
        if pool is not None:
            pool.shutdown()
    return rows


def _ray():
    try:
        import ray
    except ImportError:
        raise missing_extra("ray", "ray") from None
    if not ray.is_initialized():
        ray.init(
            address=os.environ.get("RAY_ADDRESS") or None,
            include_dashboard=False,
            log_to_driver=False,
            ignore_reinit_error=True,
        )
    return ray


def _optuna(game, solver, grid, seed_list, iterations, out, backend, trials, progress=False) -> list[dict]:
    try:
        import optuna
    except ImportError:
        raise missing_extra("optuna", "tune") from None
    if backend == "ray":
        return _optuna_ray(game, solver, grid, seed_list, iterations, out, trials)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=0))
    rows: list[dict] = []
    bar = progress_bar(trials, "optuna", progress, unit="trial")
    for _ in range(trials):
        trial = study.ask()
        config = {k: trial.suggest_categorical(k, v) for k, v in grid.items()}
        vals = []
        for seed in seed_list:
            row = run_trial(_spec(len(rows), config, seed, game, solver, iterations, out / f"trial_{len(rows):04d}"))
            rows.append(row)
            vals.append(row["objective"])
        study.tell(trial, _score(vals, solver))
        bar.update(1)
    bar.close()
    return rows


def _optuna_ray(game, solver, grid, seed_list, iterations, out, trials) -> list[dict]:
    _ray()
    import json

    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    out = Path(out).resolve()

    def objective(config):
        vals = []
        for seed in seed_list:
            t = f"{tune.get_context().get_trial_id()}_{seed}"
            vals.append(run_trial(_spec(t, config, seed, game, solver, iterations, out / f"trial_{t}"))["objective"])
        return {"score": _score(vals, solver)}

    space = {k: tune.choice(v) for k, v in grid.items()}
    tuner = tune.Tuner(
        objective,
        param_space=space,
        tune_config=tune.TuneConfig(search_alg=OptunaSearch(seed=0), num_samples=trials, metric="score", mode="min"),
        run_config=tune.RunConfig(storage_path=str(out / "ray_tune"), verbose=0),
    )
    tuner.fit()
    # each trial wrote row.json into its run directory
    return [json.loads(p.read_text()) for p in sorted(out.glob("trial_*/row.json"))]


def _log_mean(vals: list[float]) -> float:
    return sum(math.log(max(v, 1e-300)) for v in vals) / len(vals)


def _summarise(rows: list[dict], keys: list[str], out: Path, solver: str) -> dict:
    rows = sorted(rows, key=lambda r: str(r["trial"]))
    metric = _metric(solver)
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(repr(r.get(k)) for k in keys), []).append(r)
    best_key = min(groups, key=lambda g: sum(r["objective"] for r in groups[g]) / len(groups[g]))
    example = groups[best_key][0]
    vals = [r[metric] for r in groups[best_key]]
    best = {
        "config": {k: example.get(k) for k in keys},
        "metric": metric,
        f"mean_{metric}": sum(vals) / len(vals),
        f"min_{metric}": min(vals),
        f"max_{metric}": max(vals),
        "runs": len(vals),
    }
    atomic_write_json(out / "results.json", rows)
    cols = ["trial", *keys, "seed", "exploitability", "value", "seconds", "run_dir"]
    lines = [",".join(cols)] + [",".join(str(r.get(c, "")) for c in cols) for r in rows]
    atomic_write_text(out / "results.csv", "\n".join(lines) + "\n")
    atomic_write_json(out / "best.json", best)
    return {"rows": rows, "best": best, "out": str(out)}
