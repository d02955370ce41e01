"""Games: the tabular model, kernels and the registered game families."""

from mfglearn.games.base import FiniteMFG
from mfglearn.games.kernels import ComposedKernel, DenseKernel, Kernel, SparseKernel
from mfglearn.games.registry import GAMES, list_games, make, register_game

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
