"""Transition kernels P(s' | s, a) as linear operators.

A kernel is used in exactly two ways, both vectorised over all states and actions:

* ``push(m)``: forward (Kolmogorov) step. ``m[s, a]`` is a mass on state-action
  pairs; the result ``out[s'] = sum_{s,a} m[s, a] P(s'|s, a)``.
* ``pull(v)``: backward (Bellman) step. ``v[s']`` is a value on next states; the
  result ``out[s, a] = sum_{s'} P(s'|s, a) v[s']``.

Three storage formats cover the cases met in practice:

* :class:`SparseKernel`: ``B`` successors per pair, ``index[s, a, b]`` and
  ``prob[s, a, b]`` (``B = 1`` is a deterministic kernel).
* :class:`ComposedKernel`: a deterministic move ``move[s, a]`` followed by a
  state-only noise kernel ``noise_index[y, b]`` / ``noise_prob[y, b]``. Grid
  crowds are of this form; it stores ``S*A + 2*S*B`` numbers instead of ``2*S*A*B``.
* :class:`DenseKernel`: a full ``P[s, a, s']`` tensor, for tiny games only.

Batches of games (:mod:`mfglearn.model.batch`) use the same two operations with a batch axis:
a kernel shared by every member pushes ``(B, S, A)`` masses and pulls ``(..., B, S)`` values as
they are; members with kernels of their own use :class:`BatchSparseKernel` or
:class:`BatchDenseKernel` (``(B, S, A, K)`` successors or ``(B, S, A, S)`` rows, one per member).
"""

from __future__ import annotations

import warnings

import torch

from mfglearn._common.sampling import categorical
from mfglearn.errors import ShapeError, ValidationError

_TOL = 1e-6


