"""Games with several populations, as one :class:`~mfglearn.model.finite.FiniteMFG`.

A game with populations ``p = 0..P-1`` (state spaces ``S_p``, action spaces ``A_p``, masses
``m_p``) is stored as one finite game on the disjoint union of the state spaces: joint state
``s = offset_p + s_p``, ``A = max_p A_p`` actions (a population's missing actions are illegal),
no transition between blocks, and the joint mean field is the mass-weighted concatenation
``mu[t] = (m_0 mu_0[t], ..., m_{P-1} mu_{P-1}[t]) / sum_p m_p``. A best response against a fixed
joint mean field is then a best response of every population at once, policy evaluation,
flows and every solver run unchanged on the joint tensors (a loop over populations appears
only where rewards and kernels are assembled), and a one-population game is the plain game.

Each population's reward and transition are functions of *all* populations' mean fields: they
receive a :class:`MeanFields`, indexable by population number or name, each entry a
probability distribution ``(S_q,)`` (or ``(T, S_q)`` for ``batched_reward`` games).

Exploitability convention (what :func:`mfglearn.exploitability` and every solver report): the
mass-weighted sum ``sum_p m_p E_p`` of the populations' exploitabilities ``E_p``. With masses 1
(predator-prey, crowd avoidance) that is OpenSpiel's multi-population NashConv, ``sum_p E_p``;
routing games give each origin-destination pair its share of the demand as mass, which is
OpenSpiel's NashConv of its one population of vehicles. ``exploitability_per_population``
returns the ``E_p``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from mfglearn._common.backend import DEFAULT_DTYPE
from mfglearn.errors import ShapeError, ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import ComposedKernel, Kernel, SparseKernel, as_kernel


@dataclass
class Population:
    """One population of a multi-population game.

    Args:
        n_states: ``S_p``.
        n_actions: ``A_p``.
        mu0: ``(S_p,)`` initial distribution.
        reward: ``(S_p, A_p)``, ``(S_p,)`` or ``(H, S_p, A_p)`` tensor, or a callable
            ``reward(t, mf) -> (S_p, A_p) or (S_p,)`` where ``mf`` is a :class:`MeanFields`
            (``mf[q]`` or ``mf["name"]``: population ``q``'s distribution at ``t``).
        transition: a Kernel, dense ``(S_p, A_p, S_p)`` tensor, integer ``(S_p, A_p)`` next-state
            table, ``(index, prob)`` pair, or a callable ``transition(t, mf)`` returning one.
        legal: optional ``(S_p, A_p)`` boolean mask of allowed actions.
        terminal_reward: ``(S_p,)`` tensor or callable ``g(mf) -> (S_p,)`` paid at ``t = H``.
        mass: the population's mass ``m_p > 0`` (its weight in the joint mean field and in the
            total exploitability).
        name: the population's name (``"pop{p}"`` by default).
        layout: plot metadata of this population (e.g. ``{"grid": (rows, cols)}``).
    """

    n_states: int
    n_actions: int
    mu0: Any
    reward: Any
    transition: Any
    legal: Any = None
    terminal_reward: Any = None
    mass: float = 1.0
    name: str | None = None
    layout: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PopulationLayout:
    """Where each population lives in the joint game.

    Attributes:
        names: population names.
        n_states, n_actions: ``S_p`` and ``A_p``.
        offsets: first joint state of each population.
        masses: ``m_p``.
    """

    names: tuple[str, ...]
    n_states: tuple[int, ...]
    n_actions: tuple[int, ...]
    offsets: tuple[int, ...]
    masses: tuple[float, ...]
    layouts: tuple[dict, ...] = ()

    @property
    def P(self) -> int:
        return len(self.names)

    @property
    def total_mass(self) -> float:
        return float(sum(self.masses))

    @property
    def weights(self) -> tuple[float, ...]:
        """``m_p / sum_q m_q``: each population's share of the joint mean field."""
        tot = self.total_mass
        return tuple(m / tot for m in self.masses)

    def index(self, key: int | str) -> int:
        """Population number of ``key`` (a number or a name); a clear error if there is none."""
        if isinstance(key, str):
            if key in self.names:
                return self.names.index(key)
        elif isinstance(key, int) and not isinstance(key, bool) and -self.P <= key < self.P:
            return key % self.P
        raise ValidationError(
            f"population {key!r} does not exist; this game has {self.P} (0..{self.P - 1}: {', '.join(self.names)})"
        )

    def block(self, p: int | str) -> slice:
        """Joint-state slice of population ``p``."""
        p = self.index(p)
        return slice(self.offsets[p], self.offsets[p] + self.n_states[p])

    def split(self, x: torch.Tensor, dim: int = -1) -> list[torch.Tensor]:
        """Views of ``x`` along its joint-state axis ``dim``, one per population."""
        return list(torch.split(x, list(self.n_states), dim=dim))

    def mean_fields(self, mu: torch.Tensor, reader: str | None = None, state_action: bool = False) -> MeanFields:
        """Each population's distribution from a joint mean field ``(..., S)``, or with
        ``state_action`` its state-action measure ``(..., S_p, A_p)`` from a joint ``(..., S, A)``."""
        if state_action:
            parts = [
                m[..., :a] / w for m, a, w in zip(self.split(mu, dim=-2), self.n_actions, self.weights, strict=True)
            ]
        else:
            parts = [m / w for m, w in zip(self.split(mu), self.weights, strict=True)]
        return MeanFields(parts, self, reader, joint=mu)

    def policy(self, pi: torch.Tensor, p: int | str) -> torch.Tensor:
        """Population ``p``'s policy ``(..., S_p, A_p)`` from a joint policy ``(..., S, A)``."""
        p = self.index(p)
        return pi[..., self.block(p), : self.n_actions[p]]


