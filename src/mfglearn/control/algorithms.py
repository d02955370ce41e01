"""Mean-field control algorithms on the one contract: MFC-K-Q, MFC Q-learning, and the two references.

Each is an :class:`~mfglearn.algorithm.Algorithm` with ``problem = "control"``: it maximises the
planner's value rather than finding an equilibrium, so its result (:class:`MFCResult`) carries the
planner's ``value`` from ``mu0`` and a closed-loop ``policy(mu, t)``, and it refuses
``target_exploitability``.
"""

from __future__ import annotations

import math

import torch

from mfglearn._common.checks import check_int, check_positive, check_unit_interval
from mfglearn._common.memory import require_memory
from mfglearn.algorithm import Algorithm, Alias
from mfglearn.control.exact import _discounted_horizon, legal_policy_net
from mfglearn.control.kq import _sparse_weights, sampled_model
from mfglearn.control.lifted import LiftedMFC, SimplexInterpolator, simplex_grid
from mfglearn.control.policies import Kernel, KernelQPolicy, LookaheadPolicy, MFCResult, OpenLoopPolicy, chunked_model
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG


def _check_resolution(name: str, v) -> int:
    return check_int(name, v, minimum=1)


class _MFCAlgorithm(Algorithm):
    problem = "control"
    monitor = "residual"

    def _require_memory(self, mu_resolution: int, policy_resolution: int) -> None:
        """Refuse a net whose ``(G J, S, A)`` tables (G populations, J local policies) cannot fit."""
        game = self.game
        S, A = game.S, game.A
        G = math.comb(mu_resolution + S - 1, S - 1)
        J = math.comb(policy_resolution + A - 1, A - 1) ** S
        itemsize = torch.finfo(game.dtype).bits / 8
        require_memory(
            2 * G * J * (S * A + S + 4) * itemsize,  # pairs (mu, h), next populations, rewards, q: twice, transiently
            f"{self.name} with mu_resolution={mu_resolution}, policy_resolution={policy_resolution} "
            f"({G} populations x {J} local policies)",
            "lower mu_resolution or policy_resolution",
            game.device,
        )

    def __init__(self, game) -> None:
        if not isinstance(game, FiniteMFG):
            raise ValidationError(f"{self.name} plans on a FiniteMFG; got {type(game).__name__}")
        LiftedMFC(game)  # validates the game
        super().__init__(game)

    def _result(self, value: float, policy, extra: dict, stopped: str | None) -> MFCResult:
        return MFCResult(
            policy=policy,
            mean_field=None,
            value=value,
            history={k: list(v) for k, v in self.history.items()},
            solver=self.name,
            game=self.game.name,
            hyperparameters=self.hyperparameters,
            stopped=self.stopped if stopped is None else stopped,
            extra={**extra, "seconds": self._elapsed},
        )


