"""Deep fictitious play for continuous, non-stationary MFGs: DEDA-FP and the seed's two baselines.

Iteration ``k`` of every variant trains a **best response** by deep RL (SAC or PPO,
:mod:`mfglearn.deep.best_response`) against the current average mean field; the
variants differ in how they represent the average policy and the average mean field:

* ``deda_fp`` (Magnino, Shao, Wu, Shen, Lauriere 2025): the average policy by
  **behavioural cloning** on the ``(t, x, a)`` samples of all best responses so far, the
  average mean field by a **time-conditioned normalizing flow** fitted on its population.
  The flow gives samples and densities of ``mu_t``, so local-interaction rewards and
  population inference need no simulation.
* ``deep_fp_sampled`` (the seed's Algo1): keep every best response; the population is the
  uniform mixture of them (agent ``i`` follows best response ``i mod k``), simulated each
  time it is needed, with a Gaussian kernel density estimate.
* ``deep_fp_average`` (Algo2): the average policy by behavioural cloning, its population
  simulated each time with a kernel density estimate.

The equilibrium estimate is the last (average policy, mean field) pair. Exploitability is
tracked with a fresh best response against the policy's own simulated population, and
exactly on games with an analytic model (``lq``). Each variant is an
:class:`~mfglearn.algorithm.Algorithm` (``step()``, safe checkpoints, bit-identical resume).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import ClassVar

import torch

from mfglearn._common.checks import check_bool, check_choice, check_int, check_unit_interval
from mfglearn.algorithm import Algorithm
from mfglearn.deep.best_response import (
    BestResponse,
    best_response,
    best_response_from_state,
    best_response_state,
    evaluate_policy,
    rollout,
)
from mfglearn.deep.cloning import GaussianPolicy, behavioural_cloning
from mfglearn.deep.flows import DENSITY_KINDS, time_density
from mfglearn.deep.train import seeded
from mfglearn.errors import ValidationError
from mfglearn.model.continuous import MeanField
from mfglearn.result import Result

METHODS = ("deda_fp", "deep_fp_sampled", "deep_fp_average")


class MixturePolicy(torch.nn.Module):
    """Mixture over agents of several policies: agent ``i`` of a batch follows policy ``i mod k``.

    With ``weights``, consecutive blocks of the batch follow the policies in those proportions. This is
    fictitious play's average in the sense of populations (the mean field of the mixture is the
    weighted average of the policies' mean fields when dynamics do not depend on it).
    """

    def __init__(self, policies: list, weights: list[float] | None = None):
        super().__init__()
        self.policies = torch.nn.ModuleList(policies)
        if weights is not None and len(weights) != len(policies):
            raise ValidationError(f"a mixture needs one weight per policy, got {len(weights)} for {len(policies)}")
        if weights is not None:
            w = [float(x) for x in weights]
            if not all(math.isfinite(x) and x >= 0 for x in w) or sum(w) <= 0:
                raise ValidationError(f"mixture weights must be finite, >= 0 and not all 0, got {weights!r}")
        self.weights = None if weights is None else w

    def _split(self, n: int, device) -> torch.Tensor:
        if self.weights is None:
            return torch.arange(n, device=device) % len(self.policies)
        # agent i follows the component whose cumulative weight first exceeds (i + 1/2) / n: exact quotas
        w = torch.tensor(self.weights, dtype=torch.float64, device=device)
        edges = (w / w.sum()).cumsum(0)
        u = (torch.arange(n, device=device, dtype=torch.float64) + 0.5) / n
        return torch.searchsorted(edges, u).clamp_max(len(self.policies) - 1)

    def _each(self, t, x, fn):
        which = self._split(x.shape[0], x.device)
        out = None
        for j, p in enumerate(self.policies):  # one batched call per component, not per agent
            idx = (which == j).nonzero(as_tuple=True)[0]
            a = fn(p, t[idx], x[idx])
            out = a.new_zeros(x.shape[0], a.shape[1]) if out is None else out
            out[idx] = a
        return out

    @torch.no_grad()
    def sample(self, t, x, generator=None):
        a = self._each(t, x, lambda p, tt, xx: p.sample(tt, xx, generator)[0])
        return a, torch.zeros(x.shape[0], device=x.device)

    @torch.no_grad()
    def mean_action(self, t, x):
        return self._each(t, x, lambda p, tt, xx: p.mean_action(tt, xx))

    @torch.no_grad()
    def act(self, t, x, generator=None):
        return self.sample(t, x, generator)[0]


def simulate_population(game, policy, n_agents: int, generator: torch.Generator) -> torch.Tensor:
    """States ``(T+1, N, d)`` of ``n_agents`` playing ``policy`` against their own empirical mean field."""
    dev = generator.device
    x = game.initial(n_agents, generator).to(device=dev, dtype=torch.float32)
    states = [x]
    with torch.no_grad():
        for t in range(int(game.horizon)):
            a, _ = policy.sample(torch.full((n_agents,), float(t), device=dev), x, generator)
            x = game.step(t, x, a, MeanField(x), generator).to(torch.float32)
            states.append(x)
    return torch.stack(states)


def flow_mean_fields(flow, horizon: int, n: int, generator: torch.Generator | None = None) -> list[MeanField]:
    """``mu_0..mu_T`` from a density model (:func:`~mfglearn.deep.flows.time_density`): ``n`` samples each
    (for means, drawn with ``generator``) and the model's density."""
    xs = flow.sample_grid(torch.arange(horizon + 1, device=flow.x_mean.device, dtype=torch.float32), n, generator)

    def density(s: float):
        return lambda x: flow.density(x, torch.full((x.shape[0],), s, device=x.device))

    return [MeanField(xs[s], density_fn=density(float(s))) for s in range(horizon + 1)]


