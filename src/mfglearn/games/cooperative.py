"""Games with a congestion externality, natural test beds for mean-field control.

In both, an agent's own choice worsens everybody else's outcome, which a
selfish (MFG) population ignores and a central planner (MFC) internalises:
the social optimum beats the equilibrium (price of anarchy > 1). Both are
discounted, have mean-field-dependent kernels, and provide batched rewards and
kernels (``transition_batch``) so the lifted MDP can evaluate many populations at once.
"""

from __future__ import annotations

import torch

from mfglearn._common.checks import check_int
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import DenseKernel


def _probability(name: str, v: float) -> float:
    if not 0.0 <= v <= 1.0:
        raise ValidationError(f"{name} must be in [0, 1], got {v}")
    return float(v)


def congestion(
    max_backlog: int = 2,
    arrival_prob: float = 0.5,
    congestion_sensitivity: float = 2.0,
    delay_cost: float = 1.0,
    holding_cost: float = 0.1,
    drop_cost: float = 1.0,
    gamma: float = 0.9,
    device=None,
) -> FiniteMFG:
    """Network congestion control: senders share a link and decide to transmit or hold.

    An agent's state is its backlog ``b in 0..max_backlog`` packets; its action
    ``hold`` (0) or ``send`` (1). The link load is the fraction of agents sending a
    packet, ``c = sum_{b >= 1} L[b, send]``. A transmission succeeds with probability
    ``exp(-congestion_sensitivity * c)``, delivering one packet (reward 1) and costing
    a delay ``delay_cost * c``. Each round a packet arrives with ``arrival_prob``; an
    arrival to a full buffer is dropped (``drop_cost``); every queued packet costs
    ``holding_cost``. Sending with an empty buffer does nothing. Selfish senders
    transmit too often; a planner throttles (price of anarchy 1.49 from a uniform start,
    ``benchmarks/study_mfc.py``).
    """
    max_backlog = check_int("max_backlog", max_backlog)
    arrival = _probability("arrival_prob", arrival_prob)
    if congestion_sensitivity < 0 or delay_cost < 0 or holding_cost < 0 or drop_cost < 0:
        raise ValidationError("congestion_sensitivity, delay_cost, holding_cost and drop_cost must be >= 0")
    S, A = int(max_backlog) + 1, 2
    b = torch.arange(S)
    sends = torch.zeros(S, A, dtype=torch.float64)
    sends[1:, 1] = 1.0  # a real transmission attempt

    def load(L: torch.Tensor) -> torch.Tensor:  # (..., S, A) -> (...)
        return (L * sends.to(L)).sum((-1, -2))

    def dense(L: torch.Tensor) -> torch.Tensor:  # (..., S, A) -> (..., S, A, S)
        p = torch.exp(-congestion_sensitivity * load(L))[..., None, None]
        succ = sends.to(L) * p  # (..., S, A) probability one packet leaves
        P = torch.zeros(L.shape[:-2] + (S, A, S), dtype=L.dtype, device=L.device)
        for out, w_out in ((1, succ), (0, 1 - succ)):
            for arr, w_arr in ((1, arrival), (0, 1 - arrival)):
                nxt = (b.to(L.device) - out + arr).clamp(0, S - 1)  # (S,) for sends; hold handled by out weights
                P.scatter_add_(-1, nxt.view(S, 1, 1).expand(L.shape[:-2] + (S, A, 1)), (w_out * w_arr).unsqueeze(-1))
        return P

    def reward(t, L: torch.Tensor) -> torch.Tensor:
        c = load(L)[..., None, None]
        p = torch.exp(-congestion_sensitivity * c)
        r = sends.to(L) * (p - delay_cost * c)
        full = (b == S - 1).to(L)[:, None]  # a drop needs a full buffer, an arrival and no departure
        r = r - holding_cost * b.to(L)[:, None] - drop_cost * arrival * full * (1 - sends.to(L) * p)
        return r

    return FiniteMFG(
        n_states=S,
        n_actions=A,
        mu0=torch.full((S,), 1.0 / S, dtype=torch.float64),
        reward=reward,
        batched_reward=True,
        transition=lambda t, L: DenseKernel(dense(L)),
        transition_batch=dense,
        gamma=gamma,
        mean_field="state_action",
        name="congestion",
        layout={"states": [f"backlog {i}" for i in range(S)], "actions": ["hold", "send"]},
        params=dict(
            max_backlog=max_backlog,
            arrival_prob=arrival_prob,
            congestion_sensitivity=congestion_sensitivity,
            delay_cost=delay_cost,
            holding_cost=holding_cost,
            drop_cost=drop_cost,
            gamma=gamma,
        ),
        device=device,
    )


