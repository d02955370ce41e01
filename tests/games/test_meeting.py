"""The "when does the meeting start" game: closed form, brute force, heterogeneity, no-equilibrium cases."""

from statistics import NormalDist

import pytest
import torch

import mfglearn
from mfglearn.errors import NoEquilibriumError, ValidationError

N = NormalDist()


def test_closed_form_single_type_beta_zero():
    # beta = 0: alpha N((tau - t)/sigma) = gamma theta and T = tau + sigma N^-1(theta)
    t, theta, sigma, alpha, gamma = 1.0, 0.7, 0.8, 2.0, 1.0
    g = mfglearn.make("meeting", scheduled_time=t, quorum=theta, sigma=sigma, alpha=alpha, beta=0.0, gamma=gamma)
    r = mfglearn.solve(g, "fixed_point")
    tau = t + sigma * N.inv_cdf(gamma * theta / alpha)
    assert r.planned_arrival.item() == pytest.approx(tau, abs=1e-8)
    assert r.start_time == pytest.approx(tau + sigma * N.inv_cdf(theta), abs=1e-8)
    assert r.quorum_binding and r.exploitability < 1e-10


def test_best_arrival_beats_a_brute_force_grid():
    g = mfglearn.make("meeting", sigma=[0.5, 1.5], alpha=1.0, beta=0.5, gamma=2.0)
    T = 0.7
    best = g.best_arrival(T)
    grid = torch.linspace(-6, 6, 24001, dtype=torch.float64)
    for i, s in enumerate(g.sigmas):
        one = mfglearn.games.meeting.MeetingGame(sigma=float(s), alpha=1.0, beta=0.5, gamma=2.0)
        costs = one.expected_cost(grid.unsqueeze(-1), T).squeeze(-1)
        assert float(best[i]) == pytest.approx(float(grid[costs.argmin()]), abs=1e-3)


def test_expected_cost_matches_monte_carlo():
    g = mfglearn.make("meeting", scheduled_time=0.0, sigma=1.3, alpha=1.0, beta=2.0, gamma=0.5)
    tau, T = torch.tensor([0.2], dtype=torch.float64), 0.6
    x = tau + 1.3 * torch.randn(400_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mc = (1.0 * (x - 0.0).clamp(min=0) + 2.0 * (x - T).clamp(min=0) + 0.5 * (T - x).clamp(min=0)).mean()
    assert float(g.expected_cost(tau, T)) == pytest.approx(float(mc), rel=5e-3)


def test_heterogeneous_equilibrium_is_consistent():
    g = mfglearn.make("meeting", sigma=[0.5, 1.0, 2.0], sigma_weights=[1, 2, 1], alpha=3, beta=1, gamma=2, quorum=0.9)
    r = mfglearn.solve(g, "fixed_point")
    assert r.planned_arrival.shape == (3,)
    assert r.quorum_binding
    # the quorum is met exactly at T* and every type best-responds to T*
    assert float(g.arrival_cdf(torch.tensor(r.start_time, dtype=torch.float64), r.planned_arrival)) == pytest.approx(
        0.9
    )
    torch.testing.assert_close(g.best_arrival(r.start_time), r.planned_arrival)
    assert r.exploitability < 1e-9
    # noisier agents plan earlier (they risk more lateness)
    assert float(r.planned_arrival[0]) > float(r.planned_arrival[2])


def test_quorum_not_binding_starts_on_time():
    r = mfglearn.solve(mfglearn.make("meeting", quorum=0.2), "fixed_point")
    assert r.start_time == 0.0 and not r.quorum_binding


@pytest.mark.parametrize(
    "kw", [dict(alpha=0.0, quorum=0.9), dict(alpha=1, beta=1, gamma=2, quorum=0.9, sigma=[0.5, 1.0, 2.0])]
)
def test_no_equilibrium_is_reported(kw):
    with pytest.raises(NoEquilibriumError, match="no equilibrium exists"):
        mfglearn.solve(mfglearn.make("meeting", **kw), "fixed_point")


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(quorum=1.0), r"quorum \(theta\) must be in \(0, 1\)"),
        (dict(sigma=[1.0, -2.0]), "sigma must be > 0"),
        (dict(sigma=[1.0, 2.0], sigma_weights=[1.0]), "one weight per type"),
        (dict(gamma=0.0), "gamma must be > 0"),
        (dict(alpha=-1.0), "alpha must be a finite number >= 0"),
    ],
)
def test_bad_parameters(kw, match):
    with pytest.raises(ValidationError, match=match):
        mfglearn.make("meeting", **kw)


def test_only_fixed_point():
    with pytest.raises(ValidationError, match="Solvers for it: fixed_point"):
        mfglearn.solve(mfglearn.make("meeting"), "fictitious_play")