def kde_mean_fields(states: torch.Tensor) -> list[MeanField]:
    """``mu_0..mu_T`` from simulated states ``(T+1, N, d)`` with Gaussian kernel densities."""
    return [MeanField(s) for s in states]


@dataclass(repr=False)
class DeepFPResult(Result):
    """Outcome of deep fictitious play (a :class:`~mfglearn.result.Result`).

    ``policy`` is the average policy (a :class:`GaussianPolicy`, or a :class:`MixturePolicy` of the
    best responses for ``deep_fp_sampled``): ``policy.sample(t, x, gen)``, ``mean_action(t, x)``;
    ``mean_field`` (also ``flow``) the average mean field's density model (``deda_fp`` only);
    ``value`` the average policy's return against its own mean field; ``history`` per iteration
    ``br_return``, ``mean_field_seconds`` and, when tracked, ``exploitability`` (fresh best response)
    and ``exact_exploitability`` (games with an analytic model). ``exploitability`` prefers the exact one.
    """

    kind: ClassVar[str] = "deep"
    exploitability_keys: ClassVar[tuple[str, ...]] = ("exact_exploitability", "exploitability")

    @property
    def flow(self) -> torch.nn.Module | None:
        return self.mean_field

    @property
    def method(self) -> str:
        """Deprecated: use ``solver``."""
        return self.solver

    def export_policy(self, path, format: str = "export"):
        """The average policy's deterministic action ``(t, x) -> a`` as a standalone program
        (:func:`mfglearn.deep.export.export_policy`: ``torch.export``, TorchScript or ONNX)."""
        from mfglearn.deep.export import export_policy

        return export_policy(self.policy, path, format=format)

    def mean_fields(self, game, n: int = 2000, seed: int = 0) -> list[MeanField]:
        """``mu_0..mu_T`` as the method represents it: the flow, or a simulated population (kernel density)."""
        game = game.as_continuous() if hasattr(game, "as_continuous") else game
        dev = next(self.policy.parameters()).device
        gen = torch.Generator(device=dev).manual_seed(int(seed))
        if self.flow is not None:
            return flow_mean_fields(self.flow, int(game.horizon), n, gen)
        return kde_mean_fields(simulate_population(game, self.policy, n, gen))

    def summary(self) -> dict:
        out = super().summary()
        for key in ("br_return", "exploitability", "exact_exploitability"):
            vals = [v for v in self.history.get(key, []) if v is not None]
            if vals:
                out[key] = vals[-1]
        out["exploitability"] = self.exploitability
        return out

    def _policy_state(self):
        return policy_state(self.policy)

    def _mean_field_state(self):
        return None if self.mean_field is None else module_state(self.mean_field)

    @classmethod
    def _from_state(cls, d: dict, game) -> DeepFPResult:
        flow = None if d["mean_field"] is None else flow_from_state(d["mean_field"], "cpu")
        return super()._from_state({**d, "policy": policy_from_state(d["policy"], "cpu"), "mean_field": flow}, game)


