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


@pytest.mark.parametrize("gid", [g for g in mfglearn.list_games() if g.startswith("mfglib/")])
def test_batched_rewards_equal_the_per_step_ones(gid):
    # every mfglib/* reward takes a batch of times (one call per flow); per step it must give the same numbers
    import torch

    from mfglearn.core.flow import mean_field_flow

    game = mfglearn.make(gid)
    assert game.batched_reward
    g = torch.Generator().manual_seed(0)
    pi = torch.softmax(3 * torch.randn(game.uniform_policy().shape, generator=g, dtype=torch.float64), -1)
    L = mean_field_flow(game, pi).mu.unsqueeze(-1)[: game.H] * pi  # (H, S, A) state-action measures
    batched = game.rewards_along(L)
    per_step = torch.stack([game.reward_at(t, L[t]) for t in range(game.H)])
    assert torch.equal(batched, per_step)


def test_random_linear_kernel_is_mfglibs_formula_bit_for_bit():
    # the kernel multiplies P1 as one (s' s, k) matrix; MFGLib writes softmax(p1 @ L + p2) over s'
    import torch

    game = mfglearn.make("mfglib/random_linear", seed=3)
    gen = torch.Generator().manual_seed(3)  # MFGLib's draws: reward (r1, r2), then transition (p1, p2)
    draws = [20 * torch.rand(*shape, generator=gen) - 10 for shape in ((5, 5), (5, 5), (5, 5, 5), (5, 5, 5))]
    p1, p2 = (d.double() for d in draws[2:])
    L = torch.softmax(torch.randn(7, 25, generator=gen, dtype=torch.float64), -1).view(7, 5, 5)
    expected = torch.softmax(p1 @ L.unsqueeze(-3) + p2, dim=-3).movedim(-3, -1)
    batched = game.transition(1, L)  # seven mean fields (..., S, A) in one call
    assert torch.equal(batched, expected)
    assert torch.equal(game.transition(0, L[2]), expected[2])
