"""Argument validation shared by games, algorithms and the command line.

Each check returns the value converted to its type, or raises one
:class:`~mfglearn.errors.ValidationError` naming the argument, the value and what is allowed.
"""

from __future__ import annotations

import math

from mfglearn.errors import ValidationError


def _number(name: str, value) -> float:
    if isinstance(value, (bool, str, bytes)):  # True is not 1.0, and "0.1" is text: say so instead of coercing
        raise ValidationError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number, got {value!r}") from None


def check_positive(name: str, value, allow_zero: bool = False) -> float:
    """A finite float ``> 0`` (or ``>= 0`` with ``allow_zero``)."""
    v = _number(name, value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValidationError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def check_bool(name: str, value) -> bool:
    """``True`` or ``False`` (numpy's booleans too); ``"no"`` or ``0`` are not silently read as truth values."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise ValidationError(f"{name} must be True or False, got {value!r}")


def check_finite(name: str, value) -> float:
    """A finite float of any sign."""
    v = _number(name, value)
    if not math.isfinite(v):
        raise ValidationError(f"{name} must be a finite number, got {value!r}")
    return v


def check_unit_interval(name: str, value, *, closed_low: bool = False) -> float:
    """A float in ``(0, 1]`` (or ``[0, 1]`` with ``closed_low``)."""
    v = _number(name, value)
    lo_ok = v >= 0 if closed_low else v > 0
    if not (lo_ok and v <= 1):
        raise ValidationError(f"{name} must be in {'[' if closed_low else '('}0, 1], got {value!r}")
    return v


def check_int(name: str, value, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (floats with an integral value are accepted; booleans are not)."""
    ok = not isinstance(value, (bool, str, bytes))
    try:
        ok = ok and int(value) == value
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or int(value) < minimum:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise ValidationError(f"{name} must be {what}, got {value!r}")
    return int(value)


def check_layers(name: str, value) -> list[int]:
    """Hidden-layer sizes: a list or tuple of positive integers (empty: no hidden layer)."""
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"{name} must be a list of positive layer sizes, e.g. [128, 128]; got {value!r}")
    return [check_int(f"{name}[{i}]", h) for i, h in enumerate(value)]


def check_choice(name: str, value, choices) -> str:
    """One of ``choices``."""
    if value not in tuple(choices):
        raise ValidationError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value
