"""DEDA-FP's error budget on the linear-quadratic MFG, measured iteration by iteration.

The seed's theorem bounds the true exploitability of DEDA-FP's average policy after ``k`` iterations by

    e_k <= C0 e_cnf^0 + (1/k) sum_{i=1}^{k-1} [ (i+1) eps_br^{i+1} + C1 (eps_sl^{i+1} + eps_cnf^{i+1}) + C2 / i ],

with ``eps_br`` the best responses' errors, ``eps_sl`` the behavioural-cloning (supervised learning)
errors and ``eps_cnf`` the normalizing flow's. On ``lq`` each quantity has an exact or paired
Monte-Carlo measurement:

* **best response** ``eps_br^k = V*(m) - J_m(BR_k)`` against the mean path ``m`` the best response
  was trained against (the means of the flow samples it saw), with its sampled actions: Riccati's
  policy and the learned one are rolled out with the same initial states and noise, so the
  difference of returns estimates the gap with a small variance, and is 0 (to round-off) when the
  learned best response is the Riccati one.
* **cloning** ``eps_sl^k``: the cloned average policy's population against the population of the
  mixture of the learned best responses it was cloned from (what fictitious play averages), both
  simulated with the same seed: Wasserstein-2 per time (max over ``t``), mean-path and variance
  gaps, and the difference of their exact exploitabilities.
* **flow** ``eps_cnf^k``: the flow's samples against the cloned policy's population: Wasserstein-2
  per time (max over ``t``) and the mean-path gap.

The constants are not given by the seed; they are estimated here, and reported with the bound:

* ``C1`` (also used for ``C0``): on ``lq`` the mean field acts only through its mean path, so an
  error of ``delta`` in the mean field moves the exploitability by at most
  ``(||grad_m V*(m)||_1 + ||grad_m J_m(pi)||_1) ||delta||_inf`` to first order. The gradients are
  exact (central differences, see :func:`exploitability_lipschitz`), at the average policy's affine fit and its mean
  path; ``C1`` is their maximum over the iterations, and ``W2 >= |mean gap|`` turns the measured
  distances into mean-path errors.
* ``C2``: fictitious play's own rate, fitted to the exact reference
  (:func:`mfglearn.exact.lq_fictitious_play.lq_fictitious_play`, the same scheme with exact parts):
  the smallest ``C2`` for which ``(1/k) sum_{i<k} C2 / i`` bounds its exploitability for ``k >= 2``.
"""

from __future__ import annotations

import copy
import math

import torch

from mfglearn.deep.fictitious_play import MixturePolicy, exact_exploitability, simulate_population
from mfglearn.errors import ValidationError
from mfglearn.exact.lq_riccati import F64, best_response, initial_value, policy_cost


def wasserstein2(a: torch.Tensor, b: torch.Tensor, projections: int = 64, seed: int = 0) -> torch.Tensor:
    """Wasserstein-2 distance per time between two sets of samples ``(T+1, N, d)`` and ``(T+1, M, d)``: ``(T+1,)``.

    In one dimension it is exact for the empirical measures (matched quantiles at ``min(N, M)``
    levels); in ``d > 1`` it is the sliced distance over ``projections`` random directions
    (``sqrt(mean_u W2(u.a, u.b)^2)``), a lower bound of the true one.
    """
    if a.dim() != 3 or b.dim() != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[2]:
        raise ValidationError(f"samples must be (T+1, N, d) with equal T and d, got {tuple(a.shape)}, {tuple(b.shape)}")
    a, b = a.to(F64), b.to(F64)
    d = a.shape[2]
    if d == 1:
        dirs = torch.ones(1, 1, dtype=F64)
    else:
        dirs = torch.randn(projections, d, generator=torch.Generator().manual_seed(seed), dtype=F64)
        dirs = dirs / dirs.norm(dim=1, keepdim=True)
    pa, pb = (torch.einsum("tnd,pd->tpn", z, dirs).sort(-1).values for z in (a, b))
    n = min(pa.shape[-1], pb.shape[-1])
    levels = (torch.arange(n, dtype=F64) + 0.5) / n
    qa = pa[..., (levels * pa.shape[-1]).long()]
    qb = pb[..., (levels * pb.shape[-1]).long()]
    return ((qa - qb) ** 2).mean(-1).mean(-1).sqrt()


