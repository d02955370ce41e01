"""Bad input, fuzzed: every public hyperparameter and game parameter either works or raises one mfglearn error.

A table of the reproducers from the robustness audit, then hypothesis over each algorithm's numeric
hyperparameters (NaN, infinities, negatives, huge values, strings, booleans, None): the only
acceptable failures are :class:`~mfglearn.errors.MFGError` subclasses with a message, never a
traceback from deep inside torch, never a silent NaN result.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mfglearn
from mfglearn.errors import MFGError
from mfglearn.games.registry import GAMES
from mfglearn.registry import get_algorithm
from mfglearn.runs import sweep as sw

BAD_GAMES = [
    ("random", {"gamma": "0.9"}, "gamma must be a number"),
    ("random", {"n_states": 2.7}, r"n_states must be a positive integer \(default 4\), got 2.7"),
    ("random", {"n_states": 0}, r"n_states must be a positive integer \(default 4\), got 0"),
    ("random", {"seed": 1.7}, "seed must be a non-negative integer"),
    ("random", {"seed": -1}, "seed must be a non-negative integer"),
    ("four_rooms_exploration", {"speed": 0}, "speed must be a finite number > 0"),
    ("beach_bar_continuous", {"noise_std": math.nan}, "noise_std must be a finite number"),
    ("lq", {"horizon": math.inf}, "horizon must be a positive integer"),
    ("lq", {"horizon": 0}, "horizon must be a positive integer"),
    ("congestion", {"max_backlog": "3"}, "max_backlog must be a non-negative integer"),
    # found by fuzzing every registered game's parameters
    ("mfglib/crowd_motion", {"torus_l": 0.0}, "torus_l must be a positive integer"),
    ("mfglib/crowd_motion", {"T": -1}, "T must be a positive integer"),
    (
        "mfglib/building_evacuation",
        {"n_floor": -12},
        "n_floor must be a non-negative integer|n_floor must be a positive",
    ),
    ("large_grid", {"seed": None}, r"seed must be a non-negative integer \(default 0\), got None"),
    ("lq_discrete", {"terminal_cost": None}, "terminal_cost must be a finite number"),
    ("mfglib/equilibrium_price", {"d": math.inf}, "d must be a finite number"),
    ("mfglib/crowd_motion", {"log_eps": 0.0}, "log_eps must be a finite number > 0"),
    ("mfglib/equilibrium_price", {"c": "avg"}, r"c must be the five cost coefficients \(c0, c1, c2, c3, c4\)"),
    ("mfglib/linear_quadratic", {"delta": -1.0}, "delta must be a finite number > 0"),
    ("large_grid", {"dtype": "int64"}, "dtype must be a floating torch dtype"),
    ("rock_paper_scissors", {"payoff": ""}, r"bad parameters for game 'rock_paper_scissors' \(payoff=''\): "),
    ("benchmfg/mf_garnet", {"reward_scale": -12.0}, r"bad parameters for game 'benchmfg/mf_garnet' \(reward_scale"),
    (
        "left_right",
        {"horizon": "abc"},
        r"game 'left_right': horizon must be a positive integer \(default 2\), got 'abc'",
    ),
]


@pytest.mark.parametrize("gid, params, match", BAD_GAMES)
def test_bad_game_parameters(gid, params, match):
    with pytest.raises(MFGError, match=match):
        mfglearn.make(gid, **params)


def test_integral_floats_and_dtype_names_are_converted_for_the_game():
    g = mfglearn.make("mfglib/crowd_motion", torus_l=4.0, torus_w=5.0)  # meshgrid refused the float before
    assert g.S == 20
    assert mfglearn.make("large_grid", rows=3, cols=4, dtype="float32").dtype == torch.float32


BAD_HYPERPARAMETERS = [
    ("left_right", "mf_omo", {"c1": math.nan}, "c1 must be a finite number >= 0"),
    ("left_right", "mf_omo", {"m2": -1.0}, "m2 must be a finite number > 0"),
    ("left_right", "mirror_descent", {"learning_rate": True}, "learning_rate must be a number"),
    ("left_right", "mirror_descent", {"learning_rate": "0.1"}, "learning_rate must be a number"),
    ("lq", "deda_fp", {"br_iterations": 0}, "br_iterations must be a positive integer"),
    ("lq", "deda_fp", {"br_iterations": "5"}, "br_iterations must be a positive integer"),
    ("lq", "deda_fp", {"bc_steps": 0}, "bc_steps must be a positive integer"),
    ("lq", "deda_fp", {"flow_steps": -1}, "flow_steps must be a positive integer"),
    ("lq", "deda_fp", {"memory_per_iteration": 1}, "memory_per_iteration must be an integer >= 2"),
    ("congestion", "mfc_kq", {"mu_resolution": 3000, "policy_resolution": 3}, "needs about .* GiB of memory"),
    ("congestion", "mfc_kq", {"seed": -1}, "seed must be a non-negative integer"),
    # found by fuzzing every solver's hyperparameters (not only the numeric ones of _NUMERIC below)
    ("random", "pso", {"c1": "x"}, "c1 must be a number, got 'x'"),
    ("random", "pso", {"w": None}, "w must be a number, got None"),
    ("random", "pso", {"c2": math.inf}, "c2 must be a finite number >= 0"),
    ("random", "pso", {"seed": 2**40}, r"seed must be below 2\*\*32"),
    ("random", "pso", {"textbook": "yes"}, "textbook must be True or False, got 'yes'"),
    ("random", "mfc_q_learning", {"explore": ""}, "explore must be a number, got ''"),
    ("random", "mfc_q_learning", {"omega": None}, "omega must be a number, got None"),
    ("random", "mfc_q_learning", {"omega": 0.5}, r"omega must be in \(0.5, 1\], got 0.5"),
    ("left_right", "mf_omo", {"hat_init": "no"}, "hat_init must be True or False, got 'no'"),
    ("left_right", "occupation_measure_inclusion", {"warm_start": 1}, "warm_start must be True or False, got 1"),
    ("left_right", "deep_mirror_descent", {"hidden": 64}, r"hidden must be a list of positive layer sizes"),
    ("left_right", "deep_average_network_fp", {"hidden": [64, 0]}, r"hidden\[1\] must be a positive integer"),
    ("left_right", "mf_ppo", {"entropy": None}, "entropy must be a number, got None"),
]


@pytest.mark.parametrize("gid, solver, hp, match", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters(gid, solver, hp, match):
    game = mfglearn.make(gid, gamma=0.8) if gid == "random" else gid
    with pytest.raises(MFGError, match=match):
        mfglearn.make_algorithm(game, solver, **hp)


@pytest.mark.parametrize("solver", ["benchmfg_fixed_point", "benchmfg_omd", "benchmfg_policy_iteration", "pso"])
def test_bench_mfg_step_counts_given_as_integral_floats_are_integers(solver):
    # 20.0 passed the integer check but reached torch's matrix_power and range() as a float (a TypeError)
    game = mfglearn.make("random", gamma=0.8)
    algo = mfglearn.make_algorithm(game, solver, horizon=20.0, mean_field_steps=20.0, evaluation_steps=0.0)
    assert (algo.conv.horizon, algo.conv.mean_field_steps, algo.conv.evaluation_steps) == (20, 20, 0)
    assert all(type(x) is int for x in (algo.conv.horizon, algo.conv.mean_field_steps, algo.conv.evaluation_steps))
    assert math.isfinite(algo.solve(1).exploitability)


def test_a_solve_too_large_for_the_machine_is_refused_up_front(monkeypatch):
    from mfglearn._common import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device=None: 10_000)
    game = mfglearn.make("beach_bar")
    with pytest.raises(MFGError, match=r"needs about .* GiB of memory .* check_memory=False"):
        mfglearn.make_algorithm(game, "fictitious_play")
    assert mfglearn.solve(game, "fictitious_play", iterations=1, check_memory=False).iterations == 1


def test_bad_sweep_arguments(tmp_path):
    with pytest.raises(MFGError, match="--seeds must list non-negative seeds"):
        sw.parse_seeds("4..0")
    with pytest.raises(MFGError, match="trials must be a positive integer"):
        sw.sweep("left_right", "fictitious_play", {"solver.damping": [0.5]}, search="optuna", trials=0, out=tmp_path)


def test_a_sampler_with_the_wrong_output_is_named():
    game = mfglearn.make("ad_auction")
    good = game.sampler
    game.sampler = lambda m, s, a, gen: tuple(x[:-1] for x in good(m, s, a, gen))
    with pytest.raises(MFGError, match=r"the sampler of game 'ad_auction' returned next states of shape"):
        mfglearn.solve(game, "gmf_q", iterations=1, inner_steps=2, n_agents=50)


_WEIRD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=4),
    st.booleans(),
    st.none(),
)
_TINY_GAMES = {"finite_horizon": ("left_right", {}), "discounted": ("random", {"gamma": 0.8})}
_NUMERIC = [
    (name, hp, kind)
    for name, kind in [
        ("fixed_point", "finite_horizon"),
        ("fictitious_play", "finite_horizon"),
        ("mirror_descent", "finite_horizon"),
        ("boltzmann_policy_iteration", "finite_horizon"),
        ("prior_descent", "finite_horizon"),
        ("mf_trpo", "discounted"),
        ("gmf_q", "discounted"),
        ("occupation_measure_inclusion", "finite_horizon"),
    ]
    for hp, p in get_algorithm(name).hyperparameter_spec().items()
    if isinstance(p.default, (int, float)) and not isinstance(p.default, bool) or p.default is None and hp != "device"
    if hp not in ("initial_policy", "threads", "tol", "zero_tol")  # tolerances: a tiny valid one is just slow
]


@pytest.mark.parametrize("name, hp, kind", _NUMERIC, ids=[f"{n}.{h}" for n, h, _ in _NUMERIC])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_WEIRD)
def test_fuzzed_hyperparameters_work_or_raise_one_mfglearn_error(name, hp, kind, value):
    gid, params = _TINY_GAMES[kind]
    game = mfglearn.make(gid, **params)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 50:
        value = type(value)(50)  # a valid but huge budget (1e30 inner steps) is slow, not bad input
    try:
        res = mfglearn.solve(game, name, iterations=1, **{hp: value})
    except MFGError as exc:
        assert str(exc), "an error must say what is wrong"
        return
    except FloatingPointError as exc:  # the one non-MFGError the loop raises: divergence, named as such
        assert "unstable" in str(exc) or "became" in str(exc)
        return
    assert math.isfinite(res.exploitability), f"{name}({hp}={value!r}) returned a silent {res.exploitability}"
    assert isinstance(res.policy, torch.Tensor) and bool(torch.isfinite(res.policy).all())


_SMALL = {"large_grid": {"rows": 6, "cols": 7}, "evacuation": {"rows": 6, "cols": 7}}  # 10^6 cells by default
_GAME_PARAMETERS = [
    (gid, name)
    for gid, spec in sorted(GAMES.items())
    for name in spec.parameters()
    if not (gid in _SMALL and name in ("rows", "cols"))
]


@pytest.mark.parametrize("gid, name", _GAME_PARAMETERS, ids=[f"{g}.{n}" for g, n in _GAME_PARAMETERS])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_WEIRD)
def test_fuzzed_game_parameters_build_a_game_or_raise_one_mfglearn_error(gid, name, value):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and abs(value) > 8:
        value = type(value)(math.copysign(8, value))  # a valid but huge size builds a huge game: slow, not bad
    try:
        mfglearn.make(gid, **{**_SMALL.get(gid, {}), name: value})
    except MFGError as exc:
        assert str(exc), "an error must say what is wrong"


def test_a_users_game_keeps_its_own_ranges(tmp_path):
    # the non-negative and finite rules are mfglearn's games'; a user's factory only gets the kind checks
    path = tmp_path / "shifted.py"
    path.write_text(
        "import mfglearn\n"
        "def make(offset: int = 0, bound: float = 1.0):\n"
        "    assert isinstance(offset, int)\n"
        "    return mfglearn.make('left_right')\n"
    )
    assert mfglearn.make(f"{path}:make", offset=-3.0, bound=float("inf")).name  # -3.0 arrives as the int -3
    with pytest.raises(MFGError, match="offset must be an integer"):
        mfglearn.make(f"{path}:make", offset="x")
