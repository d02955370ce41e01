"""Tensor backend conventions: dtype, device and thread count.

Tabular work runs in float64 by default (exact parity with peers); deep work in
float32. Torch's default thread count oversubscribes small shared machines
(sweeps ran 40-600x slower), so mfglearn sets it explicitly.
"""

from __future__ import annotations

import os

import torch

DEFAULT_DTYPE = torch.float64


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count; ``None`` reads ``MFGLEARN_THREADS`` (default 1).

    Returns the thread count in force.
    """
    if n is None:
        n = int(os.environ.get("MFGLEARN_THREADS", "1"))
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Turn ``None`` / ``"cpu"`` / ``"cuda"`` / ``"auto"`` into a torch device, checking it exists."""
    if device is None or device == "cpu":
        return torch.device("cpu")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        from mfglearn.errors import ValidationError

        raise ValidationError(f"device={device!r} was requested but CUDA is not available; use device='cpu'")
    return dev