class MFCKQ(_MFCAlgorithm):
    """MFC-K-Q: kernel-regression Q-learning on an epsilon-net of ``P(S) x H`` (see :mod:`mfglearn.control.kq`).

    Args:
        game: a discounted game.
        mu_resolution: net of ``P(S)``: distributions in multiples of ``1 / mu_resolution``
            (``epsilon ~ 2 / mu_resolution`` in l1).
        policy_resolution: net of local policies ``H``: action probabilities in multiples of
            ``1 / policy_resolution`` (``1``: deterministic local policies).
        kernel: ``"triangular"``, ``"gaussian"``, ``"epanechnikov"`` or ``"nearest"``.
        bandwidth: kernel bandwidth in l1 distance (default ``2 / mu_resolution``).
        n_agents: ``None`` to observe the exact aggregated reward and dynamics; else the
            number of simulated agents per net point.
        tol: converged when the sup-norm change of ``q`` falls below ``tol``.
        eval_every: evaluate the greedy policy's planner value every that many iterations (0: only at the end).
        seed: seed for sampled observations.

    Cost: ``|C| = G J`` observations once, then ``O(G J^2 k)`` per iteration (``k`` kernel
    neighbours): keep the policy net small (``J = C(p + A - 1, A - 1)^S``).
    """

    name = "mfc_kq"
    description = "MFC-K-Q: kernel Q-learning for mean-field control on an epsilon-net of P(S) x H (discounted)"
    game_kinds = frozenset({"discounted"})
    iteration_unit = "one application of the kernel Bellman operator B_K to q (the net is sampled once, first)"
    default_iterations = 2000

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
        super().__init__(game)
        self.mu_resolution = _check_resolution("mu_resolution", mu_resolution)
        self.policy_resolution = _check_resolution("policy_resolution", policy_resolution)
        self._require_memory(self.mu_resolution, self.policy_resolution)
        self.bandwidth = 2.0 / self.mu_resolution if bandwidth is None else check_positive("bandwidth", bandwidth)
        self.kernel = Kernel(kernel, self.bandwidth)
        self.n_agents = None if n_agents is None else _check_resolution("n_agents", n_agents)
        self.tol = check_positive("tol", tol)
        self.eval_every = check_int("eval_every", eval_every, minimum=0)
        self.seed = check_int("seed", seed, minimum=0)
        self.lifted = LiftedMFC(game)
        self.mu_net = simplex_grid(game.S, self.mu_resolution, game.dtype).to(game.device)
        self.h_net = legal_policy_net(game, self.policy_resolution)
        G, J = self.mu_net.shape[0], self.h_net.shape[0]
        self.q = torch.zeros(G, J, dtype=game.dtype, device=game.device)
        self._data: tuple[torch.Tensor, list[torch.Tensor]] | None = None
        self._residual = math.inf

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

    @property
    def converged(self) -> bool:
        return self._residual < self.tol

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

    def _step(self) -> dict:
        r, W = self.collect()
        G, J = self.q.shape
        best = torch.cat([(w @ self.q).amax(-1) for w in W])
        nxt = r + float(self.game.gamma) * best.view(G, J)
        self._residual = float((nxt - self.q).abs().max())
        self.q = nxt
        if self.eval_every and (self.iteration + 1) % self.eval_every == 0:
            self._extra = {"value": self.lifted.rollout_value(self.game.mu0, self.policy())}
        return {"residual": self._residual}

    def result(self, stopped: str | None = None) -> MFCResult:
        pol = self.policy()
        value = self.lifted.rollout_value(self.game.mu0, pol)
        q_mu0 = float(pol.q_values(self.game.mu0.view(1, -1)).amax())
        return self._result(value, pol, dict(q_value_mu0=q_mu0, samples=float(self.n_samples)), stopped)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "q": self.q.cpu(), "residual": self._residual}

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        self.q = d["q"].to(device=self.game.device, dtype=self.game.dtype)
        self._residual = float(d["residual"])


