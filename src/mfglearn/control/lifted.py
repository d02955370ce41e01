"""The lifted (McKean-Vlasov) MDP of a mean-field control problem, and nets on its spaces.

A central planner chooses a *local policy* ``h: S -> P(A)`` (an ``(S, A)`` tensor)
given the population ``mu in P(S)``. The lifted MDP on ``P(S)`` is deterministic
(Gu, Guo, Wei, Xu 2019):

* aggregated dynamics ``Phi(mu, h)[s'] = sum_{s,a} mu(s) h(s, a) P(s'|s, a, m)``,
* aggregated reward ``r(mu, h) = sum_{s,a} mu(s) h(s, a) r(s, a, m)``,

where ``m`` is the game's mean-field input (``mu``, or ``L = mu h`` for
state-action games). :class:`LiftedMFC` evaluates both for a *batch* of
``(mu, h)`` pairs at once; :func:`simplex_grid` / :class:`SimplexInterpolator`
discretise ``P(S)`` (grid of multiples of ``1/n`` with Freudenthal-simplex linear
interpolation) and :func:`policy_net` discretises the local policies.
"""

from __future__ import annotations

import itertools
import math

import torch

from mfglearn.errors import ShapeError, ValidationError
from mfglearn.model.finite import FiniteMFG

DENSE_MAX_ENTRIES = 1 << 25


