"""Sampling helpers driven by explicit :class:`torch.Generator` objects."""

from __future__ import annotations

import torch


def categorical(probs: torch.Tensor, generator: torch.Generator, shape: tuple[int, ...] | None = None) -> torch.Tensor:
    """Inverse-CDF draws from categorical distributions.

    Args:
        probs: ``(..., K)`` probabilities (rows summing to 1).
        generator: the source of randomness.
        shape: ``None`` for one draw per row (result ``probs.shape[:-1]``); else, with a
            single distribution ``probs`` ``(K,)``, that many i.i.d. draws (result ``shape``).

    Returns: int64 indices in ``[0, K)``. Zero-probability outcomes are never drawn; round-off
    in the last cumulative sum is absorbed by the clamp.
    """
    lead = probs.shape[:-1] if shape is None else tuple(shape)
    u = torch.rand(lead + (1,), generator=generator, dtype=probs.dtype, device=probs.device)
    return (u > probs.cumsum(-1)).sum(-1).clamp_(max=probs.shape[-1] - 1)
