"""One contract for every registered algorithm: each runs on a tiny game it accepts and must
stop on a callback's False, show progress, honour (or clearly refuse) a target, round-trip its
result through disk, resume from a checkpoint bit for bit, and reject bad hyperparameters."""

from __future__ import annotations

import json
import math

import pytest
import torch

import mfglearn
from mfglearn.errors import UnknownNameError, ValidationError
from mfglearn.registry import ALGORITHMS, game_info, get_algorithm, list_games

_DEEP = dict(
    n_agents=32,
    br_iterations=1,
    first_br_iterations=1,
    bc_steps=2,
    flow_steps=2,
    memory_per_iteration=64,
    exact_every=1,
)
_RANDOM_DISCOUNTED = ("random", {"gamma": 0.8})

# (algorithm name, game kind) -> (game id, game params, hyperparameters); every registered pair must appear
TINY = {
    ("fixed_point", "finite_horizon"): ("left_right", {}, {"temperature": 0.5}),
    ("fictitious_play", "finite_horizon"): ("left_right", {}, {}),
    ("mirror_descent", "finite_horizon"): ("left_right", {}, {"learning_rate": 0.5}),
    ("boltzmann_policy_iteration", "finite_horizon"): ("left_right", {}, {"temperature": 2.0}),
    ("prior_descent", "finite_horizon"): ("left_right", {}, {"temperature": 2.0, "inner_steps": 2}),
    ("mf_omo", "finite_horizon"): ("left_right", {}, {"optimizer_lr": 0.01}),
    ("occupation_measure_inclusion", "finite_horizon"): ("left_right", {}, {"learning_rate": 0.5}),
    ("mf_trpo", "discounted"): (*_RANDOM_DISCOUNTED, {"trust_region": 1.0}),
    ("mf_trpo_sampled", "discounted"): (*_RANDOM_DISCOUNTED, {"n_samples": 2, "n_agents": 200, "seed": 1}),
    ("gmf_q", "discounted"): (*_RANDOM_DISCOUNTED, {"inner_steps": 20, "n_agents": 200, "seed": 1}),
    ("q_learning_naive", "discounted"): (*_RANDOM_DISCOUNTED, {"inner_steps": 20, "n_agents": 200, "seed": 1}),
    ("mfc_dp", "discounted"): ("congestion", {}, {"mu_resolution": 4, "policy_resolution": 1}),
    ("mfc_open_loop", "discounted"): ("congestion", {}, {"restarts": 2, "horizon": 5}),
    ("mfc_kq", "discounted"): ("congestion", {}, {"mu_resolution": 4}),
    ("mfc_q_learning", "discounted"): (
        "congestion",
        {},
        {"mu_resolution": 4, "samples": 400, "episode_length": 10, "episodes_per_iteration": 8},
    ),
    ("deda_fp", "continuous"): ("lq", {"horizon": 3}, _DEEP),
    ("deep_fp_sampled", "continuous"): ("lq", {"horizon": 3}, _DEEP),
    ("deep_fp_average", "continuous"): ("lq", {"horizon": 3}, _DEEP),
    ("deep_mirror_descent", "finite_horizon"): (
        "crowd_grid",
        {"map": ("#####", "#   #", "#   #", "#####"), "horizon": 3},
        {"n_agents": 16, "inner_steps": 2, "hidden": (8,)},
    ),
    ("deep_average_network_fp", "finite_horizon"): (
        "crowd_grid",
        {"map": ("#####", "#   #", "#   #", "#####"), "horizon": 3},
        {"br_steps": 3, "br_agents": 8, "memory_per_iteration": 16, "avg_steps": 2, "hidden": (8,)},
    ),
    ("mf_ppo", "finite_horizon"): (
        "crowd_grid",
        {"map": ("#####", "#   #", "#   #", "#####"), "horizon": 3},
        {"n_agents": 16, "epochs": 1, "batch_size": 16, "hidden": (8,)},
    ),
    ("fixed_point", "static"): ("meeting", {}, {"tol": 1e-6}),
    ("benchmfg_omd", "discounted"): ("benchmfg/lasry_lions_chain", {}, {"learning_rate": 0.05}),
    ("benchmfg_policy_iteration", "discounted"): ("benchmfg/sis_epidemic", {}, {"variant": "smooth"}),
    ("benchmfg_fixed_point", "discounted"): ("benchmfg/rock_paper_scissors", {}, {}),
    ("pso", "discounted"): ("benchmfg/contraction_game", {}, {"num_particles": 4}),
}


