"""Dynamic routing on a road network (Cabannes et al. 2022; OpenSpiel's ``python_mfg_dynamic_routing``).

A network is a set of directed links ``u->v``, each with a free-flow travel time, a capacity and
BPR coefficients: a vehicle entering link ``l`` when ``v`` vehicles are on it needs
``t_free * (1 + a (v / capacity) ** b)`` time units to cross it. Demand is a list of
origin-destination pairs (origin and destination are links) with a departure time and a
vehicle count. Time advances in steps of ``time_step_length``; a vehicle's cost is its arrival
time (``horizon + 1`` steps if it never arrives).

The game has one population per destination (vehicles with the same destination face the same
problem; their origins only enter the initial distribution), of mass its share of the demand.
A population's state is the vehicle's link and remaining waiting steps ``w``: ``w = -1`` means
it has just entered the link and is assigned ``max(0, int(travel_time / time_step_length) - 1)``
waiting steps from the current number of vehicles on the link, ``w > 0`` counts down (the only
action is to wait) and at ``w = 0`` the vehicle picks a successor link. Two absorbing states
follow: arrived, and stuck at a dead end other than the destination. Actions are local: action
``k`` is the ``k``-th successor link of the current link's end node (in OpenSpiel's action-id
order), action 0 also being "wait" where nothing can be chosen.

The cost is paid as ``time_step_length`` per step spent travelling, with a terminal correction,
so the value at ``t = 0`` is minus the expected arrival time (in time units) and the game's
exploitability is OpenSpiel's NashConv of its single population of vehicles.
"""

from __future__ import annotations

import csv
import json
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import SparseKernel
from mfglearn.model.populations import Population, multi_population_game

NETWORKS = ("line", "braess", "sioux_falls", "sioux_falls_dummy_demand")


@dataclass(frozen=True)
class Link:
    """A directed road section ``start -> end`` with its BPR volume-delay coefficients."""

    start: str
    end: str
    free_flow_time: float = 1.0
    capacity: float = 1.0
    bpr_a: float = 0.0
    bpr_b: float = 1.0

    @property
    def name(self) -> str:
        return f"{self.start}->{self.end}"


@dataclass(frozen=True)
class ODDemand:
    """``count`` vehicles from link ``origin`` to link ``destination`` leaving at ``departure_time``."""

    origin: str
    destination: str
    departure_time: float = 0.0
    count: float = 1.0


