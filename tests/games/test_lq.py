"""Continuous linear-quadratic MFG: the exact equilibrium against simulation, perturbations and iteration."""

import pytest
import torch

import mfglearn
from mfglearn.errors import ShapeError, ValidationError

GAMES = [
    {},
    {"Abar": 0.3, "x_target": 2.0, "cM": 2.0, "dim": 2, "A": [[1.0, 0.1], [0.0, 0.9]], "horizon": 6},
]


@pytest.mark.parametrize("kw", GAMES)
def test_equilibrium_has_zero_exploitability_and_best_response_beats_perturbations(kw):
    game = mfglearn.make("lq", **kw)
    sol = game.exact_solution()
    assert abs(game.exploitability_of_affine(list(sol.K), list(sol.k))) < 1e-9
    K, k, P, (p, q) = game.best_response(sol.mean_path)
    best = game.initial_value(P, p, q)
    assert best == pytest.approx(sol.value, abs=1e-12)
    gen = torch.Generator().manual_seed(0)
    for _ in range(10):
        dK = 0.05 * torch.randn(K.shape, generator=gen, dtype=torch.float64)
        dk = 0.05 * torch.randn(k.shape, generator=gen, dtype=torch.float64)
        Pp, pp, qp = game.policy_cost(K + dK, k + dk, sol.mean_path)
        assert game.initial_value(Pp, pp, qp) < best
    # a perturbed population is exploitable
    assert game.exploitability_of_affine(list(sol.K + 0.2), list(sol.k)) > 1e-3


@pytest.mark.parametrize("kw", GAMES)
def test_exact_value_matches_simulation(kw):
    game = mfglearn.make("lq", **kw)
    sol = game.exact_solution()
    returns = game.simulate(sol.K, sol.k, 200_000, seed=1)
    se = float(returns.std()) / 200_000**0.5
    assert abs(float(returns.mean()) - sol.value) < 4 * se + 1e-3  # measured within 1 se


def test_mean_path_is_the_fixed_point_of_damped_iteration():
    game = mfglearn.make("lq", Abar=0.5, x_target=1.0, horizon=8)
    m = torch.zeros(9, 1, dtype=torch.float64)
    for _ in range(300):
        K, k, _, _ = game.best_response(m)
        m = 0.5 * m + 0.5 * game.mean_path(K, k)
    torch.testing.assert_close(m, game.exact_solution().mean_path, atol=1e-10, rtol=0)


def test_bad_input():
    with pytest.raises(ValidationError, match="cA must be > 0"):
        mfglearn.make("lq", cA=0.0)
    with pytest.raises(ShapeError, match="2x2 matrix"):
        mfglearn.make("lq", dim=2, A=[1.0, 2.0])
    game = mfglearn.make("lq", horizon=3)
    with pytest.raises(ShapeError, match="one entry per time step"):
        game.exploitability_of_affine([1.0], [0.0])
    with pytest.raises(ValidationError, match="is continuous. Solvers for it: deda_fp"):
        mfglearn.solve(game, "fictitious_play")


def test_exploitability_of_a_policy_function_agrees_with_the_affine_formula():
    game = mfglearn.make("lq", Abar=0.3, x_target=1.0, horizon=6)
    sol = game.exact_solution()

    def affine(K, k):
        return lambda t, x: -x.double() * K[t.long()][:, 0] + k[t.long()]

    eq = game.exploitability_of_policy(affine(sol.K, sol.k), 50_000, seed=0)
    assert abs(eq["exploitability"]) < 4 * eq["se"] + 1e-2  # the equilibrium: 0 up to Monte Carlo
    torch.testing.assert_close(eq["mean_path"], sol.mean_path, atol=0.02, rtol=0)
    K2 = sol.K + 0.3
    exact = game.exploitability_of_affine(list(K2), list(sol.k))
    est = game.exploitability_of_policy(affine(K2, sol.k), 50_000, seed=1)
    assert exact > 0.1 and abs(est["exploitability"] - exact) < 4 * est["se"] + 1e-2
    # the least-squares fit recovers an affine policy's gain and offset
    Kf, kf = game.fit_affine(affine(K2, sol.k))
    torch.testing.assert_close(Kf, K2, atol=1e-5, rtol=0)
    torch.testing.assert_close(kf, sol.k, atol=1e-5, rtol=0)
    with pytest.raises(ValidationError, match="non-finite actions"):
        game.exploitability_of_policy(lambda t, x: torch.full_like(x, float("nan")), 100)
