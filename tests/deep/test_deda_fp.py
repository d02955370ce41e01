"""Deep fictitious play (DEDA-FP and the two baselines): end to end, exploitability, checkpoints, bad input."""

import pytest
import torch

import mfglearn
from mfglearn.deep.fictitious_play import DeepFPResult, MixturePolicy, approximate_exploitability, deep_fictitious_play
from mfglearn.errors import ValidationError

pytest.importorskip("zuko")

TINY = dict(n_agents=128, br_iterations=2, first_br_iterations=2, bc_steps=20, flow_steps=20)


@pytest.mark.parametrize(
    "gid, kw, kind",
    [
        ("lq", {"horizon": 5}, "nsf"),
        ("four_rooms_exploration", {"horizon": 6}, "realnvp"),
        ("beach_bar_continuous", {"horizon": 6}, "nsf"),
    ],
)
@pytest.mark.parametrize("method", ["deda_fp", "deep_fp_sampled", "deep_fp_average"])
def test_one_iteration_end_to_end(gid, kw, kind, method):
    game = mfglearn.make(gid, **kw)
    game = game.as_continuous() if hasattr(game, "as_continuous") else game
    res = deep_fictitious_play(game, method, iterations=1, flow_kind=kind, **TINY)
    assert res.history["iteration"] == [1] and len(res.history["br_return"]) == 1
    assert (res.flow is not None) == (method == "deda_fp")
    mfs = res.mean_fields(game, 100)
    assert len(mfs) == game.horizon + 1 and mfs[0].samples.shape == (100, game.state_dim)
    dens = mfs[1].density(mfs[1].samples[:10])
    assert dens.shape == (10,) and bool(torch.isfinite(dens).all()) and bool((dens > 0).all())
    a = res.policy.act(torch.zeros(4), torch.zeros(4, game.state_dim))
    assert a.shape == (4, game.action_dim)
    exact = res.history["exact_exploitability"][-1]
    assert (exact is not None) == (gid == "lq")  # the analytic model gives exact exploitability
    if exact is not None:
        assert exact > -0.05  # nothing is better than the exact best response (Monte Carlo tolerance)


def test_fictitious_play_reduces_lq_exploitability():
    """A few cheap iterations: the exact exploitability falls (measured 5.5 -> 1.3 in 8 iterations)."""
    torch.set_num_threads(1)
    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0, horizon=5)
    kw = dict(n_agents=256, br_iterations=10, bc_steps=150, flow_steps=100)
    res = deep_fictitious_play(lq, "deda_fp", iterations=3, **kw)
    ex = res.history["exact_exploitability"]
    assert ex[-1] < ex[0] and res.exploitability == ex[-1]


def test_mixture_policy_assigns_agents_round_robin():
    class Const(torch.nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c = torch.nn.Parameter(torch.tensor(float(c)))

        def mean_action(self, t, x):
            return torch.full_like(x, float(self.c))

        def sample(self, t, x, gen=None):
            return self.mean_action(t, x), torch.zeros(x.shape[0])

    mix = MixturePolicy([Const(1), Const(2), Const(3)])
    a = mix.act(torch.zeros(7), torch.zeros(7, 1))
    assert a[:, 0].tolist() == [1, 2, 3, 1, 2, 3, 1]


def test_checkpoint_resume_reproduces_an_uninterrupted_run(tmp_path):
    game = mfglearn.make("beach_bar_continuous", horizon=4)
    full = deep_fictitious_play(game, "deda_fp", iterations=2, **TINY)
    deep_fictitious_play(game, "deda_fp", iterations=1, checkpoint=tmp_path, **TINY)
    resumed = deep_fictitious_play(game, "deda_fp", iterations=2, checkpoint=tmp_path, **TINY)
    assert resumed.history["iteration"] == [1, 2]
    assert resumed.history["br_return"] == pytest.approx(full.history["br_return"], abs=1e-6)
    with pytest.raises(ValidationError, match="different run"):
        deep_fictitious_play(game, "deda_fp", iterations=2, checkpoint=tmp_path, **{**TINY, "bc_steps": 21})
    # a saved result loads back with the same policy
    full.save(tmp_path / "res")
    back = DeepFPResult.load(tmp_path / "res")
    x, t = torch.rand(5, 1), torch.zeros(5)
    torch.testing.assert_close(back.policy.mean_action(t, x), full.policy.mean_action(t, x))


def test_approximate_exploitability_is_small_for_the_lq_equilibrium_and_large_for_a_bad_policy():
    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0, horizon=5)
    sol = lq.exact_solution()
    game = lq.as_continuous()

    class Affine(torch.nn.Module):
        def __init__(self, K, k):
            super().__init__()
            self.K, self.k = torch.nn.Parameter(K[:, 0, 0].float()), torch.nn.Parameter(k[:, 0].float())

        def mean_action(self, t, x):
            return -self.K[t.long()].unsqueeze(1) * x + self.k[t.long()].unsqueeze(1)

        def sample(self, t, x, gen=None):
            return self.mean_action(t, x), torch.zeros(x.shape[0])

    good = approximate_exploitability(game, Affine(sol.K, sol.k), 2000, br_iterations=30, seed=0)
    bad = approximate_exploitability(game, Affine(sol.K * 0, sol.k * 0 - 1), 2000, br_iterations=30, seed=0)
    exact_bad = lq.exploitability_of_affine([0.0] * 5, [-1.0] * 5)
    assert abs(good["exploitability"]) < 0.3
    assert bad["exploitability"] > 0.5 * exact_bad > 1.0  # the fresh best response finds most of the gain


