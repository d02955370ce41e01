"""Refuse, before allocating, a computation that cannot fit in the memory the machine has."""

from __future__ import annotations

import os

import torch

from mfglearn.errors import ValidationError


def available_bytes(device: torch.device | str | None = None) -> int | None:
    """Memory free for new allocations on ``device`` (``None`` if it cannot be told)."""
    dev = torch.device(device or "cpu")
    if dev.type == "cuda":
        return int(torch.cuda.mem_get_info(dev)[0]) if torch.cuda.is_available() else None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def require_memory(nbytes: float, what: str, hint: str, device=None) -> None:
    """Raise one clear error if ``nbytes`` (an estimate of ``what``'s peak) exceeds the available memory."""
    avail = available_bytes(device)
    if avail is not None and nbytes > avail:
        raise ValidationError(
            f"{what} needs about {_gib(nbytes)} of memory but {_gib(avail)} are available on {device or 'cpu'}; {hint}"
        )
