"""Routing games: Wardrop's principle, Braess's closed form, network files, bad input."""

import json

import pytest
import torch

import mfglearn
from mfglearn.core import routes
from mfglearn.errors import ValidationError
from mfglearn.games import routing

BRAESS_PATHS = [
    ["O->A", "A->B", "B->C", "C->D", "D->E"],
    ["O->A", "A->B", "B->D", "D->E"],
    ["O->A", "A->C", "C->D", "D->E"],
]


def test_braess_equilibrium_is_wardrop_and_matches_the_continuous_value():
    g = mfglearn.make("openspiel/dynamic_routing_braess")
    assert routing.simple_paths(g.layout["routing"].network, "O->A", "D->E") == BRAESS_PATHS
    res = mfglearn.solve(g, "mirror_descent", iterations=30, learning_rate=1.0)
    assert res.exploitability < 1e-9
    times = routes.path_travel_times(g, res.policy, BRAESS_PATHS)
    # every path is used and all take the continuous-time Wardrop value 3.75 (flows 1/4, 1/4, 1/2 there)
    assert times == pytest.approx([3.75] * 3, abs=1e-9)
    assert -res.value == pytest.approx(3.75, abs=1e-9)
    shares = routes.link_entries(g, res.policy)
    assert float(shares[g.layout["routing"].network.link_index("D->E")]) == pytest.approx(1.0)


def test_removing_the_braess_link_speeds_everyone_up():
    net = routing.builtin_network("braess")
    small = routing.Network(tuple(lk for lk in net.links if lk.name != "B->C"), net.demand, net.positions, "no_bc")
    g = routing.routing_game(small, 100, 0.05, openspiel_quirks=True)
    res = mfglearn.solve(g, "mirror_descent", iterations=30, learning_rate=1.0)
    assert res.exploitability < 1e-9 and -res.value == pytest.approx(3.5, abs=1e-9)


def test_uniform_policy_arrival_times():
    g = mfglearn.make("openspiel/dynamic_routing_braess")
    from mfglearn.core.metrics import evaluate

    (row,) = routing.od_travel_times(g, evaluate(g, g.uniform_policy()).V[0])
    assert row["travel_time"] == pytest.approx(3.5, abs=1e-9)  # OpenSpiel's value of the same policy


def test_network_files_round_trip(tmp_path):
    net = routing.builtin_network("braess")
    (tmp_path / "braess.json").write_text(json.dumps(net.to_dict()))
    g1 = mfglearn.make("routing", network=str(tmp_path / "braess.json"))
    rows = net.to_dict()["links"]
    with (tmp_path / "links.csv").open("w") as fh:
        fh.write("from,to,free_flow_time,capacity,bpr_a,bpr_b\n")
        fh.writelines(
            f"{r['from']},{r['to']},{r['free_flow_time']},{r['capacity']},{r['bpr_a']},{r['bpr_b']}\n" for r in rows
        )
    (tmp_path / "demand.csv").write_text("origin,destination,departure_time,count\nO->A,D->E,0,5\n")
    net_csv = routing.Network.load(tmp_path / "links.csv", tmp_path / "demand.csv")
    g2 = routing.routing_game(net_csv, 100, 0.05)
    g0 = mfglearn.make("routing")  # the built-in Braess network
    pi = g0.uniform_policy()
    e = mfglearn.exploitability(g0, pi)
    assert mfglearn.exploitability(g1, pi) == pytest.approx(e, abs=1e-12)
    assert mfglearn.exploitability(g2, pi) == pytest.approx(e, abs=1e-12)


def test_departure_times_and_two_destinations():
    d = routing.builtin_network("braess").to_dict()
    d["demand"] = [
        {"origin": "O->A", "destination": "D->E", "departure_time": 0.0, "count": 3},
        {"origin": "O->A", "destination": "D->E", "departure_time": 0.5, "count": 1},
        {"origin": "A->C", "destination": "C->D", "count": 1},
    ]
    g = routing.routing_game(routing.Network.from_dict(d), 60, 0.05)
    assert g.n_populations == 2 and g.populations.masses == pytest.approx((0.8, 0.2))
    res = mfglearn.solve(g, "fictitious_play", iterations=20)
    assert res.exploitability < mfglearn.exploitability(g, g.uniform_policy())
    from mfglearn.core.metrics import evaluate

    rows = routing.od_travel_times(g, evaluate(g, res.policy).V[0])
    # leaves 10 steps later: at least 0.5 plus the free-flow time of the quickest path (1 + 0.25 + 1)
    assert rows[1]["travel_time"] >= 0.5 + 2.25 - 1e-9
    assert rows[0]["travel_time"] >= 2.25 - 1e-9
    # starting on A->C, the vehicle enters its destination link C->D at step 0 (OpenSpiel counts
    # arrival times from the end of the origin link)
    assert rows[2]["travel_time"] == pytest.approx(0.0, abs=1e-12)