def _cases():
    out = []
    for name, impls in sorted(ALGORITHMS.items()):
        for cls in impls:
            key = next(((name, k) for k in sorted(cls.game_kinds) if (name, k) in TINY), None)
            out.append(pytest.param(name, cls, key, id=f"{name}[{'-'.join(sorted(cls.game_kinds))}]"))
    return out


CASES = _cases()


def _build(key):
    gid, gparams, hp = TINY[key]
    game = mfglearn.make(gid, **gparams)
    return game, get_algorithm(key[0], game).create(game, **hp)


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _history_equal(h1: dict, h2: dict) -> None:
    assert set(h1) == set(h2)
    for k in h1:
        if k in ("seconds", "mean_field_seconds"):
            continue
        assert len(h1[k]) == len(h2[k]), k
        assert all(_same(x, y) for x, y in zip(h1[k], h2[k], strict=True)), (k, h1[k], h2[k])


def _policy_fingerprint(result) -> torch.Tensor:
    p = result.policy
    if isinstance(p, torch.Tensor):
        return p
    if isinstance(p, torch.nn.Module):
        t, x = torch.arange(3.0), torch.linspace(-1, 1, 3).view(3, 1)
        return p.mean_action(t, x)
    mu = torch.full((1, p.h_net.shape[1] if hasattr(p, "h_net") else p.hs.shape[1]), 1.0, dtype=torch.float64)
    return p(mu / mu.sum())


def test_every_registered_algorithm_has_a_tiny_case():
    missing = [c.id for c in CASES if c.values[2] is None]
    assert not missing, f"add these to TINY: {missing}"


@pytest.mark.parametrize("name, cls, key", CASES)
def test_callback_false_stops_and_receives_the_algorithm(name, cls, key):
    game, algo = _build(key)
    seen = []

    def cb(a, info):
        seen.append((a, info["iteration"]))
        return False

    res = algo.solve(3, callback=cb)
    assert seen == [(algo, 1)] and res.iterations == 1 and res.stopped == "callback"
    assert isinstance(res, mfglearn.Result) and res.solver == name and res.game == game.name
    none_continues = get_algorithm(name, game).create(game, **TINY[key][2]).solve(2, callback=lambda a, i: None)
    assert none_continues.iterations == 2 or none_continues.stopped == "converged"


@pytest.mark.parametrize("name, cls, key", CASES)
def test_progress_bar_and_target(name, cls, key, capsys):
    game, algo = _build(key)
    algo.solve(1, progress=True)
    assert name in capsys.readouterr().err  # tqdm writes the algorithm's name on stderr
    game, algo = _build(key)
    if algo.tracks_exploitability:
        res = algo.solve(3, target_exploitability=1e12)
        assert res.stopped == "target" and res.iterations == 1
    else:
        with pytest.raises(ValidationError, match="target_exploitability"):
            algo.solve(3, target_exploitability=0.1)


@pytest.mark.parametrize("name, cls, key", CASES)
def test_save_and_load_round_trip(name, cls, key, tmp_path):
    game, algo = _build(key)
    res = algo.solve(2)
    res.save(tmp_path / "r")
    back = mfglearn.Result.load(tmp_path / "r", game=game)
    assert type(back) is type(res) and back.solver == res.solver and back.stopped == res.stopped
    assert _same(back.value, res.value) and back.hyperparameters == res.hyperparameters
    _history_equal(back.history, res.history)
    torch.testing.assert_close(_policy_fingerprint(back), _policy_fingerprint(res), rtol=0, atol=0)
    assert json.dumps(back.summary(), sort_keys=True) == json.dumps(res.summary(), sort_keys=True)


