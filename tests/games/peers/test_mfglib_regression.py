"""Pinned regression values on MFGLib's environments (independent of the mfglib package)."""

import pytest

import mfglearn
from mfglearn.core.flow import mean_field_flow


@pytest.mark.parametrize(
    "gid, solver, hp, expected",
    [
        ("mfglib/beach_bar", "prior_descent", dict(temperature=0.5, inner_steps=5), 0.07290442620208437),
        ("mfglib/susceptible_infected", "mf_omo", dict(optimizer_lr=0.01), 6.969908319202563),
        ("mfglib/beach_bar", "occupation_measure_inclusion", dict(learning_rate=0.5), 0.0008573222528367452),
        ("mfglib/random_linear", "mirror_descent", dict(learning_rate=0.1), 0.10273629006696439),
        ("mfglib/equilibrium_price", "fictitious_play", dict(ties="uniform"), 1.001308403762021),
    ],
)
def test_pinned_exploitability_after_20_iterations(gid, solver, hp, expected):
    r = mfglearn.solve(gid, solver, iterations=20, **hp)
    assert r.history["exploitability"][-1] == pytest.approx(expected, rel=1e-7, abs=1e-10)


def test_every_mfglib_environment_builds_and_conserves_mass():
    for gid in [g for g in mfglearn.list_games() if g.startswith("mfglib/")]:
        game = mfglearn.make(gid)
        flow = mean_field_flow(game, game.uniform_policy())
        assert float((flow.mu.sum(-1) - 1).abs().max()) < 1e-12, gid
