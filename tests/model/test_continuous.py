"""Continuous MFGs: batched dynamics, walls, kernel densities, and the LQ game simulated against its exact value."""

import math

import pytest
import torch

import mfglearn
from mfglearn.errors import ValidationError
from mfglearn.model.continuous import ContinuousMFG, MeanField


def test_kernel_density_integrates_to_one_and_matches_a_gaussian():
    g = torch.Generator().manual_seed(0)
    mf = MeanField(torch.randn(20_000, 1, generator=g, dtype=torch.float64))
    grid = torch.linspace(-6, 6, 2001, dtype=torch.float64).unsqueeze(1)
    dens = mf.density(grid)
    assert float(dens.sum() * (12 / 2000)) == pytest.approx(1.0, abs=1e-3)
    truth = torch.exp(-0.5 * grid[:, 0] ** 2) / math.sqrt(2 * math.pi)
    assert float((dens - truth).abs().max()) < 0.03


def test_lq_as_continuous_game_reproduces_the_exact_value():
    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0)
    sol = lq.exact_solution()
    game = lq.as_continuous()

    def policy(t, x):
        i = t.long()
        return -(x @ sol.K[i[0]].T) + sol.k[i[0]]

    ro = game.simulate(policy, 100_000, seed=0)
    se = float(ro.returns.std()) / 100_000**0.5
    assert abs(float(ro.returns.mean()) - sol.value) < 4 * se + 1e-3
    assert ro.states.shape == (lq.T + 1, 100_000, 1) and ro.actions.shape == (lq.T, 100_000, 1)


def test_four_rooms_walls_keep_agents_out_and_the_crowd_spreads():
    game = mfglearn.make("four_rooms_exploration", horizon=30)

    def wander(t, x):  # head for the far corner, through the doors by chance
        return torch.full_like(x, game.params["speed"])

    ro = game.simulate(wander, 2000, seed=0)
    for t in range(ro.states.shape[0]):
        assert not bool(game.in_wall(ro.states[t]).any())
        if t:  # and no path between consecutive positions goes through a wall
            assert not bool(game.crosses_wall(ro.states[t - 1], ro.states[t]).any())
        assert float(ro.states[t].min()) >= 0 and float(ro.states[t].max()) <= 1
    assert float(ro.states[-1].std(0).mean()) > float(ro.states[0].std(0).mean())
    # the congestion term: the same agents standing still are penalised more in a denser crowd
    g = torch.Generator().manual_seed(1)
    x = 0.1 + 0.05 * torch.rand(500, 2, generator=g)
    still = torch.zeros_like(x)
    dense = game.reward(0, x, still, MeanField(x))
    sparse = game.reward(0, x, still, MeanField(torch.rand(500, 2, generator=g)))
    assert float(dense.mean()) < float(sparse.mean())


def test_fast_moves_cannot_tunnel_through_a_wall():
    game = mfglearn.make("four_rooms_exploration")
    x = torch.tensor([[0.45, 0.4], [0.45, 0.25], [0.2, 0.2]])
    y = torch.tensor([[0.55, 0.4], [0.55, 0.25], [0.3, 0.3]])  # through the wall, through a door, in a room
    assert game.crosses_wall(x, y).tolist() == [True, False, False]


def test_beach_bar_continuous_and_bad_input():
    game = mfglearn.make("beach_bar_continuous")
    ro = game.simulate(lambda t, x: (0.5 - x).clamp(-0.05, 0.05), 1000, seed=1)
    assert float((ro.states[-1] - 0.5).abs().mean()) < float((ro.states[0] - 0.5).abs().mean())
    with pytest.raises(ValidationError, match="need a two-dimensional state"):
        ContinuousMFG(
            1, 1, 5, lambda *a: a[1], lambda *a: a[1][:, 0], lambda n, g: torch.zeros(n, 1), walls=[(0, 0, 1, 1)]
        )
    with pytest.raises(ValidationError, match="continuous"):
        mfglearn.solve(game, "fictitious_play")
