"""OpenSpiel 2.0.2's NashConv of the uniform policy on the multi-population and routing settings, pinned.

The values come from OpenSpiel itself (tests/games/peers/ checks them live where it is installed);
here they hold without it.
"""

import pytest

import mfglearn

PINNED = {
    "openspiel/predator_prey_5x5x3": 36.968383925225865,
    "openspiel/predator_prey_5x5x4": 67.89876237335486,
    "openspiel/crowd_avoidance": 6.276543452378794,
    "openspiel/dynamic_routing_line": 0.0,
    "openspiel/dynamic_routing_braess": 0.5,
    # OpenSpiel takes ~30 s for this one
    "openspiel/dynamic_routing_sioux_falls_dummy_demand": 18.989261166933723,
}


@pytest.mark.parametrize("gid", list(PINNED))
def test_pinned_uniform_nash_conv(gid):
    g = mfglearn.make(gid)
    assert mfglearn.exploitability(g, g.uniform_policy()) == pytest.approx(PINNED[gid], abs=1e-9)