@dataclass
class Network:
    """A road network: links (in action-id order), optional node positions and demand.

    Build with :meth:`from_dict`, :meth:`load` (JSON or CSV) or :func:`builtin_network`.
    """

    links: tuple[Link, ...]
    demand: tuple[ODDemand, ...] = ()
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    name: str = "network"
    nodes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self.links = tuple(self.links)
        self.demand = tuple(self.demand)
        if not self.links:
            raise ValidationError(f"network {self.name!r} has no links")
        names = [lk.name for lk in self.links]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValidationError(f"network {self.name!r}: link {sorted(dup)[0]!r} appears twice (no parallel links)")
        for lk in self.links:
            for attr in ("free_flow_time", "capacity", "bpr_a", "bpr_b"):
                v = getattr(lk, attr)
                if not isinstance(v, (int, float)) or not np.isfinite(v):
                    raise ValidationError(f"link {lk.name!r}: {attr} must be a finite number, got {v!r}")
            if lk.free_flow_time < 0 or lk.bpr_a < 0 or lk.capacity <= 0:
                raise ValidationError(
                    f"link {lk.name!r}: need free_flow_time >= 0, bpr_a >= 0 and capacity > 0 "
                    f"(got {lk.free_flow_time}, {lk.bpr_a}, {lk.capacity})"
                )
        self._index = {n: i for i, n in enumerate(names)}
        if self.nodes is not None:  # a declared node list: every link must join two of its nodes
            self.nodes = tuple(str(n) for n in self.nodes)
            for lk in self.links:
                for end in (lk.start, lk.end):
                    if end not in self.nodes:
                        raise ValidationError(
                            f"network {self.name!r}: link {lk.name!r} uses unknown node {end!r}; "
                            f"declared nodes: {', '.join(self.nodes)}"
                        )
        nodes = {lk.start for lk in self.links} | {lk.end for lk in self.links}
        unknown = [n for n in self.positions if n not in nodes]
        if unknown:
            raise ValidationError(f"network {self.name!r}: position given for unknown node {unknown[0]!r}")

    # ------------------------------------------------------------------ queries
    def link_index(self, name: str, what: str = "link") -> int:
        """Index of link ``"u->v"`` (one error naming it if the network has no such link)."""
        try:
            return self._index[name]
        except KeyError:
            raise ValidationError(
                f"{what} {name!r} is not a link of network {self.name!r}; links look like "
                f"{self.links[0].name!r} ({len(self.links)} links)"
            ) from None

    def successors(self, i: int) -> list[int]:
        """Links leaving the end node of link ``i``, in link (action-id) order."""
        end = self.links[i].end
        return [j for j, lk in enumerate(self.links) if lk.start == end]

    def has_path(self, origin: int, destination: int) -> bool:
        seen, todo = {origin}, deque([origin])
        while todo:
            i = todo.popleft()
            if i == destination:
                return True
            for j in self.successors(i):
                if j not in seen:
                    seen.add(j)
                    todo.append(j)
        return False

    def travel_time(self, volume: torch.Tensor) -> torch.Tensor:
        """BPR travel time of every link ``(..., L)`` for the volumes ``(..., L)`` on them."""
        f, a, b, c = (
            torch.tensor([getattr(lk, k) for lk in self.links], dtype=volume.dtype, device=volume.device)
            for k in ("free_flow_time", "bpr_a", "bpr_b", "capacity")
        )
        return f * (1.0 + a * (volume / c) ** b)

    # ------------------------------------------------------------------ input
    @classmethod
    def from_dict(cls, d: dict, name: str | None = None) -> Network:
        """From ``{"links": [{"from", "to", "free_flow_time", "capacity", "bpr_a", "bpr_b"}, ...],
        "demand": [{"origin": "u->v", "destination": "x->y", "departure_time", "count"}, ...],
        "positions": {"node": [x, y]}, "nodes": [...]}`` (the JSON format; missing coefficients take
        OpenSpiel's defaults: ``free_flow_time = capacity = bpr_b = 1``, ``bpr_a = 0``; ``nodes``, if
        given, is checked against every link)."""
        if not isinstance(d, dict) or "links" not in d:
            raise ValidationError("a network description is a dict with a 'links' list (and optionally 'demand')")
        links = _rows(
            d["links"],
            "links",
            lambda r: Link(
                str(r["from"]),
                str(r["to"]),
                float(r.get("free_flow_time", 1.0)),
                float(r.get("capacity", 1.0)),
                float(r.get("bpr_a", 0.0)),
                float(r.get("bpr_b", 1.0)),
            ),
            "needs 'from' and 'to' and numeric coefficients",
        )
        demand = _rows(
            d.get("demand", []),
            "demand",
            lambda r: ODDemand(
                str(r["origin"]),
                str(r["destination"]),
                float(r.get("departure_time", 0.0)),
                float(r.get("count", 1.0)),
            ),
            "needs 'origin' and 'destination' links",
        )
        pos = {str(k): (float(v[0]), float(v[1])) for k, v in d.get("positions", {}).items()}
        nodes = d.get("nodes")
        return cls(
            tuple(links), tuple(demand), pos, name or d.get("name", "network"), None if nodes is None else tuple(nodes)
        )

    @classmethod
    def load(cls, path: str | Path, demand: str | Path | None = None) -> Network:
        """A network from a JSON file (:meth:`from_dict`'s format) or a CSV of links with columns
        ``from,to,free_flow_time,capacity,bpr_a,bpr_b`` plus an optional demand CSV with columns
        ``origin,destination,departure_time,count``."""
        path = Path(path)
        if not path.exists():
            raise ValidationError(f"network file {str(path)!r} does not exist")
        if path.suffix == ".json":
            d = json.loads(path.read_text())
        elif path.suffix == ".csv":
            d = {"links": _read_csv(path)}
        else:
            raise ValidationError(f"network file {str(path)!r}: give a .json or .csv file")
        if demand is not None:
            d["demand"] = (
                _read_csv(Path(demand)) if str(demand).endswith(".csv") else json.loads(Path(demand).read_text())
            )
        return cls.from_dict(d, name=d.get("name", path.stem))

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "links": [
                {
                    "from": lk.start,
                    "to": lk.end,
                    "free_flow_time": lk.free_flow_time,
                    "capacity": lk.capacity,
                    "bpr_a": lk.bpr_a,
                    "bpr_b": lk.bpr_b,
                }
                for lk in self.links
            ],
            "demand": [
                {
                    "origin": od.origin,
                    "destination": od.destination,
                    "departure_time": od.departure_time,
                    "count": od.count,
                }
                for od in self.demand
            ],
            "positions": {k: list(v) for k, v in self.positions.items()},
        }