class MeanFields(Sequence):
    """The populations' mean fields as read by one population's reward or transition.

    ``mf[q]`` (a number) or ``mf["name"]``: population ``q``'s distribution ``(S_q,)`` (or
    ``(T, S_q)`` in a batched call). Reading a population that does not exist raises one error
    naming the population and the function that read it.
    """

    def __init__(
        self,
        parts: list[torch.Tensor],
        layout: PopulationLayout,
        reader: str | None = None,
        joint: torch.Tensor | None = None,
    ):
        self._parts, self._layout, self._reader = parts, layout, reader
        self.joint = joint  # the joint tensor these were split from (games caching work across populations)

    def __len__(self) -> int:
        return len(self._parts)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self._parts[key]
        try:
            return self._parts[self._layout.index(key)]
        except ValidationError as exc:
            where = f" (read by {self._reader})" if self._reader else ""
            raise ValidationError(f"{exc}{where}") from None

    def stack(self) -> torch.Tensor:
        """``(P, ..., S_p)`` when every population has the same number of states."""
        if len(set(self._layout.n_states)) != 1:
            raise ShapeError("MeanFields.stack() needs populations of equal size; index them one by one")
        return torch.stack(self._parts)


def multi_population_game(
    populations: Sequence[Population],
    *,
    horizon: int | None = None,
    gamma: float | None = None,
    name: str = "custom",
    batched_reward: bool = False,
    layout: dict | None = None,
    params: dict | None = None,
    dtype: torch.dtype = DEFAULT_DTYPE,
    device=None,
    validate: bool = True,
    stationary=None,
    mean_field: str = "state",
) -> FiniteMFG:
    """A game of ``P`` interacting populations as one :class:`FiniteMFG` (module docstring).

    ``mean_field="state_action"``: the callables receive each population's state-action measure
    ``mf[q]`` of shape ``(S_q, A_q)`` (``L_t[s, a] = mu_t(s) pi_t(a|s)``) instead of its distribution.

    Every population's reward and transition may read every population's mean field. With
    ``batched_reward=True`` each reward callable also accepts a ``(T,)`` time tensor with
    ``(T, S_q)`` mean fields and returns ``(T, S_p, A_p)`` or ``(T, S_p)``. The result's
    ``game.populations`` is the :class:`PopulationLayout`; one population of mass 1 gives
    the plain single-population game.
    """
    pops = list(populations)
    if not pops:
        raise ValidationError("a multi-population game needs at least one Population")
    for p, pop in enumerate(pops):
        if not isinstance(pop, Population):
            raise ValidationError(f"populations[{p}] is a {type(pop).__name__}; give Population(...) objects")
    names = tuple(pop.name or f"pop{p}" for p, pop in enumerate(pops))
    if len(set(names)) != len(names):
        raise ValidationError(f"population names must be distinct, got {list(names)}")
    sizes, actions, masses = [], [], []
    for p, pop in enumerate(pops):
        for attr in ("n_states", "n_actions"):
            v = getattr(pop, attr)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValidationError(f"population {names[p]!r}: {attr} must be a positive integer, got {v!r}")
        m = float(pop.mass)
        if not m > 0 or m != m or m == float("inf"):
            raise ValidationError(f"population {names[p]!r}: mass must be positive and finite, got {pop.mass!r}")
        sizes.append(pop.n_states)
        actions.append(pop.n_actions)
        masses.append(m)
    offsets = [0]
    for s in sizes[:-1]:
        offsets.append(offsets[-1] + s)
    lay = PopulationLayout(
        names, tuple(sizes), tuple(actions), tuple(offsets), tuple(masses), tuple(dict(p.layout) for p in pops)
    )
    S, A = sum(sizes), max(actions)
    dev = torch.device("cpu") if device is None else torch.device(device)

    def tensor(x, what):
        try:
            return torch.as_tensor(x, dtype=dtype, device=dev)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValidationError(f"{what} must be array-like of numbers: {exc}") from None

    mu0s = []
    for p, pop in enumerate(pops):
        m0 = tensor(pop.mu0, f"population {names[p]!r}: mu0")
        if m0.shape != (sizes[p],):
            raise ShapeError(
                f"population {names[p]!r}: mu0 must have shape ({sizes[p]},) (its n_states), got {tuple(m0.shape)}"
            )
        mu0s.append(m0)
    from mfglearn.model.finite import check_distribution

    for p, m0 in enumerate(mu0s):
        check_distribution(m0, f"population {names[p]!r}: mu0")
    if len(pops) == 1 and masses[0] == 1.0:
        mu0 = mu0s[0]
    else:
        mu0 = torch.cat([m0 * w for m0, w in zip(mu0s, lay.weights, strict=True)])

    legal = _joint_legal(pops, lay, A, dev)
    if mean_field not in ("state", "state_action"):
        raise ValidationError(f"mean_field must be 'state' or 'state_action', got {mean_field!r}")
    sa = mean_field == "state_action"
    reward = _joint_reward(pops, lay, A, dtype, dev, horizon, batched_reward, sa)
    transition = _joint_transition(pops, lay, A, sa)
    terminal = _joint_terminal(pops, lay, dtype, dev)
    lay_meta = {"populations": list(names), **(layout or {})}
    return FiniteMFG(
        n_states=S,
        n_actions=A,
        mu0=mu0,
        reward=reward,
        transition=transition,
        horizon=horizon,
        gamma=gamma,
        terminal_reward=terminal,
        legal=legal,
        mean_field=mean_field,
        batched_reward=batched_reward,
        name=name,
        layout=lay_meta,
        params=dict(params or {}),
        dtype=dtype,
        device=device,
        validate=validate,
        stationary=stationary,
        populations=lay,
    )


