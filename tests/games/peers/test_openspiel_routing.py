"""Dynamic routing at parity with OpenSpiel 2.0.2's ``python_mfg_dynamic_routing``.

Checked to 1e-6: the NashConv of the uniform policy on the line and Braess settings, every OD
pair's expected travel time, and the NashConv of a non-uniform policy (OpenSpiel's own mirror
descent iterate, read state by state) as OpenSpiel and mfglearn evaluate it. Not compared:
solver trajectories. OpenSpiel's fictitious play raises a KeyError on this game, and its mirror
descent and fixed point read values of decision nodes they never evaluated (its value tables are
``defaultdict(float)``, so such a node counts as "arrived at time 0"), which changes their
iterates as soon as a policy reaches a link at a time the previous walk did not; the test
``test_openspiel_reads_values_it_never_computed`` shows it.
"""

import numpy as np
import pytest

import mfglearn
from mfglearn.core.metrics import evaluate
from mfglearn.games import routing

pyspiel = pytest.importorskip("pyspiel")
from open_spiel.python import policy as policy_std  # noqa: E402
from open_spiel.python.mfg import value as os_value  # noqa: E402
from open_spiel.python.mfg.algorithms import fictitious_play, munchausen_mirror_descent, nash_conv  # noqa: E402
from open_spiel.python.mfg.games import factory  # noqa: E402

pytestmark = pytest.mark.peer


def load(setting):
    return mfglearn.make(f"openspiel/{setting}"), factory.create_game_with_setting(
        "python_mfg_dynamic_routing", setting
    )


@pytest.mark.parametrize("setting", ["dynamic_routing_line", "dynamic_routing_braess"])
def test_uniform_policy_nash_conv_and_travel_times(setting):
    game, osg = load(setting)
    pi = game.uniform_policy()
    nc = nash_conv.NashConv(osg, policy_std.UniformRandomPolicy(osg))
    assert mfglearn.exploitability(game, pi) == pytest.approx(nc.nash_conv(), abs=1e-6)
    ours = routing.od_travel_times(game, evaluate(game, pi).V[0])
    root = osg.new_initial_state()
    for k, row in enumerate(ours):
        st = root.child(k)
        assert row["travel_time"] == pytest.approx(-nc._pi_value.eval_state(st), abs=1e-6)


def _os_decision_state(osg, link: str, wait: int, t: int):
    st = osg.new_initial_state().child(0)
    st._vehicle_location, st._waiting_time, st._current_time_step = link, wait, t
    return st


def _tabulate(game, osg, policy):
    """An OpenSpiel policy as an mfglearn (H, S, A) tensor (decision nodes with a choice only)."""
    lay = game.layout["routing"]
    pi = game.uniform_policy()
    off = game.populations.offsets[0]
    for t in range(game.H):
        for li, succ in enumerate(lay.successors):
            if len(succ) < 2:
                continue
            probs = policy.action_probabilities(_os_decision_state(osg, lay.network.links[li].name, 0, t))
            s = off + lay.state(li, 0)
            for k, j in enumerate(succ):
                pi[t, s, k] = probs[j + 1]  # OpenSpiel's action id of link j is j + 1
    return pi


def test_nash_conv_of_a_non_uniform_policy():
    game, osg = load("dynamic_routing_braess")
    md = munchausen_mirror_descent.MunchausenMirrorDescent(osg, lr=1.0)
    md.iteration()
    theirs = nash_conv.NashConv(osg, md.get_policy()).nash_conv()
    pi = _tabulate(game, osg, md.get_policy())
    assert (pi - game.uniform_policy()).abs().max() > 0.1  # really not the uniform policy
    assert mfglearn.exploitability(game, pi) == pytest.approx(theirs, abs=1e-6)


def test_openspiel_reads_values_it_never_computed(monkeypatch):
    _, osg = load("dynamic_routing_braess")
    unseen = []
    orig = os_value.TabularValueFunction.value

    def value(self, state, action=None):
        if (state, action) not in self._values:
            unseen.append(state)
        return orig(self, state, action)

    monkeypatch.setattr(os_value.TabularValueFunction, "value", value)
    munchausen_mirror_descent.MunchausenMirrorDescent(osg, lr=1.0).iteration()
    # values of links entered (waiting -1) at times the walk never reached, read as 0
    assert any("waiting_time=-1" in s for s in unseen)
    with pytest.raises(KeyError):
        fictitious_play.FictitiousPlay(osg).iteration()


@pytest.mark.parametrize("solver", ["fictitious_play", "fixed_point", "mirror_descent", "boltzmann_policy_iteration"])
def test_mfglearn_solvers_run_where_openspiel_fails(solver):
    game = mfglearn.make("openspiel/dynamic_routing_braess")
    res = mfglearn.solve(game, solver, iterations=3)
    assert np.isfinite(res.exploitability) and res.exploitability >= 0
