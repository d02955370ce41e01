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


_KEPT = False
LARGE_TENSOR = 1 << 20  # entries of a policy tensor from which solves keep freed memory


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed blocks of up to 32 MiB for reuse instead of returning them to the
    system, so that the same-sized tensors a solve allocates every step stop page-faulting.

    Measured on a batch of 256 building-evacuation solves (25 MB tensors): 3.1 s -> 2.0 s, system time
    0.95 s -> 0.02 s, 546 thousand page faults -> 12 thousand, peak memory 0.81 -> 0.73 GB. Process-wide
    and permanent (freed memory stays with the process); called by solves on large tensors and by
    batches. ``MFGLEARN_KEEP_FREED_MEMORY=0`` turns it off; a no-op where the C library is not glibc.
    Returns whether the setting is in force."""
    global _KEPT
    if _KEPT or os.environ.get("MFGLEARN_KEEP_FREED_MEMORY", "1") == "0":
        return _KEPT
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
        _KEPT = bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):
        _KEPT = False
    return _KEPT
