"""Online mirror descent and Boltzmann policy iteration."""

from __future__ import annotations

import torch

from mfglearn.algorithm import Alias
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.value import softmax_policy
from mfglearn.solvers.base import Solver, check_positive


class MirrorDescent(Solver):
    """Online mirror descent (Perolat et al. 2022), textbook form.

    ``y_{k+1} = y_k + learning_rate * Q^{pi_k}_{mu^{pi_k}}``, ``pi_{k+1} = softmax(y_{k+1})``,
    from ``y_0 = log(pi_0)`` (the initial policy's logits: ``0`` up to a constant for the default
    uniform policy). Bench-MFG's variant (a temperature, ``y_0 = 0`` whatever ``pi_0``) is
    ``benchmfg_omd``. Equal to OpenSpiel's
    ``MunchausenMirrorDescent``; OpenSpiel's ``MirrorDescent`` differs from the 4th
    digit because it updates its cumulative table while evaluating. On discounted
    games ``Q`` is the stationary policy's discounted Q against its stationary mean field.

    Args:
        game: a finite-horizon or discounted game.
        learning_rate: step size (> 0). The stable step shrinks as Q-values grow with the horizon and the
            ``-log mu`` rewards of crowd games: 0.1 converges on four rooms at horizon 30 and oscillates at 40,
            0.05 fails on the 60-step maze. The default 0.03 lowers the exploitability on every game it was tried on
            (both mazes, both four rooms, beach bars, SIS, four_rooms_crowd, grid_poi);
            raise it where it is stable, for speed. OpenSpiel's and MFGLib's default, 1.0, oscillates on the
            crowd games (pass ``learning_rate=1.0`` for their runs).
    """

    name = "mirror_descent"
    game_kinds = frozenset({"finite_horizon", "discounted"})
    description = "online mirror descent: softmax of the sum of past Q-functions"
    batch_hyperparameters = {"learning_rate": "learning_rate"}
    _state_tensors = ("y",)

    def __init__(self, game, learning_rate: float = 0.03, **kw):
        super().__init__(game, **kw)
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.y = torch.log(self.policy.clamp_min(1e-300)).masked_fill_(
            self.policy == 0, 0.0
        )  # in place: keeps the layout

    @property
    def hyperparameters(self) -> dict:
        return {"learning_rate": self.learning_rate}

    def _update(self, ev: Evaluation):
        if self._large:  # in place, the same numbers: ev is released after this step (Solver._step)
            self.y.add_(ev.Q.mul_(self.learning_rate))
        else:
            self.y = self.y + self.learning_rate * ev.Q
        return softmax_policy(self.y, 1.0, self.game.legal), None

    def state_dict(self) -> dict:
        d = super().state_dict()
        if self._large and d["y"] is self.y:  # a snapshot: y is updated in place
            d["y"] = self.y.clone()
        return d

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        if self._large and self.y is d["y"]:  # never update the caller's tensor in place
            self.y = self.y.clone()


class BoltzmannPolicyIteration(Solver):
    """Boltzmann policy iteration: ``pi_{k+1} = softmax(Q^{pi_k}_{mu^{pi_k}} / temperature)``.

    OpenSpiel's ``BoltzmannPolicyIteration``: mirror descent that keeps only the
    latest Q-function. May cycle for small ``temperature``.

    Args:
        game: a finite-horizon game.
        temperature: softmax temperature (> 0; the deprecated ``learning_rate`` is its inverse). The default
            10 settles on every game it was tried on (crowd grids, beach bars, SIS), on the regularised
            equilibrium of that temperature (its exploitability is the regularisation's bias); at 1,
            OpenSpiel's default, it cycles on crowd games.
    """

    name = "boltzmann_policy_iteration"
    game_kinds = frozenset({"finite_horizon", "discounted"})
    aliases = {
        "learning_rate": Alias("temperature", convert=lambda x: 1.0 / float(x), note="temperature = 1 / learning_rate")
    }
    description = "Boltzmann policy iteration: softmax of the current policy's Q-function"
    batch_hyperparameters = {"temperature": "temperature"}

    def __init__(self, game, temperature: float = 10.0, **kw):
        super().__init__(game, **kw)
        self.temperature = check_positive("temperature", temperature)

    @property
    def hyperparameters(self) -> dict:
        return {"temperature": self.temperature}

    def _update(self, ev: Evaluation):
        return softmax_policy(ev.Q, self.temperature, self.game.legal), None
