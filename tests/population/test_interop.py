"""External agents tabulated into policies, and the Gymnasium id."""

import numpy as np
import pytest
import torch

import mfglearn
from mfglearn.population.interop import policy_from_agent

gym = pytest.importorskip("gymnasium")


def test_a_callable_agent_becomes_the_policy_it_plays():
    game = mfglearn.make("beach_bar", size=6, horizon=4)
    ev = mfglearn.evaluate(game, game.uniform_policy())
    best = ev.best_policy.argmax(-1).numpy()  # (H, S)

    def agent(obs):  # obs rows are [state, t]
        return best[obs[:, 1], obs[:, 0]]

    pi = policy_from_agent(game, agent)
    torch.testing.assert_close(pi, ev.best_policy)
    # probabilities are taken as they are; discounted games observe the state alone
    g2 = mfglearn.make("benchmfg/lasry_lions_chain")
    pi2 = policy_from_agent(g2, lambda obs: np.full((len(obs), 3), 1 / 3))
    assert mfglearn.exploitability(g2, pi2) == pytest.approx(mfglearn.exploitability(g2, g2.uniform_policy()))


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda obs: np.full(len(obs), 9), "outside 0..2"),
        (lambda obs: np.ones((len(obs), 3)), "not distributions"),
        (lambda obs: np.zeros((2, 2)), "shape"),
        ("not an agent", "Stable-Baselines3 model or a callable"),
    ],
)
def test_bad_agents_get_one_clear_error(bad, match):
    with pytest.raises(mfglearn.ValidationError, match=match):
        policy_from_agent(mfglearn.make("benchmfg/lasry_lions_chain"), bad)


def test_sb3_models_are_tabulated_with_their_probabilities():
    sb3 = pytest.importorskip("stable_baselines3")
    game = mfglearn.make("benchmfg/no_interaction")
    from mfglearn.population.adapters import best_response_env

    model = sb3.PPO("MlpPolicy", best_response_env(game), n_steps=64, batch_size=32, seed=0, verbose=0)
    pi = policy_from_agent(game, model)
    assert pi.shape == (7, 3) and torch.allclose(pi.sum(-1), torch.ones(7, dtype=pi.dtype))
    greedy = policy_from_agent(game, model, deterministic=True)
    assert set(greedy.unique().tolist()) <= {0.0, 1.0}
    assert mfglearn.exploitability(game, pi) >= 0


def test_the_gymnasium_id_builds_the_best_response_env():
    env = gym.make("mfglearn.envs:mfglearn/BestResponse-v0", game="beach_bar", game_params={"size": 6, "horizon": 3})
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    mfglearn.register_envs()
    env = gym.make("mfglearn/BestResponse-v0", game=mfglearn.make("benchmfg/sis_epidemic"), episode_length=5)
    env.reset(seed=1)
    steps = 0
    done = False
    while not done:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        done, steps = term or trunc, steps + 1
    assert steps == 5