def ride_sharing(
    zones: int = 4,
    demand: list[float] | None = None,
    fares: list[float] | None = None,
    move_cost: float = 0.1,
    churn: float = 0.05,
    gamma: float = 0.9,
    device=None,
) -> FiniteMFG:
    """Ride-sharing supply and demand on a ring of ``zones``: drivers serve riders or reposition.

    A driver's state is its zone; actions ``serve`` (wait for a rider here),
    ``clockwise`` and ``counter-clockwise`` (drive to a neighbouring zone, declining
    rides, at ``move_cost``). Zone ``z`` has ``demand[z]`` ride requests per round (as
    a fraction of the fleet), shared among the drivers serving there: each is matched
    with probability ``min(1, demand[z] / L[z, serve])`` and earns ``fares[z]``. A matched
    driver ends the round at the rider's destination: from zone 0 (the airport) a
    uniformly drawn other zone, from elsewhere a uniformly drawn zone. Unmatched
    drivers stay. Each round a fraction ``churn`` of drivers log off and are replaced
    by drivers appearing in uniformly random zones (this makes the population's
    stationary distribution unique). Default: the airport has demand 0.3 at fare 2.5,
    the others 0.2 at 1.0. Serving an airport rider strands the driver in the city, and
    a driver who repositions forgoes a round of city fares, so selfish drivers rarely
    return: in the MFG equilibrium only 17% of the fleet is at the airport and its riders
    go unserved, while too many drivers wait in the city (measured with
    ``benchmarks/study_mfc.py``: a planner keeps ~26% there; price of anarchy 1.17).
    """
    Z = int(zones)
    if Z < 2 or Z != zones:
        raise ValidationError(f"zones must be an integer >= 2, got {zones!r}")
    d = torch.tensor(demand if demand is not None else [0.3] + [0.2] * (Z - 1), dtype=torch.float64)
    f = torch.tensor(fares if fares is not None else [2.5] + [1.0] * (Z - 1), dtype=torch.float64)
    for nm, v in (("demand", d), ("fares", f)):
        if v.shape != (Z,):
            raise ValidationError(f"{nm} needs one value per zone ({Z}), got {v.numel()}")
        if (v < 0).any():
            raise ValidationError(f"{nm} must be >= 0")
    if move_cost < 0:
        raise ValidationError(f"move_cost must be >= 0, got {move_cost}")
    churn = _probability("churn", churn)
    z = torch.arange(Z)
    move = torch.stack([z, (z + 1) % Z, (z - 1) % Z], 1)  # (Z, 3)
    serving = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    D = torch.full((Z, Z), 1.0 / Z, dtype=torch.float64)
    D[0] = 1.0 / (Z - 1)
    D[0, 0] = 0.0  # airport riders go to the city

    def match(L: torch.Tensor) -> torch.Tensor:  # (..., Z, 3) -> (..., Z)
        dd = d.to(L)
        return dd / torch.maximum(L[..., 0], dd).clamp_min(1e-300) * (dd > 0)

    def dense(L: torch.Tensor) -> torch.Tensor:  # (..., Z, 3) -> (..., Z, 3, Z)
        p = (match(L)[..., :, None] * serving.to(L))[..., None]  # (..., Z, 3, 1)
        go = torch.nn.functional.one_hot(move, Z).to(L)  # (Z, 3, Z)
        return (1 - churn) * (p * D.to(L)[:, None, :] + (1 - p) * go) + churn / Z

    def reward(t, L: torch.Tensor) -> torch.Tensor:
        p = match(L)[..., :, None]
        return (f.to(L)[:, None] * p) * serving.to(L) - move_cost * (1 - serving.to(L))

    return FiniteMFG(
        n_states=Z,
        n_actions=3,
        mu0=torch.full((Z,), 1.0 / Z, dtype=torch.float64),
        reward=reward,
        batched_reward=True,
        transition=lambda t, L: DenseKernel(dense(L)),
        transition_batch=dense,
        gamma=gamma,
        mean_field="state_action",
        name="ride_sharing",
        layout={"states": [f"zone {i}" for i in range(Z)], "actions": ["serve", "clockwise", "counter-clockwise"]},
        params=dict(zones=zones, demand=d.tolist(), fares=f.tolist(), move_cost=move_cost, churn=churn, gamma=gamma),
        device=device,
    )
