"""Solver base class, result object and callbacks.

Every solver is ``Solver(game, **typed_hyperparameters)``; ``solve(iterations)``
runs the loop and returns a :class:`Result`; ``step()`` runs one iteration for
external control. After each iteration the current policy is evaluated against
its own mean field (exploitability, value, deltas); solvers reuse that evaluation
for their next update, so the metrics cost almost nothing extra.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from mfglearn.core.backend import resolve_device, set_threads
from mfglearn.core.flow import Flow
from mfglearn.core.metrics import Evaluation, evaluate, mean_field_delta, policy_delta
from mfglearn.core.policy import check_policy
from mfglearn.errors import ValidationError
from mfglearn.games.base import FiniteMFG

Callback = Callable[["Solver", dict], Any]


@dataclass
class Result:
    """What a solver returns.

    Attributes:
        policy: final policy, ``(H, S, A)`` (or ``(S, A)`` for stationary games).
        mean_field: its mean-field flow ``(H+1, S)`` (or stationary ``(S,)``).
        value: ``J(policy, mean_field)``, the expected return of a representative agent.
        history: per-iteration lists: ``iteration``, ``exploitability``, ``value``,
            ``mean_field_delta``, ``policy_delta``, ``seconds`` (cumulative wall time).
        solver, game: names; ``hyperparameters``: the solver's settings.
        stopped: why the loop ended (``"iterations"``, ``"target"``, ``"callback"``).
    """

    policy: torch.Tensor
    mean_field: torch.Tensor
    value: float
    history: dict[str, list]
    solver: str = ""
    game: str = ""
    hyperparameters: dict = field(default_factory=dict)
    stopped: str = "iterations"
    extra: dict = field(default_factory=dict)

    @property
    def exploitability(self) -> float:
        """Final exploitability (float)."""
        h = self.history.get("exploitability", [])
        return float(h[-1]) if h else float("nan")

    @property
    def iterations(self) -> int:
        return len(self.history.get("iteration", []))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the result to ``path`` (a ``.pt`` file) atomically."""
        from mfglearn.runs.io import atomic_write_bytes

        buf = io.BytesIO()
        torch.save(
            {
                "policy": self.policy.cpu(),
                "mean_field": self.mean_field.cpu(),
                "value": self.value,
                "history": self.history,
                "solver": self.solver,
                "game": self.game,
                "hyperparameters": self.hyperparameters,
                "stopped": self.stopped,
                "extra": {k: v for k, v in self.extra.items() if _picklable(v)},
            },
            buf,
        )
        return atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Result:
        """Read a result written by :meth:`save`."""
        d = torch.load(path, map_location="cpu", weights_only=False)
        return cls(**d)

    def summary(self) -> dict:
        """A JSON-friendly summary."""
        return {
            "solver": self.solver,
            "game": self.game,
            "iterations": self.iterations,
            "exploitability": self.exploitability,
            "value": self.value,
            "seconds": self.history["seconds"][-1] if self.history.get("seconds") else 0.0,
            "stopped": self.stopped,
            "hyperparameters": self.hyperparameters,
        }

    def __repr__(self) -> str:
        return (
            f"Result(solver={self.solver!r}, game={self.game!r}, iterations={self.iterations}, "
            f"exploitability={self.exploitability:.6g}, value={self.value:.6g})"
        )


def _picklable(v) -> bool:
    try:
        json.dumps(v)
        return True
    except TypeError:
        return isinstance(v, torch.Tensor)


