"""The evaluation of a policy against its own mean field, shared by the finite-horizon and stationary paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # annotations only: stationary.py builds Evaluations, so it must not be imported here
    from mfglearn.core.flow import Flow
    from mfglearn.core.stationary import StationaryFlow, StationaryMDP
    from mfglearn.core.value import FrozenMDP


class Evaluation:
    """Everything known about a policy against its own mean field.

    Attributes:
        policy: the evaluated policy ``(H, S, A)``.
        flow: the policy's mean-field flow (a :class:`~mfglearn.core.flow.Flow`, or on a discounted
            game a :class:`~mfglearn.core.stationary.StationaryFlow` whose ``mu`` is ``(S,)``).
        mdp: the agent's MDP against that flow (finite horizon or stationary); ``None`` in the summary a
            batched solve leaves each member.
        value: ``J(pi, mu^pi)`` (``(B,)`` tensors on a batch of games).
        best_value: ``max_pi' J(pi', mu^pi)``.
        V, Q: the policy's value ``(H+1, S)`` and action value ``(H, S, A)``.
        V_best, Q_best, best_policy: the best response's. ``Q_best`` and ``best_policy`` may be given as
            functions that compute them: they are then built on first use (mirror descent needs neither).
    """

    def __init__(
        self,
        policy: torch.Tensor,
        flow: Flow | StationaryFlow,
        mdp: FrozenMDP | StationaryMDP | None,
        value: float | torch.Tensor,
        best_value: float | torch.Tensor,
        V: torch.Tensor,
        Q: torch.Tensor,
        V_best: torch.Tensor,
        Q_best: torch.Tensor | Callable[[], torch.Tensor],
        best_policy: torch.Tensor | Callable[[], torch.Tensor],
    ):
        self.policy, self.flow, self.mdp = policy, flow, mdp
        self.value, self.best_value = value, best_value
        self.V, self.Q, self.V_best = V, Q, V_best
        self._Q_best, self._best_policy = Q_best, best_policy

    @property
    def Q_best(self) -> torch.Tensor:
        if callable(self._Q_best) and not isinstance(self._Q_best, torch.Tensor):
            self._Q_best = self._Q_best()
        return self._Q_best

    def release(self) -> None:
        """Drop the ``(H, S, A)`` tensors (``Q``, ``Q_best``, the MDP's rewards, the best policy), keeping the
        policy, its flow and the values: what a solver still reads of its previous iterate once it has
        taken its step, so that a large game never holds two iterations' worth of action values."""
        self.Q = self._Q_best = self._best_policy = self.mdp = None

    @property
    def best_policy(self) -> torch.Tensor:
        if callable(self._best_policy) and not isinstance(self._best_policy, torch.Tensor):
            self._best_policy = self._best_policy()
        return self._best_policy

    @property
    def exploitability(self) -> float | torch.Tensor:
        return self.best_value - self.value

    def __repr__(self) -> str:
        return f"Evaluation(value={self.value}, best_value={self.best_value}, policy shape {tuple(self.policy.shape)})"
