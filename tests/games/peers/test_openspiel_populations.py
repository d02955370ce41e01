"""Multi-population games at parity with OpenSpiel 2.0.2 (predator-prey, crowd avoidance).

NashConv of the uniform policy, every population's value and best-response value (these
include OpenSpiel's reading of the initial vector at ``t = 0``), and two iterations (horizon 5) of
fictitious play (greedy and softmax), Munchausen mirror descent, fixed point and Boltzmann
policy iteration, all to 1e-6. Greedy ties: crowd avoidance's default has no congestion, so
its greedy best responses tie on many cells; OpenSpiel and mfglearn break them the same way
here (first maximiser), and the test keeps the case because it passes.
"""

import numpy as np
import pytest

import mfglearn
from mfglearn.core.metrics import evaluate
from mfglearn.core.populations import population_report
from mfglearn.solvers import BoltzmannPolicyIteration, FictitiousPlay, FixedPoint, MirrorDescent

pyspiel = pytest.importorskip("pyspiel")
from open_spiel.python import policy as policy_std  # noqa: E402
from open_spiel.python.mfg.algorithms import (  # noqa: E402
    boltzmann_policy_iteration,
    fictitious_play,
    fixed_point,
    munchausen_mirror_descent,
    nash_conv,
)
from open_spiel.python.mfg.games import crowd_avoidance, factory, predator_prey  # noqa: E402,F401

pytestmark = pytest.mark.peer

GAMES = {
    "openspiel/predator_prey_5x5x3": ("python_mfg_predator_prey", "predator_prey_5x5x3"),
    "openspiel/predator_prey_5x5x4": ("python_mfg_predator_prey", "predator_prey_5x5x4"),
    "openspiel/crowd_avoidance": ("python_mfg_crowd_avoidance", "crowd_avoidance"),
}


def load(gid, horizon=None):
    name, setting = GAMES[gid]
    if horizon is None:
        return mfglearn.make(gid), factory.create_game_with_setting(name, setting)
    # shorter horizons keep OpenSpiel's tree walks (seconds per NashConv) within the test budget
    return mfglearn.make(gid, horizon=horizon), pyspiel.load_game(
        name, {**factory.GAME_SETTINGS[setting], "horizon": horizon}
    )


@pytest.mark.parametrize("gid", list(GAMES))
def test_uniform_policy_nash_conv_and_values(gid):
    game, osg = load(gid)
    pi = game.uniform_policy()
    nc = nash_conv.NashConv(osg, policy_std.UniformRandomPolicy(osg))
    assert mfglearn.exploitability(game, pi) == pytest.approx(nc.nash_conv(), abs=1e-6, rel=1e-9)
    rep = population_report(game, evaluate(game, pi))
    np.testing.assert_allclose(rep.best_value.numpy(), nc.br_values(), atol=1e-6, rtol=1e-9)
    pi_values = [nc._pi_value.eval_state(s) for s in osg.new_initial_states()]
    np.testing.assert_allclose(rep.value.numpy(), pi_values, atol=1e-6, rtol=1e-9)


def _run_openspiel(algo, n):
    out = []
    for _ in range(n):
        algo.iteration()
        out.append(nash_conv.NashConv(algo._game, algo.get_policy()).nash_conv())
    return out


SOLVERS = [
    ("fp", lambda g: fictitious_play.FictitiousPlay(g), lambda g: FictitiousPlay(g)),
    (
        "fp_softmax",
        lambda g: fictitious_play.FictitiousPlay(g, temperature=0.5),
        lambda g: FictitiousPlay(g, temperature=0.5),
    ),
    (
        "omd",
        lambda g: munchausen_mirror_descent.MunchausenMirrorDescent(g, lr=0.5),
        lambda g: MirrorDescent(g, learning_rate=0.5),
    ),
    ("fixed_point", lambda g: fixed_point.FixedPoint(g), lambda g: FixedPoint(g)),
    (
        "boltzmann",
        lambda g: boltzmann_policy_iteration.BoltzmannPolicyIteration(g, lr=0.5),
        lambda g: BoltzmannPolicyIteration(g, temperature=2.0),
    ),
]


@pytest.mark.parametrize("gid", ["openspiel/predator_prey_5x5x3", "openspiel/crowd_avoidance"])
@pytest.mark.parametrize("label, theirs, ours", SOLVERS, ids=[s[0] for s in SOLVERS])
def test_solver_trajectories_match(gid, label, theirs, ours):
    game, osg = load(gid, horizon=5)
    ref = _run_openspiel(theirs(osg), 2)
    res = ours(game).solve(2)
    np.testing.assert_allclose(res.history["exploitability"], ref, atol=1e-6, rtol=1e-9)


def test_four_populations_mirror_descent():
    game, osg = load("openspiel/predator_prey_5x5x4", horizon=6)
    ref = _run_openspiel(munchausen_mirror_descent.MunchausenMirrorDescent(osg, lr=1.0), 2)
    res = MirrorDescent(game, learning_rate=1.0).solve(2)
    np.testing.assert_allclose(res.history["exploitability"], ref, atol=1e-6, rtol=1e-9)