class MFCQLearning(_MFCAlgorithm):
    """Plain Q-learning for MFC on the same net, from trajectories (no kernel, nearest net point).

    Episodes of ``episode_length`` steps start at random net populations; at each step
    the planner picks a net policy epsilon-greedily, observes ``r(mu, h)`` and
    ``Phi(mu, h)`` and updates ``q[i(mu), j]`` with step ``1 / (1 + n)^omega``. Episodes run
    ``episodes_per_iteration`` side by side; the run has converged after ``samples`` transitions.

    Args:
        game: a discounted game.
        mu_resolution, policy_resolution: the nets (as :class:`MFCKQ`).
        samples: total transitions observed (``samples // episode_length`` episodes).
        episode_length: steps per episode.
        explore: epsilon of the epsilon-greedy exploration.
        omega: learning-rate exponent in ``(0.5, 1]``.
        eval_every: evaluate the greedy policy every that many iterations (0: only at the end).
        episodes_per_iteration: episodes run side by side in one iteration.
        seed: seed of exploration and restarts.
    """

    name = "mfc_q_learning"
    description = "plain MFC Q-learning on an epsilon-net (nearest point, epsilon-greedy trajectories)"
    game_kinds = frozenset({"discounted"})
    iteration_unit = "one batch of episodes_per_iteration episodes run side by side"
    default_iterations = 1_000_000  # the run ends after `samples` transitions
    monitor = "samples"

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
        episodes_per_iteration: int = 256,
        seed: int = 0,
    ):
        super().__init__(game)
        self.mu_resolution = _check_resolution("mu_resolution", mu_resolution)
        self.policy_resolution = _check_resolution("policy_resolution", policy_resolution)
        self.samples = _check_resolution("samples", samples)
        self.episode_length = _check_resolution("episode_length", episode_length)
        self.episodes_per_iteration = _check_resolution("episodes_per_iteration", episodes_per_iteration)
        self.explore = check_unit_interval("explore", explore, closed_low=True)
        self.omega = check_unit_interval("omega", omega)
        if self.omega <= 0.5:  # the step sizes 1 / n^omega must not be summable squared: omega in (0.5, 1]
            raise ValidationError(f"omega must be in (0.5, 1], got {omega!r}")
        self.eval_every, self.seed = check_int("eval_every", eval_every, minimum=0), check_int("seed", seed, minimum=0)
        self.lifted = LiftedMFC(game)
        self.mu_net = simplex_grid(game.S, self.mu_resolution, game.dtype).to(game.device)
        self.h_net = legal_policy_net(game, self.policy_resolution)
        self.kernel = Kernel("nearest", 1.0)
        self.episodes = max(1, self.samples // self.episode_length)
        G, J = self.mu_net.shape[0], self.h_net.shape[0]
        self.q = torch.zeros(G, J, dtype=game.dtype, device=game.device)
        self.n = torch.zeros(G, J, dtype=game.dtype, device=game.device)
        self.gen = torch.Generator(device=game.device).manual_seed(self.seed)
        self.seen = 0
        self.episodes_done = 0

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
            episodes_per_iteration=self.episodes_per_iteration,
            seed=self.seed,
        )

    @property
    def converged(self) -> bool:
        return self.episodes_done >= self.episodes

    def _step(self) -> dict:
        if self.converged:
            return {"samples": self.seen}
        game, g, gen = self.game, float(self.game.gamma), self.gen
        q, n = self.q, self.n
        G, J = q.shape
        B = min(self.episodes_per_iteration, self.episodes - self.episodes_done)
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
            self.seen += B
        self.episodes_done += B
        if self.eval_every and (self.iteration + 1) % self.eval_every == 0:
            pol = KernelQPolicy(self.mu_net, self.h_net, q.clone(), self.kernel)
            self._extra = {"value": self.lifted.rollout_value(game.mu0, pol), "value_samples": self.seen}
        return {"samples": self.seen}

    def result(self, stopped: str | None = None) -> MFCResult:
        pol = KernelQPolicy(self.mu_net, self.h_net, self.q.clone(), self.kernel)
        value = self.lifted.rollout_value(self.game.mu0, pol)
        extra = dict(samples=float(self.seen), visited=float((self.n > 0).float().mean()))
        return self._result(value, pol, extra, stopped)

    def state_dict(self) -> dict:
        d = super().state_dict()
        d.update(q=self.q.cpu(), n=self.n.cpu(), generator=self.gen.get_state(), seen=self.seen)
        d["episodes_done"] = self.episodes_done
        return d

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        self.q = d["q"].to(device=self.game.device, dtype=self.game.dtype)
        self.n = d["n"].to(device=self.game.device, dtype=self.game.dtype)
        self.gen.set_state(d["generator"])
        self.seen, self.episodes_done = int(d["seen"]), int(d["episodes_done"])


