"""DEDA-FP: one iteration runs end to end on each continuous game (tiny budgets)."""

import pytest
import torch

import mfglearn
from mfglearn.deep.deda_fp import deda_fp

pytest.importorskip("zuko")


@pytest.mark.parametrize(
    "gid, kw, kind",
    [
        ("lq", {"horizon": 5}, "nsf"),
        ("four_rooms_exploration", {"horizon": 6}, "realnvp"),
        ("beach_bar_continuous", {"horizon": 6}, "nsf"),
    ],
)
def test_one_iteration_end_to_end(gid, kw, kind):
    game = mfglearn.make(gid, **kw)
    game = game.as_continuous() if hasattr(game, "as_continuous") else game
    res = deda_fp(game, iterations=1, n_agents=256, br_iterations=3, bc_steps=30, flow_steps=30, flow_kind=kind)
    assert res.history["iteration"] == [1] and len(res.history["br_return"]) == 1
    mfs = res.mean_fields(game.horizon, 100)
    assert len(mfs) == game.horizon + 1 and mfs[0].samples.shape == (100, game.state_dim)
    dens = mfs[1].density(mfs[1].samples[:10])
    assert dens.shape == (10,) and bool(torch.isfinite(dens).all())
    a = res.policy.act(torch.zeros(4), torch.zeros(4, game.state_dim))
    assert a.shape == (4, game.action_dim)