def _rows(rows, what: str, build, need: str) -> list:
    """``build(row)`` for every row of a network description, one error naming a bad row."""
    out = []
    for k, row in enumerate(rows):
        try:
            out.append(build(row))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValidationError(f"{what}[{k}] = {row!r}: {need} ({exc})") from None
    return out


def _read_csv(path: Path) -> list[dict]:
    if not path.exists():
        raise ValidationError(f"CSV file {str(path)!r} does not exist")
    with path.open(newline="") as fh:
        return [dict(r) for r in csv.DictReader(fh)]


def builtin_network(name: str) -> Network:
    """One of OpenSpiel's networks with its demand: ``line``, ``braess``, ``sioux_falls``,
    ``sioux_falls_dummy_demand`` (package data in ``mfglearn/games/data``)."""
    if name not in NETWORKS:
        raise ValidationError(f"unknown network {name!r}; built in: {', '.join(NETWORKS)} (or give a file path)")
    file = "sioux_falls" if name.startswith("sioux_falls") else name
    d = json.loads(resources.files("mfglearn.games.data").joinpath(f"{file}.json").read_text())
    if name == "sioux_falls_dummy_demand":
        d["demand"] = d.pop("dummy_demand")
    else:
        d.pop("dummy_demand", None)
    return Network.from_dict(d, name=name)


# ---------------------------------------------------------------------- the game
@dataclass(frozen=True)
class RoutingLayout:
    """How a routing game's states map to the network (``game.layout["routing"]``).

    In-transit state ``(link l, waiting w)`` of a population is ``l * (W + 1) + w`` for
    ``w = 0..W``; then ``arrived`` and ``stuck``.
    """

    network: Network
    destinations: tuple[int, ...]
    W: int
    successors: tuple[tuple[int, ...], ...]
    od_population: tuple[int, ...]
    od_state: tuple[int, ...]

    @property
    def L(self) -> int:
        return len(self.network.links)

    @property
    def per_population(self) -> int:
        return self.L * (self.W + 1) + 2

    def state(self, link: int, w: int) -> int:
        return link * (self.W + 1) + w


