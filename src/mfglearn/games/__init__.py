"""Game families as data plus vectorised functions, peer ports (``games.peers``) and the game registry."""

from mfglearn.games.registry import GAMES, list_games, make, register_game
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import ComposedKernel, DenseKernel, Kernel, SparseKernel

__all__ = [
    "GAMES",
    "ComposedKernel",
    "DenseKernel",
    "FiniteMFG",
    "Kernel",
    "SparseKernel",
    "list_games",
    "make",
    "register_game",
]
