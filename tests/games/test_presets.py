"""Presets are data: a family constructor plus fixed and overridable values."""

import pytest
import torch

import mfglearn
from mfglearn.errors import UnknownNameError
from mfglearn.games.maps import MAPS
from mfglearn.games.peers.openspiel import crowd_modelling_2d
from mfglearn.games.presets import PRESETS


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.id)
def test_preset_is_its_family_with_its_values(preset):
    game = mfglearn.make(preset.id, horizon=7)
    fixed = {**preset.fixed, "grid": MAPS[preset.fixed["grid"]]}
    ref = crowd_modelling_2d(**fixed, **{**preset.defaults, "horizon": 7}, name=preset.id)
    assert game.name == preset.id and game.H == 7 and game.S == ref.S
    pi = game.uniform_policy()
    assert mfglearn.exploitability(game, pi) == mfglearn.exploitability(ref, pi)
    assert mfglearn.game_info(preset.id)["parameters"] == preset.defaults
    torch.testing.assert_close(game.mu0, ref.mu0)


def test_fixed_values_cannot_be_overridden():
    with pytest.raises(UnknownNameError, match="has no parameter 'grid'; its parameters are: horizon"):
        mfglearn.make("openspiel/crowd_modelling_2d_maze", grid="four_rooms")
