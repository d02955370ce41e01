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