class MFCDP(_MFCAlgorithm):
    """Optimal planner value on a grid of ``P(S)`` and its greedy lookahead policy (reference).

    Discounted games: value iteration, converged when the sup-norm change is below ``tol``.
    Finite horizon: backward induction, one time step per iteration (``H`` iterations).

    Args:
        game: a finite game.
        mu_resolution: grid of ``P(S)`` in multiples of ``1 / mu_resolution``.
        policy_resolution: local policies with probabilities in multiples of ``1 / policy_resolution``.
        tol: value-iteration stopping tolerance (sup norm).

    The result's ``value`` is the exact objective of the lookahead policy from ``mu0`` and
    ``extra["grid_value"]`` the interpolated DP value at ``mu0``.
    """

    name = "mfc_dp"
    description = "mean-field control by dynamic programming on a simplex grid of P(S) (small S; reference)"
    game_kinds = frozenset({"finite_horizon", "discounted"})
    iteration_unit = "one Bellman sweep over the grid (discounted) or one backward-induction time step"
    default_iterations = 5000

    def __init__(self, game: FiniteMFG, mu_resolution: int = 20, policy_resolution: int = 2, tol: float = 1e-9):
        super().__init__(game)
        self.tol = check_positive("tol", tol)
        self.mu_resolution = _check_resolution("mu_resolution", mu_resolution)
        self.policy_resolution = _check_resolution("policy_resolution", policy_resolution)
        self._require_memory(self.mu_resolution, self.policy_resolution)
        self.lifted = LiftedMFC(game)
        self.interp = SimplexInterpolator(game.S, self.mu_resolution, game.dtype)
        self.grid = self.interp.grid.to(game.device)
        self.h_net = legal_policy_net(game, self.policy_resolution)
        G, J = self.grid.shape[0], self.h_net.shape[0]
        self._pairs = (self.grid.repeat_interleave(J, 0), self.h_net.repeat(G, 1, 1))
        self._tables_cache: tuple | None = None
        self._residual = math.inf
        if game.is_finite_horizon:
            self.V = torch.empty(game.H + 1, G, dtype=game.dtype, device=game.device)
            self.V[game.H] = self.lifted.terminal(self.grid)
        else:
            self.V = None  # initialised from the first tables

    @property
    def hyperparameters(self) -> dict:
        return dict(mu_resolution=self.mu_resolution, policy_resolution=self.policy_resolution, tol=self.tol)

    @property
    def converged(self) -> bool:
        if self.game.is_finite_horizon:
            return self.iteration >= self.game.H
        return self._residual < self.tol

    def _tables(self, t: int):
        if self._tables_cache is not None and self._tables_cache[0] == t:
            return self._tables_cache[1]
        G, J = self.grid.shape[0], self.h_net.shape[0]
        r, nxt = chunked_model(self.lifted, *self._pairs, t)
        idx, lam = self.interp.weights(nxt)
        out = (r.view(G, J), idx.view(G, J, -1), lam.view(G, J, -1))
        self._tables_cache = (t, out)
        return out

    def _step(self) -> dict:
        game = self.game
        if game.is_finite_horizon:
            if self.converged:
                return {"time_step": 0}
            t = game.H - 1 - self.iteration
            r, idx, lam = self._tables(t)
            self.V[t] = (r + (lam * self.V[t + 1][idx]).sum(-1)).amax(-1)
            return {"time_step": t}
        g = float(game.gamma)
        r, idx, lam = self._tables(0)
        if self.V is None:
            self._initial_values()
        nxt = (r + g * (lam * self.V[idx]).sum(-1)).amax(-1)
        self._residual = float((nxt - self.V).abs().max())
        self.V = nxt
        return {"residual": self._residual}

    def result(self, stopped: str | None = None) -> MFCResult:
        game = self.game
        if game.is_finite_horizon and self.iteration < game.H:
            raise ValidationError(
                f"mfc_dp needs {game.H} iterations (one per time step) on {game.name!r}; it ran {self.iteration}"
            )
        if self.V is None:
            self._initial_values()
        V0 = self.V[0] if game.is_finite_horizon else self.V
        grid_value = float((self.interp.matrix(game.mu0.view(1, -1)) @ V0)[0])
        policy = LookaheadPolicy(self.lifted, self.h_net, self.V, self.mu_resolution)
        value = self.lifted.rollout_value(game.mu0, policy)
        extra = dict(grid_value=grid_value, grid_points=self.grid.shape[0], net_policies=self.h_net.shape[0])
        return self._result(value, policy, extra, stopped)

    def _initial_values(self) -> None:
        """Discounted value iteration starts from the best constant reward's value ``max_j r / (1 - gamma)``."""
        r, _, _ = self._tables(0)
        g = float(self.game.gamma)
        self.V = r.amax(-1) / (1 - g) if g < 1 else r.amax(-1)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "V": None if self.V is None else self.V.cpu(), "residual": self._residual}

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        self.V = None if d["V"] is None else d["V"].to(device=self.game.device, dtype=self.game.dtype)
        self._residual = float(d["residual"])


