"""How a discounted game's stationary mean field is computed (:class:`StationaryOptions`)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from mfglearn._common.checks import check_int, check_positive
from mfglearn.errors import ValidationError


@dataclass(frozen=True)
class StationaryOptions:
    """Settings of the stationary mean field ``mu = mu P_{pi, mu}`` of a discounted game.

    Args:
        start: where the population starts when the chain a policy induces is reducible
            (several recurrent classes: the stationary law is then the long-run average of the
            chain started there). ``"mu0"`` (default: the game's initial distribution, so that a
            policy's exploitability depends on the policy alone) or an ``(S,)`` tensor.
        tol: l1 tolerance of the mean-field fixed point (mean-field-dependent kernels) and of
            the power iteration (chains with more states than the dense limit).
        max_iter: most fixed-point iterations ``mu <- stationary(P_{pi, mu})`` on a
            mean-field-dependent kernel before a clear error (a kernel that is discontinuous
            in the mean field may have no fixed point: the iteration then cycles).
        power_max_iter: most power iterations on chains too large for dense elimination.
    """

    start: str | torch.Tensor = "mu0"
    tol: float = 1e-12
    max_iter: int = 1000
    power_max_iter: int = 100_000

    def __post_init__(self) -> None:
        if isinstance(self.start, str) and self.start != "mu0":
            raise ValidationError(f"stationary start must be 'mu0' or an (S,) tensor, got {self.start!r}")
        check_positive("stationary tol", self.tol)
        check_int("stationary max_iter", self.max_iter)
        check_int("stationary power_max_iter", self.power_max_iter)

    @classmethod
    def coerce(cls, value: StationaryOptions | dict | None) -> StationaryOptions:
        """``None`` -> defaults; a dict of field names -> options (unknown names are an error)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ValidationError(
                    f"unknown stationary option(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
                )
            return cls(**value)
        raise ValidationError(f"stationary= takes a dict or StationaryOptions, got {type(value).__name__}")
