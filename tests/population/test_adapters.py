"""Gymnasium and PettingZoo adapters pass the official checkers."""

import numpy as np
import pytest

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
