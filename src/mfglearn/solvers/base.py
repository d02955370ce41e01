"""Base class of the exact-model tabular solvers (an :class:`~mfglearn.algorithm.Algorithm`).

Every solver is ``Solver(game, **typed_hyperparameters)``; ``solve(iterations)``
runs the contract's loop and returns a :class:`~mfglearn.result.Result`; ``step()`` runs one
iteration. After each iteration the current policy is evaluated against
its own mean field (exploitability, value, deltas); solvers reuse that evaluation
for their next update, so the metrics cost almost nothing extra.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from mfglearn._common.backend import resolve_device, set_threads
from mfglearn._common.checks import check_positive, check_unit_interval  # noqa: F401 (re-exported)
from mfglearn._common.memory import LARGE_TENSOR, keep_freed_memory, require_memory
from mfglearn.algorithm import Algorithm
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.flow import Flow
from mfglearn.core.metrics import evaluate, mean_field_delta_tensor, policy_delta_tensor
from mfglearn.core.policy import check_policy
from mfglearn.core.populations import population_report
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.result import Result


class Solver(Algorithm):
    """Base class of the exact-model iterative solvers on :class:`FiniteMFG` games.

    Subclasses implement :meth:`_update`, returning the next policy from the
    evaluation of the current one, and set ``name`` / ``description``.

    Args:
        game: the game to solve.
        initial_policy: starting policy (default: uniform over legal actions).
        device: where to compute (``"cpu"``, ``"cuda"``, ...); default: the game's device.
        threads: torch intra-op threads (default: ``MFGLEARN_THREADS`` or 1).
        check_memory: refuse up front a solve whose estimated peak memory exceeds what the device
            has free (``False`` to try anyway).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    game_kinds: ClassVar[frozenset[str]] = frozenset({"finite_horizon"})
    iteration_unit: ClassVar[str] = "one policy update followed by an exact evaluation of the new policy"
    watch_divergence: ClassVar[bool] = True
    # solve_batch: the hyperparameters that may differ between the members of one batch, mapped to the
    # attribute holding each (a number, replaced by a (B, 1, 1) tensor in the batch); ``None``: the
    # solver is not batched (its update is not written for a batch axis). The others must be equal.
    batch_hyperparameters: ClassVar[dict[str, str] | None] = None

    def __init__(
        self,
        game: FiniteMFG,
        *,
        initial_policy: torch.Tensor | None = None,
        device: str | torch.device | None = None,
        threads: int | None = None,
        check_memory: bool = True,
    ):
        if not isinstance(game, FiniteMFG):
            raise ValidationError(
                f"{type(self).__name__} solves FiniteMFG games; got {type(game).__name__}. "
                "Build one with mfglearn.make(game_id) or FiniteMFG(...)"
            )
        if game.kind not in self.game_kinds:
            if game.kind == "discounted":
                raise ValidationError(
                    f"solver {self.name!r} works on finite-horizon games; {game.name!r} is discounted. "
                    "mfglearn.list_solvers('discounted') lists the solvers for discounted games"
                )
            require_discounted(self.name, game)
        set_threads(threads)
        if device is not None and resolve_device(device) != game.device:
            game = game.with_device(device)
        super().__init__(game)
        if check_memory:
            self.require_memory()
        self._large = (game.H if game.is_finite_horizon else 1) * game.S * game.A >= LARGE_TENSOR
        if self._large:
            keep_freed_memory()  # large tensors, allocated afresh every step: reuse their memory
        # the uniform policy is valid by construction: only a given one is checked
        self.policy = game.uniform_policy() if initial_policy is None else check_policy(game, initial_policy).clone()
        self.history = {k: [] for k in HISTORY_KEYS}
        self._eval: Evaluation | None = None

    def require_memory(self) -> None:
        """Refuse up front a solve whose estimated peak memory exceeds what the device has free."""
        game = self.game
        # measured: the solvers' peak is about 15 times the policy tensor (Q, best responses, flows, rewards)
        n = (game.H if game.is_finite_horizon else 1) * game.S * game.A
        require_memory(
            15 * n * torch.finfo(game.dtype).bits / 8,
            f"solving {game.name!r} (S={game.S}, A={game.A}" + (f", H={game.H})" if game.is_finite_horizon else ")"),
            "make the game smaller (its size or horizon), or pass check_memory=False "
            "(--set solver.check_memory=false) to try anyway",
            game.device,
        )

    # ---------------------------------------------------------------- public API
    @property
    def hyperparameters(self) -> dict:
        """The solver's hyperparameters (for logs and results)."""
        return {}

    def evaluation(self) -> Evaluation:
        """The current policy's :class:`~mfglearn.core.evaluation.Evaluation` (cached)."""
        if self._eval is None or self._eval.mdp is None:  # none yet, or a batch's summary (solve_batch)
            self._eval = evaluate(self.game, self.policy, check=False)
        return self._eval

    def _step(self) -> dict:
        prev = self.evaluation()
        new_policy, new_flow = self._update(prev)
        if self._large:
            prev.release()  # only its policy and flow are read below: a large solve holds one iteration's Q
        self.policy = new_policy
        self._eval = ev = evaluate(self.game, new_policy, flow=new_flow, check=False)
        deltas = torch.stack(  # both read back in one host synchronisation
            [
                mean_field_delta_tensor(ev.flow.mu, prev.flow.mu),
                policy_delta_tensor(new_policy, prev.policy, ev.flow.mu),
            ]
        ).tolist()
        info = {
            "exploitability": ev.exploitability,
            "value": ev.value,
            "mean_field_delta": deltas[0],
            "policy_delta": deltas[1],
        }
        if self.game.populations is not None and self.game.n_populations > 1:
            rep = population_report(self.game, ev)  # E_p of every population (the total is their m_p-sum)
            info.update({f"exploitability[{n}]": float(e) for n, e in zip(rep.names, rep.exploitability, strict=True)})
        return info

    def result(self, stopped: str | None = None) -> Result:
        """Package the current state as a :class:`~mfglearn.result.Result`."""
        stopped = self.stopped if stopped is None else stopped
        ev = self._eval if self._eval is not None else self.evaluation()
        return Result(
            policy=self.policy,
            mean_field=ev.flow.mu,
            value=ev.value,
            history={k: list(v) for k, v in self.history.items()},
            solver=self.name,
            game=self.game.name,
            hyperparameters=self.hyperparameters,
            stopped=stopped,
            extra=self._result_extra()
            if self.iteration
            else {**self._result_extra(), "initial_exploitability": ev.exploitability},
        )

    def _result_extra(self) -> dict:
        """Solver-specific outputs added to :attr:`Result.extra`."""
        return {}

    # ------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything needed to resume: policy, iteration, history and solver-specific tensors."""
        d = super().state_dict()
        d["policy"] = self.policy.cpu()
        return d

    def load_state_dict(self, d: dict) -> None:
        """Restore a :meth:`state_dict` (same game and hyperparameters)."""
        super().load_state_dict(d)
        self.policy = d["policy"].to(device=self.game.device, dtype=self.game.dtype)
        self._eval = None

    # ------------------------------------------------------------- subclass API
    def _update(self, ev: Evaluation) -> tuple[torch.Tensor, Flow | None]:
        """Next policy (and its flow, if already computed) from the current policy's evaluation."""
        raise NotImplementedError


HISTORY_KEYS = ("iteration", "exploitability", "value", "mean_field_delta", "policy_delta", "seconds")


def require_discounted(name: str, game) -> None:
    """Raise unless ``game`` is discounted (the stationary learners and MF-TRPO need one)."""
    if game.is_finite_horizon:
        raise ValidationError(
            f"{name} solves discounted games (stationary, ergodic); {game.name!r} has a finite horizon. "
            "Build the game with gamma=..., e.g. mfglearn.make('four_rooms_crowd')"
        )