def best_response_error(lq, policy, mean_path: torch.Tensor, n_agents: int = 50_000, seed: int = 0) -> dict:
    """``V*(m) - J_m(policy)`` against the fixed ``mean_path`` ``(T+1, d)``, with common random numbers.

    ``policy(t, x) -> a`` (a learned best response's mean or sampled action). Returns ``error``, its
    standard error ``se`` and the exact ``best_response_value``.
    """
    m = torch.as_tensor(mean_path, dtype=F64)
    if m.shape != (lq.T + 1, lq.d):
        raise ValidationError(f"mean_path must be ({lq.T + 1}, {lq.d}), got {tuple(m.shape)}")
    K, k, P, (p, q) = best_response(lq, m)
    exact = lq.returns_against(lambda t, x: -x @ K[int(t[0])].T + k[int(t[0])], m, n_agents, seed, F64)
    learned = lq.returns_against(policy, m, n_agents, seed)
    gap = exact - learned
    return {
        "error": float(gap.mean()),
        "se": float(gap.std() / math.sqrt(n_agents)),
        "best_response_value": initial_value(lq, P, p, q),
    }


def population_gaps(a: torch.Tensor, b: torch.Tensor) -> dict:
    """Distances between two populations' samples ``(T+1, N, d)``: max over ``t`` of W2, mean gap, variance gap."""
    return {
        "w2": float(wasserstein2(a, b).max()),
        "mean_gap": float((a.to(F64).mean(1) - b.to(F64).mean(1)).norm(dim=-1).max()),
        "var_gap": float((a.to(F64).var(1) - b.to(F64).var(1)).abs().max()),
    }


def exploitability_lipschitz(lq, K: torch.Tensor, k: torch.Tensor, mean_path: torch.Tensor) -> float:
    """``||grad_m V*(m)||_1 + ||grad_m J_m(K, k)||_1`` at ``m = mean_path`` ``(T+1, d)``.

    The first-order change of the exploitability of the affine policy ``(K, k)`` per unit of
    sup-norm error in the mean path it is evaluated against. Both values are quadratic in ``m``
    (the mean path enters the costs to go affinely and the constant term quadratically), so central
    differences give the gradients exactly, up to round-off.
    """
    m0 = torch.as_tensor(mean_path, dtype=F64).reshape(-1)
    K, k = K.to(F64), k.to(F64)
    shape = (lq.T + 1, lq.d)

    def v_star(m):
        _, _, P, (p, q) = best_response(lq, m.view(shape))
        return initial_value(lq, P, p, q)

    def j_pi(m):
        return initial_value(lq, *policy_cost(lq, K, k, m.view(shape)))

    total = 0.0
    for e in torch.eye(m0.numel(), dtype=F64):
        total += abs(v_star(m0 + e) - v_star(m0 - e)) / 2 + abs(j_pi(m0 + e) - j_pi(m0 - e)) / 2
    return total


def fp_rate_constant(exploitability: list[float]) -> float:
    """Smallest ``C2`` with ``e_k <= (C2 / k) sum_{i=1}^{k-1} 1/i`` for ``k >= 2`` (``exploitability[k-1] = e_k``)."""
    ratios = []
    for k in range(2, len(exploitability) + 1):
        harmonic = sum(1.0 / i for i in range(1, k))
        ratios.append(exploitability[k - 1] * k / harmonic)
    return max(ratios) if ratios else float("nan")


def theorem_bound(
    e_cnf0: float, br: list[float], sl: list[float], cnf: list[float], c0: float, c1: float, c2: float
) -> list[float]:
    """The theorem's right-hand side for ``k = 1..K`` from per-iteration errors (``br[k-1] = eps^k``)."""
    out = []
    for k in range(1, len(br) + 1):
        s = sum((i + 1) * max(br[i], 0.0) + c1 * (sl[i] + cnf[i]) + c2 / i for i in range(1, k))
        out.append(c0 * e_cnf0 + s / k)
    return out