def routing_game(
    network: Network | str = "braess",
    horizon: int = 100,
    time_step_length: float = 0.05,
    total_vehicles: float | None = None,
    openspiel_quirks: bool = False,
    name: str | None = None,
    device=None,
) -> FiniteMFG:
    """The dynamic routing mean-field game on ``network`` (module docstring).

    Args:
        network: a :class:`Network` with demand, a built-in name (``"braess"``, ``"line"``,
            ``"sioux_falls"``, ``"sioux_falls_dummy_demand"``) or a JSON/CSV file path.
        horizon: number of time steps (OpenSpiel's ``max_num_time_step``).
        time_step_length: length of a step in the network's time unit.
        total_vehicles: number of vehicles the volumes are computed for (default: the demand's total).
        openspiel_quirks: count, as OpenSpiel does, only vehicles whose remaining waiting is below
            the horizon in a link's volume (its distribution support stops there); a vehicle
            assigned a longer wait is then invisible to the others. Off, every vehicle on a link counts.
    """
    net = _as_network(network)
    if not net.demand:
        raise ValidationError(f"network {net.name!r} has no demand; give origin-destination pairs")
    if isinstance(time_step_length, bool) or not isinstance(time_step_length, (int, float)) or time_step_length <= 0:
        raise ValidationError(f"time_step_length must be a positive number, got {time_step_length!r}")
    T = int(horizon)
    if T < 1:
        raise ValidationError(f"horizon must be >= 1, got {horizon}")
    dt = float(time_step_length)
    L = len(net.links)
    succ = tuple(tuple(net.successors(i)) for i in range(L))
    A = max(1, max(len(x) for x in succ))
    # waits are stored up to W: beyond the horizon all waits are alike, except that OpenSpiel's count
    # of a link's volume still sees the difference (a wait below T after some countdown), up to 2T
    W = 2 * T if openspiel_quirks else T
    dests, od_pop, od_state, per_dest = [], [], [], {}
    for k, od in enumerate(net.demand):
        o = net.link_index(od.origin, f"demand[{k}] origin")
        d = net.link_index(od.destination, f"demand[{k}] destination")
        if o == d:
            raise ValidationError(f"demand[{k}]: origin and destination are the same link {od.origin!r}")
        if not net.has_path(o, d):
            raise ValidationError(f"demand[{k}] ({od.origin} to {od.destination}): no path in network {net.name!r}")
        if not (od.count > 0 and od.departure_time >= 0):
            raise ValidationError(
                f"demand[{k}]: count must be > 0 and departure_time >= 0, got {od.count}, {od.departure_time}"
            )
        if d not in per_dest:
            per_dest[d] = len(dests)
            dests.append(d)
        od_pop.append(per_dest[d])
        od_state.append(o * (W + 1) + min(int(od.departure_time / dt), W))
    lay = RoutingLayout(net, tuple(dests), W, succ, tuple(od_pop), tuple(od_state))
    total = float(sum(od.count for od in net.demand))
    n_vehicles = total if total_vehicles is None else float(total_vehicles)
    Sp = lay.per_population
    arrived = L * (W + 1)
    # countdown vehicles counted in a link's volume at the next step, by their current wait w >= 1
    counted = torch.ones(W + 1, dtype=torch.float64)
    counted[0] = 0.0  # w = 0 leaves the link
    if openspiel_quirks:
        counted[1:] = (torch.arange(1, W + 1) - 1 < T).to(torch.float64)
    sink = [len(x) == 0 for x in succ]
    li = torch.arange(L)
    pops, masses, parts = [], [], []
    for p, d in enumerate(dests):
        mu0 = torch.zeros(Sp, dtype=torch.float64)
        for k, od in enumerate(net.demand):
            if od_pop[k] == p:
                mu0[od_state[k]] += od.count
        masses.append(float(mu0.sum()) / total)
        mu0 = mu0 / mu0.sum()
        target = torch.zeros(L, A, dtype=torch.long)  # link reached by local action k
        kind = torch.full((L, A), -1, dtype=torch.long)  # -1 illegal, 0 in transit, 1 arrived, 2 stuck
        for i in range(L):
            for k, j in enumerate(succ[i]):
                target[i, k] = j
                kind[i, k] = 1 if j == d else 2 if sink[j] else 0
        legal = torch.zeros(Sp, A, dtype=torch.bool)
        legal[:, 0] = True
        legal[li * (W + 1)] = (kind >= 0) | ((kind < 0).all(1, keepdim=True) & (torch.arange(A) == 0))
        reward = torch.full((Sp,), -dt, dtype=torch.float64)
        reward[arrived] = 0.0
        terminal = torch.full((Sp,), -dt, dtype=torch.float64)
        terminal[arrived] = dt
        parts.append((target, kind))
        pops.append(
            Population(
                Sp, A, mu0, reward, None, legal=legal, terminal_reward=terminal, mass=masses[-1], name=net.links[d].name
            )
        )
    weights = torch.tensor(masses, dtype=torch.float64) / sum(masses)
    step = _RoutingStep(lay, parts, weights, counted, net, n_vehicles, dt)
    for p, pop in enumerate(pops):
        pop.transition = step.transition_of(p)
    return multi_population_game(
        pops,
        horizon=T,
        name=name or f"routing/{net.name}",
        mean_field="state_action",
        layout={"routing": lay, "network": net.name},
        params={
            "network": net.name,
            "horizon": T,
            "time_step_length": dt,
            "total_vehicles": n_vehicles,
            "openspiel_quirks": openspiel_quirks,
        },
        device=device,
    )


