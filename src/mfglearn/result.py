"""The one result type every algorithm returns, and its safe on-disk layout.

``Result.save(dir)`` writes ``dir/result.safetensors``: one file, atomically, with the tensors
as safetensors data and everything else (names, history, hyperparameters, the policy's
description) as JSON in its header. ``Result.load(dir)`` never unpickles; it dispatches on the
stored ``kind`` to the subclass that wrote it (:class:`Result` for tabular policies,
:class:`~mfglearn.control.policies.MFCResult` for planners, deep results for networks).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from mfglearn._common.io import load_state, save_state
from mfglearn.errors import ValidationError

RESULT_FILE = "result.safetensors"


@dataclass
class Result:
    """What every algorithm returns.

    Attributes:
        policy: the final policy: ``(H, S, A)`` (``(S, A)`` on stationary games) for tabular
            methods; a planner policy ``h(mu, t)`` for mean-field control; a network for deep methods.
        mean_field: its mean field: ``(H+1, S)`` / ``(S,)``, a flow, or ``None``.
        value: ``J(policy, mean_field)`` (for mean-field control: the planner's value from ``mu0``).
        history: per-iteration lists; always ``iteration`` and ``seconds`` (cumulative wall time).
        solver: the algorithm's registered name; ``game``: the game's name.
        hyperparameters: the algorithm's settings as resolved.
        stopped: why the loop ended: ``"iterations"``, ``"target"``, ``"callback"`` or ``"converged"``.
        extra: algorithm-specific outputs (numbers, strings, tensors).
    """

    policy: Any
    mean_field: Any
    value: float
    history: dict[str, list]
    solver: str = ""
    game: str = ""
    hyperparameters: dict = field(default_factory=dict)
    stopped: str = "iterations"
    extra: dict = field(default_factory=dict)

    kind: ClassVar[str] = "tabular"
    exploitability_keys: ClassVar[tuple[str, ...]] = ("exploitability",)
    _kinds: ClassVar[dict[str, type[Result]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Result._kinds[cls.kind] = cls

    # ------------------------------------------------------------------ metrics
    @property
    def exploitability(self) -> float:
        """The last finite exploitability recorded; after zero iterations, the starting policy's
        (``extra["initial_exploitability"]``); ``nan`` if the algorithm tracks none."""
        for key in self.exploitability_keys:
            vals = [v for v in self.history.get(key, []) if v is not None and math.isfinite(v)]
            if vals:
                return float(vals[-1])
        start = self.extra.get("initial_exploitability")
        return float(start) if isinstance(start, (int, float)) else float("nan")

    @property
    def iterations(self) -> int:
        """Iterations run."""
        return len(self.history.get("iteration", []))

    @property
    def seconds(self) -> float:
        """Wall time of the iterations (excludes evaluation outside the loop)."""
        s = self.history.get("seconds", [])
        return float(s[-1]) if s else 0.0

    def summary(self) -> dict:
        """A JSON-friendly summary: names, iterations, exploitability, value, seconds, stop reason, settings."""
        out = {
            "kind": self.kind,
            "solver": self.solver,
            "game": self.game,
            "iterations": self.iterations,
            "exploitability": self.exploitability,
            "value": self.value,
            "seconds": self.seconds,
            "stopped": self.stopped,
            "hyperparameters": self.hyperparameters,
        }
        out.update({k: v for k, v in self.extra.items() if isinstance(v, (int, float, str)) and k not in out})
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(solver={self.solver!r}, game={self.game!r}, iterations={self.iterations}, "
            f"exploitability={self.exploitability:.6g}, value={self.value:.6g})"
        )

    # --------------------------------------------------------------------- disk
    def save(self, path: str | os.PathLike) -> Path:
        """Write the result into directory ``path`` (created if needed) as ``result.safetensors``."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ValidationError(f"{path} is a file; Result.save takes a directory")
        state = {
            "kind": self.kind,
            "solver": self.solver,
            "game": self.game,
            "value": float(self.value),
            "history": self.history,
            "hyperparameters": self.hyperparameters,
            "stopped": self.stopped,
            "extra": {k: v for k, v in self.extra.items() if _storable(v)},
            "policy": self._policy_state(),
            "mean_field": self._mean_field_state(),
        }
        save_state(path / RESULT_FILE, state)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, game=None) -> Result:
        """Read a result written by :meth:`save` (``game``: needed by planner policies that query the model)."""
        path = Path(path)
        file = path / RESULT_FILE if path.is_dir() or not path.exists() else path
        if not file.exists():
            raise ValidationError(
                f"{path} holds no saved result ({RESULT_FILE} missing); save one with result.save(dir)"
            )
        d = load_state(file)
        sub = Result._kinds.get(d.get("kind", ""), None) if isinstance(d, dict) else None
        if sub is None:
            raise ValidationError(f"{file} holds no mfglearn result (unknown kind {d.get('kind')!r})")
        if not issubclass(sub, cls):
            raise ValidationError(f"{file} holds a {sub.__name__}, not a {cls.__name__}; load it with Result.load")
        return sub._from_state(d, game)

    # ------------------------------------------------------ subclass extension
    def _policy_state(self):
        return self.policy

    def _mean_field_state(self):
        return self.mean_field

    @classmethod
    def _from_state(cls, d: dict, game) -> Result:
        return cls(
            policy=d["policy"],
            mean_field=d["mean_field"],
            value=d["value"],
            history=d["history"],
            solver=d["solver"],
            game=d["game"],
            hyperparameters=d["hyperparameters"],
            stopped=d["stopped"],
            extra=d["extra"],
        )


def _storable(v) -> bool:
    if isinstance(v, (torch.Tensor, int, float, str, bool)) or v is None:
        return True
    if isinstance(v, (list, tuple)):
        return all(_storable(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _storable(x) for k, x in v.items())
    return False


Result._kinds[Result.kind] = Result
