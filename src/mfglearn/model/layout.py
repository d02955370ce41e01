"""Memory layout of ``(..., S, A)`` tensors: row-major, or action-major for stencil games.

Every ``(H, S, A)`` tensor keeps its logical shape; only its strides change. A game whose kernel
prefers it (the stencil :class:`~mfglearn.model.kernels.GridKernel`, whose push and pull read and
write one ``S``-plane per action) stores policies, rewards and action values as ``(..., A, S)``
memory seen through a transposed view. Torch's elementwise operations keep their inputs' layout,
so a policy created action-major stays so through the solvers' updates, and every per-action
plane the stencil touches is contiguous (row-major, those planes have a stride of ``A``, and the
passes over them ran at a fraction of memory bandwidth). Reductions over actions go through
:func:`~mfglearn.core.value.action_max` and :func:`~mfglearn.core.value.greedy`, which work plane
by plane. Results do not depend on the layout, to round-off.
"""

from __future__ import annotations

import torch


def is_action_major(x: torch.Tensor) -> bool:
    """Whether ``x`` ``(..., S, A)`` is stored as ``(..., A, S)`` (its state axis has stride 1), with ``A > 1``."""
    return x.dim() >= 2 and x.shape[-1] > 1 and x.shape[-2] > 1 and x.stride(-2) == 1 and x.stride(-1) != 1


def empty(shape, *, action_major: bool, dtype=None, device=None) -> torch.Tensor:
    """An uninitialised ``(..., S, A)`` tensor, stored action-major when ``action_major``."""
    shape = tuple(shape)
    if not action_major or len(shape) < 2:
        return torch.empty(shape, dtype=dtype, device=device)
    return torch.empty(*shape[:-2], shape[-1], shape[-2], dtype=dtype, device=device).transpose(-1, -2)


def empty_like_layout(shape, like: torch.Tensor) -> torch.Tensor:
    """An uninitialised ``(..., S, A)`` tensor of ``like``'s dtype, device and layout."""
    return empty(shape, action_major=is_action_major(like), dtype=like.dtype, device=like.device)


def to_action_major(x: torch.Tensor) -> torch.Tensor:
    """``x`` ``(..., S, A)`` stored action-major (``x`` itself when it already is)."""
    if is_action_major(x):
        return x
    return x.transpose(-1, -2).contiguous().transpose(-1, -2)


def prefers_action_major(kernel) -> bool:
    """Whether a kernel's push and pull work plane by plane (see the module docstring)."""
    return bool(getattr(kernel, "action_major", False))