def test_bad_input():
    game = mfglearn.make("beach_bar_continuous", horizon=3)
    with pytest.raises(ValidationError, match="method must be one of"):
        deep_fictitious_play(game, "fp")
    with pytest.raises(ValidationError, match="iterations must be a non-negative integer"):
        deep_fictitious_play(game, "deda_fp", iterations=-1)
    with pytest.raises(ValidationError, match="n_agents"):
        deep_fictitious_play(game, "deda_fp", n_agents=1)
    with pytest.raises(ValidationError, match="br_method must be one of"):
        deep_fictitious_play(game, "deda_fp", br_method="td3")


def test_facade_and_command_line(tmp_path):
    import json
    import subprocess
    import sys

    res = mfglearn.solve("lq", "deda_fp", iterations=1, **{**TINY, "flow_steps": 10}, exact_every=0)
    assert isinstance(res, DeepFPResult) and res.method == "deda_fp"
    assert "deda_fp" in mfglearn.list_solvers() and "deep_fp_sampled" in mfglearn.list_solvers()
    with pytest.raises(ValidationError, match="accepts continuous games"):
        mfglearn.solve("beach_bar", "deda_fp", iterations=1)
    sets = ["game.horizon=3", "solver.n_agents=64", "solver.br_iterations=1", "solver.bc_steps=5"]
    sets += ["solver.flow_steps=5", "solver.first_br_iterations=1"]
    args = [sys.executable, "-m", "mfglearn", "solve", "beach_bar_continuous", "--solver", "deep_fp_average"]
    args += [x for s in sets for x in ("--set", s)] + ["--iterations", "1", "--json", "--out", str(tmp_path)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["iterations"] == 1
    assert (tmp_path / "result.safetensors").exists() and (tmp_path / "plots" / "density.png").exists()
    # --resume continues the same run to its configured iterations (already done: nothing to add)
    p = subprocess.run([*args[:3], "solve", "--resume", str(tmp_path), "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["iterations"] == 1
    p = subprocess.run([*args[:3], "show", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0 and "deep_fp_average" in p.stdout, p.stderr


def test_weighted_mixture_and_damped_averages(tmp_path):
    class Const(torch.nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c = torch.nn.Parameter(torch.tensor(float(c)))

        def sample(self, t, x, gen=None):
            return torch.full_like(x, float(self.c)), torch.zeros(x.shape[0])

    mix = MixturePolicy([Const(1), Const(2), Const(3)], weights=[0.5, 0.25, 0.25])
    assert mix.act(torch.zeros(8), torch.zeros(8, 1))[:, 0].tolist() == [1, 1, 1, 1, 2, 2, 3, 3]
    with pytest.raises(ValidationError, match="one weight per policy"):
        MixturePolicy([Const(1)], weights=[0.5, 0.5])
    with pytest.raises(ValidationError, match="finite, >= 0 and not all 0"):
        MixturePolicy([Const(1), Const(2)], weights=[-1.0, 2.0])
    game = mfglearn.make("lq", horizon=3)
    kw = {**TINY, "damping": 0.5}
    full = deep_fictitious_play(game, "deep_fp_sampled", iterations=3, **kw)
    assert full.policy.weights == [0.25, 0.25, 0.5]
    deep_fictitious_play(game, "deep_fp_sampled", iterations=2, checkpoint=tmp_path, **kw)
    resumed = deep_fictitious_play(game, "deep_fp_sampled", iterations=3, checkpoint=tmp_path, **kw)
    assert resumed.policy.weights == full.policy.weights
    assert resumed.history["exact_exploitability"] == full.history["exact_exploitability"]
    with pytest.raises(ValidationError, match="damping"):
        deep_fictitious_play(game, "deda_fp", iterations=1, **{**TINY, "damping": 1.5})
