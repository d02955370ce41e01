"""Gymnasium and PettingZoo adapters pass the official checkers."""

import numpy as np
import pytest
import torch

import mfglearn

gym = pytest.importorskip("gymnasium")


@pytest.mark.parametrize("gid", ["beach_bar", "openspiel/crowd_modelling_2d_four_rooms", "sis", "lq_discrete"])
def test_best_response_env_passes_check_env(gid):
    from gymnasium.utils.env_checker import check_env

    from mfglearn.population.adapters import best_response_env

    game = mfglearn.make(gid)
    env = best_response_env(game)
    check_env(env, skip_render_check=True)


def test_best_response_env_value_matches_exact_policy_value():
    from mfglearn.population.adapters import best_response_env

    game = mfglearn.make("beach_bar", size=8, horizon=6)
    ev = mfglearn.evaluate(game, game.uniform_policy())
    env = best_response_env(game)
    best = ev.best_policy.numpy()
    total, n = 0.0, 3000
    for ep in range(n):
        obs, _ = env.reset(seed=ep)
        done = False
        while not done:
            s, t = obs
            obs, r, done, _, _ = env.step(int(best[t, s].argmax()))
            total += r
    assert total / n == pytest.approx(ev.best_value, abs=0.15)


def test_nplayer_env_passes_parallel_api_test():
    pytest.importorskip("pettingzoo")
    from pettingzoo.test import parallel_api_test

    from mfglearn.population.adapters import nplayer_env

    env = nplayer_env(mfglearn.make("beach_bar", size=6, horizon=5), 4)
    parallel_api_test(env, num_cycles=20)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {f"agent_{i}" for i in range(4)}
    env2 = nplayer_env(mfglearn.make("openspiel/crowd_modelling_2d_four_rooms", horizon=4), 3)
    parallel_api_test(env2, num_cycles=10)
    _, infos = env2.reset(seed=1)
    assert np.asarray(infos["agent_0"]["action_mask"]).shape == (5,)


@pytest.mark.parametrize("gid", ["benchmfg/lasry_lions_chain", "benchmfg/sis_epidemic", "four_rooms_crowd"])
def test_discounted_best_response_env_passes_check_env(gid):
    from gymnasium.utils.env_checker import check_env

    from mfglearn.population.adapters import best_response_env

    check_env(best_response_env(mfglearn.make(gid), reset_uniform_eps=0.1), skip_render_check=True)


def test_discounted_env_returns_match_the_exact_stationary_value():
    # episodes start from the mean field, so the mean discounted return is J(pi*, mu) = mu . V*
    from mfglearn.core.stationary import best_response_stationary, freeze_stationary, stationary_distribution
    from mfglearn.population.adapters import best_response_env

    game = mfglearn.make("benchmfg/lasry_lions_chain")
    pi = game.uniform_policy()
    mu = stationary_distribution(game, pi)
    Vb, _, br = best_response_stationary(freeze_stationary(game, mu, pi))
    env = best_response_env(game, pi, episode_length=120)
    act = br.argmax(-1).numpy()
    total, n, g = 0.0, 1500, game.gamma
    for ep in range(n):
        s, _ = env.reset(seed=ep)
        ret, disc, done = 0.0, 1.0, False
        while not done:
            s, r, _, done, _ = env.step(int(act[s]))
            ret += disc * r
            disc *= g
        total += ret
    exact = float((mu * Vb).sum())
    assert total / n == pytest.approx(exact, abs=0.03 * abs(exact))
    with pytest.raises(mfglearn.ValidationError, match="mean_field must be an \\(7,\\)"):
        best_response_env(game, mean_field=torch.ones(3) / 3)
