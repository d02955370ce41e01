"""The continuous linear-quadratic MFG with its exact equilibrium (Riccati best response, affine mean path).

State ``x in R^d``, action ``a in R^d``, population mean ``mubar_t``:

    ``x_{t+1} = A x_t + B a_t + Abar mubar_t + eps_t``,  ``eps_t ~ N(0, noise_std^2 I)``
    ``r_t = -cX |x_t - x_target|^2 - cA |a_t|^2 - cM |x_t - mubar_t|^2``  (``t = 0..T-1``)
    ``J = E[sum_t r_t - cX |x_T - x_target|^2 - cM |x_T - mubar_T|^2]``,  ``x_0 ~ N(init_mean, init_std^2 I)``

``A``, ``B``, ``Abar`` are scalars (times the identity) or ``d x d`` matrices. Against a
given mean path the agent's problem is a linear-quadratic tracking problem: its cost
to go is ``x^T P_t x - 2 p_t . x + q_t``, the optimal policy affine ``a = -K_t x + k_t``
with ``K_t`` independent of the mean path. The population mean under an affine policy
evolves affinely, so the equilibrium mean path solves one linear system: no iteration.
"""

from __future__ import annotations

import torch

from mfglearn._common.checks import check_int
from mfglearn.errors import ShapeError, ValidationError
from mfglearn.exact import lq_riccati as riccati
from mfglearn.exact.lq_riccati import F64, LQSolution


