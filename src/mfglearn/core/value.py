"""Backward induction on the MDP a representative agent faces against a fixed flow.

Given a :class:`~mfglearn.core.flow.Flow`, the agent's problem is an ordinary
finite-horizon MDP: :func:`freeze` evaluates its rewards once per step; the
functions below then run ``H`` vectorised Bellman backups (one per step, each a
gather or scatter over all states and actions; no loop over states).

Conventions: ``V`` has shape ``(H+1, S)`` with ``V[H]`` the terminal reward,
``Q`` has shape ``(H, S, A)``, ``Q[t] = r_t + pull_t(V[t+1])``. On a batch of games
(:class:`~mfglearn.model.batch.GameBatch`) every tensor has a batch axis after time:
``V`` ``(H+1, B, S)``, ``Q`` ``(H, B, S, A)``, returns ``(B,)``.
"""

from __future__ import annotations

import math

import torch

from mfglearn._common.memory import LARGE_TENSOR
from mfglearn.core.flow import Flow
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import SHORT_SUM_IN_ORDER, Kernel
from mfglearn.model.layout import empty, is_action_major, prefers_action_major, to_action_major


class FrozenMDP:
    """The representative agent's MDP against a fixed mean-field flow.

    Attributes:
        reward: ``(H, S, A)`` rewards. On a large game with ``separable_reward`` they are kept as
            ``state_reward`` ``(H, S)`` plus ``action_cost`` ``(S, A)`` (a fifth of the memory, and no
            ``(H, S, A)`` tensor to build and validate every iteration); ``reward`` then builds the full
            tensor on first use, for the consumers that need it (the backward passes do not).
        kernels: ``H`` transition kernels.
        terminal: ``(S,)`` terminal reward.
        legal: ``(S, A)`` legal-action mask or ``None``.
        mu0: ``(S,)`` initial distribution (to turn values into a scalar return).
        state_reward, action_cost: the separable form, or ``None``.
    """

    def __init__(
        self,
        reward: torch.Tensor | None,
        kernels: list[Kernel],
        terminal: torch.Tensor,
        legal: torch.Tensor | None,
        mu0: torch.Tensor,
        *,
        state_reward: torch.Tensor | None = None,
        action_cost: torch.Tensor | None = None,
    ):
        if (reward is None) == (state_reward is None) or (state_reward is None) != (action_cost is None):
            raise ValueError("give either reward, or state_reward and action_cost")
        self._reward = reward
        # the H per-step rewards as views from one unbind: backup reads one per step (an index costs ~1.5 us)
        self._reward_steps = None if reward is None else reward.unbind(0)
        self.kernels, self.terminal, self.legal, self.mu0 = kernels, terminal, legal, mu0
        self.state_reward, self.action_cost = state_reward, action_cost

    @property
    def separable(self) -> bool:
        return self.state_reward is not None

    @property
    def reward(self) -> torch.Tensor:
        if self._reward is None:
            r = self.state_reward.unsqueeze(-1) + self.action_cost
            if prefers_action_major(self.kernels[0]):
                r = to_action_major(r)
            self._reward = r
        return self._reward

    @property
    def H(self) -> int:
        return (self.state_reward if self.separable else self._reward).shape[0]

    def _like(self) -> torch.Tensor:
        """A tensor with the dtype and device of the rewards, whose shape ends in ``(S, A)`` after time."""
        return self.action_cost if self.separable else self._reward[0]

    def q_shape(self) -> tuple[int, ...]:
        """The shape ``(H, ..., S, A)`` of action values."""
        if self.separable:
            return (self.H, *self.state_reward.shape[1:], self.action_cost.shape[-1])
        return tuple(self._reward.shape)

    def empty_q(self, lead: tuple[int, ...] = ()) -> torch.Tensor:
        """An uninitialised ``(*lead, H, ..., S, A)`` action-value tensor in the kernel's layout."""
        if not self.separable and not lead:
            return torch.empty_like(self._reward)
        like = self._like()
        major = prefers_action_major(self.kernels[0]) if self.separable else is_action_major(self._reward)
        return empty((*lead, *self.q_shape()), action_major=major, dtype=like.dtype, device=like.device)

    def empty_v(self, lead: tuple[int, ...] = ()) -> torch.Tensor:
        """An uninitialised ``(*lead, H+1, ..., S)`` value tensor."""
        like = self._like()
        return torch.empty(*lead, self.H + 1, *self.q_shape()[1:-1], dtype=like.dtype, device=like.device)

    def backup(self, t: int, v_next: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """``Q_t = r_t + pull_t(v_next)`` ``(..., S, A)`` from next values ``(..., S)``, into ``out`` if given
        (a kernel that can pull into it, the stencil's, then writes no temporary)."""
        k = self.kernels[t]
        if out is not None and getattr(k, "pulls_into", False):
            pulled = k.pull(v_next, out=out)
        else:
            pulled = k.pull(v_next)
        if not self.separable:
            return torch.add(pulled, self._reward_steps[t], out=out)
        r, cost = self.state_reward[t], self.action_cost
        if not (is_action_major(pulled) and is_action_major(cost)):
            return torch.add(pulled, r.unsqueeze(-1), out=out).add_(cost)
        q = pulled if out is None or out is pulled else out.copy_(pulled)
        for a in range(q.shape[-1]):  # plane by plane: contiguous adds (broadcasting r over planes ran 2x slower)
            q[..., a].add_(r).add_(cost[..., a])
        return q


def freeze(game: FiniteMFG, flow: Flow) -> FrozenMDP:
    """Evaluate ``game``'s rewards along ``flow``: the MDP faced by a deviating agent."""
    H = game.H
    ms = flow.sa if game.mean_field == "state_action" else flow.mu[:H]
    terminal = game.terminal_at(flow.mu[H])
    mu0 = game.return_weights(game.mu0)
    if _keeps_separable(game, ms):
        return FrozenMDP(
            None,
            flow.kernels,
            terminal,
            game.legal,
            mu0,
            state_reward=game.state_rewards_along(ms),
            action_cost=_cost_layout(game, flow.kernels[0]),
        )
    reward = game.rewards_along(ms)
    if prefers_action_major(flow.kernels[0]) and reward.dim() >= 3:
        reward = to_action_major(reward)  # the stencil's layout (mfglearn.model.layout)
    elif reward.numel() >= _CHAIN_MIN_ELEMENTS and not reward.is_contiguous():
        # a state-only reward arrives broadcast over actions (stride 0): every backward step adds it, and
        # adding a stride-0 operand ran ~6x slower than one copy here plus contiguous adds
        reward = reward.contiguous()
    return FrozenMDP(reward, flow.kernels, terminal, game.legal, mu0)


def _cost_layout(game: FiniteMFG, kernel: Kernel) -> torch.Tensor:
    """The game's action cost ``(S, A)`` in the kernel's layout (kept on the game: every freeze reuses it);
    adding a row-major cost into an action-major ``Q`` ran at a fraction of the contiguous add's speed."""
    cost = game.action_cost()
    if not prefers_action_major(kernel) or is_action_major(cost):
        return cost
    cached = game.__dict__.get("_action_cost_action_major")
    if cached is None or cached.device != cost.device or cached.dtype != cost.dtype:
        cached = game.__dict__["_action_cost_action_major"] = to_action_major(cost)
    return cached


def _keeps_separable(game: FiniteMFG, ms: torch.Tensor) -> bool:
    # only large games: on small ones the separate cost is one more operation per backward step (dispatch)
    return (
        getattr(game, "separable_reward", False)  # a GameBatch has none: its members may differ
        and ms.dim() == 2
        and game.mean_field == "state"
        and game.H * game.S * game.A >= SEPARABLE_MIN_ELEMENTS
    )


SEPARABLE_MIN_ELEMENTS = LARGE_TENSOR  # the size from which solves keep freed memory: one notion of "large"


def _mask(q: torch.Tensor, legal: torch.Tensor | None) -> torch.Tensor:
    if legal is None:
        return q
    return q.clone().masked_fill_(~legal, float("-inf"))  # clone keeps an action-major layout; masked_fill does not


# Torch's CPU max over a short innermost axis (A = 3..5 actions) runs at a fraction
# of memory bandwidth; on large tensors an elementwise chain over the action columns
# is ~3x faster. Small games keep the single call (fewer ops). (An argmax chain was
# slower than the builtin: strided compare-and-select does not vectorise.)
_CHAIN_MIN_ELEMENTS = 1 << 16
_CHAIN_MAX_ACTIONS = 8


def _use_chain(q: torch.Tensor) -> bool:
    return q.numel() >= _CHAIN_MIN_ELEMENTS and q.shape[-1] <= _CHAIN_MAX_ACTIONS and q.device.type == "cpu"


def action_max(q: torch.Tensor, legal: torch.Tensor | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """``max_a q[..., a]`` over legal actions."""
    q = _mask(q, legal)
    if not _use_chain(q):
        return torch.amax(q, -1, out=out) if out is not None else q.amax(-1)
    m = torch.maximum(q[..., 0], q[..., 1], out=out) if q.shape[-1] > 1 else q[..., 0].clone()
    for a in range(2, q.shape[-1]):
        torch.maximum(m, q[..., a], out=m)
    return m


def action_argmax(q: torch.Tensor) -> torch.Tensor:
    """First maximising action index of ``q[..., a]`` (ties to the lowest index, as OpenSpiel)."""
    return q.argmax(-1)


def _planewise(q: torch.Tensor) -> bool:
    # reductions over the actions of a large action-major tensor: adds of contiguous planes (torch's
    # reduction over the strided action axis ran 3-5x slower on a million states)
    return is_action_major(q) and _use_chain(q)


# Torch's CPU sum over a short last axis costs ~15 ns per output row (a reduction's setup per row): on a
# batch's (H, B, S, A) tensors with 2 or 3 entries per row it ran 3x (768 rows) to 25x (65536 rows) slower
# than adding the columns. Up to 4 entries torch adds them in order, so the columns' sum has the same bits
# (tests/core/test_short_sums.py); from 5 it adds in another order, and keeps its own sum.
_SHORT_SUM_MAX = SHORT_SUM_IN_ORDER
_SHORT_SUM_MIN_ROWS = 256  # below, the column adds' own dispatch costs more than the sum's rows


def _short(x: torch.Tensor) -> bool:
    n = x.shape[-1] if x.dim() else 0
    return 2 <= n <= _SHORT_SUM_MAX and x.numel() >= n * _SHORT_SUM_MIN_ROWS and x.device.type == "cpu"


def _add_columns(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``x[..., 0] + x[..., 1] + ...`` in order (at least two columns), into ``out`` if given."""
    acc = torch.add(x[..., 0], x[..., 1], out=out)
    for a in range(2, x.shape[-1]):
        acc.add_(x[..., a])
    return acc


def sum_last(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``x.sum(-1)`` ``(...)`` (into ``out`` if given), the same bits; many short rows are summed by adding
    their columns."""
    if _short(x):
        return _add_columns(x, out)
    return torch.sum(x, -1, out=out) if out is not None else x.sum(-1)


def action_sum(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``sum_a x[..., a]`` ``(...)``, plane by plane on large action-major tensors."""
    return _add_columns(x, out) if _planewise(x) else sum_last(x, out=out)


def action_dot(pi: torch.Tensor, q: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``sum_a pi[..., a] q[..., a]`` ``(...)``; on large action-major tensors a multiply-add chain over the
    action planes (no ``(..., S, A)`` temporary, contiguous passes)."""
    if not _planewise(q):
        return sum_last(pi * q, out=out)
    acc = torch.mul(pi[..., 0], q[..., 0], out=out)
    for a in range(1, q.shape[-1]):
        acc.addcmul_(pi[..., a], q[..., a])
    return acc


def first_maximiser(q: torch.Tensor, best: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """The lowest action ``a`` with ``q[..., a] == best`` (``best`` the max over actions), ``(...)``, as
    ``uint8`` up to 256 actions: ``argmax``'s index, from passes over the action columns (torch's argmax over
    a strided action axis ran ~30x slower than these passes on a million states)."""
    if out is None:
        out = torch.empty(best.shape, dtype=torch.uint8 if q.shape[-1] <= 256 else torch.long, device=q.device)
    # the index is the number of leading actions below the maximum: a sum of running products of
    # 0/1 comparisons (float comparisons and products ran ~10x faster here than masked_fill_ on bytes)
    run = torch.lt(q[..., 0], best, out=torch.empty(best.shape, dtype=q.dtype, device=q.device))
    count = run.clone()
    below = torch.empty_like(run)
    for a in range(1, q.shape[-1] - 1):
        run.mul_(torch.lt(q[..., a], best, out=below))
        count.add_(run)
    return out.copy_(count)


def one_hot(idx: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The deterministic policy ``(..., S, A)`` playing action ``idx`` ``(..., S)``, in ``like``'s dtype and layout."""
    A = like.shape[-1]
    out = empty(like.shape, action_major=is_action_major(like), dtype=like.dtype, device=like.device)
    for a in range(A):
        torch.eq(idx, a, out=out[..., a])
    return out


def _indexed(q: torch.Tensor) -> bool:
    # the greedy policy from per-step indices: on action-major (stencil) tensors, where argmax is slowest
    return is_action_major(q) and q.shape[-1] <= 256


def evaluate_policy(mdp: FrozenMDP, pi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Value ``V`` ``(H+1, S)`` and action value ``Q`` ``(H, S, A)`` of policy ``pi`` ``(H, S, A)``."""
    H = mdp.H
    V, Q = mdp.empty_v(), mdp.empty_q()
    V[H] = mdp.terminal
    for t in range(H - 1, -1, -1):
        mdp.backup(t, V[t + 1], out=Q[t])
        # 0 * (-inf) guards are unnecessary: Q is finite for every action
        action_dot(pi[t], Q[t], out=V[t])
    return V, Q


def best_response(mdp: FrozenMDP) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Optimal ``V`` ``(H+1, S)``, ``Q`` ``(H, S, A)`` and a deterministic optimal policy ``(H, S, A)``.

    Ties are broken towards the lowest action index (as OpenSpiel's greedy policy).
    """
    H = mdp.H
    V, Q = mdp.empty_v(), mdp.empty_q()
    V[H] = mdp.terminal
    idx = torch.empty(V.shape[0] - 1, *V.shape[1:], dtype=torch.uint8, device=V.device) if _indexed(Q) else None
    for t in range(H - 1, -1, -1):
        mdp.backup(t, V[t + 1], out=Q[t])
        action_max(Q[t], mdp.legal, out=V[t])
        if idx is not None:  # while Q[t] is fresh in cache: the greedy policy never re-reads Q
            first_maximiser(_mask(Q[t], mdp.legal), V[t], out=idx[t])
    return V, Q, (one_hot(idx, Q) if idx is not None else greedy(Q, mdp.legal))


def evaluate_and_best_respond(
    mdp: FrozenMDP, pi: torch.Tensor, *, lazy_best_policy: bool = False, keep_best_q: bool | None = None
):
    """:func:`evaluate_policy` and :func:`best_response` in one backward pass (one pull per step).

    Returns ``V, Q, V_best, Q_best, best_policy`` with the shapes of those functions; with
    ``lazy_best_policy`` the last is a function that builds the greedy policy when called. Without
    ``keep_best_q`` (by default on large games: ``H S A >= 2^20``) the best response's ``Q`` is not kept
    and ``Q_best`` is a function that recomputes it from ``V_best`` (one more pull per step, the same
    numbers): mirror descent needs only its value, and the solve holds one ``(H, S, A)`` tensor less.
    """
    H = mdp.H
    if keep_best_q is None:
        keep_best_q = math.prod(mdp.q_shape()) < SEPARABLE_MIN_ELEMENTS
    V2 = mdp.empty_v((2,))
    V2[:, H] = mdp.terminal
    if not keep_best_q:
        Q = mdp.empty_q()
        qb = torch.empty_like(Q[0])  # the best response's Q_t, one step at a time (same layout as Q)
        for t in range(H - 1, -1, -1):
            q = mdp.backup(t, V2[0, t + 1], out=Q[t])
            mdp.backup(t, V2[1, t + 1], out=qb)
            action_dot(pi[t], q, out=V2[0, t])
            action_max(qb, mdp.legal, out=V2[1, t])
        Vb = V2[1]
        q_best = _CachedQ(mdp, Vb)
        br = (lambda: greedy(q_best(), mdp.legal)) if lazy_best_policy else greedy(q_best(), mdp.legal)
        return V2[0], Q, Vb, q_best, br
    # the pair axis first: the returned V, Q, V_best, Q_best are then contiguous (elementwise work on a
    # strided (H, 2, ...)[:, 0] view ran ~6x slower than on contiguous tensors of a batch's size)
    Q2 = mdp.empty_q((2,))
    # the per-step views made in a few unbind calls: on a small game each Python-level index costs about
    # as much as the arithmetic of a step
    v_pair, q_pair, pis = V2.unbind(1), Q2.unbind(1), pi.unbind(0)
    v_eval, v_best = V2[0].unbind(0), V2[1].unbind(0)
    for t in range(H - 1, -1, -1):
        q_eval, q_best = mdp.backup(t, v_pair[t + 1], out=q_pair[t]).unbind(0)
        sum_last(pis[t] * q_eval, out=v_eval[t])
        action_max(q_best, mdp.legal, out=v_best[t])
    Qb = Q2[1]
    br = (lambda: greedy(Qb, mdp.legal)) if lazy_best_policy else greedy(Qb, mdp.legal)
    return V2[0], Q2[0], V2[1], Qb, br


class _CachedQ:
    """``Q_best`` recomputed from ``V_best`` on first call (``Q_t = r_t + pull_t(V_{t+1})``), then kept."""

    def __init__(self, mdp: FrozenMDP, V: torch.Tensor):
        self.mdp, self.V, self.Q = mdp, V, None

    def __call__(self) -> torch.Tensor:
        if self.Q is None:
            mdp = self.mdp
            self.Q = mdp.empty_q()
            for t in range(mdp.H - 1, -1, -1):
                mdp.backup(t, self.V[t + 1], out=self.Q[t])
        return self.Q


def soft_best_response(mdp: FrozenMDP, temperature: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Entropy-regularised optimum: ``V[t] = tau * logsumexp(Q[t] / tau)``, policy ``softmax(Q / tau)``.

    Returns the soft ``V`` ``(H+1, S)``, soft ``Q`` ``(H, S, A)`` and the optimal
    regularised policy ``(H, S, A)``. As ``tau -> 0`` this tends to :func:`best_response`.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    H = mdp.H
    V, Q = mdp.empty_v(), mdp.empty_q()
    V[H] = mdp.terminal
    for t in range(H - 1, -1, -1):
        mdp.backup(t, V[t + 1], out=Q[t])
        V[t] = temperature * torch.logsumexp(_mask(Q[t], mdp.legal) / temperature, dim=-1)
    return V, Q, softmax_policy(Q, temperature, mdp.legal)


def greedy(Q: torch.Tensor, legal: torch.Tensor | None = None) -> torch.Tensor:
    """One-hot policy on the first maximising legal action of ``Q`` (``(..., S, A)``)."""
    q = _mask(Q, legal)
    if is_action_major(q):
        return _greedy_planes(q)
    idx = action_argmax(q).unsqueeze(-1)
    return (torch.arange(Q.shape[-1], device=Q.device) == idx).to(Q.dtype)


def _greedy_planes(q: torch.Tensor) -> torch.Tensor:
    """:func:`greedy` on an action-major ``q``, one action plane at a time, into an action-major policy.

    The maximum comes from the plane-wise chain of :func:`action_max`; the index is the lowest action
    equal to it (as ``argmax``), found by marking the planes from the last to the first. Torch's argmax over
    the strided action axis ran ~30x slower than these passes on a million states."""
    best = action_max(q) if _use_chain(q) else q.amax(-1)
    return one_hot(first_maximiser(q, best), q)


def argmax_e(q: torch.Tensor, legal: torch.Tensor | None = None, tol: float = 1e-12) -> torch.Tensor:
    """Uniform over the maximisers of ``q`` (``(..., A)``) within relative ``tol`` (MFGLib's greedy policy)."""
    qm = q if legal is None else q.masked_fill(~legal, float("-inf"))
    best = qm.amax(-1, keepdim=True)
    mask = (qm >= best - tol * (1 + best.abs())).to(q.dtype)
    return mask / mask.sum(-1, keepdim=True)


def softmax_policy(Q: torch.Tensor, temperature: float, legal: torch.Tensor | None = None) -> torch.Tensor:
    """Boltzmann policy ``softmax(Q / temperature)`` over legal actions.

    Written out (max, exp, normalise) rather than ``torch.softmax``: over the few actions of a game's last
    axis torch's kernel ran 3-4x slower (measured on 3 thousand and on 3 million entries)."""
    z = _mask(Q, legal)
    if not (isinstance(temperature, float | int) and temperature == 1):  # x / 1 is x: skip a pass (mirror descent)
        z = z / temperature
    if _planewise(z):  # the same steps plane by plane: contiguous passes, no broadcast over strided actions
        m, e = action_max(z), torch.empty_like(z)
        for a in range(z.shape[-1]):
            torch.sub(z[..., a], m, out=e[..., a])
        total = action_sum(e.exp_())
        for a in range(z.shape[-1]):
            e[..., a].div_(total)
        return e
    e = (z - z.amax(-1, keepdim=True)).exp_()
    return e.div_(sum_last(e).unsqueeze(-1))


def policy_return(mdp: FrozenMDP, V: torch.Tensor) -> torch.Tensor:
    """Expected return ``sum_s mu0(s) V[0, s]`` (a scalar; ``(B,)`` on a batch of games)."""
    return sum_last(mdp.mu0 * V[0])
