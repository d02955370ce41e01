"""Hyperparameter tuning across a set of games (MFGLib's ``tune``), with Optuna.

Each trial samples a solver's hyperparameters, runs the solver on every game and
scores the runs with a metric to minimise:

* ``"geometric_mean"``: geometric mean over games of the best exploitability reached
  (plus ``shift``), MFGLib's ``GeometricMean(stat="expl")``;
* ``"failure_rate"``: fraction of games whose best exploitability stays at or above
  ``fail_threshold``, MFGLib's ``FailureRate(stat="expl")``.

Search spaces default to MFGLib's for the solvers both libraries have and can be
given explicitly as ``{"name": ("float", low, high, log), "other": ("int", low, high),
"third": ("categorical", [v1, v2])}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mfglearn._common.checks import check_int
from mfglearn.errors import ValidationError, missing_extra

# MFGLib's ranges (mfglib 0.3.0 ``_init_tuner_instance``) where it has the solver
DEFAULT_SPACES: dict[str, dict[str, tuple]] = {
    "mirror_descent": {"learning_rate": ("float", 1e-5, 1e5, True)},
    "fictitious_play": {"damping": ("float", 1e-3, 1.0, True)},
    "prior_descent": {
        "temperature": ("float", 1e-5, 1e5, True),
        "inner_steps": ("categorical", [None, 1, 6, 11, 26, 51, 101]),
    },
    "boltzmann_policy_iteration": {"temperature": ("float", 1e-3, 1e3, True)},
    "fixed_point": {"temperature": ("float", 1e-3, 1e2, True), "damping": ("float", 0.01, 1.0, False)},
    "mf_trpo": {"trust_region": ("float", 1e-2, 1e2, True), "beta": ("float", 0.01, 1.0, False)},
}


@dataclass
class TuneResult:
    """Outcome of :func:`tune`.

    Attributes:
        study: the Optuna study (every trial's parameters and score).
        best_params: the best hyperparameters.
        best_value: their metric value.
        solver: the solver name; :meth:`make_solver` builds it with ``best_params``.
        scores: per-game best exploitability of the best trial.
    """

    study: object
    best_params: dict
    best_value: float
    solver: str
    scores: dict[str, float] = field(default_factory=dict)

    def make_solver(self, game, **overrides):
        """The tuned solver on ``game`` (``overrides`` replace tuned values)."""
        from mfglearn.api import make_algorithm

        return make_algorithm(game, self.solver, **{**self.best_params, **overrides})


def _suggest(trial, name: str, spec: tuple):
    kind = spec[0]
    if kind == "float":
        return trial.suggest_float(name, spec[1], spec[2], log=bool(spec[3]) if len(spec) > 3 else False)
    if kind == "int":
        return trial.suggest_int(name, spec[1], spec[2], log=bool(spec[3]) if len(spec) > 3 else False)
    if kind == "categorical":
        return trial.suggest_categorical(name, list(spec[1]))
    raise ValidationError(f"search space entry {name!r}: kind must be 'float', 'int' or 'categorical', got {kind!r}")


def tune(
    solver: str,
    games: list,
    n_trials: int = 20,
    iterations: int = 100,
    metric: str = "geometric_mean",
    space: dict[str, tuple] | None = None,
    fixed: dict | None = None,
    shift: float = 0.0,
    fail_threshold: float = 1e-3,
    seed: int = 0,
    timeout: float | None = None,
    progress: bool = False,
    batch_size: int = 1,
) -> TuneResult:
    """Tune ``solver``'s hyperparameters over ``games`` (game objects or registered ids).

    Args:
        solver: a registered solver name.
        games: the games to score on (all must suit the solver).
        n_trials: Optuna trials.
        iterations: solver iterations per game and trial.
        metric: ``"geometric_mean"`` or ``"failure_rate"`` (minimised).
        space: search space (default: :data:`DEFAULT_SPACES`).
        fixed: hyperparameters held fixed.
        shift: added to every exploitability in the geometric mean (keeps zeros finite).
        fail_threshold: exploitability at or above which a run has failed.
        seed: TPE sampler seed (same seed, same trials).
        timeout: optional wall-clock budget in seconds.
        progress: Optuna's progress bar on stderr (trials done, rate, time left, best value).
        batch_size: trials asked of Optuna at once and solved together on each game with
            :func:`mfglearn.solve_batch` (one tensor program for the batch where the solver has a batched
            update). 1 (the default) is Optuna's sequential loop; larger batches give the sampler feedback
            after each batch, so its trials differ from the sequential ones for the same seed.
    """
    try:
        import optuna
    except ImportError:
        raise missing_extra("optuna", "tune") from None
    import mfglearn
    from mfglearn.registry import get_algorithm

    get_algorithm(solver)
    if metric not in ("geometric_mean", "failure_rate"):
        raise ValidationError(f"metric must be 'geometric_mean' or 'failure_rate', got {metric!r}")
    if not games:
        raise ValidationError("tune needs at least one game")
    space = DEFAULT_SPACES.get(solver) if space is None else space
    if not space:
        raise ValidationError(f"no default search space for {solver!r}; pass space={{'name': ('float', lo, hi, log)}}")
    fixed = dict(fixed or {})
    built = [mfglearn.make(g) if isinstance(g, str) else g for g in games]
    names = [getattr(g, "name", str(i)) for i, g in enumerate(built)]

    def scores_for(params: dict) -> list[float]:
        out = []
        for g in built:
            try:
                r = mfglearn.solve(g, solver, iterations=iterations, **params)
                best = min(r.history["exploitability"])
                out.append(best if math.isfinite(best) else math.inf)
            except (ValueError, RuntimeError, FloatingPointError):
                out.append(math.inf)  # a diverging run counts as a failure, not a crash of the study
        return out

    def score(vals: list[float]) -> float:
        if metric == "failure_rate":
            return sum(v >= fail_threshold for v in vals) / len(vals)
        if any(not math.isfinite(v) for v in vals):
            return math.inf
        return math.exp(sum(math.log(max(v + shift, 1e-300)) for v in vals) / len(vals))

    def batch_scores(param_list: list[dict]) -> list[list[float]]:
        """Per trial, per game: the best exploitability, the trials of one game solved as one batch."""
        per_game = []
        for g in built:
            lists = {k: [p[k] for p in param_list] for k in param_list[0]}
            try:
                results = mfglearn.solve_batch(g, solver, iterations, **lists)
                vals = [min(r.history["exploitability"]) for r in results]
                per_game.append([v if math.isfinite(v) else math.inf for v in vals])
            except (ValueError, RuntimeError, FloatingPointError):  # one member diverged: score them alone
                per_game.append([_one(g, p) for p in param_list])
        return [list(v) for v in zip(*per_game, strict=True)]

    def _one(g, params: dict) -> float:
        try:
            best = min(mfglearn.solve(g, solver, iterations=iterations, **params).history["exploitability"])
            return best if math.isfinite(best) else math.inf
        except (ValueError, RuntimeError, FloatingPointError):
            return math.inf

    def objective(trial) -> float:
        params = {**{k: _suggest(trial, k, spec) for k, spec in space.items() if k not in fixed}, **fixed}
        vals = scores_for(params)
        for n, v in zip(names, vals, strict=True):
            trial.set_user_attr(n, v)
        return score(vals)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    n_trials = check_int("n_trials", n_trials)
    batch_size = check_int("batch_size", batch_size)
    if batch_size == 1:
        study.optimize(objective, n_trials=n_trials, timeout=timeout, show_progress_bar=progress)
    else:
        _optimize_in_batches(study, space, fixed, n_trials, batch_size, timeout, progress, batch_scores, score, names)
    best = {**study.best_params, **fixed}
    return TuneResult(study, best, float(study.best_value), solver, {n: study.best_trial.user_attrs[n] for n in names})


def _optimize_in_batches(study, space, fixed, n_trials, batch_size, timeout, progress, batch_scores, score, names):
    """Optuna's ask/tell loop, ``batch_size`` trials at a time."""
    import time

    from mfglearn._common.progress import progress_bar

    t0 = time.perf_counter()
    done = 0
    with progress_bar(n_trials, "tune", progress, unit="trial") as bar:
        while done < n_trials and (timeout is None or time.perf_counter() - t0 < timeout):
            trials = [study.ask() for _ in range(min(batch_size, n_trials - done))]
            params = [
                {**{k: _suggest(t, k, spec) for k, spec in space.items() if k not in fixed}, **fixed} for t in trials
            ]
            for trial, vals in zip(trials, batch_scores(params), strict=True):
                for n, v in zip(names, vals, strict=True):
                    trial.set_user_attr(n, v)
                study.tell(trial, score(vals))
            done += len(trials)
            bar.update(len(trials))
