"""Continuous game families: four-rooms exploration and the continuous beach bar (:class:`ContinuousMFG`)."""

from __future__ import annotations

import torch

from mfglearn._common.checks import check_positive
from mfglearn.model.continuous import ContinuousMFG


def four_rooms_exploration(
    horizon: int = 40,
    speed: float = 0.05,
    noise_std: float = 0.01,
    cA: float = 0.1,
    cM: float = 1.0,
    eps: float = 1e-3,
    door: float = 0.1,
    wall: float = 0.02,
) -> ContinuousMFG:
    """The seed's continuous four rooms: entropy-seeking crowd from one corner of ``[0, 1]^2``.

    Agents choose a velocity ``v`` (each coordinate clipped to ``speed``):
    ``x' = x + v + noise``; reward ``-cA |v / speed|^2 - cM log(mu_t(x) + eps)``, so the
    population spreads out (maximises entropy) at a cost of motion; the defaults make
    spreading worth it (full speed costs ``2 cA = 0.2`` per step, leaving a crowd 100 times
    denser than uniform gains ``cM log 100 = 4.6``). Walls of thickness
    ``wall`` cross at the centre with doors of width ``door`` in each, and agents start
    in the bottom-left room near the corner.
    """
    speed = check_positive("speed", speed)  # a velocity bound; the action cost divides by it
    c, h = 0.5, wall / 2
    walls = [
        (c - h, 0.0, c + h, 0.25 - door / 2),
        (c - h, 0.25 + door / 2, c + h, 0.75 - door / 2),
        (c - h, 0.75 + door / 2, c + h, 1.0),
        (0.0, c - h, 0.25 - door / 2, c + h),
        (0.25 + door / 2, c - h, 0.75 - door / 2, c + h),
        (0.75 + door / 2, c - h, 1.0, c + h),
    ]

    def drift(t, x, v, mf):
        return x + v

    def reward(t, x, v, mf):
        return -cA * ((v / speed) ** 2).sum(1) - cM * torch.log(mf.density(x) + eps)

    def initial(n, gen):
        return 0.05 + 0.1 * torch.rand(n, 2, generator=gen, device=gen.device)

    return ContinuousMFG(
        2, 2, horizon, drift, reward, initial, noise_std=noise_std, low=0.0, high=1.0, walls=walls,
        action_bound=speed, name="four_rooms_exploration",
        params=dict(horizon=horizon, speed=speed, noise_std=noise_std, cA=cA, cM=cM, eps=eps, door=door, wall=wall),
    )  # fmt: skip


def beach_bar_continuous(
    horizon: int = 20,
    bar: float = 0.5,
    speed: float = 0.05,
    noise_std: float = 0.02,
    cA: float = 0.5,
    cD: float = 1.0,
    cM: float = 0.1,
    eps: float = 1e-3,
) -> ContinuousMFG:
    """Continuous beach bar on ``[0, 1]``: walk to the bar, avoid crowds (local congestion).

    ``x' = x + v + noise``; reward ``-cD |x - bar| - cA (v / speed)^2 - cM log(mu_t(x) + eps)``;
    agents start uniformly on the beach.
    """
    speed = check_positive("speed", speed)  # a velocity bound; the action cost divides by it

    def drift(t, x, v, mf):
        return x + v

    def reward(t, x, v, mf):
        return -cD * (x[:, 0] - bar).abs() - cA * ((v / speed) ** 2).sum(1) - cM * torch.log(mf.density(x) + eps)

    def initial(n, gen):
        return torch.rand(n, 1, generator=gen, device=gen.device)

    return ContinuousMFG(
        1, 1, horizon, drift, reward, initial, noise_std=noise_std, low=0.0, high=1.0, action_bound=speed,
        name="beach_bar_continuous",
        params=dict(horizon=horizon, bar=bar, speed=speed, noise_std=noise_std, cA=cA, cD=cD, cM=cM, eps=eps),
    )  # fmt: skip