def module_state(m: torch.nn.Module) -> dict:
    """A module with a ``config`` (its constructor's arguments) as ``{"config", "weights"}``."""
    return {"config": m.config, "weights": {k: v.detach().cpu() for k, v in m.state_dict().items()}}


def policy_state(p) -> dict:
    """A :class:`GaussianPolicy` or :class:`MixturePolicy` as tensors and settings."""
    if isinstance(p, MixturePolicy):
        return {"type": "mixture", "components": [module_state(q) for q in p.policies], "weights": p.weights}
    return {"type": "gaussian", **module_state(p)}


def policy_from_state(d: dict, device) -> torch.nn.Module:
    """Inverse of :func:`policy_state`."""
    if d["type"] == "mixture":
        components = [policy_from_state({"type": "gaussian", **c}, device) for c in d["components"]]
        return MixturePolicy(components, d.get("weights"))
    p = GaussianPolicy(**d["config"]).to(device)
    p.load_state_dict(d["weights"])
    return p


def flow_from_state(d: dict, device) -> torch.nn.Module:
    """Inverse of :func:`module_state` for a density model (:class:`TimeFlow` or ``TimeMixture``)."""
    f = time_density(**d["config"]).to(device)
    f.load_state_dict(d["weights"])
    return f


def approximate_exploitability(
    game, policy, n_agents: int = 2000, br_method: str = "ppo", br_iterations: int = 60, seed: int = 0, **br_kwargs
) -> dict:
    """Exploitability of ``policy`` estimated with a fresh deep best response.

    The policy's own population (``n_agents`` simulated agents, kernel densities) is frozen;
    a new best response is trained against it, and both are evaluated there on fresh
    episodes: ``J(best response) - J(policy)``. The estimate is biased low by the best
    response's own error (it can be slightly negative).
    """
    dev = next(policy.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    mfs = kde_mean_fields(simulate_population(game, policy, n_agents, gen))
    br = best_response(game, mfs, br_method, iterations=br_iterations, device=dev, seed=seed, **br_kwargs)
    j_br, se_br = evaluate_policy(game, br.policy, mfs, n_agents, seed + 1, deterministic=True)
    j_pi, se_pi = evaluate_policy(game, policy, mfs, n_agents, seed + 2, deterministic=False)
    return {"exploitability": j_br - j_pi, "se": math.hypot(se_br, se_pi), "br_value": j_br, "policy_value": j_pi}


def exact_exploitability(game, policy, n_agents: int = 100_000, seed: int = 0, deterministic: bool = False):
    """Exact exploitability (up to Monte Carlo on the policy's value) on games with an analytic model, else None."""
    model = getattr(game, "model", None)
    if model is None or not hasattr(model, "exploitability_of_policy"):
        return None
    dev = next(policy.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(int(seed) + 7)

    def act(t, x):
        t, x = t.to(dev), x.to(dev)
        return (policy.mean_action(t, x) if deterministic else policy.sample(t, x, gen)[0]).cpu()

    return model.exploitability_of_policy(act, n_agents, seed)


class DeepFictitiousPlay(Algorithm):
    """Deep fictitious play on a continuous game (see the module docstring); subclasses are the variants.

    A variant says how the average policy and the average mean field are represented
    (:meth:`_mean_fields`, :meth:`_absorb`); the loop, exploitability tracking, checkpoints and
    resume are shared.

    Args:
        game: the game (``lq`` objects are converted with ``as_continuous()``).
        n_agents: agents per simulated batch (population samples and best-response training).
        br_method: ``"ppo"`` (default: on ``lq`` it gave 7x lower exploitability than SAC after 8
            iterations of fictitious play; why: :func:`~mfglearn.deep.best_response.sac_best_response`),
            ``"sac"``, or ``"pathwise"`` (gradients through the game's differentiable dynamics: on ``lq``,
            error 0.027 after 240 iterations in 5.3 s, against PPO's 0.126 in 43 s).
        br_iterations: iterations of it per best response, warm-started from the previous one;
            the first, from scratch, gets ``first_br_iterations`` (default ``3 * br_iterations``:
            fictitious play never forgets a poor early best response).
        br_kwargs: passed to the trainer (e.g. ``{"lr": 1e-3}``).
        damping: fictitious play's averaging weights. ``None`` (the seed's): every best response has
            the same weight in the average. A number ``a`` in ``(0, 1]``: the newest best response gets
            weight ``a`` and the older ones are scaled by ``1 - a``; on ``lq`` the uniform average's own
            rate is the bottleneck (see :mod:`mfglearn.exact.lq_fictitious_play`), which a constant
            ``a`` removes.
        time_onehot: networks also see a one-hot of the time step (the average policy, and new
            pathwise best responses); sharper at the last steps of a short horizon.
        bc_steps, flow_steps: gradient steps of behavioural cloning and of the flow fit per iteration.
        flow_kind: the mean field's density model: ``"gmm"`` (time-conditioned Gaussian mixture, the
            default: population queries ~10x faster than simulating), ``"nsf"`` (neural spline flow) or
            ``"realnvp"`` (``dim >= 2``).
        memory_per_iteration: ``(t, x, a)`` samples of each best response kept for cloning.
        exploitability_every: every that many iterations (and at the last of a ``solve``), estimate the
            exploitability with a fresh best response of ``exploitability_br_iterations`` (0: never).
        exact_every: every that many iterations, the exact exploitability when the game has an
            analytic model (0: never).
        device: torch device (``"cuda"`` on a GPU machine).
        seed: the one source of randomness.
    """

    game_kinds = frozenset({"continuous"})
    iteration_unit = "one fictitious-play iteration: a deep best response, then the averages updated"
    monitor = "br_return"
    default_iterations = 10

    def __init__(
        self,
        game,
        n_agents: int = 1024,
        br_method: str = "ppo",
        br_iterations: int = 20,
        first_br_iterations: int | None = None,
        br_kwargs: dict | None = None,
        damping: float | None = None,
        time_onehot: bool = False,
        bc_steps: int = 500,
        flow_steps: int = 500,
        flow_kind: str = "gmm",
        memory_per_iteration: int = 4096,
        exploitability_every: int = 0,
        exploitability_br_iterations: int = 60,
        exact_every: int = 1,
        device: str = "cpu",
        seed: int = 0,
    ):
        from mfglearn.deep.best_response import BEST_RESPONSES

        if hasattr(game, "as_continuous"):
            game = game.as_continuous()
        if getattr(game, "kind", None) != "continuous":
            raise ValidationError(f"{self.name} solves continuous games; got {type(game).__name__}")
        super().__init__(game)
        self.br_method = check_choice("br_method", br_method, sorted(BEST_RESPONSES))
        self.n_agents = check_int("n_agents", n_agents, minimum=2)
        self.br_iterations = check_int("br_iterations", br_iterations)
        self.first_br_iterations = (
            3 * self.br_iterations
            if first_br_iterations is None
            else check_int("first_br_iterations", first_br_iterations)
        )
        if br_kwargs is not None and not isinstance(br_kwargs, dict):
            raise ValidationError(f"br_kwargs must be a dict of the trainer's settings, got {br_kwargs!r}")
        self.br_kwargs = dict(br_kwargs or {})
        self.damping = None if damping is None else check_unit_interval("damping", damping)
        self.time_onehot = check_bool("time_onehot", time_onehot)
        self.bc_steps = check_int("bc_steps", bc_steps)
        self.flow_steps = check_int("flow_steps", flow_steps)
        self.flow_kind = check_choice("flow_kind", flow_kind, DENSITY_KINDS)
        # cloning standardises its inputs: one sample has no spread (its std is NaN)
        self.memory_per_iteration = check_int("memory_per_iteration", memory_per_iteration, minimum=2)
        self.exploitability_every = check_int("exploitability_every", exploitability_every, minimum=0)
        self.exploitability_br_iterations = check_int("exploitability_br_iterations", exploitability_br_iterations)
        self.exact_every = check_int("exact_every", exact_every, minimum=0)
        self.seed = check_int("seed", seed, minimum=0)
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValidationError("device='cuda' but torch sees no GPU; use device='cpu'")
        T = int(game.horizon)
        self.gen = torch.Generator(device=self.device).manual_seed(self.seed)
        with seeded(self.seed, self.device):
            self.avg = GaussianPolicy(game.state_dim, game.action_dim, T, time_onehot=self.time_onehot).to(self.device)
            with torch.no_grad():  # G_0: a population that stays put, whatever the random initialisation
                self.avg.net[-1].weight.mul_(0.01)
                self.avg.net[-1].bias.zero_()
            self.flow = time_density(game.state_dim, T, kind=self.flow_kind).to(self.device) if self.uses_flow else None
        self.brs: list[GaussianPolicy] = []
        self.weights: list[float] = []  # of the best responses in the average (memory or brs), oldest first
        self.br: BestResponse | None = None
        self.memory: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self._flow_ready = False
        self._last_of_solve: int | None = None
        self.br_mean_fields: list[MeanField] | None = None

    uses_flow: ClassVar[bool] = False

    @property
    def hyperparameters(self) -> dict:
        return dict(
            method=self.name, n_agents=self.n_agents, br_method=self.br_method, br_iterations=self.br_iterations,
            first_br_iterations=self.first_br_iterations, br_kwargs=self.br_kwargs, damping=self.damping,
            time_onehot=self.time_onehot,
            bc_steps=self.bc_steps,
            flow_steps=self.flow_steps, flow_kind=self.flow_kind, memory_per_iteration=self.memory_per_iteration,
            exploitability_every=self.exploitability_every,
            exploitability_br_iterations=self.exploitability_br_iterations, exact_every=self.exact_every,
            seed=self.seed,
        )  # fmt: skip

    @property
    def tracks_exploitability(self) -> bool:
        exact = self.exact_every > 0 and hasattr(getattr(self.game, "model", None), "exploitability_of_policy")
        return exact or self.exploitability_every > 0

    def _no_exploitability_hint(self) -> str:
        return " (set exploitability_every=k for a fresh-best-response estimate, or exact_every=k on lq)"

    def solve(self, iterations: int | None = None, **kwargs) -> DeepFPResult:
        # the fresh-best-response estimate is also taken at a solve's last iteration
        n = self.default_iterations if iterations is None else iterations
        self._last_of_solve = int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) else None
        try:
            return super().solve(n, **kwargs)
        finally:
            self._last_of_solve = None

    # ------------------------------------------------------------------ variant
    def current_policy(self):
        """The average policy (the equilibrium estimate)."""
        return self.avg

    def _mean_fields(self) -> list[MeanField]:
        """The average mean field ``mu_0..mu_T`` the next best response plays against."""
        return kde_mean_fields(simulate_population(self.game, self.avg, self.n_agents, self.gen))

    def _absorb(self, br: BestResponse, mfs: list[MeanField]) -> None:
        """Fold the new best response into the average policy (and mean field)."""
        game, T, N, dev = self.game, int(self.game.horizon), self.n_agents, self.device
        k = self.iteration
        xs, acts, _, _ = rollout(game, br.policy, mfs, N, self.gen)
        keep = torch.randperm(T * N, generator=self.gen, device=dev)[: self.memory_per_iteration]
        times = torch.arange(T, dtype=torch.float32, device=dev).repeat_interleave(N)
        self.memory.append((times[keep], xs[:-1].reshape(T * N, -1)[keep], acts.reshape(T * N, -1)[keep]))
        self._add_weight()
        self.memory = [m for m, w in zip(self.memory, self.weights, strict=True) if w > 0]
        self.weights = [w for w in self.weights if w > 0]
        mt, mx, ma = (torch.cat(z) for z in zip(*self.memory, strict=True))
        sw = None
        if self.damping is not None:
            sw = torch.cat(
                [
                    torch.full((m[0].shape[0],), w / m[0].shape[0], device=dev)
                    for m, w in zip(self.memory, self.weights, strict=True)
                ]
            )
        behavioural_cloning(self.avg, mt, mx, ma, steps=self.bc_steps, seed=self.seed + k, sample_weights=sw)
        if self.flow is not None:
            _fit_flow(self.flow, simulate_population(game, self.avg, N, self.gen), self.flow_steps, self.seed + k)

    def _add_weight(self) -> None:
        """Weights after a new best response: ``1/n`` each, or the newest ``damping``, the rest ``* (1 - damping)``."""
        n = len(self.weights) + 1
        a = 1.0 / n if self.damping is None or n == 1 else self.damping
        # weights below 1e-9 of the newest are dropped with their samples: they cannot move the average
        self.weights = [w * (1 - a) if w * (1 - a) > 1e-9 * a else 0.0 for w in self.weights] + [a]

    # --------------------------------------------------------------------- loop
    def _step(self) -> dict:
        game, N = self.game, self.n_agents
        k = self.iteration
        if self.flow is not None and not self._flow_ready:
            _fit_flow(self.flow, simulate_population(game, self.avg, N, self.gen), self.flow_steps, self.seed)
            self._flow_ready = True
        t_mf = time.perf_counter()
        mfs = self._mean_fields()
        mf_seconds = time.perf_counter() - t_mf
        self.br_mean_fields = mfs  # what this iteration's best response plays against (error budgets read it)
        its = self.br_iterations if self.br is not None else self.first_br_iterations
        extra = {"time_onehot": True} if self.time_onehot else {}
        self.br = best_response(
            game, mfs, self.br_method, iterations=its, warm=self.br, device=self.device,
            seed=self.seed + 1000 * (k + 1), **extra, **self.br_kwargs,
        )  # fmt: skip
        br_return, _ = evaluate_policy(game, self.br.policy, mfs, N, self.seed + k, deterministic=True)
        self._absorb(self.br, mfs)
        last = self._last_of_solve is not None and k + 1 == self._last_of_solve
        expl = None
        if self.exploitability_every and ((k + 1) % self.exploitability_every == 0 or last):
            expl = approximate_exploitability(
                game, self.current_policy(), N, self.br_method, self.exploitability_br_iterations,
                seed=self.seed + 7, **self.br_kwargs,
            )["exploitability"]  # fmt: skip
        exact = None
        if self.exact_every and ((k + 1) % self.exact_every == 0 or last):
            out = exact_exploitability(game, self.current_policy(), 20_000, seed=self.seed)
            exact = None if out is None else out["exploitability"]
        return {
            "br_return": br_return,
            "mean_field_seconds": mf_seconds,
            "exploitability": expl,
            "exact_exploitability": exact,
        }

    def _check_info(self, info: dict) -> None:
        for key in ("br_return", "exploitability", "exact_exploitability"):
            v = info.get(key)
            if v is not None and not math.isfinite(v):
                raise FloatingPointError(
                    f"{self.name}: {key} became {v} at iteration {self.iteration}; lower the best response's "
                    "learning rate (br_kwargs={'lr': ...}) or the game's time step"
                )

    def _last_exploitability(self) -> float | None:
        for key in ("exact_exploitability", "exploitability"):
            vals = [v for v in self.history.get(key, []) if v is not None and math.isfinite(v)]
            if vals:
                return vals[-1]
        return None

    def result(self, stopped: str | None = None) -> DeepFPResult:
        policy = self.current_policy()
        value = float("nan")
        if self.iteration:
            mfs = self._result_mean_fields()
            value, _ = evaluate_policy(self.game, policy, mfs, self.n_agents, self.seed + 3, deterministic=False)
        return DeepFPResult(
            policy=policy,
            mean_field=self.flow,
            value=float(value),
            history={k: list(v) for k, v in self.history.items()},
            solver=self.name,
            game=self.game.name,
            hyperparameters=self.hyperparameters,
            stopped=self.stopped if stopped is None else stopped,
        )

    def _result_mean_fields(self) -> list[MeanField]:
        # a separate generator: evaluating the result must not move the run's random stream
        gen = torch.Generator(device=self.device).manual_seed(self.seed + 5)
        if self.flow is not None:
            return flow_mean_fields(self.flow, int(self.game.horizon), self.n_agents, gen)
        return kde_mean_fields(simulate_population(self.game, self.current_policy(), self.n_agents, gen))

    # -------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        d = super().state_dict()
        d.update(
            generator=self.gen.get_state(),
            avg=module_state(self.avg),
            flow=None if self.flow is None else module_state(self.flow),
            flow_ready=self._flow_ready,
            brs=[module_state(p) for p in self.brs],
            weights=list(self.weights),
            br=None if self.br is None else best_response_state(self.br),
            memory=[list(m) for m in self.memory],
        )
        return d

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        dev = self.device
        self.gen.set_state(d["generator"].cpu())  # generator states are CPU byte tensors on every device
        self.avg.load_state_dict(d["avg"]["weights"])
        if self.flow is not None:
            self.flow.load_state_dict(d["flow"]["weights"])
        self._flow_ready = bool(d["flow_ready"])
        self.brs = [policy_from_state({"type": "gaussian", **p}, dev) for p in d["brs"]]
        n = max(len(d["memory"]), len(d["brs"]))
        # checkpoints written before damping existed hold uniform averages
        self.weights = [float(w) for w in d["weights"]] if "weights" in d else [1.0 / n] * n
        self.br = None if d["br"] is None else best_response_from_state(self.game, d["br"], dev)
        self.memory = [tuple(t.to(dev) for t in m) for m in d["memory"]]


class DEDAFP(DeepFictitiousPlay):
    """DEDA-FP: the average policy by behavioural cloning, the average mean field by a normalizing flow."""

    name = "deda_fp"
    description = "DEDA-FP: deep RL best response, behavioural-cloning average policy, normalizing-flow mean field"
    uses_flow = True

    def _mean_fields(self) -> list[MeanField]:
        return flow_mean_fields(self.flow, int(self.game.horizon), self.n_agents, self.gen)


class DeepFPSampled(DeepFictitiousPlay):
    """Algo1: keep every best response; the population is their uniform mixture, simulated (KDE)."""

    name = "deep_fp_sampled"
    description = "deep FP baseline (Algo1): mixture of all past best responses, population simulated (KDE)"

    def current_policy(self):
        if not self.brs:
            return self.avg
        return MixturePolicy(self.brs, None if self.damping is None else self.weights)

    def _mean_fields(self) -> list[MeanField]:
        policy = self.current_policy()
        return kde_mean_fields(simulate_population(self.game, policy, self.n_agents, self.gen))

    def _absorb(self, br: BestResponse, mfs: list[MeanField]) -> None:
        self.brs.append(copy.deepcopy(br.policy))
        self._add_weight()
        self.brs = [p for p, w in zip(self.brs, self.weights, strict=True) if w > 0]
        self.weights = [w for w in self.weights if w > 0]


class DeepFPAverage(DeepFictitiousPlay):
    """Algo2: the average policy by behavioural cloning, its population simulated (KDE)."""

    name = "deep_fp_average"
    description = "deep FP baseline (Algo2): behavioural-cloning average policy, population simulated (KDE)"


VARIANTS = {cls.name: cls for cls in (DEDAFP, DeepFPSampled, DeepFPAverage)}


def deep_fictitious_play(
    game, method: str = "deda_fp", iterations: int = 10, checkpoint=None, callback=None, **hyperparameters
) -> DeepFPResult:
    """Deep fictitious play by variant ``method`` (``deda_fp``, ``deep_fp_sampled``, ``deep_fp_average``):
    ``VARIANTS[method](game, **hyperparameters).solve(iterations, checkpoint=..., callback=...)``."""
    if method not in VARIANTS:
        raise ValidationError(f"method must be one of {', '.join(VARIANTS)}, got {method!r}")
    return VARIANTS[method](game, **hyperparameters).solve(iterations, checkpoint=checkpoint, callback=callback)


def _fit_flow(flow: torch.nn.Module, states: torch.Tensor, steps: int, seed: int) -> None:
    T1, n = states.shape[:2]
    t = torch.arange(T1, dtype=torch.float32, device=states.device).repeat_interleave(n)
    flow.fit(t, states.reshape(T1 * n, -1), steps=steps, seed=seed)


def deda_fp(game, iterations: int = 10, **kwargs) -> DeepFPResult:
    """DEDA-FP: cloned average policy, normalizing-flow mean field (see :class:`DEDAFP`)."""
    return deep_fictitious_play(game, "deda_fp", iterations, **kwargs)


def deep_fp_sampled(game, iterations: int = 10, **kwargs) -> DeepFPResult:
    """Algo1: mixture of all past best responses, population simulated (see :class:`DeepFPSampled`)."""
    return deep_fictitious_play(game, "deep_fp_sampled", iterations, **kwargs)


def deep_fp_average(game, iterations: int = 10, **kwargs) -> DeepFPResult:
    """Algo2: behavioural-cloning average policy, population simulated (see :class:`DeepFPAverage`)."""
    return deep_fictitious_play(game, "deep_fp_average", iterations, **kwargs)


__all__ = [
    "DEDAFP",
    "BestResponse",
    "DeepFPAverage",
    "DeepFPResult",
    "DeepFPSampled",
    "DeepFictitiousPlay",
    "MixturePolicy",
    "approximate_exploitability",
    "deda_fp",
    "deep_fictitious_play",
    "deep_fp_average",
    "deep_fp_sampled",
    "exact_exploitability",
    "flow_mean_fields",
    "kde_mean_fields",
    "simulate_population",
]