def measure_error_budget(algorithm, iterations: int, n_agents: int = 20_000, seed: int = 0, reference=None) -> dict:
    """Step ``algorithm`` (a :class:`~mfglearn.deep.fictitious_play.DEDAFP` on ``lq``) and measure its error budget.

    After each of ``iterations`` steps records the best-response, cloning and flow errors (see the
    module docstring), the cloned policy's exact exploitability and the Lipschitz constant; at the
    end, the constants and the theorem's bound. ``reference``: the exact fictitious play
    (:class:`~mfglearn.exact.lq_fictitious_play.LQFictitiousPlay`) for ``C2``; computed when None.
    Populations are simulated with ``n_agents`` agents and their own seeds, never from the
    algorithm's random stream, so the run itself is the one ``solve`` would give.
    """
    from mfglearn.exact.lq_fictitious_play import lq_fictitious_play

    game = algorithm.game
    lq = getattr(game, "model", None)
    if lq is None or not hasattr(lq, "returns_against"):
        raise ValidationError("the error budget needs an lq game (its exact model); got " + type(game).__name__)
    if getattr(algorithm, "flow", None) is None:
        raise ValidationError(f"the error budget measures a flow's error; {algorithm.name} has none (use deda_fp)")
    T = int(game.horizon)
    gen = torch.Generator(device=algorithm.device).manual_seed(seed)
    g0 = copy.deepcopy(algorithm.avg)
    brs: list = []
    rec: dict[str, list] = {key: [] for key in (
        "br_error", "br_error_se", "sl_w2", "sl_mean_gap", "sl_var_gap", "sl_exploitability_gap",
        "cnf_w2", "cnf_mean_gap", "exploitability", "mixture_exploitability", "lipschitz",
    )}  # fmt: skip
    e_cnf0 = float("nan")
    for k in range(1, int(iterations) + 1):
        algorithm.step()
        mfs = algorithm.br_mean_fields
        br_path = torch.stack([mf.mean().to(F64).cpu() for mf in mfs])
        if k == 1:  # the flow of G_0 the first best response played against
            g0_pop = simulate_population(game, g0, n_agents, gen.manual_seed(seed)).cpu()
            e_cnf0 = float(wasserstein2(torch.stack([mf.samples.cpu() for mf in mfs]), g0_pop).max())
        br = algorithm.br.policy
        brs.append(copy.deepcopy(br))
        # sampled actions: the stochastic best response is what fictitious play averages
        out = best_response_error(lq, _on_cpu(br, gen.manual_seed(seed + 2000 + k)), br_path, n_agents, seed + k)
        rec["br_error"].append(out["error"])
        rec["br_error_se"].append(out["se"])
        avg = algorithm.avg
        pop_avg = simulate_population(game, avg, n_agents, gen.manual_seed(seed + k)).cpu()
        pop_mix = simulate_population(game, MixturePolicy(brs), n_agents, gen.manual_seed(seed + k)).cpu()
        for key, v in population_gaps(pop_avg, pop_mix).items():
            rec[f"sl_{key}"].append(v)
        e_avg = exact_exploitability(game, avg, n_agents, seed=seed + k)["exploitability"]
        e_mix = exact_exploitability(game, MixturePolicy(brs), n_agents, seed=seed + k)["exploitability"]
        rec["exploitability"].append(e_avg)
        rec["mixture_exploitability"].append(e_mix)
        rec["sl_exploitability_gap"].append(e_avg - e_mix)
        t = torch.arange(T + 1, device=algorithm.device, dtype=torch.float32).repeat_interleave(n_agents)
        flow_samples = algorithm.flow.sample(t, generator=gen.manual_seed(seed + 1000 + k)).view(T + 1, n_agents, -1)
        gaps = population_gaps(flow_samples.cpu(), pop_avg)
        rec["cnf_w2"].append(gaps["w2"])
        rec["cnf_mean_gap"].append(gaps["mean_gap"])
        K, kk = lq.fit_affine(lambda tt, x, p=avg: _on_cpu(p)(tt, x))
        rec["lipschitz"].append(exploitability_lipschitz(lq, K, kk, pop_avg.to(F64).mean(1)))
    ref = lq_fictitious_play(lq, int(iterations)) if reference is None else reference
    c1 = max(rec["lipschitz"])
    c2 = fp_rate_constant(ref.exploitability[: int(iterations)])
    bound = theorem_bound(e_cnf0, rec["br_error"], rec["sl_w2"], rec["cnf_w2"], c1, c1, c2)
    return {
        **rec,
        "iteration": list(range(1, int(iterations) + 1)),
        "e_cnf0": e_cnf0,
        "C0": c1,
        "C1": c1,
        "C2": c2,
        "bound": bound,
        "reference_exploitability": list(ref.exploitability[: int(iterations)]),
        "bound_holds": all(e <= b for e, b in zip(rec["exploitability"][1:], bound[1:], strict=True)),
    }


def _on_cpu(policy, generator: torch.Generator | None = None):
    """``policy`` as ``(t, x) -> a`` on CPU tensors: sampled actions with ``generator``, else mean actions."""
    dev = next(policy.parameters()).device

    def act(t, x):
        t, x = t.to(dev), x.to(dev)
        a = policy.mean_action(t, x) if generator is None else policy.sample(t, x, generator)[0]
        return a.cpu()

    return act


__all__ = [
    "best_response_error",
    "exploitability_lipschitz",
    "fp_rate_constant",
    "measure_error_budget",
    "population_gaps",
    "theorem_bound",
    "wasserstein2",
]