class LiftedMFC:
    """Aggregated dynamics and reward of ``game`` seen by a central planner.

    Args:
        game: any :class:`~mfglearn.model.finite.FiniteMFG` (finite horizon or discounted).
    """

    def __init__(self, game: FiniteMFG):
        if not isinstance(game, FiniteMFG):
            raise ValidationError(f"mean-field control needs a FiniteMFG, got {type(game).__name__}")
        self.game = game
        self.S, self.A = game.S, game.A
        # a dense (S, A, S) copy serves batched populations in one einsum; large grids keep the sparse kernel
        static = not game.transition_depends_on_mean_field
        small = game.S * game.A * game.S <= DENSE_MAX_ENTRIES
        self.static_kernel = game.kernel_at(0).dense() if static and small else None

    @property
    def gamma(self) -> float | None:
        return self.game.gamma

    def mean_field_input(self, mu: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The game's mean-field argument for populations ``mu`` under ``h``: ``mu`` or ``L = mu h``."""
        return mu.unsqueeze(-1) * h if self.game.mean_field == "state_action" else mu

    def check(self, mu: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Shapes ``mu (B, S)``, ``h (B, S, A)`` (a single pair is batched)."""
        mu = torch.as_tensor(mu, dtype=self.game.dtype, device=self.game.device)
        h = torch.as_tensor(h, dtype=self.game.dtype, device=self.game.device)
        if mu.dim() == 1:
            mu = mu.unsqueeze(0)
        if h.dim() == 2:
            h = h.unsqueeze(0).expand(mu.shape[0], -1, -1)
        if mu.shape[-1] != self.S or h.shape[-2:] != (self.S, self.A) or h.shape[0] != mu.shape[0]:
            raise ShapeError(
                f"expected mu of shape (B, {self.S}) and h of shape (B, {self.S}, {self.A}); "
                f"got {tuple(mu.shape)} and {tuple(h.shape)}"
            )
        return mu, h

    def phi(self, mu: torch.Tensor, h: torch.Tensor, t: int = 0) -> torch.Tensor:
        """Next population ``Phi(mu, h)``: ``(B, S)`` for ``mu (B, S)``, ``h (B, S, A)``."""
        mu, h = self.check(mu, h)
        L = mu.unsqueeze(-1) * h
        if self.static_kernel is not None:
            return torch.einsum("bsa,sat->bt", L, self.static_kernel)
        m = self.mean_field_input(mu, h)
        if self.game.transition_batch is not None:
            return torch.einsum("bsa,bsat->bt", L, self.game.transition_batch(m))
        # no batched kernel: one kernel per population (slow for large batches)
        return torch.stack([self.game.kernel_at(t, m[b]).push(L[b]) for b in range(mu.shape[0])])

    def reward(self, mu: torch.Tensor, h: torch.Tensor, t: int = 0) -> torch.Tensor:
        """Aggregated reward ``r(mu, h)``: ``(B,)``."""
        mu, h = self.check(mu, h)
        m = self.mean_field_input(mu, h)
        r = self.game.rewards_along(m, torch.full((mu.shape[0],), t, device=mu.device))
        return (mu.unsqueeze(-1) * h * r).sum((-1, -2))

    def terminal(self, mu: torch.Tensor) -> torch.Tensor:
        """Finite horizon: ``sum_s mu(s) g(s, mu)``, ``(B,)``."""
        if self.game.terminal_reward is None:
            return torch.zeros(mu.shape[0], dtype=mu.dtype, device=mu.device)
        return torch.stack([self.game.terminal_at(m) @ m for m in mu])

    def rollout_value(self, mu0: torch.Tensor, policy, steps: int | None = None) -> float:
        """Planner's objective of a closed-loop ``policy(mu (B, S), t) -> h (B, S, A)`` from ``mu0``.

        Discounted games: ``sum_t gamma^t r(mu_t, h_t)`` truncated where ``gamma^t`` is below
        1e-10 (or at ``steps``); finite horizon: the ``H`` rewards plus the terminal reward.
        """
        mu = torch.as_tensor(mu0, dtype=self.game.dtype, device=self.game.device).reshape(1, -1)
        if self.game.is_finite_horizon:
            total = 0.0
            for t in range(self.game.H):
                h = policy(mu, t)
                total += float(self.reward(mu, h, t)[0])
                mu = self.phi(mu, h, t)
            return total + float(self.terminal(mu)[0])
        g = float(self.gamma)
        n = steps if steps is not None else int(math.ceil(math.log(1e-10) / math.log(max(g, 1e-12)))) + 1
        total, disc = 0.0, 1.0
        for t in range(n):
            h = policy(mu, t)
            total += disc * float(self.reward(mu, h, t)[0])
            mu = self.phi(mu, h, t)
            disc *= g
        return total


def simplex_grid(n_states: int, resolution: int, dtype=torch.float64) -> torch.Tensor:
    """Every distribution on ``n_states`` points with masses in multiples of ``1/resolution``: ``(G, S)``.

    ``G = C(resolution + S - 1, S - 1)`` points, in lexicographic order of their counts.
    """
    if resolution < 1 or n_states < 1:
        raise ValidationError(f"resolution and n_states must be >= 1, got {resolution}, {n_states}")
    G = math.comb(resolution + n_states - 1, n_states - 1)
    if G > 5_000_000:
        raise ValidationError(
            f"a simplex grid with S={n_states}, resolution={resolution} has {G} points; lower the resolution"
        )
    # stars and bars: choose S-1 bar positions among resolution + S - 1 slots
    bars = torch.tensor(list(itertools.combinations(range(resolution + n_states - 1), n_states - 1)), dtype=torch.long)
    if n_states == 1:
        return torch.ones(1, 1, dtype=dtype)
    edges = torch.cat(
        [torch.full((bars.shape[0], 1), -1), bars, torch.full((bars.shape[0], 1), resolution + n_states - 1)], 1
    )
    counts = edges.diff(dim=1) - 1
    return counts.to(dtype) / resolution


def policy_net(n_states: int, n_actions: int, resolution: int, dtype=torch.float64) -> torch.Tensor:
    """Local policies whose action probabilities are multiples of ``1/resolution``, per state: ``(J, S, A)``.

    ``J = C(resolution + A - 1, A - 1) ** S``; ``resolution = 1`` gives the ``A**S`` deterministic policies.
    """
    per_state = simplex_grid(n_actions, resolution, dtype)  # (K, A)
    K = per_state.shape[0]
    if K**n_states > 2_000_000:
        raise ValidationError(f"the policy net has {K}**{n_states} = {K**n_states} points; lower the policy resolution")
    idx = torch.cartesian_prod(*[torch.arange(K)] * n_states).reshape(-1, n_states)
    return per_state[idx]


class SimplexInterpolator:
    """Piecewise-linear interpolation on :func:`simplex_grid` (Freudenthal triangulation).

    A point ``x in P(S)`` lies in one small simplex of the grid; :meth:`weights` returns
    its ``S`` vertices (grid indices) and barycentric weights, so that
    ``f(x) ~ sum_k w_k f(grid[v_k])`` is exact on the grid, linear inside each cell and
    continuous. Vectorised over a batch of points.
    """

    def __init__(self, n_states: int, resolution: int, dtype=torch.float64):
        self.S, self.n = int(n_states), int(resolution)
        self.grid = simplex_grid(self.S, self.n, dtype)
        # index of a grid point from its cumulative coordinates z_k = n * sum_{j > k} x_j (k < S-1)
        z = self._cumulative(self.grid).round().long()
        self._table = torch.full((self.n + 1,) * max(1, self.S - 1), -1, dtype=torch.long)
        if self.S > 1:
            self._table[tuple(z.T)] = torch.arange(self.grid.shape[0])

    def _cumulative(self, x: torch.Tensor) -> torch.Tensor:
        tail = x.flip(-1).cumsum(-1).flip(-1)  # tail[k] = sum_{j >= k} x_j
        return self.n * tail[..., 1:]

    def weights(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Vertices ``(B, S)`` (long) and weights ``(B, S)`` for points ``x`` ``(B, S)``."""
        B = x.shape[0]
        if self.S == 1:
            return torch.zeros(B, 1, dtype=torch.long), torch.ones(B, 1, dtype=x.dtype)
        z = self._cumulative(x.cpu()).clamp(0, self.n)
        base = z.floor()
        f = z - base
        order = torch.sort(-f, dim=-1, stable=True).indices  # ties: lower coordinate first keeps z monotone
        fs = f.gather(-1, order)
        d = self.S - 1
        lam = torch.empty(B, self.S, dtype=x.dtype)
        lam[:, 0] = 1 - fs[:, 0]
        if d > 1:
            lam[:, 1:d] = fs[:, :-1] - fs[:, 1:]
        lam[:, d] = fs[:, -1]
        steps = torch.nn.functional.one_hot(order, d).to(base.dtype).cumsum(1)  # (B, d, d)
        verts = torch.cat([base.unsqueeze(1), base.unsqueeze(1) + steps], 1).long()  # (B, S, d)
        valid = (verts >= 0).all(-1) & (verts <= self.n).all(-1) & (verts[..., :-1] >= verts[..., 1:]).all(-1)
        idx = self._table[tuple(verts.clamp(0, self.n).reshape(-1, d).T)].reshape(B, self.S)
        valid &= idx >= 0
        lam = torch.where(valid, lam, torch.zeros_like(lam))
        lam = lam / lam.sum(-1, keepdim=True)
        return idx.clamp(min=0).to(x.device), lam.to(x.device)

    def matrix(self, x: torch.Tensor) -> torch.Tensor:
        """Dense ``(B, G)`` interpolation matrix: ``f(x) = M @ f(grid)``."""
        idx, lam = self.weights(x)
        M = torch.zeros(x.shape[0], self.grid.shape[0], dtype=x.dtype, device=x.device)
        M.scatter_add_(1, idx, lam)
        return M
