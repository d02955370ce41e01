"""The deep methods on a GPU: the same code with ``device="cuda"`` (skipped where torch sees no GPU)."""

import pytest
import torch

import mfglearn
from mfglearn.deep.fictitious_play import deep_fictitious_play

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_deep_finite_solvers_and_approximate_exploitability_on_cuda():
    game = mfglearn.make("crowd_grid", map=("#####", "#   #", "#   #", "#####"), horizon=4)
    for name, kw in (
        ("deep_mirror_descent", {"n_agents": 64, "inner_steps": 5}),
        ("deep_average_network_fp", {"br_steps": 5, "br_agents": 16, "avg_steps": 5, "memory_per_iteration": 64}),
    ):
        res = mfglearn.solve(game, name, 2, device="cuda", **kw)
        cpu_exact = mfglearn.exploitability(game, res.policy.cpu())
        assert res.history["exploitability"][-1] == pytest.approx(cpu_exact, rel=1e-6)
    est = mfglearn.approximate_exploitability(game.with_device("cuda"), game.uniform_policy().cuda(), br_steps=20)
    assert est["ci95"][0] <= est["exploitability"] <= est["ci95"][1]


def test_deda_fp_with_the_pathwise_best_response_on_cuda():
    lq = mfglearn.make("lq", horizon=3)
    kw = dict(n_agents=64, br_iterations=2, bc_steps=5, flow_steps=5, damping=0.5, br_method="pathwise")
    res = deep_fictitious_play(lq, "deda_fp", iterations=2, device="cuda", time_onehot=True, **kw)
    assert next(res.policy.parameters()).is_cuda and res.history["exact_exploitability"][-1] is not None


def test_simulated_populations_on_cuda():
    game = mfglearn.make("evacuation", rows=16, cols=16, horizon=6, window=1, device="cuda")
    res = mfglearn.solve(game, "mf_ppo", 2, device="cuda", population="simulated", n_population=500, n_agents=64)
    assert next(res.policy.net.parameters()).is_cuda and len(res.history["population_value"]) == 2
    est = mfglearn.approximate_exploitability(game, res.policy, n_agents=500, br_steps=2, best_response="ppo")
    assert est["ci95"][0] <= est["exploitability"] <= est["ci95"][1]
    s = torch.arange(game.S, device="cuda").repeat(20)
    nxt = game.kernel_at(0).sample(s, torch.ones_like(s), torch.Generator(device="cuda").manual_seed(0))
    assert nxt.is_cuda and bool((nxt >= 0).all() and (nxt < game.S).all())
