"""DEDA-FP's error budget on LQ: each error is zero when its learned part is replaced by the exact one."""

import pytest
import torch

import mfglearn
from mfglearn.deep.error_budget import (
    best_response_error,
    exploitability_lipschitz,
    fp_rate_constant,
    measure_error_budget,
    population_gaps,
    theorem_bound,
    wasserstein2,
)
from mfglearn.deep.fictitious_play import DEDAFP, MixturePolicy, deep_fictitious_play, simulate_population
from mfglearn.errors import ValidationError
from mfglearn.exact.lq_fictitious_play import lq_fictitious_play

pytest.importorskip("zuko")
F64 = torch.float64


@pytest.fixture(scope="module")
def lq():
    return mfglearn.make("lq", Abar=0.3, x_target=1.0, horizon=5)


class Affine(torch.nn.Module):
    """The policy a = -K_t x + k_t as a module (1-D)."""

    def __init__(self, K, k):
        super().__init__()
        self.K, self.k = torch.nn.Parameter(K[:, 0, 0].clone()), torch.nn.Parameter(k[:, 0].clone())

    def mean_action(self, t, x):
        return -self.K[t.long()].unsqueeze(1).to(x) * x + self.k[t.long()].unsqueeze(1).to(x)

    def sample(self, t, x, gen=None):
        return self.mean_action(t, x), torch.zeros(x.shape[0])

    def __call__(self, t, x):
        return self.mean_action(t, x)


def test_wasserstein2():
    a = torch.randn(3, 500, 1, generator=torch.Generator().manual_seed(0))
    assert float(wasserstein2(a, a).max()) == 0.0
    torch.testing.assert_close(wasserstein2(a, a + 0.7), torch.full((3,), 0.7, dtype=F64))
    b = torch.randn(3, 400, 2, generator=torch.Generator().manual_seed(1))
    assert float(wasserstein2(b, b).max()) == 0.0
    shifted = wasserstein2(b, b + torch.tensor([3.0, 0.0]))
    assert bool((shifted > 1.0).all()) and bool((shifted <= 3.0 + 1e-9).all())  # sliced: at most the true 3
    with pytest.raises(ValidationError, match="samples must be"):
        wasserstein2(a, b)


def test_best_response_error_is_zero_for_riccati_and_positive_for_a_worse_policy(lq):
    m = lq.exact_solution().mean_path
    K, k, _, _ = lq.best_response(m)
    exact = best_response_error(lq, Affine(K, k), m, 20_000, seed=0)
    assert abs(exact["error"]) < 1e-4  # float32 states only: round-off
    with pytest.raises(ValidationError, match="mean_path must be"):
        best_response_error(lq, Affine(K, k), m[:2], 100)
    worse = best_response_error(lq, Affine(K + 0.3, k), m, 20_000, seed=0)
    assert worse["error"] > 0.05 and worse["error"] > 10 * worse["se"]  # paired: tight standard error


def test_cloning_and_flow_gaps_are_zero_for_exact_parts(lq):
    game = lq.as_continuous()
    ref = lq_fictitious_play(lq, 2)
    brs = [Affine(ref.K[j], ref.k[j]) for j in range(2)]
    mix = MixturePolicy(brs)
    gen = torch.Generator()
    a = simulate_population(game, mix, 3000, gen.manual_seed(4))
    b = simulate_population(game, mix, 3000, gen.manual_seed(4))  # the "cloned" policy is the mixture itself
    assert population_gaps(a, b) == {"w2": 0.0, "mean_gap": 0.0, "var_gap": 0.0}
    c = simulate_population(game, brs[0], 3000, gen.manual_seed(4))
    assert population_gaps(a, c)["mean_gap"] > 0.01


def test_lipschitz_constant_bounds_small_mean_path_errors(lq):
    sol = lq.exact_solution()
    L = exploitability_lipschitz(lq, sol.K, sol.k, sol.mean_path)
    assert L > 0

    def expl(m):
        _, _, P, (p, q) = lq.best_response(m)
        return lq.initial_value(P, p, q) - lq.initial_value(*lq.policy_cost(sol.K, sol.k, m))

    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        delta = 1e-4 * (2 * torch.rand(sol.mean_path.shape, generator=gen, dtype=F64) - 1)
        assert abs(expl(sol.mean_path + delta) - expl(sol.mean_path)) <= L * float(delta.abs().max()) * (1 + 1e-3)


def test_fp_rate_constant_makes_the_bound_hold_on_exact_fictitious_play(lq):
    ex = lq_fictitious_play(lq, 8).exploitability
    c2 = fp_rate_constant(ex)
    zeros = [0.0] * len(ex)
    bound = theorem_bound(0.0, zeros, zeros, zeros, 0.0, 0.0, c2)
    assert all(e <= b * (1 + 1e-12) for e, b in zip(ex[1:], bound[1:], strict=True))
    assert min(b - e for e, b in zip(ex[1:], bound[1:], strict=True)) == pytest.approx(0.0, abs=1e-9)  # tight


def test_measure_error_budget_leaves_the_run_unchanged(lq):
    kw = dict(n_agents=64, br_iterations=1, first_br_iterations=1, bc_steps=5, flow_steps=5, seed=3)
    plain = deep_fictitious_play(lq, "deda_fp", iterations=2, **kw)
    algo = DEDAFP(lq, **kw)
    out = measure_error_budget(algo, 2, n_agents=500)
    assert algo.history["br_return"] == plain.history["br_return"]
    assert algo.history["exact_exploitability"] == plain.history["exact_exploitability"]
    for key in ("br_error", "sl_w2", "cnf_w2", "exploitability", "lipschitz", "bound"):
        assert len(out[key]) == 2 and all(torch.isfinite(torch.tensor(out[key])))
    assert out["C2"] == pytest.approx(fp_rate_constant(lq_fictitious_play(lq, 2).exploitability))
    with pytest.raises(ValidationError, match="flow"):
        from mfglearn.deep.fictitious_play import DeepFPAverage

        measure_error_budget(DeepFPAverage(lq, **kw), 1)