@pytest.mark.parametrize("name, cls, key", CASES)
def test_checkpoint_resume_is_bit_identical(name, cls, key, tmp_path):
    n = 3
    _, full = _build(key)
    uninterrupted = full.solve(n)
    _, first = _build(key)
    first.solve(2, checkpoint=tmp_path)  # "crashes" after two iterations
    _, second = _build(key)
    resumed = second.solve(n, checkpoint=tmp_path)
    assert resumed.iterations == uninterrupted.iterations
    _history_equal(resumed.history, uninterrupted.history)
    torch.testing.assert_close(
        _policy_fingerprint(resumed), _policy_fingerprint(uninterrupted), rtol=0, atol=0, equal_nan=True
    )


@pytest.mark.parametrize("name, cls, key", CASES)
def test_bad_hyperparameters_give_one_clear_error(name, cls, key):
    game, _ = _build(key)
    with pytest.raises(UnknownNameError, match="no hyperparameter 'bogus'"):
        mfglearn.make_algorithm(game, name, bogus=1)
    with pytest.raises(ValidationError, match="iterations must be a non-negative integer"):
        _build(key)[1].solve(-1)


def test_a_game_of_the_wrong_kind_lists_the_algorithms_that_fit():
    with pytest.raises(ValidationError, match=r"is static\. Solvers for it: fixed_point"):
        mfglearn.solve(mfglearn.make("meeting"), "fictitious_play")
    with pytest.raises(ValidationError, match="Solvers for it: deda_fp, deep_fp_average, deep_fp_sampled"):
        mfglearn.solve(mfglearn.make("lq"), "mirror_descent")
    with pytest.raises(ValidationError, match="accepts discounted games"):
        mfglearn.solve(mfglearn.make("left_right"), "mfc_kq")


def test_registry_is_complete_at_import_and_declares_game_kinds():
    import subprocess
    import sys

    code = "import mfglearn.registry as r; print(len(r.ALGORITHMS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out) == len(ALGORITHMS) == len(mfglearn.list_solvers()) == 25
    for info in (i for n in mfglearn.list_solvers() for i in mfglearn.algorithm_info(n)):
        assert info["game_kinds"] and info["iteration"] and info["description"], info


@pytest.mark.parametrize(
    "gid", [g for g in list_games() if g not in ("large_grid", "evacuation", "openspiel/crowd_modelling_2d_maze")]
)
def test_registered_game_kinds_match_the_games(gid):
    game = mfglearn.make(gid)
    assert game_info(gid)["kind"] == game.kind
    assert game_info(gid)["populations"] == getattr(game, "n_populations", 1)


def test_deprecated_aliases_warn_and_keep_the_numbers():
    game = mfglearn.make("left_right")
    new = mfglearn.solve(game, "fictitious_play", iterations=4, damping=0.3)
    with pytest.warns(DeprecationWarning, match="'learning_rate' is deprecated; use 'damping'"):
        old = mfglearn.solve(game, "fictitious_play", iterations=4, learning_rate=0.3)
    assert old.history["exploitability"] == new.history["exploitability"]
    new = mfglearn.solve(game, "boltzmann_policy_iteration", iterations=4, temperature=0.5)
    with pytest.warns(DeprecationWarning, match="temperature = 1 / learning_rate"):
        old = mfglearn.solve(game, "boltzmann_policy_iteration", iterations=4, learning_rate=2.0)
    assert old.history["exploitability"] == new.history["exploitability"]
    with pytest.raises(ValidationError, match="not both"):
        mfglearn.solve(game, "prior_descent", iterations=1, eta=1.0, temperature=1.0)