class LinearQuadraticMFG:
    """Continuous linear-quadratic MFG, exact equilibrium (``exact_solution()``, ``exploitability_of_affine``).

    See the module docstring for the model; ``d = dim``.
    """

    kind = "continuous"

    def __init__(
        self,
        A=1.0,
        B=1.0,
        Abar=0.0,
        cX: float = 1.0,
        cA: float = 1.0,
        cM: float = 1.0,
        x_target=0.0,
        noise_std: float = 0.5,
        init_mean=1.0,
        init_std: float = 0.5,
        horizon: int = 10,
        dim: int = 1,
    ):
        dim, horizon = check_int("dim", dim), check_int("horizon", horizon)
        if cA <= 0:
            raise ValidationError(f"cA must be > 0 (the action cost makes the best response unique), got {cA}")
        if cX < 0 or cM < 0 or noise_std < 0 or init_std < 0:
            raise ValidationError("cX, cM, noise_std and init_std must be >= 0")
        self.d, self.T = int(dim), int(horizon)
        self.A, self.B, self.Abar = (self._matrix(n, v) for n, v in (("A", A), ("B", B), ("Abar", Abar)))
        self.cX, self.cA, self.cM = float(cX), float(cA), float(cM)
        self.x_target = self._vector("x_target", x_target)
        self.init_mean = self._vector("init_mean", init_mean)
        self.noise_std, self.init_std = float(noise_std), float(init_std)
        self.name = "lq"
        self.params = dict(
            A=A, B=B, Abar=Abar, cX=cX, cA=cA, cM=cM, x_target=x_target, noise_std=noise_std,
            init_mean=init_mean, init_std=init_std, horizon=horizon, dim=dim,
        )  # fmt: skip

    def _matrix(self, name: str, v) -> torch.Tensor:
        t = torch.as_tensor(v, dtype=F64)
        if t.dim() == 0:
            return t * torch.eye(self.d, dtype=F64)
        if t.shape != (self.d, self.d):
            raise ShapeError(f"{name} must be a scalar or a {self.d}x{self.d} matrix, got shape {tuple(t.shape)}")
        return t

    def _vector(self, name: str, v) -> torch.Tensor:
        t = torch.as_tensor(v, dtype=F64)
        if t.dim() == 0:
            return t.expand(self.d).clone()
        if t.shape != (self.d,):
            raise ShapeError(f"{name} must be a scalar or a vector of length {self.d}, got shape {tuple(t.shape)}")
        return t

    # ------------------------------------------------------------ exact pieces (mfglearn.exact.lq_riccati)
    def best_response(self, mean_path: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list]:
        """Riccati best response to ``mean_path`` (see :func:`mfglearn.exact.lq_riccati.best_response`)."""
        return riccati.best_response(self, mean_path)

    def policy_cost(self, K: torch.Tensor, k: torch.Tensor, mean_path: torch.Tensor):
        """Cost to go ``(P, p, q)`` of the affine policy ``(K, k)`` against ``mean_path``."""
        return riccati.policy_cost(self, K, k, mean_path)

    def mean_path(self, K: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Population mean ``(T+1, d)`` when everyone plays ``a = -K_t x + k_t``."""
        return riccati.mean_path(self, K, k)

    def initial_value(self, P: torch.Tensor, p: torch.Tensor, q: torch.Tensor) -> float:
        """``E[-(x^T P_0 x - 2 p_0 . x + q_0)]`` for ``x_0 ~ N(init_mean, init_std^2 I)``."""
        return riccati.initial_value(self, P, p, q)

    def exact_solution(self) -> LQSolution:
        """The exact equilibrium (see :func:`mfglearn.exact.lq_riccati.exact_solution`)."""
        return riccati.exact_solution(self)

    def exploitability_of_affine(self, K, k) -> float:
        """Exploitability of the affine policy ``a_t = -K[t] x + k[t]``.

        ``K``, ``k``: lists over ``t`` of ``d x d`` matrices (or scalars) and ``d``-vectors (or
        scalars). The best response's value minus the policy's, both against the policy's own
        mean path.
        """
        if len(K) != self.T or len(k) != self.T:
            raise ShapeError(f"K and k need one entry per time step (T={self.T}), got {len(K)} and {len(k)}")
        Kt = torch.stack([self._matrix("K[t]", x) for x in K])
        kt = torch.stack([self._vector("k[t]", x) for x in k])
        m = self.mean_path(Kt, kt)
        P, p, q = self.policy_cost(Kt, kt, m)
        _, _, Pb, (pb, qb) = self.best_response(m)
        return self.initial_value(Pb, pb, qb) - self.initial_value(P, p, q)

    def exploitability_of_policy(self, policy, n_agents: int = 100_000, seed: int = 0) -> dict:
        """Exploitability of any policy ``policy(t, x) -> a`` (``t (N,)``, ``x (N, d)``; e.g. a network's).

        The population's mean path is simulated with ``n_agents`` agents; against it the best
        response's value is exact (Riccati) and the policy's value is the agents' mean return.
        Returns ``exploitability``, its Monte-Carlo standard error ``se``, ``policy_value``,
        ``best_response_value`` and ``mean_path`` ``(T+1, d)``.
        """
        with torch.no_grad():
            return self._exploitability_of_policy(policy, n_agents, seed)

    def _exploitability_of_policy(self, policy, n_agents: int, seed: int) -> dict:
        ret, m = self._rollout(policy, n_agents, seed)
        _, _, Pb, (pb, qb) = self.best_response(m)
        v_br = self.initial_value(Pb, pb, qb)
        v_pi = float(ret.mean())
        return dict(
            exploitability=v_br - v_pi,
            se=float(ret.std() / n_agents**0.5),
            policy_value=v_pi,
            best_response_value=v_br,
            mean_path=m,
        )

    def fit_affine(self, policy, n_points: int = 256, spread: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Least-squares affine fit ``a ~ -K_t x + k_t`` of ``policy(t, x)`` on points around the mean path.

        Returns ``(K (T, d, d), k (T, d))``: the policy's gain and offset, comparable with
        :meth:`exact_solution`'s.
        """
        sol = self.exact_solution()
        gen = torch.Generator().manual_seed(0)
        std = max(self.init_std, self.noise_std, 1e-3) * spread
        K = torch.empty(self.T, self.d, self.d, dtype=F64)
        k = torch.empty(self.T, self.d, dtype=F64)
        for t in range(self.T):
            x = sol.mean_path[t] + std * (torch.rand(n_points, self.d, generator=gen, dtype=F64) - 0.5)
            a = torch.as_tensor(policy(torch.full((n_points,), float(t)), x.float())).to(F64).reshape(n_points, self.d)
            X = torch.cat([x, torch.ones(n_points, 1, dtype=F64)], 1)
            coef = torch.linalg.lstsq(X, a).solution  # (d + 1, d)
            K[t], k[t] = -coef[: self.d].T, coef[self.d]
        return K, k

    # --------------------------------------------------------------- simulation
    def simulate(self, K: torch.Tensor, k: torch.Tensor, n_agents: int, seed: int = 0) -> torch.Tensor:
        """Monte-Carlo returns ``(n_agents,)`` of agents playing ``(K, k)`` (mean field from the empirical mean)."""
        return self._rollout(lambda t, x: -x @ K[int(t[0])].T + k[int(t[0])], n_agents, seed, F64)[0]

    def returns_against(
        self, policy, mean_path: torch.Tensor, n_agents: int = 100_000, seed: int = 0, dtype=torch.float32
    ) -> torch.Tensor:
        """Monte-Carlo returns ``(n_agents,)`` of ``policy(t, x)`` against the fixed ``mean_path`` ``(T+1, d)``.

        The same ``seed`` gives every policy the same initial states and noise (common random
        numbers), so differences of two policies' returns have a small variance.
        """
        mean_path = torch.as_tensor(mean_path, dtype=F64)
        if mean_path.shape != (self.T + 1, self.d):
            raise ShapeError(f"mean_path must be ({self.T + 1}, {self.d}), got {tuple(mean_path.shape)}")
        with torch.no_grad():
            return self._rollout(policy, n_agents, seed, dtype, mean_path)[0]

    def _rollout(
        self, policy, n_agents: int, seed: int, dtype=torch.float32, mean_path: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(n_agents,)`` and the mean path ``(T+1, d)`` of agents playing ``policy(t, x)``.

        The policy sees states in ``dtype`` (float32 for networks); the dynamics run in float64. The mean
        field is the agents' empirical mean, or the fixed ``mean_path`` when one is given.
        """
        gen = torch.Generator().manual_seed(int(seed))
        x = self.init_mean + self.init_std * torch.randn(n_agents, self.d, generator=gen, dtype=F64)
        ret = torch.zeros(n_agents, dtype=F64)
        means = []
        for t in range(self.T):
            mbar = x.mean(0) if mean_path is None else mean_path[t]
            means.append(mbar)
            a = policy(torch.full((n_agents,), float(t)), x.to(dtype))
            a = torch.as_tensor(a).to(F64).reshape(n_agents, self.d)
            if not bool(torch.isfinite(a).all()):
                raise ValidationError(f"the policy returned non-finite actions at t={t}")
            ret -= (
                self.cX * ((x - self.x_target) ** 2).sum(1)
                + self.cA * (a**2).sum(1)
                + self.cM * ((x - mbar) ** 2).sum(1)
            )
            eps = self.noise_std * torch.randn(n_agents, self.d, generator=gen, dtype=F64)
            x = x @ self.A.T + a @ self.B.T + mbar @ self.Abar.T + eps
        mbar = x.mean(0) if mean_path is None else mean_path[self.T]
        means.append(mbar)
        ret -= self.cX * ((x - self.x_target) ** 2).sum(1) + self.cM * ((x - mbar) ** 2).sum(1)
        return ret, torch.stack(means)

    def as_continuous(self):
        """The same game as a :class:`~mfglearn.games.continuous.ContinuousMFG` (float64, batched)."""
        from mfglearn.model.continuous import ContinuousMFG

        # everything follows the agents' dtype (float64 for exact checks, float32 for deep RL)
        def drift(t, x, a, mf):
            return x @ self.A.to(x).T + a.to(x) @ self.B.to(x).T + mf.mean().to(x) @ self.Abar.to(x).T

        def reward(t, x, a, mf):
            gap = x - mf.mean().to(x)
            target = self.x_target.to(x)
            cost = self.cX * ((x - target) ** 2).sum(1) + self.cA * (a.to(x) ** 2).sum(1) + self.cM * (gap**2).sum(1)
            return -cost

        def terminal(x, mf):
            target = self.x_target.to(x)
            return -(self.cX * ((x - target) ** 2).sum(1) + self.cM * ((x - mf.mean().to(x)) ** 2).sum(1))

        def initial(n, gen):
            eps = torch.randn(n, self.d, generator=gen, dtype=F64, device=gen.device)
            return self.init_mean.to(eps) + self.init_std * eps

        return ContinuousMFG(
            self.d, self.d, self.T, drift, reward, initial, noise_std=self.noise_std, terminal_reward=terminal,
            name="lq", params=self.params, model=self,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"LinearQuadraticMFG(d={self.d}, T={self.T})"


lq = LinearQuadraticMFG  # registry constructor: its signature and docstring describe the game
