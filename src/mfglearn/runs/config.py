"""Parsing of command-line values and TOML run configurations."""

from __future__ import annotations

import ast
from pathlib import Path

from mfglearn.errors import ValidationError


def parse_value(text: str):
    """``"0.1"`` -> 0.1, ``"true"`` -> True, ``"none"`` -> None, ``"[1, 2]"`` -> [1, 2], else the string."""
    low = text.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    if len(text) > 10_000:  # literal_eval of a huge expression exhausts the parser's memory
        raise ValidationError(f"a --set value is {len(text)} characters long; give a number, a word or a short list")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def load_toml_config(path: str | Path) -> dict:
    """Read a run configuration file.

    Format::

        game = "four_rooms"
        solver = "mirror_descent"
        iterations = 200

        [game_params]
        horizon = 40

        [solver_params]
        learning_rate = 0.1
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ValidationError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"config file {path} is not valid TOML: {exc}") from None
    allowed = {
        "game",
        "solver",
        "iterations",
        "game_params",
        "solver_params",
        "target_exploitability",
        "checkpoint_every",
    }
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            f"config file {path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    for k in ("game_params", "solver_params"):
        if k in data and not isinstance(data[k], dict):
            raise ValidationError(f"config file {path}: [{k}] must be a table")
    return data
