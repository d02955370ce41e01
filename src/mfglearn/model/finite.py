"""The tabular model: :class:`FiniteMFG`.

A finite mean-field game has ``S`` states, ``A`` actions, an initial distribution
``mu0``, a transition kernel ``P(s'|s, a, m_t)`` and a reward ``r(t, s, a, m_t)``,
where ``m_t`` is the population's mean field at time ``t``: the state
distribution ``mu_t`` (shape ``(S,)``) or, for games declared with
``mean_field="state_action"``, the state-action measure ``L_t[s, a] = mu_t(s) pi_t(a|s)``.

Two time settings:

* finite horizon ``H`` (``horizon=H``): decisions at ``t = 0..H-1``, policies
  ``pi[t, s, a]``, mean-field flows ``mu[t, s]`` for ``t = 0..H`` and an optional
  terminal reward ``g(s, m_H)`` at ``t = H``;
* discounted infinite horizon (``gamma=g``): stationary policies ``pi[s, a]`` and
  stationary mean fields ``mu[s]``.

Rewards and transitions are data (tensors) or vectorised callables evaluated
once per time step with the whole mean field, so every algorithm stays a handful
of tensor operations per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from mfglearn._common.backend import DEFAULT_DTYPE, resolve_device
from mfglearn._common.checks import check_int, check_positive
from mfglearn.errors import ShapeError, ValidationError
from mfglearn.model.kernels import Kernel, as_batch_kernel, as_kernel, stack_kernels
from mfglearn.model.layout import prefers_action_major, to_action_major
from mfglearn.model.stationary_options import StationaryOptions

RewardSpec = torch.Tensor | Callable[[int, torch.Tensor], torch.Tensor]
TransitionSpec = Any  # Kernel | Tensor | (index, prob) | callable (t, m) -> one of these
# sampler(m, states, actions, generator) -> (next_states, rewards): one simulated step per agent
Sampler = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class FiniteMFG:
    """A finite-state, finite-action mean-field game.

    Args:
        n_states: number of states ``S``.
        n_actions: number of actions ``A``.
        mu0: ``(S,)`` initial distribution.
        reward: ``(S, A)``, ``(S,)`` or ``(H, S, A)`` tensor, or a callable
            ``reward(t, m) -> (S, A) or (S,)`` tensor where ``m`` is the mean field at ``t``.
        transition: a :class:`~mfglearn.model.kernels.Kernel`, a dense ``(S, A, S)``
            tensor, an integer ``(S, A)`` next-state table, an ``(index, prob)`` pair of
            ``(S, A, B)`` tensors, or a callable ``transition(t, m)`` returning one of these.
        horizon: number of decision steps ``H`` (finite-horizon games).
        gamma: discount factor in ``[0, 1)`` (infinite-horizon stationary games).
        terminal_reward: ``(S,)`` tensor or callable ``g(m_H) -> (S,)`` paid at ``t = H``.
        legal: optional ``(S, A)`` boolean mask of allowed actions (walls, borders).
        mean_field: ``"state"`` (callables receive ``mu_t``) or ``"state_action"``
            (callables receive ``L_t[s, a]``).
        batched_reward: set if the reward callable also accepts a batch of times: ``t``
            a ``(T,)`` integer tensor and ``m`` of shape ``(T, S)`` (or ``(T, S, A)``),
            returning ``(T, S, A)`` or ``(T, S)``. Rewards along a whole flow are then
            computed in one call, which matters for small games with long horizons.
        batched_transition: set if the transition callable also accepts a batch of mean fields at one
            time: ``m`` of shape ``(B, S)`` (or ``(B, S, A)``), returning one kernel per member (a
            dense ``(B, S, A, S)`` tensor, an ``(index, prob)`` pair of ``(B, S, A, K)`` tensors, or a
            kernel shared by all). Batched solves (:func:`mfglearn.solve_batch`) of a mean-field-dependent
            kernel then build it in one call per time step instead of one per member.
        separable_reward: set if the action enters the reward through a fixed cost only:
            ``r(t, s, a, m) = r(t, s, 0, m) + c(s, a)`` with ``c`` independent of ``t`` and ``m`` (crowd
            games: a state term plus a move cost). Methods that simulate the population then store
            ``(H, S)`` state terms instead of ``(H, S, A)`` rewards (:mod:`mfglearn.deep.sampled`).
            Checked at construction on two mean fields. Large games are then solved without building
            ``(H, S, A)`` rewards (:func:`~mfglearn.core.value.freeze`).
        state_reward: optional, with ``separable_reward``: the state term ``r(t, s, 0, m)`` alone, a
            callable with ``reward``'s signature (and its ``batched_reward`` convention) returning
            ``(S,)`` (``(T, S)`` batched), so that the state terms along a flow are computed without the
            ``(T, S, A)`` tensor ``reward`` returns. Checked against ``reward`` at construction.
        sampler: optional simulator of one step, ``sampler(m, states, actions, generator)
            -> (next_states, rewards)`` for ``(N,)`` agents, for games whose realised
            rewards are random (the tensors above are then their expectations) or whose
            interaction is simulated exactly (e.g. auctions among sampled opponents).
            Model-free learners use it through :class:`~mfglearn.learning.simulator.Simulator`.
        transition_batch: optional ``f(m) -> (B, S, A, S)`` dense transition tensors for a
            batch ``m`` of mean fields (``(B, S)`` or ``(B, S, A)``), for mean-field-dependent
            kernels; lets the lifted MDP of mean-field control evaluate many populations at once.
        name: identifier used in results and plots.
        layout: free-form metadata for plots (e.g. ``{"grid": (rows, cols), "cells": ...}``).
        dtype, device: tensor dtype and device for the game's data.
        validate: check every reward, terminal reward and transition the library evaluates (finite
            values; stochastic rows) at the time step where it is produced, with an error naming the
            entry, the time and the mean field. Tensors are checked once, at construction; callables
            each time they are called (one fused check per call). ``False`` skips the per-call checks
            of a trusted game for speed.
        stationary: discounted games: how stationary mean fields are computed (a
            :class:`~mfglearn.model.stationary_options.StationaryOptions` or a dict of its fields:
            ``start``, ``tol``, ``max_iter``, ``power_max_iter``); see also :meth:`with_stationary`.
        populations: set by :func:`~mfglearn.model.populations.multi_population_game` on games of
            several populations (a :class:`~mfglearn.model.populations.PopulationLayout`); ``None``
            for a single population.
    """

    n_states: int
    n_actions: int
    mu0: torch.Tensor
    reward: RewardSpec
    transition: TransitionSpec
    horizon: int | None = None
    gamma: float | None = None
    terminal_reward: torch.Tensor | Callable[[torch.Tensor], torch.Tensor] | None = None
    legal: torch.Tensor | None = None
    mean_field: str = "state"
    batched_reward: bool = False
    batched_transition: bool = False
    separable_reward: bool = False
    state_reward: Callable | None = None
    sampler: Sampler | None = None
    transition_batch: Callable[[torch.Tensor], torch.Tensor] | None = None
    name: str = "custom"
    layout: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    dtype: torch.dtype = DEFAULT_DTYPE
    device: str | torch.device | None = None
    validate: bool = True
    stationary: StationaryOptions | dict | None = None
    populations: Any = None

    def __post_init__(self) -> None:
        self.device = resolve_device(self.device)
        self._set_stationary(self.stationary)
        self.n_states = check_int("n_states", self.n_states)
        self.n_actions = check_int("n_actions", self.n_actions)
        if (self.horizon is None) == (self.gamma is None):
            raise ValidationError("give exactly one of horizon= (finite-horizon game) or gamma= (discounted game)")
        if self.horizon is not None:
            self.horizon = check_int("horizon", self.horizon)
        if self.gamma is not None:
            g = check_positive("gamma", self.gamma, allow_zero=True)
            if g >= 1.0:
                raise ValidationError(f"gamma must be in [0, 1), got {self.gamma!r}")
            self.gamma = g
        if self.mean_field not in ("state", "state_action"):
            raise ValidationError(f"mean_field must be 'state' or 'state_action', got {self.mean_field!r}")
        self.mu0 = self._tensor(self.mu0, "mu0")
        if isinstance(self.reward, torch.Tensor) or not callable(self.reward):
            self.reward = self._tensor(self.reward, "reward")
        if isinstance(self.terminal_reward, torch.Tensor) or (
            self.terminal_reward is not None and not callable(self.terminal_reward)
        ):
            self.terminal_reward = self._tensor(self.terminal_reward, "terminal_reward")
        if self.legal is not None:
            self.legal = torch.as_tensor(self.legal, dtype=torch.bool, device=self.device)
        self._static_kernel: Kernel | None = None
        if not callable(self.transition) or isinstance(self.transition, Kernel):
            self._static_kernel = self._to_device(as_kernel(self.transition, self.n_states))
            self._static_kernel._reused = True  # pushed every step of every solve: worth derived forms
        self.check()

    # ------------------------------------------------------------------ helpers
    def _tensor(self, x, name: str) -> torch.Tensor:
        try:
            t = torch.as_tensor(x, dtype=self.dtype, device=self.device)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValidationError(f"{name} must be array-like of numbers: {exc}") from None
        return t

    def _to_device(self, k: Kernel) -> Kernel:
        return _kernel_to(k, self.device, self.dtype)

    @property
    def S(self) -> int:
        return self.n_states

    @property
    def A(self) -> int:
        return self.n_actions

    @property
    def H(self) -> int:
        if self.horizon is None:
            raise ValidationError(f"game {self.name!r} is discounted (gamma={self.gamma}); it has no horizon")
        return int(self.horizon)

    @property
    def kind(self) -> str:
        """``"finite_horizon"`` or ``"discounted"`` (what the algorithm registry dispatches on)."""
        return "finite_horizon" if self.is_finite_horizon else "discounted"

    @property
    def n_populations(self) -> int:
        """Number of populations ``P`` (1 for a single-population game)."""
        return 1 if self.populations is None else self.populations.P

    def return_weights(self, mu: torch.Tensor) -> torch.Tensor:
        """Weights turning state values into the game's scalar return: ``mu`` itself for one
        population; ``mu`` times the total mass for several, so that the return (and the
        exploitability) is the mass-weighted sum over populations (OpenSpiel's NashConv)."""
        if self.populations is None:
            return mu
        return mu * self.populations.total_mass

    @property
    def is_finite_horizon(self) -> bool:
        return self.horizon is not None

    @property
    def transition_depends_on_mean_field(self) -> bool:
        return self._static_kernel is None

    # ------------------------------------------------------------ evaluation
    def kernel_at(self, t: int, m: torch.Tensor | None = None) -> Kernel:
        """The transition kernel at time ``t`` given mean field ``m`` (ignored if static)."""
        if self._static_kernel is not None:
            return self._static_kernel
        k = as_kernel(self.transition(t, m), self.n_states)
        if self.validate:
            # the name is built only for an error message: the mean field's summary costs host syncs
            k.check(lambda: f"transition(t={t}, m) of game {self.name!r} (mean field: {_summary(m)})")
        return k

    def kernels_at(self, t: int, m: torch.Tensor) -> Kernel:
        """The kernel at time ``t`` for a batch of ``B`` mean fields ``m`` (``(B, S)`` or ``(B, S, A)``).

        A static kernel is returned as it is (shared by the batch); otherwise one kernel per member,
        from one call of a ``batched_transition`` callable or from ``B`` calls of a plain one."""
        if self._static_kernel is not None:
            return self._static_kernel
        if not self.batched_transition:
            return stack_kernels([self.kernel_at(t, x) for x in m])
        k = as_batch_kernel(self.transition(t, m), self.n_states, m.shape[0])
        if self.validate:
            k.check(lambda: f"transition(t={t}, m) of game {self.name!r} (batched over {m.shape[0]} mean fields)")
        return k

    def reward_at(self, t: int, m: torch.Tensor | None = None) -> torch.Tensor:
        """The ``(S, A)`` reward at time ``t`` given mean field ``m``."""
        r = self._reward_at(t, m)
        if self.validate and callable(self.reward) and not isinstance(self.reward, torch.Tensor):
            _check_values(r, f"reward(t={t}, m) of game {self.name!r}", m)
        return r

    def _reward_at(self, t: int, m: torch.Tensor | None) -> torch.Tensor:
        r = self.reward
        if callable(r) and not isinstance(r, torch.Tensor):
            r = torch.as_tensor(r(t, m), dtype=self.dtype, device=self.device)
        elif r.dim() == 3:
            r = r[t]
        if r.dim() == 1:
            r = r.unsqueeze(-1)
        try:
            return r.expand(self.n_states, self.n_actions)
        except RuntimeError:
            raise ShapeError(
                f"reward(t, m) must return shape ({self.n_states}, {self.n_actions}) or ({self.n_states},); "
                f"got {tuple(r.shape)} at t={t}"
            ) from None

    def rewards_along(self, ms: torch.Tensor, ts: torch.Tensor | None = None) -> torch.Tensor:
        """Rewards ``(T, S, A)`` for a batch of mean fields ``ms`` (``(T, S)`` or ``(T, S, A)``) at times ``ts``.

        ``ts`` defaults to ``0..T-1`` (a flow); pass e.g. ``torch.full((E,), t)`` to
        evaluate ``E`` episodes' empirical measures at the same time ``t``.
        """
        T = ms.shape[0]
        ts = torch.arange(T, device=ms.device) if ts is None else ts
        r = self.reward
        if not (callable(r) and not isinstance(r, torch.Tensor)):
            if r.dim() == 3:
                return r[ts]
            return (r.unsqueeze(-1) if r.dim() == 1 else r).expand(T, self.n_states, self.n_actions)
        if not self.batched_reward:
            out = torch.stack([self._reward_at(int(ts[i]), ms[i]) for i in range(T)])
            if self.validate:  # one check (one host sync) for the whole flow, not one per time step
                _check_values(out, f"reward(t, m) of game {self.name!r} (times {_span(ts)}; axes [t, s, a])", ms)
            return out
        out = torch.as_tensor(r(ts, ms), dtype=self.dtype, device=self.device)
        if self.validate:
            _check_values(
                out, f"reward(t, m) of game {self.name!r} (batched over times {_span(ts)}; axes [t, s, a])", ms
            )
        if out.dim() == 2:
            out = out.unsqueeze(-1)
        return out.expand(T, self.n_states, self.n_actions)

    def state_rewards_along(self, ms: torch.Tensor, ts: torch.Tensor | None = None) -> torch.Tensor:
        """State terms ``r(t, s, 0, m)`` ``(T, S)`` of a ``separable_reward`` game along mean fields ``ms``
        (``(T, S)``), as :meth:`rewards_along`, with no ``(T, S, A)`` tensor when the game gives
        ``state_reward`` (otherwise the full rewards are built one time step at a time)."""
        T = ms.shape[0]
        ts = torch.arange(T, device=ms.device) if ts is None else ts
        f = self.state_reward
        if f is None:
            out = torch.empty(T, self.n_states, dtype=self.dtype, device=self.device)
            for i in range(T):  # one step at a time: the batched call would build the (T, S, A) tensor
                out[i] = self.rewards_along(ms[i : i + 1], ts[i : i + 1])[0, :, 0]
            return out
        if self.batched_reward:
            out = torch.as_tensor(f(ts, ms), dtype=self.dtype, device=self.device)
        else:
            out = torch.stack(
                [torch.as_tensor(f(int(ts[i]), ms[i]), dtype=self.dtype, device=self.device) for i in range(T)]
            )
        if out.shape != (T, self.n_states):
            raise ShapeError(
                f"state_reward(t, m) of game {self.name!r} must return ({self.n_states},) per time step; "
                f"got {tuple(out.shape)} for {T} time steps"
            )
        if self.validate:
            _check_values(out, f"state_reward(t, m) of game {self.name!r} (times {_span(ts)}; axes [t, s])", ms)
        return out

    def terminal_at(self, m: torch.Tensor | None = None) -> torch.Tensor:
        """The ``(S,)`` terminal reward given the final mean field (zeros if none)."""
        g = self.terminal_reward
        if g is None:
            return torch.zeros(self.n_states, dtype=self.dtype, device=self.device)
        if callable(g) and not isinstance(g, torch.Tensor):
            out = torch.as_tensor(g(m), dtype=self.dtype, device=self.device)
            if self.validate:
                _check_values(out, f"terminal_reward(m) of game {self.name!r}", m)
            return out.expand(self.n_states)
        return g.expand(self.n_states)

    def uniform_policy(self) -> torch.Tensor:
        """Uniform policy over legal actions: ``(H, S, A)`` (finite horizon) or ``(S, A)``."""
        if self.legal is None:
            pi = torch.full((self.S, self.A), 1.0 / self.A, dtype=self.dtype, device=self.device)
        else:
            m = self.legal.to(self.dtype)
            pi = m / m.sum(-1, keepdim=True)
        if self.is_finite_horizon:
            if prefers_action_major(self._static_kernel):  # see mfglearn.model.layout
                return to_action_major(pi.expand(self.H, self.S, self.A))
            return pi.expand(self.H, self.S, self.A).clone()
        return pi

    # ------------------------------------------------------------ validation
    def check(self) -> None:
        """Validate shapes and values; raises :class:`~mfglearn.errors.ValidationError` naming the entry."""
        S, A = self.n_states, self.n_actions
        mu0 = self.mu0
        if mu0.shape != (S,):
            raise ShapeError(f"mu0 must have shape ({S},), got {tuple(mu0.shape)}")
        check_distribution(mu0, "mu0")
        if self.legal is not None:
            if self.legal.shape != (S, A):
                raise ShapeError(f"legal must have shape ({S}, {A}), got {tuple(self.legal.shape)}")
            empty = ~self.legal.any(-1)
            if empty.any():
                s = int(empty.nonzero()[0])
                raise ValidationError(f"legal[{s}] allows no action; every state needs at least one legal action")
        if isinstance(self.reward, torch.Tensor):
            r = self.reward
            ok = r.shape in ((S, A), (S,)) or (self.is_finite_horizon and r.shape == (self.H, S, A))
            if not ok:
                raise ShapeError(
                    f"reward must have shape ({S}, {A}), ({S},)"
                    + (f" or ({self.H}, {S}, {A})" if self.is_finite_horizon else "")
                    + f"; got {tuple(r.shape)}"
                )
            axes = "[t, s, a]" if r.dim() == 3 else "[s, a]" if r.dim() == 2 else "[s]"
            _check_values(r, f"reward tensor of game {self.name!r} (axes {axes})", None)
        m0 = self.initial_mean_field_input()
        r0 = self.reward_at(0, m0)
        if r0.shape != (S, A):
            raise ShapeError(f"reward(t, m) must return shape ({S}, {A}) or ({S},); got {tuple(r0.shape)}")
        check_finite(r0, "reward at t=0")
        if self.batched_reward:
            rb = self.rewards_along(m0.unsqueeze(0).expand(2, *m0.shape))
            if rb.shape != (2, S, A) or not torch.allclose(rb[0], r0):
                raise ValidationError(
                    "batched_reward=True but reward(t_batch, m_batch) does not agree with reward(0, m0); "
                    "make the callable broadcast over a leading time axis or set batched_reward=False"
                )
        if self.separable_reward:
            self._check_separable(r0)
        if self.state_reward is not None:
            if not self.separable_reward or not callable(self.state_reward):
                raise ValidationError(
                    "state_reward is the state term of a separable reward: give a callable with "
                    "separable_reward=True, or leave it out"
                )
            s0 = self.state_rewards_along(m0.unsqueeze(0))[0]
            if not torch.allclose(s0, r0[:, 0], rtol=1e-5, atol=1e-6):
                raise ValidationError(
                    f"state_reward(0, m0) of game {self.name!r} is not reward(0, m0)[:, 0] (the reward's state "
                    "term): make it return r(t, s, 0, m), or leave it out"
                )
        k0 = self.kernel_at(0, m0)
        if k0.n_states != S or k0.n_actions != A:
            raise ShapeError(
                f"transition has {k0.n_states} states and {k0.n_actions} actions; the game declares S={S}, A={A}"
            )
        k0.check("transition at t=0")
        if self.batched_transition and self._static_kernel is None:
            v = torch.linspace(0.0, 1.0, S, dtype=self.dtype, device=self.device)
            kb = self.kernels_at(0, m0.unsqueeze(0).expand(2, *m0.shape))
            if not torch.allclose(kb.pull(v.expand(2, S))[0], k0.pull(v)):
                raise ValidationError(
                    "batched_transition=True but transition(0, m_batch) does not agree with transition(0, m0); "
                    "make the callable broadcast over a leading batch axis or set batched_transition=False"
                )
        if isinstance(self.terminal_reward, torch.Tensor):
            if self.terminal_reward.shape not in ((S,), ()):
                raise ShapeError(f"terminal_reward must have shape ({S},), got {tuple(self.terminal_reward.shape)}")
            _check_values(self.terminal_reward, f"terminal_reward of game {self.name!r}", None)

    def action_cost(self) -> torch.Tensor:
        """``c(s, a) = r(t, s, a, m) - r(t, s, 0, m)`` ``(S, A)`` of a game with ``separable_reward``."""
        if not self.separable_reward:
            raise ValidationError(f"game {self.name!r} does not declare separable_reward=True")
        cached = getattr(self, "_action_cost", None)
        if cached is not None and cached.device == self.device and cached.dtype == self.dtype:
            return cached
        r0 = self.reward_at(0, self.initial_mean_field_input())
        self._action_cost = r0 - r0[:, :1]
        return self._action_cost

    def _check_separable(self, r0: torch.Tensor) -> None:
        # a second mean field and time: a ramp over states (unlike most mu0, uniform included), at the last decision
        S = self.n_states
        m = torch.arange(1, S + 1, dtype=self.dtype, device=self.device)
        m = m / m.sum()
        if self.mean_field == "state_action":
            m = m.unsqueeze(-1).expand(S, self.n_actions) / self.n_actions
        r1 = self.reward_at(self.H - 1 if self.is_finite_horizon else 0, m)
        if not torch.allclose(r1 - r1[:, :1], r0 - r0[:, :1], rtol=1e-5, atol=1e-6):
            raise ValidationError(
                f"game {self.name!r} declares separable_reward=True but r(t, s, a, m) - r(t, s, 0, m) changes "
                "with the mean field or the time; set separable_reward=False"
            )

    def initial_mean_field_input(self, pi0: torch.Tensor | None = None) -> torch.Tensor:
        """What the reward/transition callables receive at ``t = 0`` under ``pi0`` (uniform if None)."""
        if self.mean_field == "state":
            return self.mu0
        pi = self.uniform_policy() if pi0 is None else pi0
        pi_t = pi[0] if pi.dim() == 3 else pi
        return self.mu0.unsqueeze(-1) * pi_t

    def with_device(self, device) -> FiniteMFG:
        """A copy of this game whose data lives on ``device``."""
        import copy

        g = copy.copy(self)
        g.device = resolve_device(device)
        g.mu0 = self.mu0.to(g.device)
        if isinstance(self.reward, torch.Tensor):
            g.reward = self.reward.to(g.device)
        if isinstance(self.terminal_reward, torch.Tensor):
            g.terminal_reward = self.terminal_reward.to(g.device)
        if self.legal is not None:
            g.legal = self.legal.to(g.device)
        if self._static_kernel is not None:
            g._static_kernel = _kernel_to(self._static_kernel, g.device)
        if isinstance(self.stationary.start, torch.Tensor):
            g._set_stationary({**self.stationary.__dict__, "start": self.stationary.start.to(g.device)})
        return g

    def with_stationary(self, **options) -> FiniteMFG:
        """A copy whose stationary mean fields use ``options`` (fields of :class:`StationaryOptions`).

        E.g. ``game.with_stationary(max_iter=50, tol=1e-8)`` bounds the mean-field fixed-point search of
        a mean-field-dependent kernel; ``game.with_stationary(start=mu)`` sets where the population starts
        when a policy's chain is reducible.
        """
        import copy

        g = copy.copy(self)
        current = {f: getattr(self.stationary, f) for f in ("start", "tol", "max_iter", "power_max_iter")}
        g._set_stationary({**current, **options})
        return g

    def _set_stationary(self, value) -> None:
        opts = StationaryOptions.coerce(value)
        if isinstance(opts.start, torch.Tensor):
            start = torch.as_tensor(opts.start, dtype=self.dtype, device=self.device)
            if start.shape != (self.n_states,):
                raise ShapeError(f"stationary start must have shape ({self.n_states},), got {tuple(start.shape)}")
            check_distribution(start, "stationary start")
            opts = StationaryOptions(start, opts.tol, opts.max_iter, opts.power_max_iter)
        self.stationary = opts

    def __repr__(self) -> str:
        time = f"horizon={self.horizon}" if self.is_finite_horizon else f"gamma={self.gamma}"
        return f"FiniteMFG(name={self.name!r}, S={self.n_states}, A={self.n_actions}, {time})"


def _kernel_to(k: Kernel, device, dtype: torch.dtype | None = None) -> Kernel:
    """Copy of kernel ``k`` with its tensors on ``device`` (floating ones cast to ``dtype``)."""
    import copy

    k2 = copy.copy(k)
    for cache in (
        "_succ",
        "_offset_index",
        "_sparse",
        "_allowed_flat",
        "_push_matrix",
    ):  # derived from the tensors replaced below: rebuilt on use
        k2.__dict__.pop(cache, None)
    for attr, val in vars(k).items():
        if isinstance(val, torch.Tensor):
            if dtype is not None and torch.is_floating_point(val):
                val = val.to(device=device, dtype=dtype)
            else:
                val = val.to(device)
            setattr(k2, attr, val)
    return k2


def check_distribution(p: torch.Tensor, name: str, tol: float = 1e-6) -> None:
    """Raise if ``p`` (last axis) is not a probability distribution."""
    check_finite(p, name)
    if (p < -tol).any():
        pos = tuple(int(i) for i in (p < -tol).nonzero()[0])
        raise ValidationError(f"{name}{list(pos)} is {p[pos].item():.3g} < 0; a distribution must be >= 0")
    sums = p.sum(-1)
    off = (sums - 1).abs() > tol
    if off.any():
        pos = tuple(int(i) for i in off.nonzero()[0]) if sums.dim() else ()
        val = sums[pos].item() if pos else sums.item()
        where = f" at {list(pos)}" if pos else ""
        raise ValidationError(f"{name} sums to {val:.6g}{where}, not 1; normalise it (p / p.sum())")


def check_finite(x: torch.Tensor, name: str) -> None:
    """Raise if ``x`` has a NaN or infinite entry, naming the first one."""
    bad = ~torch.isfinite(x)
    if bad.any():
        pos = tuple(int(i) for i in bad.nonzero()[0])
        raise ValidationError(f"{name}{list(pos)} is {x[pos].item()}; all entries must be finite")


def _summary(m: torch.Tensor | None) -> str:
    """A short description of a mean field for error messages."""
    if m is None or not isinstance(m, torch.Tensor) or m.numel() == 0:
        return "none"
    mf = m.detach().double()
    finite = bool(torch.isfinite(mf).all())
    mass = float(mf.sum(-1).mean()) if finite else float("nan")
    return f"shape {tuple(m.shape)}, mass {mass:.6g}, min {float(mf.min()):.3g}, max {float(mf.max()):.3g}"


def _span(ts: torch.Tensor) -> str:
    return f"{int(ts.min())}..{int(ts.max())}" if ts.numel() else "none"


def _check_values(x: torch.Tensor, what: str, m: torch.Tensor | None) -> None:
    """Raise if ``x`` (game data the library is about to use) has a NaN or infinite entry."""
    # A sum is finite iff every entry is, unless finite entries overflow it: then the exact test decides.
    # The sum reads x once; isfinite(x).all() ran ~70x slower (three passes and a bool tensor), 37 ms on
    # one (S, A) reward of a million-cell grid and seconds on a flow's (T, S, A) rewards.
    if x.is_floating_point() and bool(torch.isfinite(x.sum())):
        return
    if bool(torch.isfinite(x).all()):
        return
    pos = tuple(int(i) for i in (~torch.isfinite(x)).nonzero()[0])
    if isinstance(m, torch.Tensor) and m.is_floating_point() and not bool(torch.isfinite(m).all()):
        # the game was handed a broken mean field: the cause is the policy that made it, not the game
        raise ValidationError(
            f"{what} is {x[pos].item()} at index {list(pos)} because the mean field it was given is not finite "
            f"({_summary(m)}): the policy that produced that mean field holds NaN or infinite entries. Check the "
            "solver's settings (a temperature so small that Q / temperature overflows, a step size so large that "
            "the logits do) or the initial policy"
        )
    raise ValidationError(
        f"{what} is {x[pos].item()} at index {list(pos)}"
        + (f" for the mean field ({_summary(m)})" if m is not None else "")
        + "; the game's data must be finite: fix the game (this is not the algorithm's settings)"
    )
