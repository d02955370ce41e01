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
exactly on games with an analytic model (``lq``). Runs checkpoint after every iteration and
resume from the checkpoint.
"""

from __future__ import annotations

import copy
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mfglearn.deep.best_response import BestResponse, best_response, evaluate_policy, rollout
from mfglearn.deep.cloning import GaussianPolicy, behavioural_cloning
from mfglearn.deep.flows import TimeFlow
from mfglearn.errors import ValidationError
from mfglearn.games.continuous import MeanField

METHODS = ("deda_fp", "deep_fp_sampled", "deep_fp_average")


class MixturePolicy(torch.nn.Module):
    """Uniform mixture over agents of several policies: agent ``i`` of a batch follows policy ``i mod k``.

    This is fictitious play's average in the sense of populations (the mean field of the
    mixture is the average of the policies' mean fields when dynamics do not depend on it).
    """

    def __init__(self, policies: list):
        super().__init__()
        self.policies = torch.nn.ModuleList(policies)

    def _split(self, n: int, device) -> torch.Tensor:
        return torch.arange(n, device=device) % len(self.policies)

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


def flow_mean_fields(flow: TimeFlow, horizon: int, n: int) -> list[MeanField]:
    """``mu_0..mu_T`` from a flow: ``n`` samples each (for means) and the flow's own density."""
    t = torch.arange(horizon + 1, device=flow.x_mean.device, dtype=torch.float32).repeat_interleave(n)
    xs = flow.sample(t).view(horizon + 1, n, -1)

    def density(s: float):
        return lambda x: flow.density(x, torch.full((x.shape[0],), s, device=x.device))

    return [MeanField(xs[s], density_fn=density(float(s))) for s in range(horizon + 1)]


def kde_mean_fields(states: torch.Tensor) -> list[MeanField]:
    """``mu_0..mu_T`` from simulated states ``(T+1, N, d)`` with Gaussian kernel densities."""
    return [MeanField(s) for s in states]


@dataclass
class DeepFPResult:
    """Outcome of :func:`deep_fictitious_play`.

    Attributes:
        method: ``deda_fp``, ``deep_fp_sampled`` or ``deep_fp_average``.
        policy: the average policy (a :class:`GaussianPolicy`, or a :class:`MixturePolicy` of
            the best responses for ``deep_fp_sampled``); ``policy.sample(t, x, gen)``, ``mean_action(t, x)``.
        flow: the average mean field (``deda_fp`` only).
        history: per-iteration ``iteration``, ``br_return``, ``mean_field_seconds``, ``seconds`` and,
            when tracked, ``exploitability`` (fresh best response) and ``exact_exploitability``.
        hyperparameters: the run's settings.
    """

    method: str
    policy: torch.nn.Module
    flow: TimeFlow | None
    history: dict[str, list[float]] = field(default_factory=dict)
    hyperparameters: dict = field(default_factory=dict)
    game: str = ""

    @property
    def exploitability(self) -> float:
        """The last tracked exploitability (exact where available), ``nan`` if none was tracked."""
        for key in ("exact_exploitability", "exploitability"):
            vals = [v for v in self.history.get(key, []) if v is not None and math.isfinite(v)]
            if vals:
                return vals[-1]
        return float("nan")

    def mean_fields(self, game, n: int = 2000, seed: int = 0) -> list[MeanField]:
        """``mu_0..mu_T`` as the method represents it: the flow, or a simulated population (kernel density)."""
        if self.flow is not None:
            return flow_mean_fields(self.flow, int(game.horizon), n)
        dev = next(self.policy.parameters()).device
        gen = torch.Generator(device=dev).manual_seed(int(seed))
        return kde_mean_fields(simulate_population(game, self.policy, n, gen))

    def summary(self) -> dict:
        h = self.history
        out = {"method": self.method, "game": self.game, "iterations": len(h.get("iteration", []))}
        for key in ("br_return", "exploitability", "exact_exploitability", "seconds"):
            vals = [v for v in h.get(key, []) if v is not None]
            if vals:
                out[key] = vals[-1]
        return out

    def save(self, path: str | Path) -> Path:
        """Write ``deep_result.json`` and ``deep_model.pt`` (policy and flow) into directory ``path``."""
        from mfglearn.runs.io import atomic_write_bytes, atomic_write_json

        path = Path(path)
        buf = io.BytesIO()
        torch.save({"policy": self.policy, "flow": self.flow}, buf)
        atomic_write_bytes(path / "deep_model.pt", buf.getvalue())
        meta = {"method": self.method, "game": self.game, "history": self.history}
        atomic_write_json(path / "deep_result.json", {**meta, "hyperparameters": self.hyperparameters})
        return path

    @classmethod
    def load(cls, path: str | Path) -> DeepFPResult:
        """Read a result written by :meth:`save` (a file you trust: the networks are unpickled)."""
        path = Path(path)
        try:
            meta = json.loads((path / "deep_result.json").read_text())
            nets = torch.load(path / "deep_model.pt", weights_only=False)
        except FileNotFoundError as exc:
            raise ValidationError(f"{path} holds no saved deep result ({exc.filename} missing)") from None
        return cls(meta["method"], nets["policy"], nets["flow"], meta["history"], meta["hyperparameters"], meta["game"])


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


