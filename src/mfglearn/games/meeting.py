""" "When does the meeting start?" (Gueant, Lasry, Lions): a static mean-field game.

Each agent of type ``i`` (noise ``sigma_i``, population share ``w_i``) plans an
arrival time ``tau``; it actually arrives at ``X = tau + sigma_i eps``, ``eps ~ N(0, 1)``.
The meeting starts at ``T = max(t_s, F^{-1}(theta))``: the scheduled time ``t_s``, or
later when the quorum ``theta`` of the population has not arrived yet (``F`` is
the population's arrival-time CDF). An agent pays
``alpha (X - t_s)_+ + beta (X - T)_+ + gamma (T - X)_+`` (lateness to the
schedule, to the actual start, and waiting time). Given ``T`` the best planned
arrival solves the first-order condition

    alpha N((tau - t_s) / sigma) + (beta + gamma) N((tau - T) / sigma) = gamma,

and an equilibrium is a start time ``T*`` reproduced by the quorum rule from the
types' best responses ``tau*_i(T*)``. With ``alpha > 0`` the map ``T -> T'`` has
slope below one and the equilibrium is unique; with ``alpha = 0`` everyone shifts
with ``T`` and the start time either equals ``t_s`` or runs away (no equilibrium),
which :meth:`MeetingGame.solve` reports instead of iterating forever.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from mfglearn.errors import ValidationError

_SQRT2 = math.sqrt(2.0)


def _Phi(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.erfc(-x / _SQRT2)


def _phi(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _expected_positive_part(mean: torch.Tensor, sd: torch.Tensor) -> torch.Tensor:
    """``E[(Y)_+]`` for ``Y ~ N(mean, sd^2)``."""
    z = mean / sd
    return mean * _Phi(z) + sd * _phi(z)


@dataclass
class MeetingGame:
    """The static meeting game; see the module docstring. Solve with ``mfglearn.solve(game, "fixed_point")``.

    Args:
        scheduled_time: ``t_s``.
        quorum: ``theta`` in ``(0, 1)``, the share that must have arrived for the meeting to start.
        sigma: arrival noise, a number or a list with one value per type (all > 0).
        sigma_weights: population share of each type (default: equal); normalised.
        alpha, beta, gamma: cost of lateness to the schedule, of lateness to the start, of waiting.
    """

    kind: ClassVar[str] = "static"

    scheduled_time: float = 0.0
    quorum: float = 0.8
    sigma: float | list[float] = 1.0
    sigma_weights: list[float] | None = None
    alpha: float = 1.0
    beta: float = 1.0
    gamma: float = 1.0
    name: str = "meeting"

    def __post_init__(self) -> None:
        sig = torch.as_tensor(
            self.sigma if isinstance(self.sigma, (list, tuple)) else [self.sigma], dtype=torch.float64
        ).reshape(-1)
        if sig.numel() == 0 or not torch.isfinite(sig).all() or (sig <= 0).any():
            raise ValidationError(f"sigma must be > 0 (a number or one value per type), got {self.sigma!r}")
        if self.sigma_weights is None:
            w = torch.full_like(sig, 1.0 / sig.numel())
        else:
            w = torch.as_tensor(self.sigma_weights, dtype=torch.float64).reshape(-1)
            if w.shape != sig.shape:
                raise ValidationError(
                    f"sigma_weights needs one weight per type: {sig.numel()} sigma value(s), {w.numel()} weight(s)"
                )
            if (w < 0).any() or w.sum() <= 0 or not torch.isfinite(w).all():
                raise ValidationError(
                    f"sigma_weights must be non-negative with a positive sum, got {self.sigma_weights}"
                )
            w = w / w.sum()
        if not 0.0 < float(self.quorum) < 1.0:
            raise ValidationError(f"quorum (theta) must be in (0, 1), got {self.quorum!r}")
        for nm in ("alpha", "beta"):
            v = float(getattr(self, nm))
            if not math.isfinite(v) or v < 0:
                raise ValidationError(f"{nm} must be a finite number >= 0, got {v!r}")
        if not math.isfinite(float(self.gamma)) or float(self.gamma) <= 0:
            raise ValidationError(
                f"gamma must be > 0, got {self.gamma!r}: with no cost of waiting everyone plans to arrive "
                "infinitely early, so no equilibrium exists"
            )
        self.sigmas, self.weights = sig, w

    # ------------------------------------------------------------- pieces
    def best_arrival(self, T: float) -> torch.Tensor:
        """``tau*_i(T)`` for every type: the root of the first-order condition (vectorised bisection)."""
        a, bg, g, ts = (
            float(self.alpha),
            float(self.beta) + float(self.gamma),
            float(self.gamma),
            float(self.scheduled_time),
        )
        s = self.sigmas
        span = 12.0 * s + abs(T - ts) + 1.0
        lo, hi = min(ts, T) - span, max(ts, T) + span
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            f = a * _Phi((mid - ts) / s) + bg * _Phi((mid - T) / s) - g
            lo = torch.where(f < 0, mid, lo)
            hi = torch.where(f < 0, hi, mid)
        return 0.5 * (lo + hi)

    def arrival_cdf(self, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """Population share arrived by time ``x``: ``sum_i w_i N((x - tau_i) / sigma_i)``."""
        return (self.weights * _Phi((x.unsqueeze(-1) - tau) / self.sigmas)).sum(-1)

    def start_time_given(self, tau: torch.Tensor) -> float:
        """``max(t_s, F^{-1}(theta))`` for planned arrivals ``tau``."""
        lo = float((tau - 12 * self.sigmas).min())
        hi = float((tau + 12 * self.sigmas).max())
        lo_t, hi_t = torch.tensor(lo, dtype=torch.float64), torch.tensor(hi, dtype=torch.float64)
        for _ in range(200):
            mid = 0.5 * (lo_t + hi_t)
            below = self.arrival_cdf(mid, tau) < self.quorum
            lo_t, hi_t = torch.where(below, mid, lo_t), torch.where(below, hi_t, mid)
        return max(float(self.scheduled_time), float(0.5 * (lo_t + hi_t)))

    def expected_cost(self, tau: torch.Tensor, T: float) -> torch.Tensor:
        """Expected cost per type of planning ``tau`` (per type) when the meeting starts at ``T``."""
        s = self.sigmas
        late_sched = _expected_positive_part(tau - self.scheduled_time, s)
        late_start = _expected_positive_part(tau - T, s)
        wait = _expected_positive_part(T - tau, s)
        return self.alpha * late_sched + self.beta * late_start + self.gamma * wait

    def exploitability(self, tau: torch.Tensor) -> float:
        """Weighted gain of each type's best deviation against the start time ``tau`` induces."""
        T = self.start_time_given(tau)
        gain = self.expected_cost(tau, T) - self.expected_cost(self.best_arrival(T), T)
        return float((self.weights * gain).sum())

    def asymptotic_drift(self) -> float | None:
        """``lim_{T -> inf} T'(T) - T``, or ``None`` when it is ``-inf`` (``gamma <= alpha``).

        For large ``T`` the schedule term saturates and each type plans
        ``tau_i = T + sigma_i z`` with ``N(z) = (gamma - alpha) / (beta + gamma)``; the drift
        ``c`` then solves ``sum_i w_i N((c - sigma_i z) / sigma_i) = theta``.
        """
        a, b, g = float(self.alpha), float(self.beta), float(self.gamma)
        if g <= a:
            return None
        p = torch.tensor((g - a) / (b + g), dtype=torch.float64)
        z = _SQRT2 * torch.erfinv(2 * p - 1)
        lo = torch.tensor(float((self.sigmas * z - 12 * self.sigmas).min()), dtype=torch.float64)
        hi = torch.tensor(float((self.sigmas * z + 12 * self.sigmas).max()), dtype=torch.float64)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            below = (self.weights * _Phi((mid - self.sigmas * z) / self.sigmas)).sum() < self.quorum
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        return float(0.5 * (lo + hi))

    # ------------------------------------------------------------- solver


def meeting(
    scheduled_time: float = 0.0,
    quorum: float = 0.8,
    sigma: float | list[float] = 1.0,
    sigma_weights: list[float] | None = None,
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma: float = 1.0,
) -> MeetingGame:
    """The "when does the meeting start" static MFG (:class:`MeetingGame`)."""
    return MeetingGame(scheduled_time, quorum, sigma, sigma_weights, alpha, beta, gamma)
