"""Static (one-shot) games on the algorithm contract: the meeting game's equilibrium by bisection."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from mfglearn._common.checks import check_int, check_positive
from mfglearn.algorithm import Algorithm
from mfglearn.errors import NoEquilibriumError, ValidationError
from mfglearn.result import Result


@dataclass(repr=False)
class MeetingResult(Result):
    """Equilibrium of the meeting game (a :class:`~mfglearn.result.Result`).

    ``policy`` is the planned arrival ``tau*_i`` per type ``(n_types,)`` (also ``planned_arrival``),
    ``start_time`` the meeting's actual start ``T*``, ``value`` minus the population's expected cost,
    ``history`` the bisection's ``lower`` / ``upper`` bracket, ``residual`` ``h(mid)`` and the
    exploitability of the midpoint's best arrivals.
    """

    start_time: float = 0.0
    quorum_binding: bool = False

    kind: ClassVar[str] = "static"

    @property
    def planned_arrival(self) -> torch.Tensor:
        return self.policy

    def summary(self) -> dict:
        out = super().summary()
        out.update(start_time=self.start_time, planned_arrival=self.policy.tolist(), quorum_binding=self.quorum_binding)
        return out

    def _policy_state(self):
        return self.policy

    @classmethod
    def _from_state(cls, d: dict, game) -> MeetingResult:
        r = super()._from_state(d, game)
        r.start_time = float(r.extra.get("start_time", 0.0))
        r.quorum_binding = bool(r.extra.get("quorum_binding", False))
        return r


class MeetingFixedPoint(Algorithm):
    """The meeting game's equilibrium ``(T*, tau*)`` by bisection on ``h(T) = T'(T) - T`` over ``T >= t_s``.

    ``h(t_s) >= 0``; with ``alpha > 0`` ``h`` is decreasing, so a sign change brackets the unique
    root (found by doubling before the first iteration). Raises
    :class:`~mfglearn.errors.NoEquilibriumError` when ``h`` stays positive (the start time runs
    away), as happens for ``alpha = 0`` with a demanding quorum.

    Args:
        tol: converged when the bracket is shorter than ``tol * max(1, |upper|)``.
        max_doublings: bracketing attempts before giving up.
    """

    name = "fixed_point"
    description = "the static meeting game's equilibrium start time by bisection on the best-response map"
    game_kinds = frozenset({"static"})
    iteration_unit = "one halving of the bracket around the equilibrium start time"
    default_iterations = 400

    def __init__(self, game, tol: float = 1e-10, max_doublings: int = 60):
        if not hasattr(game, "best_arrival"):
            raise ValidationError(f"{self.name} (static) solves the meeting game; got {type(game).__name__}")
        super().__init__(game)
        self.tol = check_positive("tol", tol)
        self.max_doublings = check_int("max_doublings", max_doublings)
        self._bracket: tuple[float, float] | None = None
        self._done = False

    @property
    def hyperparameters(self) -> dict:
        return {"tol": self.tol, "max_doublings": self.max_doublings}

    def _h(self, T: float) -> float:
        return self.game.start_time_given(self.game.best_arrival(T)) - T

    def _setup(self) -> None:
        g, ts = self.game, float(self.game.scheduled_time)
        if self._h(ts) <= self.tol:
            self._bracket, self._done = (ts, ts), True
            return
        c_inf = g.asymptotic_drift()
        if c_inf is not None and c_inf >= 0:
            raise NoEquilibriumError(
                "no equilibrium exists for these parameters: for any expected start T the quorum "
                f"theta={g.quorum} is reached later than T (h(T) = T' - T decreases only to "
                f"{c_inf:.4g} > 0 as T grows, because gamma={g.gamma} > alpha={g.alpha} makes late "
                "planners follow T one for one). Raise alpha to at least gamma, or lower the quorum"
            )
        step = float(g.sigmas.max()) + 1.0
        hi = ts + step
        for _ in range(self.max_doublings):
            if self._h(hi) <= 0:
                break
            step *= 2
            hi = ts + step
        else:  # unreachable when the drift analysis holds; kept as a guard against endless search
            raise NoEquilibriumError(
                f"no equilibrium found: the quorum is reached later than the expected start up to T={hi:.3g}"
            )
        self._bracket = (ts, hi)
        self._done = self._short(ts, hi)

    def _short(self, lo: float, hi: float) -> bool:
        return hi - lo <= self.tol * max(1.0, abs(hi))

    @property
    def converged(self) -> bool:
        if self._bracket is None:
            self._setup()
        return self._done

    def _step(self) -> dict:
        if self.converged:
            lo, hi = self._bracket
            return {"lower": lo, "upper": hi, "residual": 0.0, "exploitability": self._exploitability()}
        lo, hi = self._bracket
        mid = 0.5 * (lo + hi)
        r = self._h(mid)
        info = {"lower": lo, "upper": hi, "residual": r}
        lo, hi = (mid, hi) if r > 0 else (lo, mid)
        self._bracket = (lo, hi)
        self._done = self._short(lo, hi) or self.iteration + 1 > 400
        info["exploitability"] = self._exploitability()
        return info

    def _start_time(self) -> float:
        if self._bracket is None:
            self._setup()
        lo, hi = self._bracket
        return lo if lo == hi else 0.5 * (lo + hi)

    def _exploitability(self) -> float:
        return float(self.game.exploitability(self.game.best_arrival(self._start_time())))

    def result(self, stopped: str | None = None) -> MeetingResult:
        g = self.game
        T = self._start_time()
        tau = g.best_arrival(T)
        expl = g.exploitability(tau)
        history = {k: list(v) for k, v in self.history.items()}
        if not history.get("exploitability"):  # solved before any bisection step
            history.update(iteration=[0], exploitability=[expl], seconds=[self._elapsed])
        value = -float((g.weights * g.expected_cost(tau, T)).sum())
        binding = T > float(g.scheduled_time)
        return MeetingResult(
            policy=tau,
            mean_field=None,
            value=value if math.isfinite(value) else float("nan"),
            history=history,
            solver=self.name,
            game=g.name,
            hyperparameters=self.hyperparameters,
            stopped=self.stopped if stopped is None else stopped,
            extra={"start_time": T, "quorum_binding": binding},
            start_time=T,
            quorum_binding=binding,
        )

    def state_dict(self) -> dict:
        return {**super().state_dict(), "bracket": self._bracket, "done": self._done}

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        self._bracket = None if d["bracket"] is None else tuple(d["bracket"])
        self._done = bool(d["done"])
