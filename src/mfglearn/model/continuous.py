"""Continuous-state, continuous-action, finite-horizon mean-field games with batched torch dynamics.

A :class:`ContinuousMFG` moves a batch of agents ``x (N, d)`` with actions ``a (N, k)``:
``x' = project(f(t, x, a, mf) + noise_std * eps)`` and pays ``r(t, x, a, mf)``, where
``mf`` is a :class:`MeanField` at time ``t``: anything with ``samples``, ``mean()`` and
``density(x)``. Rewards may therefore ask for the population mean (linear-quadratic
games) or the density at the agents' positions (congestion, exploration). The
projection keeps agents inside the box ``[low, high]^d`` and out of rectangular walls
(a move whose straight path touches a wall is cancelled, as a wall stops a walker;
checking the path, not only the end point, prevents fast agents from tunnelling).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import torch

from mfglearn._common.checks import check_int, check_positive
from mfglearn.errors import ShapeError, ValidationError


class MeanField:
    """The population at one time: samples, their mean, and a density estimate.

    Args:
        samples: ``(N, d)`` positions.
        bandwidth: Gaussian kernel bandwidth for :meth:`density` (default: Scott's rule).
        density_fn: optional exact or learned density ``x (M, d) -> (M,)`` (e.g. a flow's)
            used instead of the kernel estimate.
    """

    def __init__(self, samples: torch.Tensor, bandwidth: float | None = None, density_fn=None):
        if samples.dim() != 2:
            raise ShapeError(f"mean-field samples must be (N, d), got {tuple(samples.shape)}")
        self.samples = samples
        n, d = samples.shape
        if bandwidth is None:
            std = float(samples.std(0).mean()) if n > 1 else 1.0
            bandwidth = max(std, 1e-3) * n ** (-1.0 / (d + 4))
        self.bandwidth = float(bandwidth)
        self.density_fn = density_fn

    def mean(self) -> torch.Tensor:
        """``(d,)`` population mean."""
        return self.samples.mean(0)

    def density(self, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """Density at points ``x`` ``(M, d)``: ``(M,)`` (Gaussian kernel estimate unless ``density_fn``)."""
        if self.density_fn is not None:
            return self.density_fn(x)
        d = self.samples.shape[1]
        h = self.bandwidth
        norm = (2 * math.pi * h * h) ** (-d / 2)
        out = []
        for i in range(0, x.shape[0], chunk):  # chunks bound the (M, N) distance matrix
            d2 = torch.cdist(x[i : i + chunk], self.samples).pow(2)
            out.append(norm * torch.exp(-0.5 * d2 / (h * h)).mean(1))
        return torch.cat(out)


@dataclass
class Rollout:
    """Trajectories of :meth:`ContinuousMFG.simulate`.

    Attributes:
        states: ``(T+1, N, d)``; actions: ``(T, N, k)``; rewards: ``(T+1, N)`` (the last row is
        the terminal reward); returns: ``(N,)`` totals.
    """

    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor

    @property
    def returns(self) -> torch.Tensor:
        return self.rewards.sum(0)


@dataclass
class ContinuousMFG:
    """A finite-horizon MFG on ``R^d`` (see the module docstring).

    Args:
        state_dim, action_dim: ``d`` and ``k``.
        horizon: ``T`` (decisions at ``t = 0..T-1``).
        drift: ``f(t, x, a, mf) -> (N, d)``, the noiseless next state.
        reward: ``r(t, x, a, mf) -> (N,)``.
        initial: ``sample(n, generator) -> (n, d)`` initial states.
        noise_std: standard deviation of the Gaussian noise added each step.
        terminal_reward: optional ``g(x, mf) -> (N,)`` at ``t = T``.
        low, high: box bounds (``None``: unbounded).
        walls: rectangles ``(x0, y0, x1, y1)`` agents cannot enter (2-D games).
        action_bound: actions are clipped to ``[-action_bound, action_bound]`` (``None``: unclipped).
        name: identifier.
        params: the constructor's parameters (for results on disk).
        model: an analytic model the game was built from (e.g. the
            :class:`~mfglearn.games.lq.LinearQuadraticMFG` behind ``lq.as_continuous()``), used for
            exact checks such as exact exploitability.
    """

    kind: ClassVar[str] = "continuous"

    state_dim: int
    action_dim: int
    horizon: int
    drift: Callable
    reward: Callable
    initial: Callable
    noise_std: float = 0.0
    terminal_reward: Callable | None = None
    low: float | None = None
    high: float | None = None
    walls: list = field(default_factory=list)
    action_bound: float | None = None
    name: str = "continuous"
    params: dict = field(default_factory=dict)
    model: object = None

    def __post_init__(self):
        self.horizon = check_int("horizon", self.horizon)
        self.noise_std = check_positive("noise_std", self.noise_std, allow_zero=True)
        if self.action_bound is not None:
            self.action_bound = check_positive("action_bound", self.action_bound)
        if (self.low is None) != (self.high is None) or (self.low is not None and self.low >= self.high):
            raise ValidationError("give both low < high (a box) or neither")
        for w in self.walls:
            if len(w) != 4 or w[0] >= w[2] or w[1] >= w[3]:
                raise ValidationError(f"a wall is (x0, y0, x1, y1) with x0 < x1 and y0 < y1, got {w!r}")
        if self.walls and self.state_dim != 2:
            raise ValidationError("walls are rectangles: they need a two-dimensional state")
        self._walls = torch.tensor(self.walls, dtype=torch.float32).reshape(-1, 4)

    def in_wall(self, x: torch.Tensor) -> torch.Tensor:
        """``(N,)`` booleans: inside any wall."""
        if not len(self.walls):
            return torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        w = self._walls.to(x)
        inside = (
            (x[:, None, 0] > w[:, 0])
            & (x[:, None, 0] < w[:, 2])
            & (x[:, None, 1] > w[:, 1])
            & (x[:, None, 1] < w[:, 3])
        )
        return inside.any(1)

    def crosses_wall(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``(N,)`` booleans: the straight move from ``x`` to ``y`` touches a wall (slab test, no tunnelling)."""
        if not len(self.walls):
            return torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        w = self._walls.to(x)
        d = (y - x).unsqueeze(1)  # (N, 1, 2)
        lo, hi = w[:, :2].unsqueeze(0), w[:, 2:].unsqueeze(0)  # (1, W, 2)
        safe = torch.where(d.abs() < 1e-12, torch.full_like(d, 1e-12), d)
        t1, t2 = (lo - x.unsqueeze(1)) / safe, (hi - x.unsqueeze(1)) / safe
        enter = torch.minimum(t1, t2).amax(-1)
        leave = torch.maximum(t1, t2).amin(-1)
        # a zero component must already lie strictly inside that slab
        inside = ((x.unsqueeze(1) > lo) & (x.unsqueeze(1) < hi)) | (d.abs() >= 1e-12)
        return ((enter < leave) & (leave > 0) & (enter < 1) & inside.all(-1)).any(1)

    def clip_action(self, a: torch.Tensor) -> torch.Tensor:
        """Actions as played: clipped to ``[-action_bound, action_bound]`` when the game bounds them."""
        return a if self.action_bound is None else a.clamp(-self.action_bound, self.action_bound)

    def step(self, t: int, x: torch.Tensor, a: torch.Tensor, mf: MeanField, generator=None) -> torch.Tensor:
        """Next states ``(N, d)`` of agents at ``x`` playing ``a`` against ``mf``."""
        a = self.clip_action(a)
        nxt = self.drift(t, x, a, mf)
        if self.noise_std > 0:
            nxt = nxt + self.noise_std * torch.randn(nxt.shape, generator=generator, dtype=nxt.dtype, device=nxt.device)
        if self.low is not None:
            nxt = nxt.clamp(self.low, self.high)
        if len(self.walls):
            nxt = torch.where(self.crosses_wall(x, nxt).unsqueeze(1), x, nxt)  # a wall stops the move
        return nxt

    def simulate(
        self, policy: Callable, n_agents: int, seed: int = 0, bandwidth: float | None = None, device=None
    ) -> Rollout:
        """``n_agents`` agents playing ``policy(t, x) -> a`` against their own empirical mean field."""
        gen = torch.Generator(device=device or "cpu").manual_seed(int(seed))
        x = self.initial(n_agents, gen)
        T = int(self.horizon)
        states = [x]
        actions, rewards = [], []
        for t in range(T):
            mf = MeanField(x, bandwidth)
            a = self.clip_action(policy(torch.full((x.shape[0],), float(t), dtype=x.dtype, device=x.device), x))
            rewards.append(self.reward(t, x, a, mf))
            x = self.step(t, x, a, mf, gen)
            actions.append(a)
            states.append(x)
        mf = MeanField(x, bandwidth)
        rewards.append(self.terminal_reward(x, mf) if self.terminal_reward else torch.zeros_like(x[:, 0]))
        return Rollout(torch.stack(states), torch.stack(actions), torch.stack(rewards))
