"""Parity with Bench-MFG (bench-mfg-suite 0.1.3): its environments' tensors, its finite-step
exploitability, its initial policy and its solvers' iterates, in float64."""

import numpy as np
import pytest
import torch

import mfglearn
from mfglearn.core.finite_step import finite_step_exploitability
from mfglearn.games.peers.benchmfg import CONFIG_NAMES as ENVS
from mfglearn.solvers.benchmfg import benchmfg_initial_policy

jax = pytest.importorskip("jax")
pytest.importorskip("benchmfg")
jax.config.update("jax_enable_x64", True)  # Bench-MFG's JAX path in float64, to compare digit for digit

import benchmfg.envs.mfg_model_class as _model  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from benchmfg.api import load_config, make_environment, make_solver  # noqa: E402
from benchmfg.envs.mfg_model_class_jit import exploitability_jax  # noqa: E402
from benchmfg.utility.create_solver import get_env_spec  # noqa: E402

pytestmark = pytest.mark.peer


@pytest.fixture(autouse=True)
def _sequential(monkeypatch):
    # Bench-MFG's numpy reference builds rows in a process pool; sequential is faster on tiny games
    monkeypatch.setattr(_model, "_map_rows_with_fallback", lambda fn, args: [fn(a) for a in args])


def pair(cfg_name, overrides=()):
    cfg = load_config([f"environment={cfg_name}", *overrides])
    np.random.seed(42)
    env, pi0 = make_environment(cfg)
    return cfg, env, pi0, mfglearn.make(ENVS[cfg_name])


def dense(env, T):
    S, A = env.N_states, env.N_actions
    K = np.zeros((S, A, S))
    np.add.at(
        K, (np.arange(S)[:, None, None], np.arange(A)[None, :, None], T), np.broadcast_to(env.noise_prob, T.shape)
    )
    return K


@pytest.mark.parametrize("name", ENVS)
def test_reward_and_kernel_tensors_match(name):
    _, env, _, game = pair(name)
    assert (game.S, game.A, game.gamma) == (env.N_states, env.N_actions, env.gamma)
    rng = np.random.default_rng(0)
    for mu in (np.ones(env.N_states) / env.N_states, rng.dirichlet(np.ones(env.N_states))):
        m = torch.tensor(mu)
        np.testing.assert_allclose(game.reward_at(0, m).numpy(), env._build_reward_matrix(mu), rtol=0, atol=1e-15)
        K = dense(env, env._build_transition_matrix(mu))
        np.testing.assert_allclose(game.kernel_at(0, m).dense().numpy(), K, rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", ENVS)
def test_finite_step_exploitability_matches(name):
    _, env, pi0, game = pair(name)
    spec = get_env_spec(env, env.__class__.__name__ if name != "multiple_equilibria" else "MultipleEquilibriaGame")
    rng = np.random.default_rng(1)
    for pi in (pi0, rng.dirichlet(np.ones(env.N_actions), size=env.N_states)):
        mu = rng.dirichlet(np.ones(env.N_states))
        theirs = float(exploitability_jax(jnp.asarray(pi), spec, initial_mean_field=jnp.asarray(mu)))
        ours = finite_step_exploitability(game, torch.tensor(pi), torch.tensor(mu))
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)


def test_initial_policy_is_bench_mfgs_seed_42_draw():
    _, _, pi0, game = pair("four_rooms_obstacles")
    np.testing.assert_array_equal(benchmfg_initial_policy(game, 42).numpy(), pi0)


ALGOS = {
    "omd": ("omd", [], "benchmfg_omd", {}),
    "greedy_pi": ("pi", ["algorithm.pi.variant=policy_iteration"], "benchmfg_policy_iteration", {"variant": "greedy"}),
    "smooth_pi": (
        "pi",
        ["algorithm.pi.variant=smooth_policy_iteration"],
        "benchmfg_policy_iteration",
        {"variant": "smooth"},
    ),
    "boltzmann_pi": (
        "pi",
        ["algorithm.pi.variant=boltzmann_policy_iteration"],
        "benchmfg_policy_iteration",
        {"variant": "boltzmann"},
    ),
    "fictitious_play": (
        "damped_fixed_point",
        ["algorithm.dampedfp.lambda_schedule=fictitious_play"],
        "benchmfg_fixed_point",
        {"schedule": "fictitious_play"},
    ),
    "damped": (
        "damped_fixed_point",
        ["algorithm.dampedfp.lambda_schedule=damped"],
        "benchmfg_fixed_point",
        {"schedule": "damped"},
    ),
    "pure": (
        "damped_fixed_point",
        ["algorithm.dampedfp.lambda_schedule=pure"],
        "benchmfg_fixed_point",
        {"schedule": "pure"},
    ),
    "pso": ("pso", ["algorithm.pso.num_particles=8"], "pso", {"num_particles": 8}),
}
SECTION = {"omd": "omd", "pi": "pi", "damped_fixed_point": "dampedfp", "pso": "pso"}


def run_both(name, algo, n):
    yaml, extra, ours, kw = ALGOS[algo]
    cfg, env, pi0, game = pair(name, [f"algorithm={yaml}", f"algorithm.{SECTION[yaml]}.num_iterations={n}", *extra])
    theirs = np.asarray(make_solver(cfg, environment=env, initial_policy=pi0).eval()[2], dtype=float)
    if ours != "pso":
        kw = {**kw, "initial_policy": torch.tensor(pi0)}
    r = mfglearn.solve(game, ours, iterations=n, **kw)
    mine = ([] if ours == "pso" else [r.extra["initial_exploitability"]]) + r.history["exploitability"]
    return theirs, np.asarray(mine)


@pytest.mark.parametrize("algo", ALGOS)
def test_solvers_follow_bench_mfg_iterate_for_iterate_on_the_lasry_lions_chain(algo):
    theirs, mine = run_both("lasry_lions_chain", algo, 8)
    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "name, algo",
    [
        ("four_rooms_obstacles", "fictitious_play"),
        ("sis_epidemic", "omd"),
        ("kinetic_congestion", "boltzmann_pi"),
        ("rock_paper_scissors", "pso"),
        ("multiple_equilibria", "smooth_pi"),
        ("contraction_game", "damped"),
    ],
)
def test_solvers_follow_bench_mfg_on_other_environments(name, algo):
    theirs, mine = run_both(name, algo, 4)
    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)