def _atomic_torch_save(obj, path: Path) -> None:
    from mfglearn.runs.io import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def deep_fictitious_play(
    game,
    method: str = "deda_fp",
    iterations: int = 10,
    n_agents: int = 1024,
    br_method: str = "ppo",
    br_iterations: int = 20,
    first_br_iterations: int | None = None,
    br_kwargs: dict | None = None,
    bc_steps: int = 500,
    flow_steps: int = 500,
    flow_kind: str = "nsf",
    memory_per_iteration: int = 4096,
    exploitability_every: int = 0,
    exploitability_br_iterations: int = 60,
    exact_every: int = 1,
    checkpoint: str | Path | None = None,
    device="cpu",
    seed: int = 0,
    callback=None,
) -> DeepFPResult:
    """Deep fictitious play on a :class:`~mfglearn.games.continuous.ContinuousMFG` (see the module docstring).

    Args:
        game: the game (``lq`` objects are converted with ``as_continuous()``).
        method: ``"deda_fp"``, ``"deep_fp_sampled"`` or ``"deep_fp_average"``.
        iterations: fictitious-play iterations ``K``.
        n_agents: agents per simulated batch (population samples and best-response training).
        br_method: ``"ppo"`` (default: on ``lq`` it gave 7x lower exploitability than SAC after 8 iterations of
            fictitious play) or ``"sac"``; ``br_iterations`` of it per best response, warm-started
            from the previous one (the first, from scratch, gets ``first_br_iterations``, default
            ``3 * br_iterations``: fictitious play never forgets a poor early best response);
            ``br_kwargs`` go to the trainer.
        bc_steps, flow_steps: gradient steps of behavioural cloning and of the flow fit per iteration.
        flow_kind: ``"nsf"`` or ``"realnvp"`` (``dim >= 2``).
        memory_per_iteration: ``(t, x, a)`` samples of each best response kept for cloning.
        exploitability_every: every that many iterations (and at the last), estimate the exploitability
            with a fresh best response of ``exploitability_br_iterations`` (0: never).
        exact_every: every that many iterations, the exact exploitability when the game has an
            analytic model (0: never).
        checkpoint: a directory; the state is saved there after every iteration and a run started
            with the same directory resumes from it.
        device: torch device (``"cuda"`` on a GPU machine).
        seed: random seed.
        callback: ``callback(k, result)`` after each iteration; returning ``True`` stops the run.
    """
    if hasattr(game, "as_continuous"):
        game = game.as_continuous()
    if method not in METHODS:
        raise ValidationError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if int(iterations) != iterations or iterations < 1:
        raise ValidationError(f"iterations must be a positive integer, got {iterations!r}")
    from mfglearn.deep.best_response import BEST_RESPONSES

    if br_method not in BEST_RESPONSES:
        raise ValidationError(f"br_method must be one of {sorted(BEST_RESPONSES)}, got {br_method!r}")
    if int(n_agents) != n_agents or n_agents < 2:
        raise ValidationError(f"n_agents must be an integer >= 2, got {n_agents!r}")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValidationError("device='cuda' but torch sees no GPU; use device='cpu'")
    br_kwargs = dict(br_kwargs or {})
    hp = dict(
        method=method, n_agents=n_agents, br_method=br_method, br_iterations=br_iterations,
        first_br_iterations=first_br_iterations or 3 * br_iterations, br_kwargs=br_kwargs,
        bc_steps=bc_steps, flow_steps=flow_steps, flow_kind=flow_kind, memory_per_iteration=memory_per_iteration,
        seed=seed,
    )  # fmt: skip
    T = int(game.horizon)
    ckpt = Path(checkpoint) / "deep_fp_state.pt" if checkpoint is not None else None
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, weights_only=False, map_location=device)
        if state["hyperparameters"] != hp or state["game"] != (game.name, game.params):
            raise ValidationError(f"{ckpt} belongs to a different run (game or settings differ); use a new directory")
        gen = torch.Generator(device=device)
        gen.set_state(state["generator"].cpu())  # generator states are CPU byte tensors on every device
        avg, flow, brs, br, memory = state["avg"], state["flow"], state["brs"], state["br"], state["memory"]
        history, start_k = state["history"], state["k"]
    else:
        gen = torch.Generator(device=device).manual_seed(int(seed))
        torch.manual_seed(seed)
        avg = GaussianPolicy(game.state_dim, game.action_dim, T).to(device)
        with torch.no_grad():  # G_0: a population that stays put, whatever the random initialisation
            avg.net[-1].weight.mul_(0.01)
            avg.net[-1].bias.zero_()
        flow = TimeFlow(game.state_dim, T, kind=flow_kind).to(device) if method == "deda_fp" else None
        if flow is not None:
            _fit_flow(flow, simulate_population(game, avg, n_agents, gen), flow_steps, seed)
        brs, br, memory, start_k = [], None, [], 0
        keys = ("iteration", "br_return", "mean_field_seconds", "seconds", "exploitability", "exact_exploitability")
        history = {k: [] for k in keys}
    result = DeepFPResult(method, avg, flow, history, hp, game.name)
    if method == "deep_fp_sampled" and brs:
        result.policy = MixturePolicy(brs)
    elapsed0 = history["seconds"][-1] if history["seconds"] else 0.0
    start = time.perf_counter()
    for k in range(start_k, int(iterations)):
        t_mf = time.perf_counter()
        if method == "deda_fp":
            mfs = flow_mean_fields(flow, T, n_agents)
        elif method == "deep_fp_average" or not brs:
            mfs = kde_mean_fields(simulate_population(game, avg, n_agents, gen))
        else:
            mfs = kde_mean_fields(simulate_population(game, MixturePolicy(brs), n_agents, gen))
        mf_seconds = time.perf_counter() - t_mf
        its = br_iterations if br is not None else hp["first_br_iterations"]
        br = best_response(
            game, mfs, br_method, iterations=its, warm=br, device=device, seed=seed + 1000 * (k + 1), **br_kwargs
        )
        br_return, _ = evaluate_policy(game, br.policy, mfs, n_agents, seed + k, deterministic=True)
        if method == "deep_fp_sampled":
            brs.append(copy.deepcopy(br.policy))
            result.policy = MixturePolicy(brs)
        else:
            xs, acts, _, _ = rollout(game, br.policy, mfs, n_agents, gen)
            keep = torch.randperm(T * n_agents, generator=gen, device=device)[:memory_per_iteration]
            times = torch.arange(T, dtype=torch.float32, device=device).repeat_interleave(n_agents)
            memory.append((times[keep], xs[:-1].reshape(T * n_agents, -1)[keep], acts.reshape(T * n_agents, -1)[keep]))
            mt, mx, ma = (torch.cat(z) for z in zip(*memory, strict=True))
            behavioural_cloning(avg, mt, mx, ma, steps=bc_steps, seed=seed + k)
            if flow is not None:
                _fit_flow(flow, simulate_population(game, avg, n_agents, gen), flow_steps, seed + k)
        history["iteration"].append(k + 1)
        history["br_return"].append(br_return)
        history["mean_field_seconds"].append(mf_seconds)
        last = k + 1 == iterations
        expl = None
        if exploitability_every and ((k + 1) % exploitability_every == 0 or last):
            expl = approximate_exploitability(
                game, result.policy, n_agents, br_method, exploitability_br_iterations, seed=seed + 7, **br_kwargs
            )["exploitability"]
        history["exploitability"].append(expl)
        exact = None
        if exact_every and ((k + 1) % exact_every == 0 or last):
            out = exact_exploitability(game, result.policy, 20_000, seed=seed)
            exact = None if out is None else out["exploitability"]
        history["exact_exploitability"].append(exact)
        history["seconds"].append(elapsed0 + time.perf_counter() - start)
        if ckpt is not None:
            _atomic_torch_save(
                dict(
                    hyperparameters=hp, game=(game.name, game.params), generator=gen.get_state(), avg=avg, flow=flow,
                    brs=brs, br=br, memory=memory, history=history, k=k + 1,
                ),
                ckpt,
            )  # fmt: skip
        if callback is not None and callback(k, result):
            break
    return result


def _fit_flow(flow: TimeFlow, states: torch.Tensor, steps: int, seed: int) -> None:
    T1, n = states.shape[:2]
    t = torch.arange(T1, dtype=torch.float32, device=states.device).repeat_interleave(n)
    flow.fit(t, states.reshape(T1 * n, -1), steps=steps, seed=seed)


def deda_fp(game, iterations: int = 10, **kwargs) -> DeepFPResult:
    """DEDA-FP: cloned average policy, normalizing-flow mean field (see :func:`deep_fictitious_play`)."""
    return deep_fictitious_play(game, "deda_fp", iterations, **kwargs)


def deep_fp_sampled(game, iterations: int = 10, **kwargs) -> DeepFPResult:
    """Algo1: mixture of all past best responses, population simulated (see :func:`deep_fictitious_play`)."""
    return deep_fictitious_play(game, "deep_fp_sampled", iterations, **kwargs)


def deep_fp_average(game, iterations: int = 10, **kwargs) -> DeepFPResult:
    """Algo2: behavioural-cloning average policy, population simulated (see :func:`deep_fictitious_play`)."""
    return deep_fictitious_play(game, "deep_fp_average", iterations, **kwargs)


__all__ = [
    "BestResponse",
    "DeepFPResult",
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