def _joint_legal(pops, lay: PopulationLayout, A: int, dev) -> torch.Tensor | None:
    if all(p.legal is None for p in pops) and all(a == A for a in lay.n_actions):
        return None
    blocks = []
    for p, pop in enumerate(pops):
        Sp, Ap = lay.n_states[p], lay.n_actions[p]
        m = torch.zeros(Sp, A, dtype=torch.bool, device=dev)
        if pop.legal is None:
            m[:, :Ap] = True
        else:
            lg = torch.as_tensor(pop.legal, dtype=torch.bool, device=dev)
            if lg.shape != (Sp, Ap):
                raise ShapeError(
                    f"population {lay.names[p]!r}: legal must have shape ({Sp}, {Ap}), got {tuple(lg.shape)}"
                )
            m[:, :Ap] = lg
        blocks.append(m)
    return torch.cat(blocks)


def _pad_actions(r: torch.Tensor, A: int) -> torch.Tensor:
    if r.shape[-1] == A:
        return r
    return torch.nn.functional.pad(r, (0, A - r.shape[-1]))


def _population_reward(r, p: int, lay: PopulationLayout, batched: bool, T: int | None) -> torch.Tensor:
    """One population's reward as ``(S_p, A_p)`` (or ``(T, S_p, A_p)``), with an error naming it."""
    Sp, Ap = lay.n_states[p], lay.n_actions[p]
    lead = (T,) if batched else ()
    if r.shape == (*lead, Sp):
        r = r.unsqueeze(-1)
    try:
        return r.expand(*lead, Sp, Ap)
    except RuntimeError:
        want = f"({', '.join(map(str, (*lead, Sp, Ap)))}) or ({', '.join(map(str, (*lead, Sp)))})"
        raise ShapeError(
            f"reward of population {lay.names[p]!r} must have shape {want}, got {tuple(r.shape)}"
        ) from None