class _RoutingStep:
    """Kernels at time ``t`` from the state-action measures at ``t``: where each vehicle goes, and the
    waiting it is assigned there from the number of vehicles on that link at ``t + 1`` (known from
    ``L_t``: who moves where, who keeps waiting). Deterministic; computed once per time step for
    all populations."""

    def __init__(self, lay, parts, weights, counted, net, n_vehicles, dt):
        self.lay, self.parts, self.weights, self.counted = lay, parts, weights, counted
        self.net, self.n_vehicles, self.dt = net, n_vehicles, dt
        L, W = lay.L, lay.W
        self.li = torch.arange(L)
        self._memo = None
        base = torch.empty(lay.per_population, parts[0][0].shape[1], dtype=torch.long)
        for w in range(1, W + 1):
            base[self.li * (W + 1) + w] = (self.li * (W + 1) + w - 1).unsqueeze(1)
        base[L * (W + 1)], base[L * (W + 1) + 1] = L * (W + 1), L * (W + 1) + 1
        self.base = base

    def waits(self, t, mf) -> torch.Tensor:
        # every population's kernel at one time step reads the same joint measure: compute the waits
        # once. The memo holds that tensor, so identity (plus its in-place version) cannot be confused
        # with a later tensor at a reused address.
        src = mf.joint
        if src is not None and self._memo is not None:
            held, version, t_held, wait = self._memo
            if held is src and version == src._version and t_held == int(t):
                return wait
        L, W = self.lay.L, self.lay.W
        volume = torch.zeros(L, dtype=torch.float64)
        for p, (target, kind) in enumerate(self.parts):
            m = mf[p].to(torch.float64)  # (Sp, A), population p's state-action measure
            on = m[: L * (W + 1)].sum(-1).view(L, W + 1)
            stay = (on * self.counted).sum(-1)
            move = m[self.li * (W + 1)]  # (L, A): zero-wait vehicles choosing a successor
            enter = torch.zeros(L, dtype=torch.float64).index_add_(
                0, target.reshape(-1), (move * (kind == 0)).reshape(-1)
            )
            volume += self.weights[p] * (stay + enter)
        tt = self.net.travel_time(self.n_vehicles * volume)
        wait = (torch.floor(tt / self.dt).long() - 1).clamp(min=0, max=W)  # OpenSpiel: max(0, int(tt / dt) - 1)
        self._memo = None if src is None else (src, src._version, int(t), wait)
        return wait

    def transition_of(self, p: int):
        target, kind = self.parts[p]
        L, W = self.lay.L, self.lay.W
        arrived, stuck = L * (W + 1), L * (W + 1) + 1

        def transition(t, mf):
            wait = self.waits(t, mf)
            nxt = self.base.clone()
            moved = target * (W + 1) + wait[target]
            moved = torch.where(kind == 1, arrived, torch.where(kind == 2, stuck, moved))
            nxt[self.li * (W + 1)] = torch.where(kind >= 0, moved, (self.li * (W + 1)).unsqueeze(1))
            return SparseKernel.deterministic(nxt)

        return transition


def _as_network(network) -> Network:
    if isinstance(network, Network):
        return network
    if isinstance(network, dict):
        return Network.from_dict(network)
    if isinstance(network, (str, Path)):
        if str(network) in NETWORKS:
            return builtin_network(str(network))
        return Network.load(network)
    raise ValidationError(
        f"network must be a Network, a dict, a built-in name or a file path, got {type(network).__name__}"
    )


