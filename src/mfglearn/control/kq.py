"""MFC-K-Q (Gu, Guo, Wei, Xu 2020): kernel Q-learning on an epsilon-net of ``P(S) x H``, and plain MFC Q-learning.

MFC-K-Q visits every point ``c_i = (mu_i, h_j)`` of the net **once**, recording the
aggregated reward ``r(c_i)`` and next population ``Phi(c_i)`` (deterministic), then
iterates the approximated Bellman operator

    ``(B_K q)(mu_i, h_j) = r(mu_i, h_j) + gamma max_{j'} (Gamma_K q)(Phi(mu_i, h_j), h_j')``

to its fixed point, where ``Gamma_K q(mu, h_j') = sum_i w_i(mu) q(mu_i, h_j')`` is a
normalised kernel regression on the population coordinate (the policy coordinate
of the next point is always on the net, so it needs no smoothing). ``B_K`` is a
``gamma``-contraction (kernel rows are probability vectors), so the iteration
converges linearly. The greedy closed-loop policy is
``h(mu) = argmax_j (Gamma_K q)(mu, h_j)``.

Samples come from the lifted model (``n_agents=None``: the exact aggregated reward and
dynamics, as in the paper) or from ``n_agents`` simulated agents per net point
(empirical next distribution and mean reward: model-free data with sampling noise).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import torch

from mfglearn.control.exact import legal_policy_net
from mfglearn.control.lifted import LiftedMFC, simplex_grid
from mfglearn.control.policies import CHUNK, Kernel, KernelQPolicy, MFCResult, chunked_model
from mfglearn.errors import ValidationError
from mfglearn.games.base import FiniteMFG
from mfglearn.solvers.base import check_positive


def _require_discounted(game: FiniteMFG, name: str) -> None:
    if not isinstance(game, FiniteMFG) or game.is_finite_horizon:
        raise ValidationError(f"{name} needs a discounted game (gamma=...); use 'mfc_dp' for finite horizons")


def _check_resolution(name: str, v) -> int:
    if isinstance(v, bool) or int(v) != v or v < 1:
        raise ValidationError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def sampled_model(
    game: FiniteMFG, mus: torch.Tensor, hs: torch.Tensor, n_agents: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Estimate ``r(mu, h)`` and ``Phi(mu, h)`` from ``n_agents`` simulated agents per pair.

    Agents start i.i.d. from ``mu``, act by ``h``, and move by the game's kernel at the
    pair's mean field; the estimates are the agents' mean reward and empirical next
    distribution. Vectorised over pairs and agents (kernels via ``transition_batch``).
    """
    lm = LiftedMFC(game)
    S, A = game.S, game.A
    rs, nxts = [], []
    step = max(1, CHUNK // max(1, n_agents // 16))
    for i in range(0, mus.shape[0], step):
        mu, h = mus[i : i + step], hs[i : i + step]
        B = mu.shape[0]
        m = lm.mean_field_input(mu, h)
        s = torch.multinomial(mu, n_agents, replacement=True, generator=gen)  # (B, N)
        a = torch.multinomial(h.gather(1, s.unsqueeze(-1).expand(B, n_agents, A)).reshape(-1, A), 1, generator=gen)
        a = a.view(B, n_agents)
        r_sa = game.rewards_along(m, torch.zeros(B, dtype=torch.long, device=mu.device))  # (B, S, A)
        rs.append(r_sa[torch.arange(B).unsqueeze(1), s, a].mean(1))
        if lm.static_kernel is not None:
            P = lm.static_kernel[s, a]  # (B, N, S)
        elif game.transition_batch is not None:
            P = game.transition_batch(m)[torch.arange(B).unsqueeze(1), s, a]
        else:
            P = torch.stack([game.kernel_at(0, m[b]).dense()[s[b], a[b]] for b in range(B)])
        u = torch.rand(B, n_agents, 1, generator=gen, dtype=mu.dtype, device=mu.device)
        s2 = (u > P.cumsum(-1)).sum(-1).clamp(max=S - 1)
        nxts.append(torch.nn.functional.one_hot(s2, S).to(mu.dtype).mean(1))
    return torch.cat(rs), torch.cat(nxts)


def _sparse_weights(kernel: Kernel, points: torch.Tensor, net: torch.Tensor, block: int) -> list[torch.Tensor]:
    """Kernel weights as sparse CSR ``(b, G)`` row blocks of ``block`` rows (entries below 1e-12 dropped)."""
    out = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        for i in range(0, points.shape[0], block):
            w = kernel.weights(points[i : i + block], net)
            w = torch.where(w > 1e-12, w, torch.zeros_like(w))
            out.append((w / w.sum(-1, keepdim=True)).to_sparse_csr())
    return out


class MFCKQ:
    """MFC-K-Q: kernel-regression Q-learning on an epsilon-net of ``P(S) x H``.

    Args:
        game: a discounted game.
        mu_resolution: net of ``P(S)``: distributions in multiples of ``1 / mu_resolution``
            (``epsilon ~ 2 / mu_resolution`` in l1).
        policy_resolution: net of local policies ``H``: action probabilities in multiples of
            ``1 / policy_resolution`` (``1``: deterministic local policies).
        kernel: ``"triangular"``, ``"gaussian"``, ``"epanechnikov"`` or ``"nearest"``.
        bandwidth: kernel bandwidth in l1 distance (default ``2 / mu_resolution``, the
            distance between neighbouring net points).
        n_agents: ``None`` to observe the exact aggregated reward and dynamics; else the
            number of simulated agents per net point.
        tol: stop when the sup-norm change of ``q`` falls below ``tol``.
        eval_every: evaluate the greedy policy's planner value every that many
            iterations (0: only at the end).
        seed: seed for sampled observations.

    Cost: ``|C| = G J`` observations once, then ``O(G J^2 k)`` per iteration (``k`` kernel
    neighbours): keep the policy net small (``J = C(p + A - 1, A - 1)^S``).
    """

    name = "mfc_kq"
    is_mfc = True
    description = "MFC-K-Q: kernel Q-learning for mean-field control on an epsilon-net of P(S) x H (discounted)"

    def __init__(
        self,
        game: FiniteMFG,
        mu_resolution: int = 10,
        policy_resolution: int = 1,
        kernel: str = "triangular",
        bandwidth: float | None = None,
        n_agents: int | None = None,
        tol: float = 1e-8,
        eval_every: int = 0,
        seed: int = 0,
    ):
        _require_discounted(game, self.name)
        self.game = game
        self.mu_resolution = _check_resolution("mu_resolution", mu_resolution)
        self.policy_resolution = _check_resolution("policy_resolution", policy_resolution)
        self.bandwidth = 2.0 / self.mu_resolution if bandwidth is None else check_positive("bandwidth", bandwidth)
        self.kernel = Kernel(kernel, self.bandwidth)
        self.n_agents = None if n_agents is None else _check_resolution("n_agents", n_agents)
        self.tol = check_positive("tol", tol)
        self.eval_every = int(eval_every)
        self.seed = int(seed)
        self.lifted = LiftedMFC(game)
        self.mu_net = simplex_grid(game.S, self.mu_resolution, game.dtype).to(game.device)
        self.h_net = legal_policy_net(game, self.policy_resolution)
        G, J = self.mu_net.shape[0], self.h_net.shape[0]
        self.q = torch.zeros(G, J, dtype=game.dtype, device=game.device)
        self._data: tuple[torch.Tensor, list[torch.Tensor]] | None = None

    @property
    def hyperparameters(self) -> dict:
        return dict(
            mu_resolution=self.mu_resolution,
            policy_resolution=self.policy_resolution,
            kernel=self.kernel.name,
            bandwidth=self.bandwidth,
            n_agents=self.n_agents,
            tol=self.tol,
            eval_every=self.eval_every,
            seed=self.seed,
        )

    @property
    def n_samples(self) -> int:
        """Observations used: one per net point."""
        return int(self.q.numel())

    def collect(self) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Visit each net point once: rewards ``(G, J)`` and next-population kernel weights (sparse row blocks)."""
        if self._data is None:
            G, J = self.q.shape
            mus = self.mu_net.repeat_interleave(J, 0)
            hs = self.h_net.repeat(G, 1, 1)
            if self.n_agents is None:
                r, nxt = chunked_model(self.lifted, mus, hs)
            else:
                gen = torch.Generator(device=self.game.device).manual_seed(self.seed)
                r, nxt = sampled_model(self.game, mus, hs, self.n_agents, gen)
            # blocks bound the (rows, J) slab of Gamma_K q held at once during the iteration
            block = max(1, min(4096, (1 << 22) // max(J, G)))
            self._data = (r.view(G, J), _sparse_weights(self.kernel, nxt, self.mu_net, block))
        return self._data

    def policy(self) -> KernelQPolicy:
        """The greedy closed-loop policy of the current ``q``."""
        return KernelQPolicy(self.mu_net, self.h_net, self.q.clone(), self.kernel)

    def solve(self, iterations: int = 2000, callback: Callable[[int, dict], None] | None = None) -> MFCResult:
        """Iterate ``q <- B_K q`` up to ``iterations`` times (or until the change is below ``tol``)."""
        t0 = time.perf_counter()
        r, W = self.collect()
        g = float(self.game.gamma)
        G, J = self.q.shape
        history: dict[str, list[float]] = {"residual": [], "value": [], "value_iteration": []}
        for k in range(int(iterations)):
            best = torch.cat([(w @ self.q).amax(-1) for w in W])
            nxt = r + g * best.view(G, J)
            res = float((nxt - self.q).abs().max())
            self.q = nxt
            history["residual"].append(res)
            if self.eval_every and (k + 1) % self.eval_every == 0:
                history["value"].append(self.lifted.rollout_value(self.game.mu0, self.policy()))
                history["value_iteration"].append(k + 1)
            if callback is not None:
                callback(k, {"residual": res})
            if res < self.tol:
                break
        pol = self.policy()
        value = self.lifted.rollout_value(self.game.mu0, pol)
        q_mu0 = float(pol.q_values(self.game.mu0.view(1, -1)).amax())
        return MFCResult(
            self.name,
            self.game.name,
            value,
            pol,
            history,
            self.hyperparameters,
            dict(q_value_mu0=q_mu0, samples=float(self.n_samples), seconds=time.perf_counter() - t0),
        )


class MFCQLearning:
    """Plain Q-learning for MFC on the same net, from trajectories (no kernel, nearest net point).

    Episodes of ``episode_length`` steps start at random net populations; at each step
    the planner picks a net policy epsilon-greedily, observes ``r(mu, h)`` and
    ``Phi(mu, h)`` and updates ``q[i(mu), j]`` with step ``1 / (1 + n)^omega``.

    Args:
        game: a discounted game.
        mu_resolution, policy_resolution: the nets (as :class:`MFCKQ`).
        samples: total transitions observed.
        episode_length: steps per episode.
        explore: epsilon of the epsilon-greedy exploration.
        omega: learning-rate exponent in ``(0.5, 1]``.
        seed: seed of exploration and restarts.
    """

    name = "mfc_q_learning"
    is_mfc = True
    description = "plain MFC Q-learning on an epsilon-net (nearest point, epsilon-greedy trajectories)"

    def __init__(
        self,
        game: FiniteMFG,
        mu_resolution: int = 10,
        policy_resolution: int = 1,
        samples: int = 200_000,
        episode_length: int = 50,
        explore: float = 0.2,
        omega: float = 0.8,
        eval_every: int = 0,
        seed: int = 0,
    ):
        _require_discounted(game, self.name)
        self.game = game
        self.mu_resolution = _check_resolution("mu_resolution", mu_resolution)
        self.policy_resolution = _check_resolution("policy_resolution", policy_resolution)
        self.samples = _check_resolution("samples", samples)
        self.episode_length = _check_resolution("episode_length", episode_length)
        if not 0.0 <= explore <= 1.0:
            raise ValidationError(f"explore must be in [0, 1], got {explore}")
        if not 0.5 < omega <= 1.0:
            raise ValidationError(f"omega must be in (0.5, 1], got {omega}")
        self.explore, self.omega, self.eval_every, self.seed = float(explore), float(omega), int(eval_every), int(seed)
        self.lifted = LiftedMFC(game)
        self.mu_net = simplex_grid(game.S, self.mu_resolution, game.dtype).to(game.device)
        self.h_net = legal_policy_net(game, self.policy_resolution)
        self.kernel = Kernel("nearest", 1.0)

    @property
    def hyperparameters(self) -> dict:
        return dict(
            mu_resolution=self.mu_resolution,
            policy_resolution=self.policy_resolution,
            samples=self.samples,
            episode_length=self.episode_length,
            explore=self.explore,
            omega=self.omega,
            eval_every=self.eval_every,
            seed=self.seed,
        )

    def solve(self, iterations: int | None = None, callback=None) -> MFCResult:
        """Run ``samples`` transitions (``iterations`` overrides the number of episodes)."""
        t0 = time.perf_counter()
        game, g = self.game, float(self.game.gamma)
        gen = torch.Generator(device=game.device).manual_seed(self.seed)
        G, J = self.mu_net.shape[0], self.h_net.shape[0]
        q = torch.zeros(G, J, dtype=game.dtype, device=game.device)
        n = torch.zeros(G, J, dtype=game.dtype, device=game.device)
        episodes = iterations if iterations is not None else max(1, self.samples // self.episode_length)
        # many episodes run side by side (a batch of populations), one vectorised step at a time
        batch = min(256, episodes)
        history: dict[str, list[float]] = {"value": [], "value_samples": []}
        seen = 0
        for start in range(0, episodes, batch):
            B = min(batch, episodes - start)
            mu = self.mu_net[torch.randint(G, (B,), generator=gen)]
            for _ in range(self.episode_length):
                i = torch.cdist(mu, self.mu_net, p=1).argmin(-1)
                greedy = q[i].argmax(-1)
                rand = torch.randint(J, (B,), generator=gen)
                j = torch.where(torch.rand(B, generator=gen, dtype=mu.dtype) < self.explore, rand, greedy)
                r, mu2 = chunked_model(self.lifted, mu, self.h_net[j])
                i2 = torch.cdist(mu2, self.mu_net, p=1).argmin(-1)
                target = r + g * q[i2].amax(-1)
                # several episodes may update one entry in a step: average their targets
                flat = i * J + j
                cnt = torch.bincount(flat, minlength=G * J).to(q.dtype)
                tsum = torch.bincount(flat, weights=target, minlength=G * J)
                hit = cnt > 0
                n.view(-1)[hit] += 1
                lr = 1.0 / (1.0 + n.view(-1)[hit]) ** self.omega
                q.view(-1)[hit] += lr * (tsum[hit] / cnt[hit] - q.view(-1)[hit])
                mu = mu2
                seen += B
            if self.eval_every and (start // batch + 1) % self.eval_every == 0:
                pol = KernelQPolicy(self.mu_net, self.h_net, q.clone(), self.kernel)
                history["value"].append(self.lifted.rollout_value(game.mu0, pol))
                history["value_samples"].append(seen)
        pol = KernelQPolicy(self.mu_net, self.h_net, q, self.kernel)
        value = self.lifted.rollout_value(game.mu0, pol)
        return MFCResult(
            self.name,
            game.name,
            value,
            pol,
            history,
            self.hyperparameters,
            dict(samples=float(seen), visited=float((n > 0).float().mean()), seconds=time.perf_counter() - t0),
        )
