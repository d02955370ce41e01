"""Exceptions raised by mfglearn.

Every error names the offending input and says how to fix it. They subclass
the builtin ``ValueError`` / ``TypeError`` / ``ImportError`` so that generic
``except ValueError`` handlers keep working.
"""

from __future__ import annotations


class MFGError(Exception):
    """Base class of all mfglearn errors."""


class ValidationError(MFGError, ValueError):
    """An input (game data, policy, hyperparameter) has a wrong value or shape."""


class ShapeError(ValidationError):
    """A tensor has the wrong shape."""


class UnknownNameError(MFGError, KeyError):
    """A game, solver or parameter name is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0]) if self.args else ""


class ParameterTypeError(MFGError, TypeError):
    """A parameter has the wrong type."""


class MissingExtraError(MFGError, ImportError):
    """An optional dependency is not installed."""


class NoEquilibriumError(MFGError, RuntimeError):
    """The problem provably has no equilibrium for the given parameters."""


def missing_extra(package: str, extra: str) -> MissingExtraError:
    """Build the error raised when optional ``package`` (from ``extra``) is absent."""
    return MissingExtraError(
        f"this feature needs the optional package '{package}'; install it with: pip install 'mfglearn[{extra}]'"
    )