def od_travel_times(game: FiniteMFG, V0: torch.Tensor) -> list[dict]:
    """Expected travel time of every origin-destination pair from a joint value ``V[0]`` ``(S,)``
    of a routing game: ``-V0`` at the pair's initial state (in the network's time unit)."""
    lay: RoutingLayout = game.layout["routing"]
    pl = game.populations
    out = []
    for k, od in enumerate(lay.network.demand):
        s = pl.offsets[lay.od_population[k]] + lay.od_state[k]
        out.append(
            {"origin": od.origin, "destination": od.destination, "count": od.count, "travel_time": float(-V0[s])}
        )
    return out


def link_flows(game: FiniteMFG, mu: torch.Tensor) -> torch.Tensor:
    """``(..., L)`` share of all vehicles on each link, from a joint flow ``mu`` ``(..., S)``."""
    lay: RoutingLayout = game.layout["routing"]
    parts = game.populations.split(mu)
    n = lay.L * (lay.W + 1)
    return sum(x[..., :n].reshape(*mu.shape[:-1], lay.L, lay.W + 1).sum(-1) for x in parts)


def _factory(setting: str, horizon: int, time_step_length: float, device) -> FiniteMFG:
    network = setting.removeprefix("dynamic_routing_")
    return routing_game(
        network, horizon, time_step_length, openspiel_quirks=True, name=f"openspiel/{setting}", device=device
    )


def line(horizon: int = 5, time_step_length: float = 1.0, device=None) -> FiniteMFG:
    """OpenSpiel's factory setting ``dynamic_routing_line``: one OD pair on a 4-link line, T=5."""
    return _factory("dynamic_routing_line", horizon, time_step_length, device)


def braess(horizon: int = 100, time_step_length: float = 0.05, device=None) -> FiniteMFG:
    """OpenSpiel's factory setting ``dynamic_routing_braess``: Braess's network, 5 vehicles, T=100, dt=0.05."""
    return _factory("dynamic_routing_braess", horizon, time_step_length, device)


def sioux_falls_dummy_demand(horizon: int = 81, time_step_length: float = 0.5, device=None) -> FiniteMFG:
    """OpenSpiel's factory setting ``dynamic_routing_sioux_falls_dummy_demand``: two OD pairs, T=81, dt=0.5."""
    return _factory("dynamic_routing_sioux_falls_dummy_demand", horizon, time_step_length, device)


def sioux_falls(horizon: int = 81, time_step_length: float = 0.5, device=None) -> FiniteMFG:
    """OpenSpiel's factory setting ``dynamic_routing_sioux_falls``: the full Sioux Falls demand, T=81, dt=0.5."""
    return _factory("dynamic_routing_sioux_falls", horizon, time_step_length, device)


def routing(
    network: str = "braess",
    horizon: int = 100,
    time_step_length: float = 0.05,
    total_vehicles: float | None = None,
    device=None,
) -> FiniteMFG:
    """A routing game on any network: a built-in name or a JSON/CSV file (see :class:`Network`)."""
    return routing_game(network, horizon, time_step_length, total_vehicles, device=device)


def simple_paths(network: Network, origin: str, destination: str, max_paths: int = 1000) -> list[list[str]]:
    """Every cycle-free path from link ``origin`` to link ``destination`` (lists of link names).

    Meant for small networks (studies, figures); stops with an error beyond ``max_paths``.
    """
    o = network.link_index(origin, "origin")
    d = network.link_index(destination, "destination")
    out: list[list[int]] = []
    stack = [(o, [o])]
    while stack:
        i, path = stack.pop()
        if i == d:
            out.append(path)
            if len(out) > max_paths:
                raise ValidationError(f"more than {max_paths} paths from {origin} to {destination}; raise max_paths")
            continue
        for j in reversed(network.successors(i)):
            if j not in path:
                stack.append((j, path + [j]))
    return [[network.links[i].name for i in p] for p in out]