def test_bad_networks_and_demand_name_the_entry():
    base = {
        "links": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}],
        "demand": [{"origin": "a->b", "destination": "b->c"}],
    }
    with pytest.raises(ValidationError, match="link 'b->z' uses unknown node 'z'"):
        routing.Network.from_dict(
            {**base, "nodes": ["a", "b", "c"], "links": base["links"] + [{"from": "b", "to": "z"}]}
        )
    with pytest.raises(ValidationError, match="demand\\[0\\] destination 'c->d' is not a link"):
        routing.routing_game({**base, "demand": [{"origin": "a->b", "destination": "c->d"}]})
    no_path = {
        **base,
        "links": base["links"] + [{"from": "x", "to": "y"}],
        "demand": [{"origin": "x->y", "destination": "b->c"}],
    }
    with pytest.raises(ValidationError, match="demand\\[0\\] \\(x->y to b->c\\): no path"):
        routing.routing_game(no_path)
    with pytest.raises(ValidationError, match="link 'a->b' appears twice"):
        routing.Network.from_dict({"links": [{"from": "a", "to": "b"}, {"from": "a", "to": "b"}]})
    with pytest.raises(ValidationError, match="capacity > 0"):
        routing.Network.from_dict({"links": [{"from": "a", "to": "b", "capacity": 0}]})
    with pytest.raises(ValidationError, match="unknown network 'nowhere'"):
        routing.builtin_network("nowhere")
    with pytest.raises(ValidationError, match="does not exist"):
        mfglearn.make("routing", network="/nonexistent/net.json")


def test_n_player_routing_runs_and_splits_populations():
    from mfglearn.population.nplayer import finite_n_exploitability, population_counts, simulate

    g = mfglearn.make("openspiel/dynamic_routing_sioux_falls_dummy_demand", horizon=30)
    assert population_counts(g, 10) == [5, 5]
    roll = simulate(g, g.uniform_policy(), 10, episodes=2, seed=0)
    mass = torch.stack([p.sum(-1) for p in g.populations.split(roll.empirical)])
    assert torch.allclose(mass, torch.tensor(g.populations.weights, dtype=mass.dtype).view(2, 1, 1).expand_as(mass))
    b = mfglearn.make("openspiel/dynamic_routing_braess", horizon=80)
    r = finite_n_exploitability(b, b.uniform_policy(), 20, episodes=8, seed=0)
    assert r.gain > 0  # the uniform policy is far from an equilibrium: deviating to the best response pays


def test_evaluations_do_not_leak_between_policies():
    # kernels are cached per time step across populations; a later policy must never see an earlier one's
    g = mfglearn.make("openspiel/dynamic_routing_sioux_falls_dummy_demand", horizon=40)
    pi_a = g.uniform_policy()
    pi_b = mfglearn.solve(g, "fictitious_play", iterations=2).policy
    first = mfglearn.exploitability(g, pi_a)
    mfglearn.exploitability(g, pi_b)
    assert mfglearn.exploitability(g, pi_a) == first
    fresh = mfglearn.make("openspiel/dynamic_routing_sioux_falls_dummy_demand", horizon=40)
    assert mfglearn.exploitability(fresh, pi_b) == mfglearn.exploitability(g, pi_b)


def test_kernels_follow_the_measure_they_are_given():
    # the N-player simulation asks for one kernel per episode at the same time step, from views of one
    # batch: a cache keyed on memory addresses once handed an episode the waits of the previous one
    g = mfglearn.make("openspiel/dynamic_routing_braess")
    lay = g.layout["routing"]
    s = lay.state(lay.network.link_index("O->A"), 0)
    batch = torch.zeros(8, g.S, g.A, dtype=g.dtype)
    for e in range(8):
        share = 1.0 if e % 2 == 0 else 0.2  # share of the vehicles entering A->B
        batch[e, s, 0], batch[e, s, 1] = share, 1.0 - share
    got = [g.kernel_at(3, batch[e]).index.clone() for e in range(8)]
    fresh = mfglearn.make("openspiel/dynamic_routing_braess")
    want = [fresh.kernel_at(3, batch[e].clone()).index for e in range(2)]
    assert not torch.equal(want[0], want[1])
    for e in range(8):
        assert torch.equal(got[e], want[e % 2]), e
