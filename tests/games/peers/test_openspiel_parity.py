"""Parity with OpenSpiel 2.0.2 (skipped when open-spiel is not installed).

Exploitability of the same policy and of the same solver after the same number of
iterations must agree with OpenSpiel's NashConv to 1e-6. Exception, documented
in the closing note of the core issue: greedy best responses on the symmetric
2-D maps have exact ties that OpenSpiel breaks by its own round-off, so greedy
fictitious play / fixed point are compared there on the 1-D and LQ games only.
"""

import numpy as np
import pytest
import torch

import mfglearn
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
from open_spiel.python.mfg.games import crowd_modelling, factory, linear_quadratic  # noqa: E402,F401

pytestmark = pytest.mark.peer

GAMES = {
    "openspiel/crowd_modelling": ("python_mfg_crowd_modelling", {}),
    "openspiel/linear_quadratic": ("mean_field_lin_quad", {}),
    # factory names mean factory settings (only_distribution_reward=True on both maps)
    "openspiel/crowd_modelling_2d_four_rooms": (
        "mfg_crowd_modelling_2d",
        factory.GAME_SETTINGS["crowd_modelling_2d_four_rooms"],
    ),
    "openspiel/crowd_modelling_2d_maze": ("mfg_crowd_modelling_2d", factory.GAME_SETTINGS["crowd_modelling_2d_maze"]),
}


def load(gid, **kw):
    os_name, os_params = GAMES[gid]
    return mfglearn.make(gid, **kw), pyspiel.load_game(os_name, {**os_params, **kw})


class TensorPolicy(policy_std.Policy):
    """An mfglearn (H, S, A) policy seen as an OpenSpiel policy (keyed by the state string "(x, t)")."""

    def __init__(self, game, osg, pi):
        super().__init__(osg, [0])
        self.pi, self.cells = pi, game.layout.get("cells")

    def action_probabilities(self, state, player_id=None):
        parts = [int(v) for v in str(state).strip("()").split(",")]
        s, t = (parts[0], parts[1]) if self.cells is None else (self.cells.index((parts[1], parts[0])), parts[2])
        return {a: float(self.pi[t, s, a]) for a in state.legal_actions()}


@pytest.mark.parametrize("gid", list(GAMES))
def test_uniform_policy_nash_conv(gid):
    game, osg = load(gid, **({"horizon": 12} if "maze" in gid else {}))
    ours = mfglearn.exploitability(game, game.uniform_policy())
    theirs = nash_conv.NashConv(osg, policy_std.UniformRandomPolicy(osg)).nash_conv()
    assert ours == pytest.approx(theirs, abs=1e-6, rel=1e-9)


@pytest.mark.parametrize("gid", ["openspiel/crowd_modelling", "openspiel/linear_quadratic"])
def test_random_policy_nash_conv(gid):
    game, osg = load(gid, horizon=5)
    g = torch.Generator().manual_seed(7)
    pi = torch.rand(game.H, game.S, game.A, generator=g, dtype=torch.float64)
    pi = pi / pi.sum(-1, keepdim=True)
    theirs = nash_conv.NashConv(osg, TensorPolicy(game, osg, pi)).nash_conv()
    assert mfglearn.exploitability(game, pi) == pytest.approx(theirs, abs=1e-6, rel=1e-9)


def test_pinned_openspiel_values():
    # Values from OpenSpiel 2.0.2 itself, so the parity holds even where it is not installed elsewhere.
    g = mfglearn.make("openspiel/crowd_modelling")
    assert mfglearn.exploitability(g, g.uniform_policy()) == pytest.approx(2.8135365543870385, abs=1e-9)
    g = mfglearn.make("openspiel/linear_quadratic")
    assert mfglearn.exploitability(g, g.uniform_policy()) == pytest.approx(21.498181599551945, abs=1e-9)
    g = mfglearn.make("openspiel/crowd_modelling_2d_four_rooms")
    assert mfglearn.exploitability(g, g.uniform_policy()) == pytest.approx(167.66044647142783, abs=1e-9)


def _run_openspiel(algo, n):
    out = []
    for _ in range(n):
        algo.iteration()
        out.append(nash_conv.NashConv(algo._game, algo.get_policy()).nash_conv())
    return out


CASES = [
    ("openspiel/crowd_modelling", lambda g: fictitious_play.FictitiousPlay(g), lambda g: FictitiousPlay(g)),
    ("openspiel/linear_quadratic", lambda g: fictitious_play.FictitiousPlay(g), lambda g: FictitiousPlay(g)),
    ("openspiel/crowd_modelling", lambda g: fixed_point.FixedPoint(g), lambda g: FixedPoint(g)),
    (
        "openspiel/crowd_modelling_2d_four_rooms",
        lambda g: fictitious_play.FictitiousPlay(g, temperature=0.5),
        lambda g: FictitiousPlay(g, temperature=0.5),
    ),
    (
        "openspiel/crowd_modelling_2d_four_rooms",
        lambda g: munchausen_mirror_descent.MunchausenMirrorDescent(g, lr=0.5),
        lambda g: MirrorDescent(g, learning_rate=0.5),
    ),
    (
        "openspiel/crowd_modelling",
        lambda g: munchausen_mirror_descent.MunchausenMirrorDescent(g, lr=1.0),
        lambda g: MirrorDescent(g, learning_rate=1.0),
    ),
    (
        "openspiel/linear_quadratic",
        lambda g: boltzmann_policy_iteration.BoltzmannPolicyIteration(g, lr=0.5),
        lambda g: BoltzmannPolicyIteration(g, temperature=2.0),
    ),
]


@pytest.mark.parametrize("gid, theirs, ours", CASES)
def test_solver_trajectories_match(gid, theirs, ours):
    kw = {"horizon": 10} if "four_rooms" in gid else {}
    game, osg = load(gid, **kw)
    n = 3
    ref = _run_openspiel(theirs(osg), n)
    res = ours(game).solve(n)
    np.testing.assert_allclose(res.history["exploitability"], ref, atol=1e-6, rtol=1e-9)