def _joint_reward(pops, lay: PopulationLayout, A: int, dtype, dev, horizon, batched: bool, sa: bool = False):
    single = len(pops) == 1 and lay.masses[0] == 1.0
    if all(isinstance(p.reward, torch.Tensor) or not callable(p.reward) for p in pops):
        parts = []
        for p, pop in enumerate(pops):
            r = torch.as_tensor(pop.reward, dtype=dtype, device=dev)
            Sp, Ap = lay.n_states[p], lay.n_actions[p]
            if r.dim() == 3:
                if horizon is None or r.shape != (horizon, Sp, Ap):
                    raise ShapeError(
                        f"reward of population {lay.names[p]!r}: a 3-D reward must be (H, {Sp}, {Ap}) "
                        f"on a finite-horizon game, got {tuple(r.shape)}"
                    )
                parts.append(r)
            else:
                parts.append(_population_reward(r, p, lay, False, None))
        if single:
            return pops[0].reward
        if any(r.dim() == 3 for r in parts):
            parts = [r if r.dim() == 3 else r.expand(horizon, *r.shape) for r in parts]
        return torch.cat([_pad_actions(r, A) for r in parts], dim=-2)

    def reward(t, mu: torch.Tensor) -> torch.Tensor:
        is_batch = mu.dim() == (3 if sa else 2)
        T = mu.shape[0] if is_batch else None
        outs = []
        for p, pop in enumerate(pops):
            f = pop.reward
            if callable(f) and not isinstance(f, torch.Tensor):
                mf = lay.mean_fields(mu, reader=f"the reward of population {lay.names[p]!r}", state_action=sa)
                r = torch.as_tensor(f(t, mf), dtype=dtype, device=dev)
            else:
                r = torch.as_tensor(f, dtype=dtype, device=dev)
                if r.dim() == 3:
                    r = r[t]
                elif is_batch:
                    r = r.expand(T, *r.shape)
            outs.append(_pad_actions(_population_reward(r, p, lay, is_batch, T), A))
        return outs[0] if single else torch.cat(outs, dim=-2)

    return reward