class MFCOpenLoop(_MFCAlgorithm):
    """Best open-loop sequence ``h_0..h_{T-1}`` by Adam on softmax logits through the flow (reference).

    Args:
        game: a finite game; discounted games are truncated at ``horizon`` (default: where
            ``gamma^T < 1e-8``), after which the last local policy is kept.
        horizon: truncation of discounted games.
        optimizer_lr: Adam's step size.
        restarts: independent random initialisations optimised together; the best is kept.
        seed: seed of the initial logits.
        mu0: initial population (default ``game.mu0``).
    """

    name = "mfc_open_loop"
    description = "mean-field control by gradient ascent on open-loop local policies through the flow (reference)"
    game_kinds = frozenset({"finite_horizon", "discounted"})
    iteration_unit = "one Adam step on the logits of every restart"
    default_iterations = 400
    monitor = "objective"
    aliases = {"lr": Alias("optimizer_lr")}

    def __init__(
        self,
        game: FiniteMFG,
        horizon: int | None = None,
        optimizer_lr: float = 0.1,
        restarts: int = 4,
        seed: int = 0,
        mu0: torch.Tensor | None = None,
    ):
        super().__init__(game)
        self.optimizer_lr, self.seed = check_positive("optimizer_lr", optimizer_lr), check_int("seed", seed, minimum=0)
        self.restarts = _check_resolution("restarts", restarts)
        self.given_horizon = None if horizon is None else _check_resolution("horizon", horizon)
        self.mu0 = game.mu0 if mu0 is None else torch.as_tensor(mu0, dtype=game.dtype, device=game.device)
        self._custom_mu0 = mu0 is not None
        self.lifted = LiftedMFC(game)
        finite = game.is_finite_horizon
        self.T = game.H if finite else (self.given_horizon or _discounted_horizon(float(game.gamma)))
        gen = torch.Generator(device=game.device).manual_seed(self.seed)
        R, T, S, A = self.restarts, self.T, game.S, game.A
        self.theta = (
            0.1 * torch.randn(R, T, S, A, generator=gen, dtype=game.dtype, device=game.device)
        ).requires_grad_()
        self.opt = torch.optim.Adam([self.theta], lr=self.optimizer_lr)
        self.mask = None if game.legal is None else ~game.legal

    @property
    def hyperparameters(self) -> dict:
        hp = dict(horizon=self.given_horizon, optimizer_lr=self.optimizer_lr, restarts=self.restarts, seed=self.seed)
        if self._custom_mu0:
            hp["mu0"] = self.mu0.tolist()
        return hp

    def _objective(self, th: torch.Tensor) -> torch.Tensor:
        game, lm = self.game, self.lifted
        finite = game.is_finite_horizon
        g = 1.0 if finite else float(game.gamma)
        logits = th if self.mask is None else th.masked_fill(self.mask, float("-inf"))
        hs = torch.softmax(logits, -1)
        R, S = th.shape[0], game.S
        mu = self.mu0.expand(R, S)
        total = torch.zeros(R, dtype=game.dtype, device=game.device)
        disc = 1.0
        for t in range(self.T):
            total = total + disc * lm.reward(mu, hs[:, t], t)
            mu = lm.phi(mu, hs[:, t], t)
            disc *= g
        if finite:
            total = total + lm.terminal(mu)
        return total

    def _step(self) -> dict:
        self.opt.zero_grad()
        obj = self._objective(self.theta)
        (-obj.sum()).backward()
        self.opt.step()
        return {"objective": float(obj.detach().max())}

    def result(self, stopped: str | None = None) -> MFCResult:
        with torch.no_grad():
            best = int(self._objective(self.theta).argmax())
            logits = self.theta[best] if self.mask is None else self.theta[best].masked_fill(self.mask, float("-inf"))
            hs = torch.softmax(logits, -1)
        policy = OpenLoopPolicy(hs)
        value = self.lifted.rollout_value(self.mu0, policy)
        return self._result(value, policy, {"horizon": self.T}, stopped)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "theta": self.theta.detach().cpu(), "optimizer": self.opt.state_dict()}

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        with torch.no_grad():
            self.theta.copy_(d["theta"])
        self.opt.load_state_dict(d["optimizer"])


MFC_ALGORITHMS = (MFCDP, MFCOpenLoop, MFCKQ, MFCQLearning)
