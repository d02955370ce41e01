"""Where the benchmark and study scripts write: ``--out``, by default a scratch folder.

The committed figures and numbers live in ``benchmarks/results/<name>``; a plain run never
overwrites them (pass ``--out benchmarks/results/<name>`` to regenerate them).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def scratch(name: str) -> Path:
    """The default output of script ``name``: a folder under the system's temporary directory."""
    return Path(tempfile.gettempdir()) / "mfglearn-benchmarks" / name


def add_out(ap: argparse.ArgumentParser, name: str, committed: str | None = None) -> None:
    """Add ``--out DIR`` (default :func:`scratch` of ``name``) to a script's parser; ``committed`` is
    where the committed results are (default ``benchmarks/results/<name>``)."""
    where = committed or f"benchmarks/results/{name}"
    ap.add_argument(
        "--out",
        type=Path,
        default=scratch(name),
        help=f"output folder (default {scratch(name)}; the committed results are in {where}: "
        "pass that to regenerate them)",
    )
