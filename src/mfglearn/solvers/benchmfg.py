"""Bench-MFG's algorithms for stationary games, iterate for iterate (bench-mfg-suite 0.1.3).

Online mirror descent with a temperature, policy iteration (greedy, smooth, Boltzmann), the
damped fixed-point family (pure, damped, fictitious play) and particle-swarm optimisation
over Boltzmann logits, each exactly as Bench-MFG's JAX solvers run them: the solver carries a
running mean field moved by ``mean_field_steps`` transition steps per update, Q-functions and
exploitabilities follow Bench-MFG's finite-step convention
(:mod:`mfglearn.core.finite_step`). Checked against bench-mfg-suite in float64
(``tests/games/peers/test_benchmfg_parity.py``).

Each records ``exploitability`` in that convention (what Bench-MFG reports); with
``exact_metrics=True`` also ``exact_exploitability``, mfglearn's exact stationary one.
:func:`benchmfg_initial_policy` rebuilds Bench-MFG's random initial policy for a seed.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from mfglearn._common.checks import check_bool, check_choice, check_int, check_positive, check_unit_interval
from mfglearn.algorithm import Algorithm
from mfglearn.core.finite_step import (
    FiniteStepConvention,
    finite_step_exploitability,
    finite_step_exploitability_batch,
    finite_step_q,
    optimal_backups,
    policy_backups,
    transition_steps,
)
from mfglearn.core.policy import check_policy
from mfglearn.core.stationary import stationary_exploitability
from mfglearn.core.value import greedy, softmax_policy
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.result import Result


def benchmfg_initial_policy(
    game: FiniteMFG, seed: int = 42, initialization: str = "PSO_uniform", temperature: float = 0.2
) -> torch.Tensor:
    """Bench-MFG's initial policy ``(S, A)`` for ``seed`` (its ``initialize_policy_from_logits``).

    ``PSO_uniform``: logits ``U[-1, 1]`` drawn by ``np.random.seed(seed)``, then ``softmax(logits /
    temperature)``; ``one_uniform``: the uniform policy; ``dirichlet``: Dirichlet(1) rows.
    """
    check_choice("initialization", initialization, ("PSO_uniform", "one_uniform", "dirichlet"))
    rs = np.random.RandomState(int(seed))  # the legacy global stream Bench-MFG seeds with np.random.seed
    S, A = game.S, game.A
    if initialization == "PSO_uniform":
        logits = rs.uniform(-1.0, 1.0, (S, A))
    elif initialization == "one_uniform":
        logits = np.zeros((S, A))
    else:
        logits = np.log(rs.dirichlet(np.ones(A), size=(S,)) + 1e-12)
    z = (logits - logits.max(-1, keepdims=True)) / check_positive("temperature", temperature)
    p = np.exp(z)
    return torch.as_tensor(p / p.sum(-1, keepdims=True), dtype=game.dtype, device=game.device)


class _FiniteStepSolver(Algorithm):
    """Shared state: a policy, the solver's running mean field and Bench-MFG's convention.

    Args:
        game: a discounted :class:`FiniteMFG`.
        initial_policy: ``(S, A)`` (default: the uniform policy; Bench-MFG's random one is
            :func:`benchmfg_initial_policy`).
        horizon, mean_field_steps, evaluation_steps: Bench-MFG's truncations (100, 20, 50).
        exact_metrics: also record mfglearn's exact ``exact_exploitability`` each iteration.
    """

    game_kinds = frozenset({"discounted"})
    default_iterations: ClassVar[int] = 150  # Bench-MFG's num_iterations
    _state_tensors: ClassVar[tuple[str, ...]] = ("policy", "mu")

    def __init__(
        self,
        game: FiniteMFG,
        *,
        initial_policy: torch.Tensor | None = None,
        horizon: int = 100,
        mean_field_steps: int = 20,
        evaluation_steps: int = 50,
        exact_metrics: bool = False,
    ):
        if not isinstance(game, FiniteMFG):
            raise ValidationError(f"{self.name} solves FiniteMFG games; got {type(game).__name__}")
        super().__init__(game)
        self.conv = FiniteStepConvention(horizon, mean_field_steps, evaluation_steps)
        self.exact_metrics = check_bool("exact_metrics", exact_metrics)
        self.policy = check_policy(game, game.uniform_policy() if initial_policy is None else initial_policy).clone()
        self.mu = self._start_mean_field()
        self._initial = self._exploitability(self._reported_policy())

    def _start_mean_field(self) -> torch.Tensor:
        return transition_steps(self.game, self.policy, self.game.mu0, self.conv.mean_field_steps)

    @property
    def hyperparameters(self) -> dict:
        c = self.conv
        return {
            "horizon": c.horizon,
            "mean_field_steps": c.mean_field_steps,
            "evaluation_steps": c.evaluation_steps,
            "exact_metrics": self.exact_metrics,
            **self._hp(),
        }

    def _hp(self) -> dict:
        return {}

    def _reported_policy(self) -> torch.Tensor:
        return self.policy

    def _exploitability(self, pi: torch.Tensor) -> float:
        return finite_step_exploitability(self.game, pi, self.mu, self.conv)

    def _metrics(self) -> dict:
        pi = self._reported_policy()
        out = {"exploitability": self._exploitability(pi)}
        if self.exact_metrics:
            out["exact_exploitability"] = stationary_exploitability(self.game, pi)
        return out

    def result(self, stopped: str | None = None) -> Result:
        pi = self._reported_policy()
        V, _ = policy_backups(self.game, pi, self.mu, self.conv.horizon - 1)
        return Result(
            policy=pi,
            mean_field=self.mu,
            value=float((self.mu * V).sum()),
            history={k: list(v) for k, v in self.history.items()},
            solver=self.name,
            game=self.game.name,
            hyperparameters=self.hyperparameters,
            stopped=self.stopped if stopped is None else stopped,
            extra={"initial_exploitability": self._initial, "convention": "benchmfg"},
        )


class BenchMFGMirrorDescent(_FiniteStepSolver):
    """Bench-MFG's online mirror descent: ``y += learning_rate Q``, ``pi = softmax(y / temperature)``.

    ``Q`` is Bench-MFG's finite-step Q of the current policy at the running mean field, which then
    moves ``mean_field_steps`` steps under the new policy. ``initial_dual="zero"`` starts from
    ``y = 0`` as Bench-MFG does (the initial policy then only sets the first Q and mean field);
    ``"policy"`` starts from ``y = temperature log pi_0``, so the iteration continues from pi_0.

    Args:
        learning_rate: step size (> 0; Bench-MFG's default 0.005).
        temperature: softmax temperature (> 0; default 0.2).
        initial_dual: ``"zero"`` or ``"policy"``.
    """

    name = "benchmfg_omd"
    description = "Bench-MFG's online mirror descent with a temperature (finite-step convention)"
    iteration_unit = "one mirror step, mean-field steps and a finite-step evaluation"
    _state_tensors = ("policy", "mu", "y")

    def __init__(self, game, learning_rate: float = 0.005, temperature: float = 0.2, initial_dual: str = "zero", **kw):
        super().__init__(game, **kw)
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.temperature = check_positive("temperature", temperature)
        self.initial_dual = check_choice("initial_dual", initial_dual, ("zero", "policy"))
        if initial_dual == "zero":
            self.y = torch.zeros_like(self.policy)
        else:
            self.y = self.temperature * torch.log(self.policy.clamp_min(torch.finfo(self.policy.dtype).tiny))

    def _hp(self) -> dict:
        return {"learning_rate": self.learning_rate, "temperature": self.temperature, "initial_dual": self.initial_dual}

    def _step(self) -> dict:
        Q = finite_step_q(self.game, self.policy, self.mu, self.conv)
        self.y = self.y + self.learning_rate * Q
        self.policy = softmax_policy(self.y, self.temperature, self.game.legal)
        self.mu = transition_steps(self.game, self.policy, self.mu, self.conv.mean_field_steps)
        return self._metrics()


class BenchMFGPolicyIteration(_FiniteStepSolver):
    """Bench-MFG's policy iteration: improve on the current policy's finite-step Q, then move the mean field.

    ``greedy``: ``pi = argmax Q``, ``mu = T^n(pi)``; ``smooth``: ``pi = argmax Q``,
    ``mu = damping T^n(pi) + (1 - damping) mu`` (``damping=None``: ``1 / (k + 1)``);
    ``boltzmann``: ``pi = softmax(Q / temperature)``, ``mu = T^n(pi)``.

    Args:
        variant: ``"greedy"``, ``"smooth"`` or ``"boltzmann"``.
        temperature: for ``boltzmann`` (> 0; default 0.2).
        damping: for ``smooth``, in ``(0, 1]``, or ``None`` for ``1/(k+1)`` (default 0.4).
    """

    name = "benchmfg_policy_iteration"
    description = "Bench-MFG's policy iteration: greedy, smooth or Boltzmann (finite-step convention)"
    iteration_unit = "one policy improvement, mean-field steps and a finite-step evaluation"

    def __init__(self, game, variant: str = "greedy", temperature: float = 0.2, damping: float | None = 0.4, **kw):
        super().__init__(game, **kw)
        self.variant = check_choice("variant", variant, ("greedy", "smooth", "boltzmann"))
        self.temperature = check_positive("temperature", temperature)
        self.damping = None if damping is None else check_unit_interval("damping", damping)

    def _hp(self) -> dict:
        return {"variant": self.variant, "temperature": self.temperature, "damping": self.damping}

    def _step(self) -> dict:
        Q = finite_step_q(self.game, self.policy, self.mu, self.conv)
        if self.variant == "boltzmann":
            self.policy = softmax_policy(Q, self.temperature, self.game.legal)
        else:
            self.policy = greedy(Q, self.game.legal)
        new = transition_steps(self.game, self.policy, self.mu, self.conv.mean_field_steps)
        if self.variant == "smooth":
            lam = 1.0 / (self.iteration + 2) if self.damping is None else self.damping
            mu = lam * new + (1 - lam) * self.mu
            self.mu = mu / mu.sum()
        else:
            self.mu = new
        return self._metrics()


class BenchMFGFixedPoint(_FiniteStepSolver):
    """Bench-MFG's damped fixed point: best-respond to the running mean field, mix in the response's.

    ``br = argmax Q*`` (finite-step optimal Q at ``mu``), ``mu_br = T^n(br)`` from ``mu``,
    ``mu = (1 - a_k) mu + a_k mu_br`` with ``a_k = 1`` (``pure``), ``damping`` (``damped``) or
    ``1 / (k + 1)`` (``fictitious_play``). Fictitious play reports the mean-field-weighted average
    of the best responses, ``sum_i mu_br_i(x) br_i(a|x) / sum_i mu_br_i(x)``; the others the last one.

    Args:
        schedule: ``"pure"``, ``"damped"`` or ``"fictitious_play"`` (default, as Bench-MFG's config).
        damping: the ``damped`` weight, in ``(0, 1]`` (default 0.2).
        best_response: ``None`` for the exact (finite-step) best response, or a callable
            ``br(game, mean_field) -> (S, A)`` policy, e.g. a deep RL learner
            (:class:`~mfglearn.population.rl_best_response.SB3BestResponse`, Bench-MFG's PPO / DQN).
    """

    name = "benchmfg_fixed_point"
    description = "Bench-MFG's damped fixed point / fictitious play (finite-step convention)"
    iteration_unit = "one best response, mean-field steps and a finite-step evaluation"
    _state_tensors = ("policy", "mu", "num", "den")

    def __init__(self, game, schedule: str = "fictitious_play", damping: float = 0.2, best_response=None, **kw):
        self.schedule = check_choice("schedule", schedule, ("pure", "damped", "fictitious_play"))
        self.damping = check_unit_interval("damping", damping)
        if best_response is not None and not callable(best_response):
            raise ValidationError(
                f"best_response must be None (exact) or a callable br(game, mean_field) -> (S, A) policy, "
                f"got {best_response!r}"
            )
        self.best_response = best_response
        self.num: torch.Tensor | None = None  # fictitious play: sum_i mu_br_i[:, None] * br_i
        self.den: torch.Tensor | None = None
        super().__init__(game, **kw)

    def _start_mean_field(self) -> torch.Tensor:
        mu = super()._start_mean_field()
        return mu / mu.sum()

    def _hp(self) -> dict:
        br = self.best_response
        name = "exact" if br is None else (br.config() if hasattr(br, "config") else repr(br))
        return {"schedule": self.schedule, "damping": self.damping, "best_response": name}

    def _reported_policy(self) -> torch.Tensor:
        if self.schedule != "fictitious_play" or self.num is None:
            return self.policy
        avg = (self.num / self.den.clamp_min(1e-12).unsqueeze(-1)).clamp(1e-12, 1.0)
        return avg / avg.sum(-1, keepdim=True)

    def _step(self) -> dict:
        k = self.iteration + 1
        if self.best_response is None:
            _, _, br = optimal_backups(self.game, self.mu, self.conv.horizon - 1, self.policy)
        else:
            br = check_policy(self.game, self.best_response(self.game, self.mu))
        mu_br = transition_steps(self.game, br, self.mu, self.conv.mean_field_steps)
        mu_br = mu_br / mu_br.sum()
        if self.schedule == "fictitious_play":
            w = mu_br.unsqueeze(-1) * br
            self.num = w if self.num is None else self.num + w
            self.den = mu_br.clone() if self.den is None else self.den + mu_br
        a = 1.0 if self.schedule == "pure" else self.damping if self.schedule == "damped" else 1.0 / (k + 1)
        mu = (1 - a) * self.mu + a * mu_br
        self.mu = mu / mu.sum()
        self.policy = br
        return self._metrics()


class ParticleSwarm(_FiniteStepSolver):
    """Bench-MFG's particle-swarm optimisation of the exploitability over Boltzmann-policy logits.

    ``num_particles`` logit tables ``(S, A)``, initialised ``U[-1, 1]`` with velocities
    ``0.1 N(0, 1)``, move by ``v = w v + c1 r1 (p_best - x) + c2 r2 (g_best - x)``; each particle's
    policy ``softmax(x / temperature)`` is scored by the finite-step exploitability from the
    running mean field, which follows the swarm's best policy (50 steps per iteration). Random
    numbers come from ``np.random.RandomState(seed)``, Bench-MFG's stream after ``np.random.seed``
    (so ``seed`` must be the one its initial policy was drawn with, and that policy's draw happens
    first: ``skip_initial_policy=True`` replays it). Bench-MFG's update rules are kept, including
    its personal-best rule (a particle's best moves when it beats the *swarm's* best) and its
    inertia: Bench-MFG never stores the new velocity, so ``w v`` always uses the *initial*
    velocities; ``textbook=True`` carries the velocity over as textbook PSO does.

    Args:
        num_particles: swarm size (default 200).
        w, c1, c2: inertia, cognitive and social weights (0.4, 0.5, 1.5).
        temperature: Boltzmann temperature of the logits (0.2).
        seed: the random stream's seed (Bench-MFG's experiment seed, 42).
        skip_initial_policy: advance the stream past Bench-MFG's initial-policy draw first.
        textbook: carry the velocity from one iteration to the next (Bench-MFG does not).
    """

    name = "pso"
    description = "particle-swarm optimisation of the exploitability over Boltzmann logits (Bench-MFG)"
    iteration_unit = "one swarm move and an evaluation of every particle"
    _state_tensors = ("policy", "mu", "x", "v", "p_best", "g_best", "g_value")

    def __init__(
        self,
        game,
        num_particles: int = 200,
        w: float = 0.4,
        c1: float = 0.5,
        c2: float = 1.5,
        temperature: float = 0.2,
        seed: int = 42,
        skip_initial_policy: bool = True,
        textbook: bool = False,
        **kw,
    ):
        super().__init__(game, **kw)
        self.num_particles = check_int("num_particles", num_particles)
        self.w = check_positive("w", w, allow_zero=True)
        self.c1, self.c2 = check_positive("c1", c1, allow_zero=True), check_positive("c2", c2, allow_zero=True)
        self.temperature = check_positive("temperature", temperature)
        self.seed = check_int("seed", seed, minimum=0)
        if self.seed >= 2**32:  # NumPy's RandomState, Bench-MFG's stream, takes 32-bit seeds
            raise ValidationError(f"seed must be below 2**32 (NumPy's RandomState), got {seed!r}")
        self.skip_initial_policy = check_bool("skip_initial_policy", skip_initial_policy)
        self.textbook = check_bool("textbook", textbook)
        self._rs = np.random.RandomState(self.seed)
        S, A = game.S, game.A
        if self.skip_initial_policy:
            self._rs.uniform(-1.0, 1.0, (S, A))
        # Bench-MFG starts from the environment's mean field (mu0) and scores particles against it
        self.mu = game.mu0.clone()
        dim = S * A
        self.x = torch.from_numpy(self._rs.uniform(-1.0, 1.0, (self.num_particles, dim)))
        self.v = torch.from_numpy(self._rs.randn(self.num_particles, dim) * 0.1)
        self.p_best = self.x.clone()
        vals = self._scores(self.x)
        i = int(torch.argmin(vals))
        self.g_best, self.g_value = self.p_best[i].clone(), float(vals[i])
        self.policy = self._policy(self.g_best)[0]
        self._initial = self.g_value

    def _start_mean_field(self) -> torch.Tensor:
        return self.game.mu0.clone()

    def _hp(self) -> dict:
        return {
            "num_particles": self.num_particles,
            "w": self.w,
            "c1": self.c1,
            "c2": self.c2,
            "temperature": self.temperature,
            "seed": self.seed,
            "skip_initial_policy": self.skip_initial_policy,
            "textbook": self.textbook,
        }

    def _policy(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits.view(-1, self.game.S, self.game.A) / self.temperature, -1).to(self.game.dtype)

    def _scores(self, x: torch.Tensor) -> torch.Tensor:
        return finite_step_exploitability_batch(self.game, self._policy(x), self.mu, self.conv).to(torch.float64)

    def _step(self) -> dict:
        n, dim = self.x.shape
        r1 = torch.from_numpy(self._rs.uniform(0, 1, (n, dim)))
        r2 = torch.from_numpy(self._rs.uniform(0, 1, (n, dim)))
        v = self.w * self.v + self.c1 * r1 * (self.p_best - self.x) + self.c2 * r2 * (self.g_best - self.x)
        if self.textbook:
            self.v = v
        self.x = self.x + v
        vals = self._scores(self.x)
        improved = vals < self.g_value
        self.p_best[improved] = self.x[improved]
        i = int(torch.argmin(vals))
        if float(vals[i]) < self.g_value:
            self.g_best, self.g_value = self.p_best[i].clone(), float(vals[i])
        self.policy = self._policy(self.g_best)[0]
        self.mu = transition_steps(self.game, self.policy, self.mu, 50)
        out = {"exploitability": self.g_value}
        if self.exact_metrics:
            out["exact_exploitability"] = stationary_exploitability(self.game, self.policy)
        return out

    def state_dict(self) -> dict:
        d = super().state_dict()
        kind, keys, pos, has_gauss, cached = self._rs.get_state()
        d["rng"] = {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        }
        return d

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        r = d["rng"]
        self._rs.set_state(("MT19937", r["keys"].numpy().astype(np.uint32), r["pos"], r["has_gauss"], r["cached"]))


__all__ = [
    "BenchMFGFixedPoint",
    "BenchMFGMirrorDescent",
    "BenchMFGPolicyIteration",
    "ParticleSwarm",
    "benchmfg_initial_policy",
]
