"""A batch of finite-horizon games of one structure, solved as one tensor program.

:class:`GameBatch` stands where a :class:`~mfglearn.model.finite.FiniteMFG` stands in the flow,
value and metric primitives (``mfglearn.core``), with a batch axis second: policies are
``(H, B, S, A)``, flows ``(H+1, B, S)``, rewards ``(H, B, S, A)``, the initial distributions
``(B, S)``. Time stays first so that the primitives' per-step indexing (``pi[t]``, ``mu[t]``) is
unchanged and every step handles all ``B`` members at once.

Members may be the same game (a sweep over hyperparameters, seeds or initial policies) or
different games of one structure: the same ``S``, ``A``, horizon, mean-field kind and legal
actions, differing in parameters, rewards, kernels or initial distributions. Callables are
called once per distinct game with that game's members stacked (a ``batched_reward`` reward
receives ``H * n`` mean fields in one call); kernels shared by the members are used as they are,
others are stacked (:func:`~mfglearn.model.kernels.stack_kernels`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import (
    DENSE_STACK_MAX,
    BatchDenseKernel,
    BatchSparseKernel,
    Kernel,
    stack_kernels,
)


def batch_incompatibility(games: Sequence) -> str | None:
    """Why ``games`` cannot be one :class:`GameBatch` (``None`` if they can)."""
    if not games:
        return "the batch is empty"
    g0 = games[0]
    distinct = list({id(g): g for g in games}.values())  # a sweep repeats one game object B times
    for g in distinct:
        if not isinstance(g, FiniteMFG):
            return f"{type(g).__name__} is not a FiniteMFG"
        if not g.is_finite_horizon:
            return f"{g.name!r} is discounted (batches are finite-horizon games)"
        if g.populations is not None:
            return f"{g.name!r} has several populations"
        for attr in ("n_states", "n_actions", "horizon", "mean_field", "dtype", "device"):
            if getattr(g, attr) != getattr(g0, attr):
                return f"{g.name!r} and {g0.name!r} differ in {attr} ({getattr(g, attr)} vs {getattr(g0, attr)})"
        if (g.legal is None) != (g0.legal is None) or (g.legal is not None and not torch.equal(g.legal, g0.legal)):
            return f"{g.name!r} and {g0.name!r} have different legal actions"
    dependent = any(g.transition_depends_on_mean_field for g in distinct)
    if dependent and len(distinct) > 1 and len(games) * g0.S * g0.A * g0.S > DENSE_STACK_MAX:
        return "different games with mean-field-dependent kernels stack as dense kernels, too large here"
    return None


class GameBatch:
    """``B`` finite-horizon games of one structure (see the module docstring for the layout).

    Args:
        games: the members, in order; the same object may appear several times.

    Raises :class:`~mfglearn.errors.ValidationError` naming the difference when the games do not
    share a structure (:func:`batch_incompatibility`).
    """

    def __init__(self, games: Sequence[FiniteMFG]):
        games = list(games)
        why = batch_incompatibility(games)
        if why is not None:
            raise ValidationError(f"these games cannot be solved as one batch: {why}")
        g0 = games[0]
        self.games = games
        self.B = len(games)
        self.n_states, self.n_actions, self.horizon = g0.n_states, g0.n_actions, g0.horizon
        self.mean_field, self.dtype, self.device, self.legal = g0.mean_field, g0.dtype, g0.device, g0.legal
        self.gamma = None
        self.populations = None
        self.layout = g0.layout
        self.name = g0.name if len({g.name for g in games}) == 1 else f"batch of {self.B} games"
        # distinct games and their member positions: each callable runs once on its members
        order: dict[int, list[int]] = {}
        for i, g in enumerate(games):
            order.setdefault(id(g), []).append(i)
        self._groups = [(games[ix[0]], torch.tensor(ix, device=g0.device)) for ix in order.values()]
        self._whole = len(self._groups) == 1
        self.mu0 = torch.stack([g.mu0 for g in games])
        self._static_kernel: Kernel | None = None
        if not any(g.transition_depends_on_mean_field for g in games):
            # kept in the members' own format: a dense copy of a small sparse kernel pulls a batch ~6x faster,
            # but its round-off differs, which flips exact ties between greedy actions (beach bar, fictitious
            # play): every member must do the arithmetic of its own solve
            self._static_kernel = stack_kernels([g.kernel_at(0) for g in games])

    # -------------------------------------------------------------- FiniteMFG's face
    S = property(lambda self: self.n_states)
    A = property(lambda self: self.n_actions)
    H = property(lambda self: int(self.horizon))
    kind = "finite_horizon"
    is_finite_horizon = True
    n_populations = 1

    @property
    def transition_depends_on_mean_field(self) -> bool:
        return self._static_kernel is None

    def return_weights(self, mu: torch.Tensor) -> torch.Tensor:
        """``mu`` (``(B, S)``): one population per member."""
        return mu

    def uniform_policy(self) -> torch.Tensor:
        """The uniform policy over legal actions for every member: ``(H, B, S, A)``."""
        pi = self.games[0].uniform_policy()
        return pi.unsqueeze(1).expand(self.H, self.B, self.S, self.A).clone()

    def kernel_at(self, t: int, m: torch.Tensor | None = None) -> Kernel:
        """The kernel at time ``t`` for the members' mean fields ``m`` (``(B, S)`` or ``(B, S, A)``)."""
        if self._static_kernel is not None:
            return self._static_kernel
        if self._whole:
            return self.games[0].kernels_at(t, m)
        P = torch.zeros(self.B, self.S, self.A, self.S, dtype=self.dtype, device=self.device)
        for g, idx in self._groups:
            P[idx] = _dense_rows(g.kernels_at(t, m[idx]), len(idx))
        return BatchDenseKernel(P)

    def rewards_along(self, ms: torch.Tensor, ts: torch.Tensor | None = None) -> torch.Tensor:
        """Rewards ``(T, B, S, A)`` for the members' mean fields ``ms`` (``(T, B, S)`` or ``(T, B, S, A)``)."""
        T = ms.shape[0]
        ts = torch.arange(T, device=ms.device) if ts is None else ts
        out = None if self._whole else torch.empty(T, self.B, self.S, self.A, dtype=self.dtype, device=self.device)
        for g, idx in self._groups:
            sub = ms if self._whole else ms[:, idx]
            n = sub.shape[1]
            # T * n mean fields in one call: the reward contract is elementwise over the leading axis
            r = g.rewards_along(sub.reshape(T * n, *sub.shape[2:]), ts.repeat_interleave(n))
            r = r.reshape(T, n, self.S, self.A)
            if self._whole:
                return r
            out[:, idx] = r
        return out

    def terminal_at(self, m: torch.Tensor) -> torch.Tensor:
        """Terminal rewards ``(B, S)`` for the members' final distributions ``m`` (``(B, S)``)."""
        out = torch.empty(self.B, self.S, dtype=self.dtype, device=self.device)
        for g, idx in self._groups:
            if callable(g.terminal_reward) and not isinstance(g.terminal_reward, torch.Tensor):
                out[idx] = torch.stack([g.terminal_at(x) for x in m[idx]])
            else:
                out[idx] = g.terminal_at(None)
        return out

    def member(self, b: int) -> FiniteMFG:
        """The ``b``-th member game."""
        return self.games[b]

    def __repr__(self) -> str:
        return f"GameBatch(B={self.B}, name={self.name!r}, S={self.S}, A={self.A}, horizon={self.horizon})"


def _dense_rows(k: Kernel, n: int) -> torch.Tensor:
    """``(n, S, A, S)`` dense rows of a member kernel, a batch kernel over ``n`` members, or a shared one."""
    if isinstance(k, BatchDenseKernel):
        return k.P
    if isinstance(k, BatchSparseKernel):
        out = torch.zeros(n, k.n_states, k.n_actions, k.n_states, dtype=k.prob.dtype, device=k.prob.device)
        return out.scatter_add_(3, k.index, k.prob)
    return k.dense().expand(n, *k.dense().shape)