class Kernel:
    """Base class: a transition kernel on ``n_states`` states and ``n_actions`` actions."""

    n_states: int
    n_actions: int

    def push(self, m: torch.Tensor) -> torch.Tensor:
        """Next-state mass ``(..., S)`` from state-action masses ``m`` of shape ``(..., S, A)``."""
        raise NotImplementedError

    def pull(self, v: torch.Tensor) -> torch.Tensor:
        """Expected next value ``(..., S, A)`` from next-state values ``v`` of shape ``(..., S)``."""
        raise NotImplementedError

    def push_policy(self, mu: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
        """Next-state mass ``(..., S)`` of a population ``mu`` ``(..., S)`` playing ``pi`` ``(..., S, A)``:
        ``push(mu[..., None] * pi)`` (the flow's step; a kernel may fuse the product into its push)."""
        return self.push(mu.unsqueeze(-1) * pi)

    def to_sparse(self) -> SparseKernel:
        """The same kernel as a :class:`SparseKernel` (``index``/``prob`` of shape ``(S, A, B)``)."""
        raise NotImplementedError

    def sample(self, s: torch.Tensor, a: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One next state per agent: ``s' ~ P(. | s, a)`` for states and actions ``(N,)`` (long), ``(N,)``.

        Through :meth:`to_sparse` (built once and kept); :class:`GridKernel` samples its stencil directly.
        """
        sp = self.__dict__.get("_sparse")
        if sp is None:
            sp = self.__dict__["_sparse"] = self.to_sparse()
        pick = categorical(sp.prob[s, a], generator)
        return sp.index[s, a].gather(-1, pick.unsqueeze(-1)).squeeze(-1)

    _DENSE_CACHE_MAX = 1 << 22  # kernels are immutable: small dense tensors are built once and kept

    def dense(self) -> torch.Tensor:
        """The full ``(S, A, S)`` transition tensor. Memory ``S*A*S``: tiny games only (do not modify it)."""
        cached = self.__dict__.get("_dense")
        if cached is not None:
            return cached
        sp = self.to_sparse()
        out = torch.zeros(self.n_states, self.n_actions, self.n_states, dtype=sp.prob.dtype, device=sp.prob.device)
        out.scatter_add_(2, sp.index, sp.prob)
        if out.numel() <= self._DENSE_CACHE_MAX:
            self._dense = out
        return out

    def policy_matrix(self, pi: torch.Tensor) -> torch.Tensor:
        """Sparse COO ``(S, S)`` matrix ``P_pi[s, s'] = sum_a pi[s, a] P(s'|s, a)``."""
        sp = self.to_sparse()
        S, A, B = sp.index.shape
        rows = torch.arange(S, device=sp.index.device).view(S, 1, 1).expand(S, A, B)
        vals = pi.unsqueeze(-1) * sp.prob
        mat = torch.sparse_coo_tensor(torch.stack([rows.reshape(-1), sp.index.reshape(-1)]), vals.reshape(-1), (S, S))
        return mat.coalesce()

    def check(self, name="transition") -> None:
        """Raise :class:`ValidationError` if any row is not a probability distribution (``name``: a string, or a
        callable building it, used in the message)."""
        sp = self.to_sparse()
        _check_index_prob(sp.index, sp.prob, self.n_states, name, "[s, a, b]")


def _check_index_prob(index: torch.Tensor | None, prob: torch.Tensor, n_states: int, name, axes: str) -> None:
    """Raise a clear error unless ``prob`` (with successor ``index``; ``None`` for dense rows) is a kernel.

    ``name`` is a string or a callable returning one (built only when there is an error to report).
    """
    if index is not None and index.shape != prob.shape:
        name = name() if callable(name) else name
        raise ShapeError(
            f"{name}: index shape {tuple(index.shape)} and prob shape {tuple(prob.shape)} differ; "
            "give one successor index per probability"
        )
    if not torch.is_floating_point(prob):
        raise ValidationError(f"{name}: probabilities must be a floating tensor, got {prob.dtype}")
    # The common, valid path: four extremes read back in one host sync (half the time of the elementwise
    # tests and .all()s, ~10 us on a small game's kernel, which mean-field-dependent games build every step).
    # A NaN or infinite entry makes its row's sum NaN or infinite, and amax/amin propagate NaN, so the
    # comparisons below fail on it; the detailed checks then name the entry.
    if prob.numel():
        extremes = [(prob.sum(-1) - 1).abs().amax(), prob.amin()]
        if index is not None and index.numel():
            extremes += [x.to(prob.dtype) for x in torch.aminmax(index)]
        dev, low, *span = torch.stack(extremes).tolist()
        if dev <= _TOL and low >= -_TOL and (not span or (span[0] >= 0 and span[1] < n_states)):
            return
    name = name() if callable(name) else name
    bad = ~torch.isfinite(prob)
    if bad.any():
        pos = tuple(int(i) for i in bad.nonzero()[0])
        raise ValidationError(f"{name}: probability{axes}={pos} is {prob[pos].item()}; all entries must be finite")
    neg = prob < -_TOL
    if neg.any():
        pos = tuple(int(i) for i in neg.nonzero()[0])
        raise ValidationError(
            f"{name}: probability{axes}={pos} is {prob[pos].item():.3g} < 0; probabilities must be >= 0"
        )
    if index is not None and index.numel() and (int(index.min()) < 0 or int(index.max()) >= n_states):
        bad_i = ((index < 0) | (index >= n_states)).nonzero()[0]
        pos = tuple(int(i) for i in bad_i)
        raise ValidationError(f"{name}: successor index{axes}={pos} is {int(index[pos])}, outside 0..{n_states - 1}")
    sums = prob.sum(-1)
    off = (sums - 1).abs() > _TOL
    if off.any():
        pos = tuple(int(i) for i in off.nonzero()[0])
        raise ValidationError(
            f"{name}: probabilities at {pos} sum to {sums[pos].item():.6g}, not 1; "
            "normalise each row (e.g. prob / prob.sum(-1, keepdim=True))"
        )


class SparseKernel(Kernel):
    """``B`` successors per state-action pair.

    Args:
        index: ``(S, A, B)`` integer tensor of successor states.
        prob: ``(S, A, B)`` probabilities, summing to 1 over ``b``.
    """

    def __init__(self, index: torch.Tensor, prob: torch.Tensor, n_states: int | None = None):
        if index.dim() == 2:  # deterministic (S, A)
            index, prob = index.unsqueeze(-1), prob.unsqueeze(-1) if prob.dim() == 2 else prob
        if index.dim() != 3:
            raise ShapeError(f"SparseKernel index must have shape (S, A, B), got {tuple(index.shape)}")
        self.index = index.long().contiguous()
        self.prob = prob.contiguous()
        self.n_states = int(n_states if n_states is not None else index.shape[0])
        self.n_actions = int(index.shape[1])
        if index.shape[0] != self.n_states:
            raise ShapeError(f"SparseKernel index has {index.shape[0]} source states but n_states={self.n_states}")
        self._flat_index = self.index.reshape(-1)

    @classmethod
    def deterministic(cls, next_state: torch.Tensor, dtype: torch.dtype = torch.float64) -> SparseKernel:
        """Kernel moving ``s`` to ``next_state[s, a]`` with probability one."""
        idx = next_state.long().unsqueeze(-1)
        return cls(idx, torch.ones(idx.shape, dtype=dtype, device=idx.device))

    def push(self, m: torch.Tensor) -> torch.Tensor:
        if _pushes_by_matrix(self, m):
            return _push_by_matrix(self, m)
        # one successor of probability 1 (a deterministic kernel): m * 1 is m, so skip the product
        unit = _successors(self, self.index, self.prob, -1)[1][0] is None
        w = m.unsqueeze(-1) if unit else m.unsqueeze(-1) * self.prob
        if m.dim() == 2:
            return torch.bincount(self._flat_index, w.reshape(-1), minlength=self.n_states)
        return _batched_bincount(self, "_flat_index", w, 3)

    def pull(self, v: torch.Tensor) -> torch.Tensor:
        if _pulls_by_matrix(self, v):
            return _pull_by_matrix(self, v)
        if not _per_successor(v, self.index, self.index.shape[-1]):
            return (v[..., self.index] * self.prob).sum(-1)
        return _pull_successors(v, *_successors(self, self.index, self.prob, -1))

    def to_sparse(self) -> SparseKernel:
        return self

    def to(self, device=None, dtype=None) -> SparseKernel:
        return SparseKernel(self.index.to(device), self.prob.to(device=device, dtype=dtype), self.n_states)


class ComposedKernel(Kernel):
    """A deterministic move followed by state-dependent noise.

    ``s --a--> y = move[s, a] --noise--> s' = noise_index[y, b]`` with probability
    ``noise_prob[y, b]``.

    Args:
        move: ``(S, A)`` integer tensor, the intermediate state after the action.
        noise_index: ``(S, B)`` integer tensor of successors of each intermediate state.
        noise_prob: ``(S, B)`` probabilities summing to 1 over ``b``.
    """

    def __init__(self, move: torch.Tensor, noise_index: torch.Tensor, noise_prob: torch.Tensor):
        if move.dim() != 2:
            raise ShapeError(f"ComposedKernel move must have shape (S, A), got {tuple(move.shape)}")
        if noise_index.dim() != 2 or noise_index.shape[0] != move.shape[0]:
            raise ShapeError(
                f"ComposedKernel noise_index must have shape (S, B) with S={move.shape[0]}, "
                f"got {tuple(noise_index.shape)}"
            )
        # contiguous storage: reductions over the successor axis then run in one fixed order
        self.move = move.long().contiguous()
        self.noise_index = noise_index.long().contiguous()
        self.noise_prob = noise_prob.contiguous()
        self.n_states = int(move.shape[0])
        self.n_actions = int(move.shape[1])
        self._flat_move = self.move.reshape(-1)
        self._flat_noise = self.noise_index.reshape(-1)

    def push(self, m: torch.Tensor) -> torch.Tensor:
        if m.dim() > 2:
            y = _batched_bincount(self, "_flat_move", m, 2)
            return _batched_bincount(self, "_flat_noise", y.unsqueeze(-1) * self.noise_prob, 2)
        y = torch.bincount(self._flat_move, m.reshape(-1), minlength=self.n_states)
        w = (y.unsqueeze(-1) * self.noise_prob).reshape(-1)
        return torch.bincount(self._flat_noise, w, minlength=self.n_states)

    def pull(self, v: torch.Tensor) -> torch.Tensor:
        if not _per_successor(v, self.noise_index, self.noise_index.shape[1]):
            w = (v[..., self.noise_index] * self.noise_prob).sum(-1)
        else:
            w = _pull_successors(v, *_successors(self, self.noise_index, self.noise_prob, 1))
        return w[..., self.move]

    def to_sparse(self) -> SparseKernel:
        return SparseKernel(self.noise_index[self.move], self.noise_prob[self.move], self.n_states)

    def check(self, name="transition") -> None:
        name = name() if callable(name) else name
        if int(self.move.min()) < 0 or int(self.move.max()) >= self.n_states:
            bad = ((self.move < 0) | (self.move >= self.n_states)).nonzero()[0]
            pos = tuple(int(i) for i in bad)
            raise ValidationError(f"{name}: move[s, a]={pos} is {int(self.move[pos])}, outside 0..{self.n_states - 1}")
        _check_index_prob(self.noise_index, self.noise_prob, self.n_states, f"{name} noise", "[y, b]")


DENSE_PUSH_COPY_MAX = 1 << 24  # entries of a static dense kernel up to which its push keeps a reordered copy


class DenseKernel(Kernel):
    """A full ``(S, A, S)`` transition tensor ``P[s, a, s']``."""

    def __init__(self, P: torch.Tensor):
        if P.dim() != 3 or P.shape[0] != P.shape[2]:
            raise ShapeError(f"dense transition must have shape (S, A, S), got {tuple(P.shape)}")
        self.P = P
        self.n_states = int(P.shape[0])
        self.n_actions = int(P.shape[1])

    # The products torch.einsum makes for "...sa,sat->...t" and "sat,...t->...sa" (the same bmm calls on the
    # same layouts, so the same bits: tests/model/test_kernels_einsum.py), without its equation handling,
    # which cost 2-4 us of ~9 per call on a small game; mean-field-dependent games build a kernel every step.
    def push(self, m: torch.Tensor) -> torch.Tensor:
        S, A, T = self.P.shape
        flat = m.transpose(-1, -2).reshape(1, -1, S * A)  # einsum contracts (a, s) with a outermost
        return torch.bmm(flat, self._push_matrix()).reshape(*m.shape[:-2], T)

    def _push_matrix(self) -> torch.Tensor:
        """``P`` as the ``(1, A S, S')`` matrix the push multiplies: a copy (the (a, s) order is not P's), kept
        on a game's static kernel (``_reused``), which pushes every step of every iteration
        (``benchmarks/bench_dense_static.py``); up to ``DENSE_PUSH_COPY_MAX`` entries, since the kept copy
        doubles the kernel's memory."""
        S, A, T = self.P.shape
        kept = self.__dict__.get("_push_copy")
        if kept is not None and kept[0] is self.P:
            return kept[1]
        flat = self.P.transpose(0, 1).reshape(1, S * A, T)
        if getattr(self, "_reused", False) and self.P.numel() <= DENSE_PUSH_COPY_MAX:
            self._push_copy = (self.P, flat)
        return flat

    def pull(self, v: torch.Tensor) -> torch.Tensor:
        if v.dim() == 1:
            return self.P @ v
        S, A, T = self.P.shape
        if A == 1:  # einsum drops the unit axis and takes another path
            return torch.einsum("sat,...t->...sa", self.P, v)
        out = torch.bmm(v.reshape(1, -1, T), self.P.reshape(1, S * A, T).transpose(1, 2))
        return out.reshape(*v.shape[:-1], S, A)

    def dense(self) -> torch.Tensor:
        return self.P

    def to_sparse(self) -> SparseKernel:
        S, A, _ = self.P.shape
        idx = torch.arange(S, device=self.P.device).expand(S, A, S)
        return SparseKernel(idx, self.P, S)

    def check(self, name="transition") -> None:
        _check_index_prob(None, self.P, self.n_states, name, "[s, a, s']")


def _successors(owner: Kernel, index: torch.Tensor, prob: torch.Tensor, axis: int):
    """Successor ``k`` of every row as a flat index and its probabilities (``[None]`` for one successor of
    probability 1), for :func:`_pull_successors`; built once per kernel and rebuilt if its tensors were
    replaced (a copy moved to another device)."""
    cached = owner.__dict__.get("_succ")
    if cached is None or cached[0] is not index or cached[1] is not prob:
        K = index.shape[axis]
        idx = [index.select(axis, k).reshape(-1) for k in range(K)]
        pr = [prob.select(axis, k).contiguous() for k in range(K)]
        if K == 1 and bool((prob == 1).all()):
            pr = [None]
        shape = index.select(axis, 0).shape
        cached = owner._succ = (index, prob, idx, pr, shape)
    return cached[2], cached[3], cached[4]


MATRIX_PUSH_MIN = 1 << 12  # entries of a game's static CPU kernel from which it pushes through a CSR matrix
MATRIX_PUSH_MAX = 1 << 22  # above, one game's push gains nothing and the matrix costs seconds and ~3x the index


def _pushes_by_matrix(k: SparseKernel, m: torch.Tensor) -> bool:
    # the kernel alone decides (never the batch): a batch's members then push with their solo solves' bits.
    # Only a game's static kernel (``_reused``, set by FiniteMFG): building the matrix costs 40-100 pushes,
    # which a mean-field-dependent kernel, new every step, would pay every time
    return (
        getattr(k, "_reused", False)
        and MATRIX_PUSH_MIN <= k.index.numel() <= MATRIX_PUSH_MAX
        and m.device.type == "cpu"
        and k.index.device.type == "cpu"
    )


def _push_by_matrix(k: SparseKernel, m: torch.Tensor) -> torch.Tensor:
    """``push`` as ``P^T m`` with ``P^T`` an ``(S, S A)`` CSR matrix built once per kernel: a batch's
    ``(B, S, A)`` masses in one sparse product, measured 7x faster than the offset ``bincount`` on MFGLib's
    crowd motion (B = 256), and about as fast on one game (0.9x to 1.6x ``bincount``'s speed from 10^4 to 10^6
    entries); the product adds each bin's terms in source order, as ``bincount`` does, except that repeated
    successors of one pair are merged first (round-off)."""
    S, A = k.n_states, k.n_actions
    dtype = torch.promote_types(m.dtype, k.prob.dtype)  # bincount's weights m * prob promote so
    PT = k.__dict__.get("_push_matrix")
    if PT is None or PT[0] is not k.index or PT[1].dtype != dtype:
        rows = torch.arange(S * A).repeat_interleave(k.index.shape[-1])
        with warnings.catch_warnings():  # torch flags sparse CSR as beta; the product used here is stable
            warnings.simplefilter("ignore", UserWarning)
            coo = torch.sparse_coo_tensor(
                torch.stack([k.index.reshape(-1), rows]),
                k.prob.reshape(-1).to(dtype),
                (S, S * A),
                check_invariants=True,
            )
            PT = k.__dict__["_push_matrix"] = (k.index, coo.coalesce().to_sparse_csr())
    lead = m.shape[:-2]
    flat = m.reshape(-1, S * A).to(dtype)
    return (PT[1] @ flat.T).T.reshape(*lead, S)


# below, the product is not reliably faster: on a 20,000-state kernel it ran at 0.87-1.19x the gathers' speed
# with 2 successors and 0.47-0.85x with 1, against 0.99-2.18x with 3 (python benchmarks/bench_sparse_pull.py)
PULL_MATRIX_MIN_SUCCESSORS = 3


def _pulls_by_matrix(k: SparseKernel, v: torch.Tensor) -> bool:
    """Whether ``pull`` takes :func:`_pull_by_matrix`: a game's static CPU kernel (as for the push) of 3 or
    more successors per pair, and only where the gathers it replaces add the successors in their order (up
    to 4, or from :data:`PER_SUCCESSOR_MIN_ROWS` entries on), so that the numbers stay the same bits. Like
    the push, the kernel alone decides: a batch's members pull with their solo solves' bits."""
    K = k.index.shape[-1]
    return (
        _pushes_by_matrix(k, v)
        and K >= PULL_MATRIX_MIN_SUCCESSORS
        and (K <= SHORT_SUM_IN_ORDER or k.index.numel() >= PER_SUCCESSOR_MIN_ROWS)
    )


SHORT_SUM_IN_ORDER = 4  # torch sums up to 4 entries of a row in order (tests/core/test_short_sums.py)


def _pull_by_matrix(k: SparseKernel, v: torch.Tensor) -> torch.Tensor:
    """``pull`` as ``P v`` with ``P`` an ``(S A, S)`` CSR matrix built once per kernel, its entries in successor
    order and repeated successors kept apart: the product adds each pair's terms in that order, one multiply
    and one add at a time, as the successor-by-successor gathers do (the same bits; test). On MFGLib's crowd
    motion (400 states, 5 actions, 5 successors) 1.6-2.4x faster than the gathers for 1 to 256 members, and
    1.1-3.1x on a 20,000-state kernel of 5 successors (``python benchmarks/bench_sparse_pull.py``)."""
    S, A, K = k.n_states, k.n_actions, k.index.shape[-1]
    dtype = torch.promote_types(v.dtype, k.prob.dtype)  # the gathers' v * prob promote so
    P = k.__dict__.get("_pull_matrix")
    if P is None or P[0] is not k.index or P[1].dtype != dtype:
        crow = torch.arange(0, S * A * K + 1, K, device=k.index.device)
        with warnings.catch_warnings():  # torch flags sparse CSR as beta; the product used here is stable
            warnings.simplefilter("ignore", UserWarning)
            csr = torch.sparse_csr_tensor(crow, k.index.reshape(-1), k.prob.reshape(-1).to(dtype), (S * A, S))
        P = k.__dict__["_pull_matrix"] = (k.index, csr, csr.t())  # the CSC transpose is a view
    lead = v.shape[:-1]
    flat = v.reshape(-1, S).to(dtype)
    # the rows of values times the transposed (CSC) matrix: the product comes out (rows, S A), the gathers'
    # layout, with the same bits. P @ flat.T came out transposed: its zero fill and transposing copies made a
    # 256-member crowd-motion batch 1.14x slower, and the 20,000-state pulls 1.4-2.3x (bench_sparse_pull.py)
    return (flat @ P[2]).view(*lead, S, A)


# gathered entries from which a pull accumulates successor by successor (measured crossover: 2 to 5 thousand)
PER_SUCCESSOR_MIN = 1 << 12
PER_SUCCESSOR_MIN_ROWS = 1 << 13  # entries of the kernel itself, for kernels of 5 or more successors


def _per_successor(v: torch.Tensor, index: torch.Tensor, K: int) -> bool:
    """Whether a pull takes the successor-by-successor path (:func:`_pull_successors`).

    Small pulls keep one gather and one sum (fewer operators: small games are dispatch-bound). Up to 4
    successors both paths give the same bits, so large batches switch. With 5 or more, torch's sum over the
    short axis adds in another order, so the choice depends on the kernel alone, never on the batch: a
    batch's members then do their solo solves' arithmetic exactly (exact ties between greedy actions break
    the same way)."""
    if K <= 4:
        return v.numel() // max(v.shape[-1], 1) * index.numel() >= PER_SUCCESSOR_MIN
    return index.numel() >= PER_SUCCESSOR_MIN_ROWS


def _pull_successors(
    v: torch.Tensor, index_k: list[torch.Tensor], prob_k: list[torch.Tensor | None], shape: torch.Size
) -> torch.Tensor:
    """``sum_k prob_k * v[..., index_k]`` (``v`` ``(..., S)``; ``prob_k`` of the rows' shape ``X``, ``index_k``
    its flat ``(X.numel(),)`` successors) -> ``(..., *X)``, accumulated successor by successor.

    One gather and one multiply-add per successor: measured 4x faster on a batch than gathering all
    successors into a ``(..., K)`` tensor and summing its short last axis. The sum runs in successor order,
    which is also what torch's sum does over up to 4 successors, so those kernels give the same bits."""
    lead = v.shape[:-1]

    def take(idx: torch.Tensor) -> torch.Tensor:
        # gather with a broadcast index: measured ~3x faster than index_select on a batch's (2, B, S) values
        return torch.gather(v, -1, idx.expand(*lead, idx.shape[0])).view(*lead, *shape)

    acc = take(index_k[0])
    if prob_k[0] is not None:  # None: a deterministic kernel's probability 1 (x * 1 is x)
        acc.mul_(prob_k[0])
    for idx, p in zip(index_k[1:], prob_k[1:], strict=True):
        acc += take(idx).mul_(p)
    return acc


def _batched_bincount(owner: Kernel, name: str, w: torch.Tensor, dims: int) -> torch.Tensor:
    """``bincount`` of the weights ``w`` (``(..., *index_shape)``, ``dims`` trailing axes indexed by the flat
    index ``owner.<name>``) into ``(..., n_states)`` bins, one row each.

    Row ``i``'s indices are offset by ``i * n_states``, so one call serves the whole batch and every bin
    sums its terms in the same order as the unbatched ``bincount`` (equal to the last bit). The offset
    index is built once per batch size and kept on the kernel (a solve pushes the same batch every step)."""
    n_states = owner.n_states
    lead = w.shape[: w.dim() - dims]
    n = int(torch.Size(lead).numel())
    flat = getattr(owner, name)
    cache = owner.__dict__.setdefault("_offset_index", {})
    hit = cache.get(name)
    if hit is None or hit[0] != n or hit[1] is not flat:
        offsets = torch.arange(n, device=w.device).unsqueeze(1) * n_states
        hit = cache[name] = (n, flat, (flat.unsqueeze(0) + offsets).reshape(-1))
    return torch.bincount(hit[2], w.reshape(-1), minlength=n * n_states).reshape(*lead, n_states)


class BatchSparseKernel(Kernel):
    """One sparse kernel per member of a batch: ``index``/``prob`` of shape ``(B, S, A, K)``.

    ``push(m)``: ``(B, S, A)`` masses to ``(B, S)``; ``pull(v)``: ``(..., B, S)`` values to
    ``(..., B, S, A)``, member ``b`` through its own kernel.
    """

    def __init__(self, index: torch.Tensor, prob: torch.Tensor, n_states: int):
        if index.dim() != 4 or index.shape != prob.shape:
            raise ShapeError(
                f"BatchSparseKernel needs index and prob of one shape (B, S, A, K); got {tuple(index.shape)} "
                f"and {tuple(prob.shape)}"
            )
        self.index = index.long().contiguous()
        self.prob = prob.contiguous()
        self.n_states = int(n_states)
        self.batch, _, self.n_actions, _ = (int(x) for x in index.shape)
        offsets = torch.arange(self.batch, device=index.device).view(-1, 1, 1, 1) * self.n_states
        self._offset_index = (self.index + offsets).reshape(-1)

    def push(self, m: torch.Tensor) -> torch.Tensor:
        w = (m.unsqueeze(-1) * self.prob).reshape(-1)
        return torch.bincount(self._offset_index, w, minlength=self.batch * self.n_states).view(
            self.batch, self.n_states
        )

    def pull(self, v: torch.Tensor) -> torch.Tensor:
        flat = v.reshape(*v.shape[:-2], self.batch * self.n_states)
        return (flat[..., self._offset_index].view(*v.shape[:-2], *self.index.shape) * self.prob).sum(-1)

    def check(self, name="transition") -> None:
        _check_index_prob(self.index, self.prob, self.n_states, name, "[b, s, a, k]")


class BatchDenseKernel(Kernel):
    """One dense kernel per member of a batch: ``P`` of shape ``(B, S, A, S)``."""

    def __init__(self, P: torch.Tensor):
        if P.dim() != 4 or P.shape[1] != P.shape[3]:
            raise ShapeError(f"BatchDenseKernel needs P of shape (B, S, A, S), got {tuple(P.shape)}")
        self.P = P
        self.batch, self.n_states, self.n_actions, _ = (int(x) for x in P.shape)

    def push(self, m: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bsa,bsat->bt", m, self.P)

    def pull(self, v: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bsat,...bt->...bsa", self.P, v)

    def check(self, name="transition") -> None:
        _check_index_prob(None, self.P, self.n_states, name, "[b, s, a, s']")


def as_batch_kernel(obj, n_states: int, batch: int) -> Kernel:
    """Coerce a batched transition (a dense ``(B, S, A, S)`` tensor, an ``(index, prob)`` pair of
    ``(B, S, A, K)`` tensors, or a batch kernel) to a kernel over ``batch`` members. A plain
    :class:`Kernel` is shared by every member."""
    if isinstance(obj, Kernel):
        return obj
    if isinstance(obj, torch.Tensor):
        if obj.dim() == 4 and obj.shape[0] == batch:
            return BatchDenseKernel(obj)
        return as_kernel(obj, n_states)
    if isinstance(obj, (tuple, list)) and len(obj) == 2:
        index, prob = (torch.as_tensor(o) for o in obj)
        if index.dim() == 4:
            return BatchSparseKernel(index, prob, n_states)
        return SparseKernel(index, prob, n_states)
    raise TypeError(
        "a batched transition must be a (B, S, A, S) float tensor, an (index, prob) pair of (B, S, A, K) "
        f"tensors or a Kernel; got {type(obj).__name__}"
    )


DENSE_STACK_MAX = 1 << 24  # entries of a (B, S, A, S) stack of member kernels


def stack_kernels(kernels: list[Kernel]) -> Kernel:
    """One kernel over a batch from each member's own (plain) kernel, in member order.

    Sparse kernels with the same number of successors stack as a :class:`BatchSparseKernel`; otherwise
    the members' dense rows as a :class:`BatchDenseKernel` (small games only). The same object for every
    member is returned as it is (shared)."""
    first = kernels[0]
    if all(k is first or _equal_kernels(k, first) for k in kernels):
        return first  # shared: each member then does exactly the arithmetic of its own solve
    S = first.n_states
    sparse = [k.to_sparse() for k in kernels] if not any(isinstance(k, DenseKernel) for k in kernels) else None
    if sparse is not None and len({sp.index.shape for sp in sparse}) == 1:
        return BatchSparseKernel(torch.stack([sp.index for sp in sparse]), torch.stack([sp.prob for sp in sparse]), S)
    if len(kernels) * S * first.n_actions * S > DENSE_STACK_MAX:
        raise ValidationError(
            f"cannot batch {len(kernels)} different kernels of {S} states: they have different numbers of "
            "successors and a dense stack would be too large; solve these games one by one"
        )
    return BatchDenseKernel(torch.stack([k.dense() for k in kernels]))


def _equal_kernels(a: Kernel, b: Kernel) -> bool:
    """Same class and equal data (e.g. the kernel of two games that differ only in their rewards)."""
    if type(a) is not type(b):
        return False
    va, vb = vars(a), vars(b)
    for k, x in va.items():
        if k.startswith("_"):  # caches and derived indices
            continue
        y = vb.get(k)
        if isinstance(x, torch.Tensor):
            if not (isinstance(y, torch.Tensor) and x.shape == y.shape and x.dtype == y.dtype and torch.equal(x, y)):
                return False
        elif isinstance(x, (int, float, str, bool)) and x != y:
            return False
    return True


def as_kernel(obj, n_states: int | None = None) -> Kernel:
    """Coerce a user transition (kernel, dense tensor, or ``(index, prob)`` pair) to a :class:`Kernel`."""
    if isinstance(obj, Kernel):
        return obj
    if isinstance(obj, torch.Tensor):
        if obj.dim() == 3 and torch.is_floating_point(obj):
            return DenseKernel(obj)
        if obj.dim() == 2 and not torch.is_floating_point(obj):
            return SparseKernel.deterministic(obj)
        raise ShapeError(
            f"a transition tensor must be a float (S, A, S) dense kernel or an integer (S, A) "
            f"next-state table; got dtype {obj.dtype} and shape {tuple(obj.shape)}"
        )
    if isinstance(obj, (tuple, list)) and len(obj) == 2:
        index, prob = (torch.as_tensor(o) for o in obj)
        return SparseKernel(index, prob, n_states)
    raise TypeError(
        "transition must be a Kernel, a (S, A, S) float tensor, an (S, A) integer next-state "
        f"tensor, an (index, prob) pair, or a callable (t, mu) -> one of these; got {type(obj).__name__}"
    )


# Grid moves in (row, col): stay, up, down, left, right.
GRID_MOVES = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))


class GridKernel(Kernel):
    """Stencil kernel on an ``R x C`` grid with walls, for large maps (no index tensors).

    States are all ``R*C`` cells in row-major order; wall cells are inert (nobody
    enters, nothing leaves). Action ``a`` moves by ``GRID_MOVES[a]`` unless the target
    is a wall or off the map (then the agent stays); afterwards, with probability
    ``noise``, a uniformly random move among the five is applied the same way.
    Push and pull are shifted slices of the grid: memory traffic proportional to
    ``S``, no gathers or scatters. They work one action plane at a time, so games on this
    kernel store their ``(..., S, A)`` tensors action-major (``action_major``; see
    :mod:`mfglearn.model.layout`).

    Args:
        free: ``(R, C)`` boolean tensor, ``True`` on walkable cells.
        noise: probability of the random move.
    """

    action_major = True
    pulls_into = True  # pull(v, out=...) writes into a given tensor (FrozenMDP.backup)

    def __init__(self, free: torch.Tensor, noise: float, dtype: torch.dtype = torch.float64):
        free = torch.as_tensor(free, dtype=torch.bool)
        if free.dim() != 2:
            raise ShapeError(f"GridKernel free must be an (R, C) mask, got shape {tuple(free.shape)}")
        if not 0.0 <= noise <= 1.0:
            raise ValidationError(f"noise must be in [0, 1], got {noise}")
        self.free = free
        self.R, self.C = free.shape
        self.n_states = self.R * self.C
        self.n_actions = 5
        self.noise = float(noise)
        fp = torch.nn.functional.pad(free, (1, 1, 1, 1))
        allowed = [free & fp[1 + dr : 1 + dr + self.R, 1 + dc : 1 + dc + self.C] for dr, dc in GRID_MOVES]
        allowed[0] = torch.zeros_like(free)  # "stay" never moves
        self.allowed = torch.stack(allowed).to(dtype)  # (5, R, C) as 0/1 floats for fused arithmetic
        self.p_move = self.noise / 5
        # the noise as weights: from cell s, move b w.p. p (when allowed), stay w.p. 1 - p * (allowed moves)
        self.keep = 1 - self.allowed  # 1 where move a is blocked (the agent stays)
        self.noise_weight = self.allowed * self.p_move
        self.stay_weight = 1 - self.noise_weight.sum(0)

    def _slices(self, a: int) -> tuple[tuple[slice, slice], tuple[slice, slice], tuple[slice, slice]]:
        """For move ``a``: the cells that have a target on the map, those targets, and the cells that have none
        (one edge row or column), as ``(row, col)`` slices of an ``(R, C)`` grid. Off-map moves are never
        allowed, so shifted slices replace a padded copy."""
        dr, dc = GRID_MOVES[a]
        R, C = self.R, self.C
        src = (slice(max(0, -dr), R - max(0, dr)), slice(max(0, -dc), C - max(0, dc)))
        dst = (slice(max(0, dr), R + min(0, dr)), slice(max(0, dc), C + min(0, dc)))
        edge = (
            (slice(0, 1) if dr < 0 else slice(R - 1, R), slice(None))
            if dr
            else (slice(None), slice(0, 1) if dc < 0 else slice(C - 1, C))
        )
        return src, dst, edge

    def pull(self, v: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """``(..., S, 5)`` expected next values, action-major, written into ``out`` when given (any
        ``(..., S, 5)`` tensor whose action planes are contiguous ``S``-vectors, e.g. ``Q[t]`` of an
        action-major ``Q``): the noise's average into plane 0, then each move from shifted slices (no padded
        copies, no stacking). A move is ``keep * w + allowed * w[target]`` with 0/1 masks, exactly the select
        it stands for (values are finite), in two fused passes: ``torch.where`` ran ~5x slower."""
        batch = v.shape[:-1]
        R, C = self.R, self.C
        if out is None:
            out = torch.empty(*batch, 5, self.n_states, dtype=v.dtype, device=v.device).transpose(-1, -2)
        elif tuple(out.shape) != (*batch, self.n_states, 5):
            raise ShapeError(f"pull out must have shape {(*batch, self.n_states, 5)}, got {tuple(out.shape)}")
        planes = out.transpose(-1, -2).view(*batch, 5, R, C)
        g = v.reshape(*batch, R, C)
        w = planes[..., 0, :, :]  # "stay" lands where the noise takes the agent: the noise's average of v
        if self.p_move > 0:
            torch.mul(g, self.stay_weight, out=w)
            for b in range(1, 5):
                src, dst, _ = self._slices(b)
                # cells with move b receive p * v[target]; src cells are those whose target dst is on the map
                w[(..., *src)].addcmul_(self.noise_weight[(b, *src)], g[(..., *dst)])
        else:
            w.copy_(g)
        for a in range(1, 5):
            src, dst, edge = self._slices(a)
            plane = planes[..., a, :, :]
            torch.mul(w[(..., *src)], self.keep[(a, *src)], out=plane[(..., *src)])
            plane[(..., *src)].addcmul_(self.allowed[(a, *src)], w[(..., *dst)])
            plane[(..., *edge)].copy_(w[(..., *edge)])
        return out

    def push(self, m: torch.Tensor) -> torch.Tensor:
        """``(S,)`` next-state mass of ``m`` ``(S, 5)`` (either layout; action-major reads contiguous planes):
        each move's blocked share stays and its allowed share lands on the shifted slice, then the noise
        spreads the result the same way; two fused multiply-adds per move, no padded accumulators."""
        if m.dim() > 2:  # a batch: the stencil is written for one grid (large grids are not batched)
            return torch.stack([self.push(x) for x in m.reshape(-1, *m.shape[-2:])]).reshape(*m.shape[:-1])
        planes = m.transpose(-1, -2).reshape(5, self.R, self.C)  # a view of an action-major m
        return self._spread(planes[0].clone(), lambda a: planes[a])

    def push_policy(self, mu: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
        """:meth:`push` of ``mu[:, None] * pi`` without the ``(S, 5)`` product: each action's mass ``mu * pi_a``
        is made into one reused ``(R, C)`` buffer just before its move reads it (the same numbers, bit for
        bit; the product tensor cost a write and a read of ``5 S`` entries per step)."""
        S = self.n_states
        if mu.shape[-1:] != (S,) or pi.shape[-2:] != (S, 5) or pi.shape[:-2] != mu.shape[:-1]:
            raise ShapeError(
                f"push_policy needs mu (..., {S}) and pi (..., {S}, 5) with the same leading axes, got "
                f"{tuple(mu.shape)} and {tuple(pi.shape)}"
            )
        if mu.dim() > 1:
            return super().push_policy(mu, pi)
        R, C = self.R, self.C
        g = mu.reshape(R, C)
        planes = pi.transpose(-1, -2).reshape(5, R, C)  # a view of an action-major pi
        buf = torch.empty_like(g)
        return self._spread(torch.mul(g, planes[0]), lambda a: torch.mul(g, planes[a], out=buf))

    def _spread(self, y: torch.Tensor, mass) -> torch.Tensor:
        """The push from ``y`` ``(R, C)``, the mass that stays (action 0), and ``mass(a)``, action ``a``'s
        ``(R, C)`` mass: each move's blocked share stays, its allowed share lands on the shifted slice, then the
        noise spreads the result."""
        for a in range(1, 5):
            src, dst, _ = self._slices(a)
            plane = mass(a)
            y.addcmul_(plane, self.keep[a])
            y[dst].addcmul_(plane[src], self.allowed[(a, *src)])
        if self.p_move == 0:
            return y.reshape(-1)
        out = y * self.stay_weight
        for b in range(1, 5):
            src, dst, _ = self._slices(b)
            out[dst].addcmul_(y[src], self.noise_weight[(b, *src)])
        return out.reshape(-1)

    def to_sparse(self) -> SparseKernel:
        S = self.n_states
        rows = torch.arange(self.R).view(-1, 1).expand(self.R, self.C)
        cols = torch.arange(self.C).view(1, -1).expand(self.R, self.C)
        allowed = self.allowed.bool()
        tgt = []
        for a, (dr, dc) in enumerate(GRID_MOVES):
            t = torch.where(
                allowed[a],
                (rows + dr).clamp(0, self.R - 1) * self.C + (cols + dc).clamp(0, self.C - 1),
                rows * self.C + cols,
            )
            tgt.append(t.reshape(-1))
        move = torch.stack(tgt, dim=-1)  # (S, 5)
        nprob = torch.full((S, 5), self.p_move, dtype=self.allowed.dtype)
        nprob[:, 0] = 1 - 4 * self.p_move
        return SparseKernel(move[move], nprob[move], S)

    def sample(self, s: torch.Tensor, a: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Next states ``(N,)`` of agents in cells ``s`` taking actions ``a``: the move, then the noise's move.

        Memory ``O(N)``: no successor tables (``to_sparse`` would hold ``S * 25`` of them).
        """
        allowed = self.__dict__.get("_allowed_flat")
        if allowed is None or allowed.device != s.device:
            allowed = self.__dict__["_allowed_flat"] = self.allowed.reshape(5, -1).bool().to(s.device)
        step = torch.tensor([dr * self.C + dc for dr, dc in GRID_MOVES], device=s.device)
        s = torch.where(allowed[a, s], s + step[a], s)
        if self.noise > 0:
            u = torch.rand(s.shape, generator=generator, device=s.device)
            b = torch.randint(5, s.shape, generator=generator, device=s.device)
            b = torch.where(u < self.noise, b, torch.zeros_like(b))
            s = torch.where(allowed[b, s], s + step[b], s)
        return s

    def check(self, name: str = "transition") -> None:
        return None  # valid by construction
