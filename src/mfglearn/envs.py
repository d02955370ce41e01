"""Importing this module registers mfglearn's Gymnasium ids, so that with no preparation
``gym.make("mfglearn.envs:mfglearn/BestResponse-v0", game="four_rooms")`` works (Gymnasium imports the
module before the id). ``mfglearn.register_envs()`` does the same from code."""

from mfglearn.api import ENV_ID, register_envs

register_envs()

__all__ = ["ENV_ID"]
