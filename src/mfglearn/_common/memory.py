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
    """Ask glibc's allocator to serve every allocation from its heap and keep what is freed for reuse,
    instead of mapping large blocks afresh and returning them to the system, so that the same-sized
    tensors a solve allocates every step stop page-faulting.

    Measured with ``python benchmarks/bench_large_grid.py --scaling`` (one mirror-descent iteration, T = 20,
    one thread) against the same command with ``MFGLEARN_KEEP_FREED_MEMORY=0``: 2.9 s against 6.2 s per
    iteration at 10^6 states, and a time per state that stays flat from 10^4 states on (fitted exponent
    0.98 against 1.06). Process-wide and permanent: freed memory stays with the process (the peak is not
    returned to the system until it exits). Called by solves of large tensors and by batches;
    ``MFGLEARN_KEEP_FREED_MEMORY=0`` turns it off. A no-op where the C library is not glibc. Returns
    whether the setting is in force."""
    global _KEPT
    if _KEPT or os.environ.get("MFGLEARN_KEEP_FREED_MEMORY", "1") == "0":
        return _KEPT
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters
        # no mmap for large blocks (they would be unmapped on free and fault again on reuse); no trimming: -1
        # is glibc's size_t maximum (mallopt takes an int; 2^31 - 1 let it return a solve's freed 4 GB of
        # action values and policy to the system, to fault again, page by page, on the next iteration)
        _KEPT = bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, -1))
    except (OSError, AttributeError):
        _KEPT = False
    return _KEPT