class _Progress:
    """A dependency-free one-line progress bar on stderr."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.t0 = total, label, time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def update(self, k: int, expl: float) -> None:
        now = time.perf_counter()
        if k < self.total and now - self.last < 0.1:
            return
        self.last = now
        width = 24
        done = int(width * k / max(self.total, 1))
        bar = "#" * done + "-" * (width - done)
        msg = f"{self.label} [{bar}] {k}/{self.total} exploitability={expl:.4e} {now - self.t0:.1f}s"
        end = "\r" if self.tty and k < self.total else "\n"
        if self.tty or k == self.total or k % max(1, self.total // 10) == 0:
            sys.stderr.write(msg + end)
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


class Solver:
    """Base class of the exact-model iterative solvers on :class:`FiniteMFG` games.

    Subclasses implement :meth:`_update`, returning the next policy from the
    evaluation of the current one, and set ``name`` / ``description``.

    Args:
        game: the game to solve.
        initial_policy: starting policy (default: uniform over legal actions).
        device: where to compute (``"cpu"``, ``"cuda"``, ...); default: the game's device.
        threads: torch intra-op threads (default: ``MFGLEARN_THREADS`` or 1).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    supports_discounted: ClassVar[bool] = False

    def __init__(
        self,
        game: FiniteMFG,
        *,
        initial_policy: torch.Tensor | None = None,
        device: str | torch.device | None = None,
        threads: int | None = None,
    ):
        if not isinstance(game, FiniteMFG):
            raise ValidationError(
                f"{type(self).__name__} solves FiniteMFG games; got {type(game).__name__}. "
                "Build one with mfglearn.make(game_id) or FiniteMFG(...)"
            )
        if not game.is_finite_horizon and not self.supports_discounted:
            raise ValidationError(
                f"solver {self.name!r} works on finite-horizon games; {game.name!r} is discounted. "
                "Use 'mf_trpo', 'fictitious_play' or 'mirror_descent' for discounted games"
            )
        set_threads(threads)
        if device is not None and resolve_device(device) != game.device:
            game = game.with_device(device)
        self.game = game
        self.policy = check_policy(game, game.uniform_policy() if initial_policy is None else initial_policy).clone()
        self.iteration = 0
        self.history: dict[str, list] = {k: [] for k in HISTORY_KEYS}
        self._elapsed = 0.0
        self._eval: Evaluation | None = None
        self._extra: dict = {}

    # ---------------------------------------------------------------- public API
    @property
    def hyperparameters(self) -> dict:
        """The solver's hyperparameters (for logs and results)."""
        return {}

    def evaluation(self) -> Evaluation:
        """The current policy's :class:`~mfglearn.core.metrics.Evaluation` (cached)."""
        if self._eval is None:
            self._eval = evaluate(self.game, self.policy)
        return self._eval

    def step(self) -> dict:
        """Run one iteration; returns that iteration's metrics."""
        t0 = time.perf_counter()
        prev = self.evaluation()
        new_policy, new_flow = self._update(prev)
        self.policy = new_policy
        self._eval = evaluate(self.game, new_policy, flow=new_flow)
        self._elapsed += time.perf_counter() - t0
        self.iteration += 1
        ev = self._eval
        info = {
            "iteration": self.iteration,
            "exploitability": ev.exploitability,
            "value": ev.value,
            "mean_field_delta": mean_field_delta(ev.flow.mu, prev.flow.mu),
            "policy_delta": policy_delta(new_policy, prev.policy, ev.flow.mu),
            "seconds": self._elapsed,
        }
        # solver-specific metrics (e.g. MF-TRPO's quality against its population)
        info.update(self._extra)
        self._extra = {}
        for k, v in info.items():
            self.history.setdefault(k, []).append(v)
        return info

    def solve(
        self,
        iterations: int,
        callback: Callback | None = None,
        progress: bool = False,
        target_exploitability: float | None = None,
    ) -> Result:
        """Run up to ``iterations`` iterations.

        Args:
            iterations: maximum number of iterations.
            callback: called as ``callback(solver, info)`` after each iteration;
                returning ``False`` stops the loop.
            progress: show a progress bar with the current exploitability on stderr.
            target_exploitability: stop once the exploitability is at or below it.
        """
        if int(iterations) != iterations or iterations < 0:
            raise ValidationError(f"iterations must be a non-negative integer, got {iterations!r}")
        bar = _Progress(int(iterations), self.name) if progress else None
        stopped = "iterations"
        for _ in range(int(iterations)):
            info = self.step()
            if not math.isfinite(info["exploitability"]):
                raise FloatingPointError(
                    f"{self.name}: exploitability became {info['exploitability']} at iteration "
                    f"{self.iteration}; the hyperparameters {self.hyperparameters} are unstable on this game"
                )
            if bar:
                bar.update(self.iteration, info["exploitability"])
            if callback is not None and callback(self, info) is False:
                stopped = "callback"
                break
            if target_exploitability is not None and info["exploitability"] <= target_exploitability:
                stopped = "target"
                break
        if bar and stopped != "iterations":
            bar.close()
        return self.result(stopped)

    def result(self, stopped: str = "iterations") -> Result:
        """Package the current state as a :class:`Result`."""
        ev = self.evaluation()
        return Result(
            policy=self.policy,
            mean_field=ev.flow.mu,
            value=ev.value,
            history={k: list(v) for k, v in self.history.items()},
            solver=self.name,
            game=self.game.name,
            hyperparameters=self.hyperparameters,
            stopped=stopped,
            extra=self._result_extra(),
        )

    def _result_extra(self) -> dict:
        """Solver-specific outputs added to :attr:`Result.extra`."""
        return {}

    # ------------------------------------------------------------- checkpoints
    _state_tensors: ClassVar[tuple[str, ...]] = ()

    def state_dict(self) -> dict:
        """Everything needed to resume: policy, iteration, history and solver-specific tensors."""
        d = {
            "solver": self.name,
            "policy": self.policy.cpu(),
            "iteration": self.iteration,
            "history": {k: list(v) for k, v in self.history.items()},
            "elapsed": self._elapsed,
            "hyperparameters": self.hyperparameters,
        }
        for k in self._state_tensors:
            v = getattr(self, k)
            d[k] = v.cpu() if isinstance(v, torch.Tensor) else v
        return d

    def load_state_dict(self, d: dict) -> None:
        """Restore a :meth:`state_dict` (same game and hyperparameters)."""
        if d.get("solver") != self.name:
            raise ValidationError(f"checkpoint is for solver {d.get('solver')!r}, not {self.name!r}")
        self.policy = d["policy"].to(device=self.game.device, dtype=self.game.dtype)
        self.iteration = int(d["iteration"])
        self.history = {k: list(v) for k, v in d["history"].items()}
        self._elapsed = float(d["elapsed"])
        for k in self._state_tensors:
            v = d[k]
            setattr(self, k, v.to(self.game.device) if isinstance(v, torch.Tensor) else v)
        self._eval = None

    # ------------------------------------------------------------- subclass API
    def _update(self, ev: Evaluation) -> tuple[torch.Tensor, Flow | None]:
        """Next policy (and its flow, if already computed) from the current policy's evaluation."""
        raise NotImplementedError


HISTORY_KEYS = ("iteration", "exploitability", "value", "mean_field_delta", "policy_delta", "seconds")


def check_positive(name: str, value: float, allow_zero: bool = False) -> float:
    """Validate a positive (or non-negative) float hyperparameter."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValidationError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def check_unit_interval(name: str, value: float, *, closed_low: bool = False) -> float:
    """Validate a float in ``(0, 1]`` (or ``[0, 1]`` with ``closed_low``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number, got {value!r}") from None
    lo_ok = v >= 0 if closed_low else v > 0
    if not (lo_ok and v <= 1):
        raise ValidationError(f"{name} must be in {'[' if closed_low else '('}0, 1], got {value!r}")
    return v


def require_discounted(name: str, game) -> None:
    """Raise unless ``game`` is discounted (the stationary learners and MF-TRPO need one)."""
    if game.is_finite_horizon:
        raise ValidationError(
            f"{name} solves discounted games (stationary, ergodic); {game.name!r} has a finite horizon. "
            "Build the game with gamma=..., e.g. mfglearn.make('four_rooms_crowd')"
        )
