"""The one algorithm contract: every method, exact, sampled, mean-field control, deep or closed form.

::

    algo = Algo(game, **hyperparameters)         # typed, documented, validated
    result = algo.solve(iterations, callback=None, progress=False,
                        target_exploitability=None, checkpoint=None)
    info = algo.step()                            # one outer iteration (what it is: Algo.iteration_unit)
    algo.state_dict(); algo.load_state_dict(d)    # resume anywhere

Rules, the same for every algorithm:

* ``callback(algorithm, info)`` is called after every iteration; returning ``False`` stops the run
  (Stable-Baselines3's rule; any other return value, ``None`` included, continues).
* ``progress=True`` shows a tqdm bar with the algorithm's monitored metric.
* ``target_exploitability`` stops once the tracked exploitability is at or below it; algorithms that
  track none (mean-field control, deep runs with tracking switched off) refuse it with a clear error.
* ``checkpoint`` (a directory, or :class:`Checkpoint` for an interval) saves the state safely after
  iterations; if the directory already holds this run's state, ``solve`` resumes from it, and the
  iterations already done count toward ``iterations``. A resumed run equals an uninterrupted one bit
  for bit.
* Subclasses declare ``game_kinds`` (``finite_horizon``, ``discounted``, ``continuous``, ``static``);
  the registry dispatches on it.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from mfglearn._common.checks import check_int, check_positive
from mfglearn._common.io import jsonable, load_state, save_state
from mfglearn._common.progress import progress_bar
from mfglearn.errors import ValidationError
from mfglearn.result import Result

Callback = Callable[["Algorithm", dict], Any]

GAME_KINDS = ("finite_horizon", "discounted", "continuous", "static")
CHECKPOINT_FILE = "checkpoint.safetensors"


def game_kind(game) -> str:
    """The kind of ``game``: ``finite_horizon``, ``discounted``, ``continuous`` or ``static``."""
    kind = getattr(game, "kind", None)
    if kind not in GAME_KINDS:
        raise ValidationError(
            f"{type(game).__name__} is not a game mfglearn can solve (it declares no kind); "
            "build one with mfglearn.make(game_id) or FiniteMFG(...)"
        )
    return kind


@dataclass(frozen=True)
class Alias:
    """A deprecated hyperparameter name: ``old`` now spelled ``new``; ``convert`` maps old values to new ones."""

    new: str
    convert: Callable[[Any], Any] | None = None
    note: str = ""


@dataclass
class Checkpoint:
    """Where and how often :meth:`Algorithm.solve` saves its state (``every`` iterations, and at the end)."""

    directory: str | os.PathLike
    every: int = 1

    @classmethod
    def coerce(cls, value) -> Checkpoint | None:
        if value is None or isinstance(value, Checkpoint):
            return value
        if isinstance(value, (str, os.PathLike)):
            return cls(value)
        raise ValidationError(f"checkpoint must be a directory path or Checkpoint(dir, every=k), got {value!r}")

    @property
    def path(self) -> Path:
        return Path(self.directory) / CHECKPOINT_FILE


class Algorithm:
    """Base class of every algorithm (see the module docstring for the contract).

    Subclasses set ``name``, ``description``, ``game_kinds``, ``iteration_unit`` and implement
    :meth:`_step` (one iteration; returns that iteration's metrics) and :meth:`result`. They extend
    :meth:`state_dict` / :meth:`load_state_dict` with what their iterations change.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    game_kinds: ClassVar[frozenset[str]] = frozenset()
    problem: ClassVar[str] = "game"  # "game": an equilibrium; "control": a planner's optimum
    iteration_unit: ClassVar[str] = "one outer iteration"
    monitor: ClassVar[str] = "exploitability"  # the metric the progress bar shows
    default_iterations: ClassVar[int] = 100  # what ``solve()`` runs without an iteration count
    aliases: ClassVar[dict[str, Alias]] = {}
    # warn once when the exploitability climbs far above its best and stays there (deterministic solvers)
    watch_divergence: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls.__init__ = _with_aliases(cls.__init__)

    def __init__(self, game) -> None:
        kind = getattr(game, "kind", None)
        if self.game_kinds and kind not in self.game_kinds:
            kinds = " or ".join(k.replace("_", "-") for k in sorted(self.game_kinds))
            hint = "; build it with gamma=..." if self.game_kinds == {"discounted"} else ""
            raise ValidationError(
                f"{self.name} needs a {kinds} game; {getattr(game, 'name', type(game).__name__)!r} is "
                f"{(kind or 'not a game').replace('_', '-')}{hint}"
            )
        self.game = game
        self.iteration = 0
        self.history: dict[str, list] = {}
        self._elapsed = 0.0
        self._extra: dict = {}
        self.stopped = "iterations"

    # ------------------------------------------------------------ declarations
    @property
    def hyperparameters(self) -> dict:
        """The algorithm's settings as resolved (for logs, results and checkpoints)."""
        return {}

    @property
    def converged(self) -> bool:
        """True once further iterations cannot change the result (e.g. a tolerance was reached)."""
        return False

    @property
    def tracks_exploitability(self) -> bool:
        """Whether iterations record an ``exploitability`` (needed by ``target_exploitability``)."""
        return self.problem == "game"

    @classmethod
    def hyperparameter_spec(cls) -> dict[str, inspect.Parameter]:
        """The constructor's hyperparameters across the class hierarchy, by name (``game`` excluded)."""
        cached = cls.__dict__.get("_spec_cache")
        if cached is not None:  # signatures are fixed once the class exists; solve_batch builds many instances
            return dict(cached)
        spec: dict[str, inspect.Parameter] = {}
        for c in reversed(cls.__mro__):
            init = vars(c).get("__init__")
            if init is None or c is object:
                continue
            init = inspect.unwrap(init)
            for n, p in inspect.signature(init).parameters.items():
                if n in ("self", "game") or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    continue
                spec[n] = p
        cls._spec_cache = {n: spec[n] for n in sorted(spec)}
        return dict(cls._spec_cache)

    @classmethod
    def create(cls, game, **hyperparameters) -> Algorithm:
        """``cls(game, **hyperparameters)`` after checking every name (deprecated aliases translated)."""
        hp = _resolve_aliases(cls, hyperparameters)
        allowed = cls.hyperparameter_spec()
        unknown = [k for k in hp if k not in allowed]
        if unknown:
            from mfglearn.errors import UnknownNameError

            raise UnknownNameError(
                f"algorithm {cls.name!r} has no hyperparameter {', '.join(map(repr, unknown))}; "
                f"it accepts: {', '.join(allowed) or 'none'}"
            )
        return cls(game, **hp)

    # -------------------------------------------------------------------- loop
    def _step(self) -> dict:
        """One iteration; returns its metrics (``iteration`` and ``seconds`` are added by :meth:`step`)."""
        raise NotImplementedError

    def step(self) -> dict:
        """Run one iteration (see ``iteration_unit``); returns that iteration's metrics, appended to ``history``."""
        t0 = time.perf_counter()
        metrics = self._step()
        self._elapsed += time.perf_counter() - t0
        self.iteration += 1
        info = {"iteration": self.iteration, **metrics, "seconds": self._elapsed}
        info.update(self._extra)  # algorithm-specific metrics recorded during the step
        self._extra = {}
        for k, v in info.items():
            self.history.setdefault(k, []).append(v)
        return info

    def result(self, stopped: str | None = None) -> Result:
        """The current state as a :class:`~mfglearn.result.Result`."""
        raise NotImplementedError

    def _check_info(self, info: dict) -> None:
        """Raise on non-finite metrics (default: the exploitability, when recorded)."""
        e = info.get("exploitability")
        if e is not None and not math.isfinite(e):
            raise FloatingPointError(
                f"{self.name}: exploitability became {e} at iteration {self.iteration}; "
                f"the hyperparameters {self.hyperparameters} are unstable on this game"
            )

    def _last_exploitability(self) -> float | None:
        vals = [v for v in self.history.get("exploitability", []) if v is not None and math.isfinite(v)]
        return vals[-1] if vals else None

    def solve(
        self,
        iterations: int | None = None,
        *,
        callback: Callback | None = None,
        progress: bool = False,
        target_exploitability: float | None = None,
        checkpoint: str | os.PathLike | Checkpoint | None = None,
    ) -> Result:
        """Run up to ``iterations`` iterations and return the :class:`~mfglearn.result.Result`.

        Args:
            iterations: iterations to run (what one is: ``iteration_unit``; default
                ``default_iterations``); when resuming from ``checkpoint``, the iterations already
                done there count toward it.
            callback: ``callback(algorithm, info)`` after every iteration; returning ``False`` stops.
            progress: show a progress bar (tqdm, on stderr).
            target_exploitability: stop once the exploitability is at or below it.
            checkpoint: a directory (or :class:`Checkpoint`) to save the state to and resume from.
        """
        n = check_int("iterations", self.default_iterations if iterations is None else iterations, minimum=0)
        if target_exploitability is not None:
            target_exploitability = check_positive("target_exploitability", target_exploitability, allow_zero=True)
            if not self.tracks_exploitability:
                raise ValidationError(
                    f"{self.name} records no exploitability here, so target_exploitability cannot stop it"
                    + (
                        " (it optimises a planner's value: stop it with a callback)"
                        if self.problem == "control"
                        else self._no_exploitability_hint()
                    )
                )
        ck = Checkpoint.coerce(checkpoint)
        if ck is not None:
            ck.every = check_int("checkpoint every", ck.every)
        remaining = n
        if ck is not None and ck.path.exists():
            self.load_checkpoint(ck.path)
            remaining = max(0, n - self.iteration)
        stopped = "iterations"
        last = self._last_exploitability()
        if target_exploitability is not None and last is not None and last <= target_exploitability:
            remaining, stopped = 0, "target"
        elif self.converged:
            remaining, stopped = 0, "converged"
        bar = progress_bar(remaining, self.name) if progress else None
        try:
            for _ in range(remaining):
                info = self.step()
                self._check_info(info)
                if ck is not None and self.iteration % ck.every == 0:
                    self.save_checkpoint(ck.path)
                if bar is not None:
                    bar.update(1)
                    v = info.get(self.monitor)
                    if isinstance(v, (int, float)):
                        bar.set_postfix({self.monitor: f"{v:.4e}"}, refresh=False)
                if self.watch_divergence:
                    self._warn_if_diverging()
                if callback is not None and callback(self, info) is False:
                    stopped = "callback"
                    break
                if target_exploitability is not None:
                    e = self._last_exploitability()
                    if e is not None and e <= target_exploitability:
                        stopped = "target"
                        break
                if self.converged:
                    stopped = "converged"
                    break
        finally:
            if bar is not None:
                bar.close()
        if ck is not None:
            self.save_checkpoint(ck.path)
        self.stopped = stopped
        return self.result(stopped)

    def _no_exploitability_hint(self) -> str:
        return ""

    _DIVERGENCE_WINDOW: ClassVar[int] = 10
    _DIVERGENCE_FACTOR: ClassVar[float] = 3.0

    def _warn_if_diverging(self) -> None:
        """Once per run: the last ``_DIVERGENCE_WINDOW`` exploitabilities all exceed ``_DIVERGENCE_FACTOR`` times
        the best one seen earlier and a tenth of the first, which is what an unstable step size looks like; or the
        iteration cycles (a constant mean-field jump, no progress for twice the window)."""
        if getattr(self, "_divergence_warned", False):
            return
        e = [v for v in self.history.get("exploitability", []) if isinstance(v, float) and math.isfinite(v)]
        w = self._DIVERGENCE_WINDOW
        if len(e) < 2 * w:
            return
        best, recent = min(e[:-w]), min(e[-w:])
        d = [v for v in self.history.get("mean_field_delta", [])[-2 * w :] if isinstance(v, float)]
        # a cycle: for 2w iterations the mean field keeps jumping by the same amount and the exploitability
        # makes no progress (the greedy fixed point on a crowd game alternates between two crowds)
        cycling = len(d) == 2 * w and min(d) > 1e-3 and max(d) <= 1.05 * min(d) and recent >= 0.95 * min(e[-2 * w : -w])
        if cycling:
            what = f"the mean field jumps by {d[-1]:.3g} (L1) at every iteration for {2 * w} iterations: it cycles"
        else:
            # far above the best, and back up to a sizeable share of where the run started: a run hovering at
            # 1e-4 after starting at 1 is not diverging, whatever its ratios
            if best <= 0 or recent <= self._DIVERGENCE_FACTOR * best or recent <= 0.1 * e[0]:
                return
            # a mean field that settles (its steps shrinking tenfold within the window) is a converging, regularised
            # iteration whose limit is worse than an early iterate (a softmax temperature's bias), not an unstable
            # step size
            if len(d) >= w and (max(d[-w:]) < 1e-9 or d[-1] <= 0.1 * d[-w]):
                return
            what = (
                f"the exploitability has stayed above {self._DIVERGENCE_FACTOR:g}x its best ({best:.4g}, before the "
                f"last {w} iterations) for {w} iterations"
            )
        self._divergence_warned = True
        hp = self.hyperparameters
        knobs = [f"lower {k} (now {hp[k]})" for k in ("learning_rate", "trust_region", "optimizer_lr") if k in hp]
        if "damping" in hp:
            knobs.append(f"use a smaller damping (now {hp['damping']})" if hp["damping"] else "damp it (damping=0.1)")
        if "temperature" in hp:
            t = hp["temperature"]
            knobs.append(f"raise temperature (now {t})" if t else "use a softmax (temperature=1.0)")
        advice = "; ".join(knobs) or "try other hyperparameters"
        warnings.warn(
            f"{self.name}: {what} (exploitability now {e[-1]:.4g}): the iteration is not converging with these "
            f"settings; {advice}",
            RuntimeWarning,
            stacklevel=_caller_level(),
        )

    # ------------------------------------------------------------- checkpoints
    # attributes saved and restored as they are (tensors moved to the CPU and back to the game's device)
    _state_tensors: ClassVar[tuple[str, ...]] = ()

    def state_dict(self) -> dict:
        """Everything needed to resume: iteration, history, elapsed time and the ``_state_tensors``
        attributes (subclasses add the rest of theirs)."""
        d = {
            "solver": self.name,
            "iteration": self.iteration,
            "history": {k: list(v) for k, v in self.history.items()},
            "elapsed": self._elapsed,
            "hyperparameters": self.hyperparameters,
        }
        for k in self._state_tensors:
            v = getattr(self, k)
            d[k] = v.cpu() if hasattr(v, "cpu") else v
        return d

    def load_state_dict(self, d: dict) -> None:
        """Restore a :meth:`state_dict` of the same algorithm on the same game."""
        if d.get("solver") != self.name:
            raise ValidationError(f"checkpoint is for algorithm {d.get('solver')!r}, not {self.name!r}")
        if _canon(d.get("hyperparameters")) != _canon(self.hyperparameters):
            raise ValidationError(
                f"the checkpoint belongs to a different run: its hyperparameters {d.get('hyperparameters')} differ "
                f"from this {self.name}'s {self.hyperparameters}; resume with the same settings or use a new directory"
            )
        self.iteration = int(d["iteration"])
        self.history = {k: list(v) for k, v in d["history"].items()}
        self._elapsed = float(d["elapsed"])
        device = getattr(self.game, "device", None)
        for k in self._state_tensors:
            v = d[k]
            setattr(self, k, v.to(device) if hasattr(v, "to") and device is not None else v)

    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        """Write :meth:`state_dict` (and the game's name) to ``path`` atomically, in the safe format."""
        return save_state(path, {"game": getattr(self.game, "name", ""), "state": self.state_dict()})

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint` (never unpickles)."""
        d = load_state(path)
        if not isinstance(d, dict) or "state" not in d:
            raise ValidationError(f"{path} is not an mfglearn checkpoint")
        name = getattr(self.game, "name", "")
        if d.get("game") != name:
            raise ValidationError(f"{path} belongs to game {d.get('game')!r}, not {name!r}; use a new directory")
        self.load_state_dict(d["state"])


def _canon(hp) -> str:
    return json.dumps(hp, sort_keys=True, default=jsonable)


def _resolve_aliases(cls, kwargs: dict) -> dict:
    aliases = getattr(cls, "aliases", {})
    if not aliases or not any(k in aliases for k in kwargs):
        return kwargs
    out = dict(kwargs)
    for old, alias in aliases.items():
        if old not in out:
            continue
        if alias.new in out:
            raise ValidationError(f"{cls.name}: give {alias.new!r} or its deprecated alias {old!r}, not both")
        value = out.pop(old)
        out[alias.new] = alias.convert(value) if alias.convert is not None else value
        warnings.warn(
            f"{cls.name}: hyperparameter {old!r} is deprecated; use {alias.new!r}"
            + (f" ({alias.note})" if alias.note else ""),
            DeprecationWarning,
            stacklevel=_caller_level(),
        )
    return out


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _caller_level() -> int:
    """``stacklevel`` of the first frame outside mfglearn (the user's call), seen from ``warnings.warn``'s caller."""
    level, f = 1, sys._getframe(1)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PACKAGE_DIR):
        f, level = f.f_back, level + 1
    return level


def _with_aliases(init):
    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **_resolve_aliases(type(self), kwargs))

    return __init__
