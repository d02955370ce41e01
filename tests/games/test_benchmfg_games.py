"""Bench-MFG's environments in mfglearn's exact stationary convention: every solver finishes."""

import math

import pytest
import torch

import mfglearn
from mfglearn.core.finite_step import FiniteStepConvention, finite_step_exploitability
from mfglearn.games.peers.benchmfg import ENVS
from mfglearn.solvers.benchmfg import benchmfg_initial_policy

DISCOUNTED_SOLVERS = sorted(
    s for s in mfglearn.list_solvers("discounted") if all(i["problem"] == "game" for i in mfglearn.algorithm_info(s))
)
SAMPLED = {"gmf_q", "q_learning_naive", "mf_trpo_sampled"}


@pytest.mark.parametrize("solver", DISCOUNTED_SOLVERS)
def test_every_solver_finishes_on_four_rooms_with_obstacles_from_bench_mfgs_seed_42_policy(solver):
    # best responses make wall-side cells absorbing: a reducible chain, which used to stop every solver
    g = mfglearn.make("benchmfg/four_rooms_obstacles")
    hp = {} if solver == "pso" else {"initial_policy": benchmfg_initial_policy(g, 42)}
    if solver in SAMPLED:
        hp["n_agents"] = 500
    r = mfglearn.solve(g, solver, iterations=4, **hp)
    e = r.history["exploitability"]
    assert len(e) == 4 and all(math.isfinite(x) and x >= -1e-9 for x in e)


def test_fictitious_play_decreases_exploitability_on_four_rooms_with_obstacles():
    g = mfglearn.make("benchmfg/four_rooms_obstacles")
    r = mfglearn.solve(g, "fictitious_play", iterations=30, initial_policy=benchmfg_initial_policy(g, 42))
    e = r.history["exploitability"]
    assert e[-1] < 0.2 * r.extra.get("initial_exploitability", e[0]) or e[-1] < 0.2 * e[0]


def test_mirror_descent_reaches_zero_on_the_no_interaction_chain():
    # the report: learning_rate=2.5 stopped at iteration 21 with an overflow; the answer is 0
    g = mfglearn.make("benchmfg/no_interaction")
    r = mfglearn.solve(g, "mirror_descent", iterations=80, learning_rate=2.5)
    assert r.history["exploitability"][-1] < 1e-4


def test_conventions_agree_on_an_ergodic_game_as_the_truncations_grow():
    g = mfglearn.make("benchmfg/lasry_lions_chain")
    pi = benchmfg_initial_policy(g, 7)
    exact = mfglearn.exploitability(g, pi)
    long = FiniteStepConvention(horizon=800, evaluation_steps=4000)
    assert finite_step_exploitability(g, pi, conv=long) == pytest.approx(exact, rel=1e-8)
    # Bench-MFG's defaults are visibly off (0.9^99 truncation and 50 mean-field steps)
    assert finite_step_exploitability(g, pi) != pytest.approx(exact, rel=1e-6)


@pytest.mark.parametrize("game_id", sorted(ENVS))
def test_uniform_policy_has_a_finite_exact_exploitability_or_a_clear_error(game_id):
    g = mfglearn.make(game_id, **({"n_states": 12} if game_id == "benchmfg/mf_garnet" else {}))
    assert g.kind == "discounted"
    try:
        e = mfglearn.exploitability(g, g.uniform_policy(), stationary={"max_iter": 300})
    except mfglearn.ValidationError as err:  # a discontinuous kernel with no exact fixed point
        assert "fixed-point iterations" in str(err)
    else:
        assert math.isfinite(e) and e >= -1e-9


def test_unquantized_variants_are_the_exact_probabilities():
    g = mfglearn.make("benchmfg/sis_epidemic", quantize=None)
    mu = torch.tensor([0.7, 0.3], dtype=torch.float64)
    k = g.kernel_at(0, mu).dense()
    torch.testing.assert_close(k[0, :, 1], 0.8 * torch.linspace(0, 1, 5, dtype=torch.float64) * 0.3)
    assert float(k[1, 0, 0]) == pytest.approx(0.1)
    q = mfglearn.make("benchmfg/sis_epidemic").kernel_at(0, mu).dense()
    assert float(q[0, 1, 1]) == 0.06  # 0.8 * 0.25 * 0.3 = 0.06: six of the hundred noise points


def test_garnet_options_and_bad_parameters():
    for kw in (
        {"dynamics_structure": "multiplicative"},
        {"reward_structure": "multiplicative"},
        {"game_type": "cyclic"},
        {"quantize": False},
    ):
        g = mfglearn.make("benchmfg/mf_garnet", n_states=8, n_actions=2, branching_factor=3, **kw)
        k = g.kernel_at(0, g.mu0).dense()
        torch.testing.assert_close(k.sum(-1), torch.ones(8, 2, dtype=torch.float64))
    with pytest.raises(mfglearn.ValidationError, match="game_type must be one of potential, cyclic"):
        mfglearn.make("benchmfg/mf_garnet", n_states=8, game_type="zero_sum")
    with pytest.raises(mfglearn.ValidationError, match="branching_factor"):
        mfglearn.make("benchmfg/mf_garnet", n_states=4, branching_factor=5)
    with pytest.raises(mfglearn.ValidationError, match="door"):
        mfglearn.make("benchmfg/four_rooms_obstacles", doors=((20, 5),))


def test_stationary_options_through_make_and_the_command_line(tmp_path):
    import subprocess
    import sys

    g = mfglearn.make("benchmfg/kinetic_congestion", stationary={"max_iter": 7, "tol": 1e-3})
    assert (g.stationary.max_iter, g.stationary.tol) == (7, 1e-3)
    with pytest.raises(mfglearn.ValidationError, match="not a discounted finite game"):
        mfglearn.make("beach_bar", stationary={"tol": 1e-3})
    cmd = [
        sys.executable,
        "-m",
        "mfglearn.cli",
        "solve",
        "benchmfg/kinetic_congestion",
        "--solver",
        "fictitious_play",
        "--iterations",
        "2",
        "--set",
        "stationary.max_iter=9",
        "--out",
        str(tmp_path / "run"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode != 0 and "in 9 fixed-point iterations" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.filterwarnings("ignore:mirror_descent. the exploitability has stayed above")  # the default step is too big
def test_mirror_descent_keeps_going_when_its_policy_leaves_states_with_probability_1e20():
    # a long mirror-descent run drives probabilities towards 0: states become transient with exits of ~1e-20,
    # where the absorption system I - P_TT is singular in floating point (it once stopped the run)
    g = mfglearn.make("benchmfg/four_rooms_obstacles")
    r = mfglearn.solve(g, "mirror_descent", iterations=50, initial_policy=benchmfg_initial_policy(g, 42))
    assert all(math.isfinite(x) for x in r.history["exploitability"])
