"""Route-level metrics of routing games (:mod:`mfglearn.games.routing`): path policies, path travel
times (Wardrop's principle), and the share of vehicles entering each link."""

from __future__ import annotations

import torch

from mfglearn.core.flow import mean_field_flow
from mfglearn.core.value import evaluate_policy, freeze
from mfglearn.errors import ValidationError
from mfglearn.games.routing import RoutingLayout
from mfglearn.model.finite import FiniteMFG


def path_policy(game: FiniteMFG, path: list[str], base: torch.Tensor | None = None) -> torch.Tensor:
    """``base`` (default uniform) changed to follow ``path`` (link names) wherever it can choose on it."""
    lay: RoutingLayout = game.layout["routing"]
    net = lay.network
    pi = (game.uniform_policy() if base is None else base).clone()
    idx = [net.link_index(name, "path link") for name in path]
    for p in range(game.n_populations):
        off = game.populations.offsets[p]
        for i, j in zip(idx[:-1], idx[1:], strict=True):
            k = lay.successors[i].index(j) if j in lay.successors[i] else None
            if k is None:
                raise ValidationError(f"path {path}: {net.links[j].name} does not follow {net.links[i].name}")
            s = off + lay.state(i, 0)
            pi[:, s] = 0.0
            pi[:, s, k] = 1.0
    return pi


def path_travel_times(game: FiniteMFG, pi: torch.Tensor, paths: list[list[str]]) -> list[float]:
    """Travel time of one vehicle following each path while the population plays ``pi``.

    Exact: the vehicle's value against ``pi``'s flow; at an equilibrium every used path has the
    least travel time (Wardrop's principle).
    """
    lay: RoutingLayout = game.layout["routing"]
    mdp = freeze(game, mean_field_flow(game, pi))
    out = []
    for path in paths:
        lay.network.link_index(path[0], "path origin")
        ks = [k for k, od in enumerate(lay.network.demand) if od.origin == path[0] and od.destination == path[-1]]
        if not ks:
            raise ValidationError(f"no demand from {path[0]} to {path[-1]}")
        s = game.populations.offsets[lay.od_population[ks[0]]] + lay.od_state[ks[0]]
        V = evaluate_policy(mdp, path_policy(game, path, pi))[0]
        out.append(float(-V[0, s]))
    return out


def link_entries(game: FiniteMFG, pi: torch.Tensor) -> torch.Tensor:
    """``(L,)`` share of all vehicles that enter each link over the horizon when everyone plays ``pi``
    (the origin links count their initial occupants)."""
    lay: RoutingLayout = game.layout["routing"]
    sa = mean_field_flow(game, pi).sa  # (H, S, A), joint and mass-weighted
    out = torch.zeros(lay.L, dtype=sa.dtype)
    for p in range(game.n_populations):
        part = game.populations.split(sa, dim=-2)[p]
        zero = part[:, torch.arange(lay.L) * (lay.W + 1)].sum(0)  # (L, A): zero-wait vehicles choosing
        for i, succ in enumerate(lay.successors):
            for k, j in enumerate(succ):
                out[j] += zero[i, k]
    total = sum(o.count for o in lay.network.demand)
    for od in lay.network.demand:
        out[lay.network.link_index(od.origin)] += od.count / total
    return out
