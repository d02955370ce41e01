"""Policy helpers: validation and common constructions."""

from __future__ import annotations

import torch

from mfglearn.errors import ShapeError, ValidationError
from mfglearn.model.finite import FiniteMFG, check_distribution


def policy_shape(game: FiniteMFG) -> tuple[int, ...]:
    """``(H, S, A)`` for finite-horizon games, ``(S, A)`` for discounted ones."""
    return (game.H, game.S, game.A) if game.is_finite_horizon else (game.S, game.A)


def check_policy(game: FiniteMFG, pi) -> torch.Tensor:
    """Return ``pi`` as a tensor of the game's dtype/device after checking shape, simplex and legality.

    A stationary ``(S, A)`` policy is accepted for a finite-horizon game and repeated over time.
    """
    pi = torch.as_tensor(pi, dtype=game.dtype, device=game.device)
    shape = policy_shape(game)
    if game.is_finite_horizon and pi.shape == (game.S, game.A):
        pi = pi.expand(shape)
    if tuple(pi.shape) != shape:
        raise ShapeError(
            f"policy must have shape {shape} ("
            + ("time, state, action" if len(shape) == 3 else "state, action")
            + f"), got {tuple(pi.shape)}"
        )
    check_distribution(pi, "policy")
    if game.legal is not None:
        illegal = (pi > 1e-12) & ~game.legal
        if illegal.any():
            pos = tuple(int(i) for i in illegal.nonzero()[0])
            raise ValidationError(
                f"policy{list(pos)} puts mass {pi[pos].item():.3g} on an illegal action; "
                "zero it and renormalise over game.legal"
            )
    return pi


def uniform_policy(game: FiniteMFG) -> torch.Tensor:
    """The uniform policy over each state's legal actions."""
    return game.uniform_policy()
