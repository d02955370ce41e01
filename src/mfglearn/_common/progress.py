"""Progress bars and the package's logger, shared by algorithms, sweeps and the command line."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("mfglearn")


def progress_bar(total: int | None, label: str, enabled: bool = True, unit: str = "it"):
    """A tqdm bar on stderr (count, rate and time left); a silent no-op bar when ``enabled`` is false."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=label, file=sys.stderr, leave=True, dynamic_ncols=True, unit=unit, disable=not enabled
    )
