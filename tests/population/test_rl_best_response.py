"""Deep RL best responses (Stable-Baselines3) inside Bench-MFG's fictitious play, on a discounted game."""

import pytest
import torch

import mfglearn

pytest.importorskip("stable_baselines3")

from mfglearn.core.stationary import best_response_stationary, freeze_stationary  # noqa: E402
from mfglearn.population.rl_best_response import SB3BestResponse  # noqa: E402


def test_ppo_learns_the_best_response_of_the_no_interaction_chain():
    # reward = state - 0.1 |move|: the best response moves right everywhere but at the right end
    torch.manual_seed(0)
    game = mfglearn.make("benchmfg/no_interaction")
    br = SB3BestResponse("ppo", total_timesteps=4096, seed=0, n_steps=256, batch_size=64, learning_rate=3e-3)
    pi = br(game, game.mu0)
    _, _, exact = best_response_stationary(freeze_stationary(game, game.mu0))
    agree = (pi.argmax(-1) == exact.argmax(-1))[:-1].float().mean().item()  # the last state is a tie
    assert agree >= 5 / 6
    assert torch.equal(pi.sum(-1), torch.ones(7, dtype=pi.dtype))


def test_fictitious_play_with_a_learned_best_response_runs_and_records_its_settings():
    game = mfglearn.make("benchmfg/no_interaction")
    br = SB3BestResponse("dqn", total_timesteps=600, seed=1, learning_starts=100)
    r = mfglearn.solve(game, "benchmfg_fixed_point", iterations=2, best_response=br, exact_metrics=True)
    assert r.hyperparameters["best_response"]["algorithm"] == "dqn"
    assert len(r.history["exact_exploitability"]) == 2
    with pytest.raises(mfglearn.ValidationError, match="best_response must be None"):
        mfglearn.solve(game, "benchmfg_fixed_point", iterations=1, best_response="ppo")


def test_a_learned_best_response_leaves_no_log_folders(tmp_path, monkeypatch):
    # SB3 makes an SB3-<time> folder under the temporary directory on every learn() that has no logger
    import tempfile

    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    game = mfglearn.make("benchmfg/no_interaction")
    br = SB3BestResponse("ppo", total_timesteps=64, seed=0, n_steps=32, batch_size=32, warm_start=True)
    br(game, game.mu0)
    br(game, game.mu0)  # a warm start learns again with the same agent
    assert list(tmp_path.iterdir()) == []