def _block_kernel(kernels: list[Kernel], lay: PopulationLayout, A: int) -> Kernel:
    """The block-diagonal kernel of the populations' kernels (no transition between blocks)."""
    for p, k in enumerate(kernels):
        if k.n_states != lay.n_states[p] or k.n_actions != lay.n_actions[p]:
            raise ShapeError(
                f"transition of population {lay.names[p]!r} has {k.n_states} states and {k.n_actions} actions; "
                f"the population declares n_states={lay.n_states[p]}, n_actions={lay.n_actions[p]}"
            )
    if len(kernels) == 1:
        return kernels[0]
    if all(isinstance(k, ComposedKernel) for k in kernels):
        B = max(k.noise_index.shape[1] for k in kernels)
        moves, nidx, nprob = [], [], []
        for k, off in zip(kernels, lay.offsets, strict=True):
            Sp, Ap = k.move.shape
            own = torch.arange(Sp, device=k.move.device).unsqueeze(1)
            move = torch.cat([k.move, own.expand(Sp, A - Ap)], 1) if Ap < A else k.move
            b = k.noise_index.shape[1]
            ni = torch.cat([k.noise_index, own.expand(Sp, B - b)], 1) if b < B else k.noise_index
            npr = torch.nn.functional.pad(k.noise_prob, (0, B - b)) if b < B else k.noise_prob
            moves.append(move + off)
            nidx.append(ni + off)
            nprob.append(npr)
        return ComposedKernel(torch.cat(moves), torch.cat(nidx), torch.cat(nprob))
    sps = [k.to_sparse() for k in kernels]
    B = max(k.index.shape[2] for k in sps)
    idx, prob = [], []
    for k, off in zip(sps, lay.offsets, strict=True):
        Sp, Ap, b = k.index.shape
        own = torch.arange(Sp, device=k.index.device).view(Sp, 1, 1)
        i = torch.cat([k.index, own.expand(Sp, Ap, B - b)], 2) if b < B else k.index
        pr = torch.nn.functional.pad(k.prob, (0, B - b)) if b < B else k.prob
        if Ap < A:  # missing actions are illegal: a self-loop keeps the kernel stochastic
            i = torch.cat([i, own.expand(Sp, A - Ap, B)], 1)
            extra = torch.zeros(Sp, A - Ap, B, dtype=pr.dtype, device=pr.device)
            extra[..., 0] = 1.0
            pr = torch.cat([pr, extra], 1)
        idx.append(i + off)
        prob.append(pr)
    return SparseKernel(torch.cat(idx), torch.cat(prob), sum(lay.n_states))


def _joint_transition(pops, lay: PopulationLayout, A: int, sa: bool = False):
    static = [None if callable(p.transition) and not isinstance(p.transition, Kernel) else p for p in pops]
    if all(s is not None for s in static):
        return _block_kernel([as_kernel(p.transition, lay.n_states[i]) for i, p in enumerate(pops)], lay, A)
    fixed = {i: as_kernel(p.transition, lay.n_states[i]) for i, p in enumerate(pops) if static[i] is not None}

    def transition(t, mu: torch.Tensor) -> Kernel:
        ks = []
        for i, pop in enumerate(pops):
            if i in fixed:
                ks.append(fixed[i])
            else:
                mf = lay.mean_fields(mu, reader=f"the transition of population {lay.names[i]!r}", state_action=sa)
                ks.append(as_kernel(pop.transition(t, mf), lay.n_states[i]))
        return _block_kernel(ks, lay, A)

    return transition


def _joint_terminal(pops, lay: PopulationLayout, dtype, dev) -> Callable | torch.Tensor | None:
    if all(p.terminal_reward is None for p in pops):
        return None

    def one(p: int, mu: torch.Tensor | None) -> torch.Tensor:
        g = pops[p].terminal_reward
        if g is None:
            return torch.zeros(lay.n_states[p], dtype=dtype, device=dev)
        if callable(g) and not isinstance(g, torch.Tensor):
            mf = lay.mean_fields(mu, reader=f"the terminal reward of population {lay.names[p]!r}")
            out = torch.as_tensor(g(mf), dtype=dtype, device=dev)
        else:
            out = torch.as_tensor(g, dtype=dtype, device=dev)
        if out.shape not in ((lay.n_states[p],), ()):
            raise ShapeError(
                f"terminal reward of population {lay.names[p]!r} must have shape ({lay.n_states[p]},), "
                f"got {tuple(out.shape)}"
            )
        return out.expand(lay.n_states[p])

    if all(p.terminal_reward is None or not callable(p.terminal_reward) for p in pops):
        return torch.cat([one(p, None) for p in range(len(pops))])
    return lambda mu: torch.cat([one(p, mu) for p in range(len(pops))])
