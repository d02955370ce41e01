"""DEDA-FP study (seed 000): LQ against the exact equilibrium, four-rooms densities, population-inference timing.

Produces, under --out (committed: benchmarks/results/deda_fp/):

* ``lq_exploitability.png`` / ``lq.json``: exact exploitability per iteration of DEDA-FP and
  the two baselines (Algo1 ``deep_fp_sampled``, Algo2 ``deep_fp_average``) on ``lq``, against
  iterations and wall time; the learned policy's gain ``K_t``, offset ``k_t`` and mean path
  against the exact affine equilibrium (``lq_policy.png``);
* ``four_rooms_snapshots.png``: DEDA-FP's flow density and an N-agent rollout of its average
  policy side by side at several times; ``four_rooms_<method>/``: the saved results;
* ``timing.json``: the seed's table: seconds to generate 5,000 population trajectories
  (samples of ``mu_t`` for every ``t``, and the densities at them that local rewards need)
  with DEDA-FP's flow (its default Gaussian mixture; a neural spline flow and a RealNVP fitted to the same
  samples) vs simulating the population of Algo1 / Algo2, mean +- std over repeats, and each model's
  held-out likelihood;
* ``error_budget.png`` / ``error_budget.json``: the seed's DEDA-FP on ``lq`` with its error
  budget measured at every iteration (best-response, cloning and flow errors), the exact
  fictitious-play reference (:mod:`mfglearn.exact.lq_fictitious_play`) and the theorem's bound;
* ``converge.png`` / ``converge.json``: the variant the budget points to (damped averaging and
  the pathwise best response) on 1-D and 2-D LQ, against the exact equilibrium.

    python benchmarks/study_deda_fp.py lq          # ~10 min on 1 thread
    python benchmarks/study_deda_fp.py four_rooms  # ~15 min
    python benchmarks/study_deda_fp.py timing      # needs four_rooms' saved results
    python benchmarks/study_deda_fp.py budget      # ~8 min
    python benchmarks/study_deda_fp.py converge    # ~10 min (1-D and 2-D)
    python benchmarks/study_deda_fp.py best_responses  # ~3 min: PPO, SAC, pathwise against Riccati

* ``best_responses.png`` / ``best_responses.json``: each deep best response against the exact
  equilibrium's mean path, trained in chunks from scratch: its error ``V* - J`` (sampled and
  mean actions, paired with Riccati's) against iterations and wall time, and its action spread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.deep.error_budget import measure_error_budget
from mfglearn.deep.fictitious_play import (
    DEDAFP,
    DeepFPResult,
    MixturePolicy,
    approximate_exploitability,
    deep_fictitious_play,
    simulate_population,
)
from mfglearn.deep.flows import DENSITY_KINDS, time_density
from mfglearn.deep.train import seeded
from mfglearn.exact.lq_fictitious_play import lq_fictitious_play
from mfglearn.model.continuous import MeanField
from mfglearn.viz._mpl import pyplot, save
from mfglearn.viz.continuous import plot_density_snapshots

OUT = scratch("deda_fp")  # --out sets it; benchmarks/results/deda_fp holds the committed run
METHODS = ("deda_fp", "deep_fp_sampled", "deep_fp_average")
LABELS = {"deda_fp": "DEDA-FP (flow)", "deep_fp_sampled": "Algo1 (mixture, KDE)", "deep_fp_average": "Algo2 (BC, KDE)"}


def _log(algo, info):
    ex = info["exact_exploitability"]
    ex = f"{ex:.4f}" if ex is not None else "-"
    it, br, sec = info["iteration"], info["br_return"], info["seconds"]
    print(f"  {algo.name:16s} it {it:3d} br_return {br:9.3f} exact {ex} {sec:7.1f}s")


def study_lq(iterations: int, seed: int) -> None:
    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0)
    sol = lq.exact_solution()
    game = lq.as_continuous()
    runs, out = {}, {"exact": {"value": sol.value, "mean_path": sol.mean_path[:, 0].tolist()}}
    for method in METHODS:
        print(f"lq: {method}")
        r = deep_fictitious_play(game, method, iterations, n_agents=1024, seed=seed, callback=_log)
        runs[method] = r
        det = lq.exploitability_of_policy(lambda t, x, r=r: r.policy.mean_action(t, x), 100_000, seed=1)
        gen = torch.Generator().manual_seed(2)  # one stream for every step: independent action noise
        sto = lq.exploitability_of_policy(lambda t, x, r=r, g=gen: r.policy.sample(t, x, g)[0], 100_000, seed=1)
        r.save(OUT / f"lq_{method}")
        out[method] = {
            "history": r.history,
            "exploitability_stochastic": sto["exploitability"],
            "exploitability_deterministic": det["exploitability"],
            "se": det["se"],
            "mean_path": det["mean_path"][:, 0].tolist(),
            "seconds": r.history["seconds"][-1],
        }
        if method == "deda_fp":
            K, k = lq.fit_affine(lambda t, x, r=r: r.policy.mean_action(t, x))
            flow_mean = [float(r.flow.sample(float(t), 20_000).mean()) for t in range(lq.T + 1)]
            out[method].update(K=K[:, 0, 0].tolist(), k=k[:, 0].tolist(), flow_mean_path=flow_mean)
        print(
            f"  {method}: exact exploitability {sto['exploitability']:.4f} (stochastic policy), "
            f"{det['exploitability']:.4f} +- {det['se']:.4f} (mean actions), {r.history['seconds'][-1]:.0f}s"
        )
    atomic_write_json(OUT / "lq.json", out)
    plt = pyplot()
    ref = lq_fictitious_play(lq, iterations)  # the same scheme with exact best responses and mixtures
    out["exact_fictitious_play"] = ref.exploitability
    atomic_write_json(OUT / "lq.json", out)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    its = list(range(1, iterations + 1))
    axes[0].semilogy(its, ref.exploitability, "k--", label="exact fictitious play (Riccati, exact mixture)")
    for method in METHODS:
        h = runs[method].history
        axes[0].semilogy(h["iteration"], h["exact_exploitability"], marker="o", ms=3, label=LABELS[method])
        axes[1].semilogy(h["seconds"], h["exact_exploitability"], marker="o", ms=3, label=LABELS[method])
    axes[0].set_xlabel("fictitious-play iteration")
    axes[1].set_xlabel("wall time (s, one thread)")
    for ax in axes:
        ax.set_ylabel("exact exploitability")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("lq (Abar=0.3, x_target=1): exact exploitability of the average policy")
    fig.tight_layout()
    save(fig, OUT / "lq_exploitability.png")
    d = out["deda_fp"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    ts = list(range(lq.T))
    axes[0].plot(ts, sol.K[:, 0, 0].tolist(), "k-", label="exact")
    axes[0].plot(ts, d["K"], "o--", label="DEDA-FP (affine fit)")
    axes[0].set_title("feedback gain K_t")
    axes[1].plot(ts, sol.k[:, 0].tolist(), "k-", label="exact")
    axes[1].plot(ts, d["k"], "o--", label="DEDA-FP (affine fit)")
    axes[1].set_title("offset k_t")
    t1 = list(range(lq.T + 1))
    axes[2].plot(t1, out["exact"]["mean_path"], "k-", label="exact equilibrium")
    axes[2].plot(t1, d["flow_mean_path"], "o--", label="DEDA-FP flow")
    axes[2].plot(t1, d["mean_path"], "s:", label="DEDA-FP policy, 100k agents")
    for m in ("deep_fp_sampled", "deep_fp_average"):
        axes[2].plot(t1, out[m]["mean_path"], ":", label=f"{LABELS[m]} policy")
    axes[2].set_title("mean path")
    for ax in axes:
        ax.set_xlabel("t")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"lq: learned average policy vs exact equilibrium ({iterations} iterations)")
    fig.tight_layout()
    save(fig, OUT / "lq_policy.png")


def plot_four_rooms() -> None:
    """The density snapshots of the saved four-rooms results (``four_rooms --replot``)."""
    game = mfglearn.make("four_rooms_exploration")
    for method in METHODS:
        name = "four_rooms_snapshots.png" if method == "deda_fp" else f"four_rooms_snapshots_{method}.png"
        plot_density_snapshots(game, DeepFPResult.load(OUT / f"four_rooms_{method}"), OUT / name, n_agents=5000)


def study_four_rooms(iterations: int, seed: int) -> None:
    game = mfglearn.make("four_rooms_exploration")
    summary = {}
    for method in METHODS:
        print(f"four_rooms_exploration: {method}")
        r = deep_fictitious_play(game, method, iterations, n_agents=1024, br_iterations=10, seed=seed, callback=_log)
        r.save(OUT / f"four_rooms_{method}")
        ex = approximate_exploitability(game, r.policy, 2000, br_iterations=40, seed=seed + 99)
        summary[method] = {
            "approximate_exploitability": ex,
            "seconds": r.history["seconds"][-1],
            "mean_field_seconds": sum(r.history["mean_field_seconds"]),
            "br_return": r.history["br_return"],
        }
        print(f"  {method}: approximate exploitability {ex['exploitability']:.3f} +- {ex['se']:.3f}")
        if method == "deda_fp":
            plot_density_snapshots(game, r, OUT / "four_rooms_snapshots.png", n_agents=5000)
        else:
            plot_density_snapshots(game, r, OUT / f"four_rooms_snapshots_{method}.png", n_agents=5000)
    atomic_write_json(OUT / "four_rooms.json", summary)


def _time(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    secs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        secs.append(time.perf_counter() - t0)
    return statistics.mean(secs), statistics.stdev(secs)


# the seed's table (000, population inference for 5,000 trajectories): DEDA-FP's flow against simulating
SEED_TABLE = {"DEDA-FP": 1.52, "Algo1": 16.76, "Algo2": 15.14}


def study_timing(n: int, repeats: int) -> None:
    game = mfglearn.make("four_rooms_exploration")
    T = game.horizon
    res = {m: DeepFPResult.load(OUT / f"four_rooms_{m}") for m in METHODS}
    flow = res["deda_fp"].flow
    times = torch.arange(T + 1, dtype=torch.float32)

    def from_flow(f, density: bool):
        def run():
            x = f.sample_grid(times, n)
            if density:
                with torch.no_grad():
                    return x, f.log_prob_grid(x, times).exp()
            return x

        return run

    def simulated(policy, density: bool):
        def run():
            gen = torch.Generator().manual_seed(0)
            states = simulate_population(game, policy, n, gen)
            if density:
                return [MeanField(s).density(s) for s in states]
            return states

        return run

    # the same population modelled by each density model, fitted on the same samples with the same budget
    gen = torch.Generator().manual_seed(1)
    train = simulate_population(game, res["deda_fp"].policy, 4096, gen)
    held = simulate_population(game, res["deda_fp"].policy, 4096, gen)
    t_train = torch.arange(T + 1, dtype=torch.float32).repeat_interleave(4096)
    fresh, nll, fit_seconds = {}, {}, {}
    with torch.no_grad():
        nll["deda_fp_flow"] = float(-flow.log_prob(held.reshape(-1, 2), t_train).mean())
    for steps in (1500, 3000):  # equal steps; the mixture's steps are cheaper, so also about equal time
        for kind in DENSITY_KINDS:
            with seeded(0):
                f = time_density(2, T, kind=kind)
            t0 = time.perf_counter()
            f.fit(t_train, train.reshape(-1, 2), steps=steps, seed=0)
            fit_seconds[f"{kind}_{steps}"] = time.perf_counter() - t0
            with torch.no_grad():
                nll[f"{kind}_{steps}"] = float(-f.log_prob(held.reshape(-1, 2), t_train).mean())
            fresh.setdefault(kind, f)
            print(
                f"  {kind:8s} {steps} steps: fit {fit_seconds[f'{kind}_{steps}']:5.1f} s, "
                f"held-out NLL {nll[f'{kind}_{steps}']:.4f}"
            )
    print(f"  DEDA-FP's own {flow.kind} flow: held-out NLL {nll['deda_fp_flow']:.4f}")

    k = len(res["deep_fp_sampled"].policy.policies)
    rows = {
        f"DEDA-FP (its {flow.kind} flow, the default)": (from_flow(flow, False), from_flow(flow, True)),
        "DEDA-FP (neural spline flow)": (from_flow(fresh["nsf"], False), from_flow(fresh["nsf"], True)),
        "DEDA-FP (RealNVP flow)": (from_flow(fresh["realnvp"], False), from_flow(fresh["realnvp"], True)),
        f"Algo1 (simulate the mixture of {k} best responses)": (
            simulated(res["deep_fp_sampled"].policy, False),
            simulated(res["deep_fp_sampled"].policy, True),
        ),
        "Algo2 (simulate the cloned average policy)": (
            simulated(res["deep_fp_average"].policy, False),
            simulated(res["deep_fp_average"].policy, True),
        ),
    }
    assert isinstance(res["deep_fp_sampled"].policy, MixturePolicy)
    out = {"n_trajectories": n, "horizon": T, "repeats": repeats, "threads": torch.get_num_threads(), "rows": {}}
    out["held_out_nll"] = nll
    out["fit_seconds"] = fit_seconds
    out["seed_table_seconds"] = SEED_TABLE
    print(f"{n} population trajectories over T={T} (samples of mu_t; + densities at them), {repeats} repeats")
    for name, (f_s, f_d) in rows.items():
        ms, ss = _time(f_s, repeats)
        md, sd = _time(f_d, repeats)
        out["rows"][name] = {"samples": [ms, ss], "samples_and_density": [md, sd]}
        print(f"  {name:52s} samples {ms:7.3f} +- {ss:.3f} s   samples+density {md:7.3f} +- {sd:.3f} s")
    names = list(out["rows"])
    for flow_name in names[:3]:
        base = out["rows"][flow_name]
        print(f"  time relative to {flow_name}:")
        for name, row in out["rows"].items():
            r_s = row["samples"][0] / base["samples"][0]
            r_d = row["samples_and_density"][0] / base["samples_and_density"][0]
            row[f"ratio_vs_{flow_name}"] = {"samples": r_s, "samples_and_density": r_d}
            print(f"    {name:52s} x{r_s:.2f} (samples)  x{r_d:.2f} (+density)")
    ours = out["rows"][names[0]]["samples_and_density"][0]
    print("  side by side with the seed's table (samples + densities, seconds; speed-up of simulating):")
    print(f"    {'':10s} {'seed':>8s} {'here':>8s}")
    for label, name in (("DEDA-FP", names[0]), ("Algo1", names[3]), ("Algo2", names[4])):
        here = out["rows"][name]["samples_and_density"][0]
        print(
            f"    {label:10s} {SEED_TABLE[label]:8.2f} {here:8.3f}   "
            f"x{SEED_TABLE[label] / SEED_TABLE['DEDA-FP']:.1f} / x{here / ours:.1f}"
        )
    atomic_write_json(OUT / "timing.json", out)


def study_budget(iterations: int, seed: int) -> None:
    """The seed's DEDA-FP (PPO best responses, uniform averaging) on lq, its error budget measured."""
    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0)
    algo = DEDAFP(lq, n_agents=1024, seed=seed)
    t0 = time.perf_counter()
    ref = lq_fictitious_play(lq, iterations)
    out = measure_error_budget(algo, iterations, n_agents=20_000, seed=seed, reference=ref)
    out["seconds"] = time.perf_counter() - t0
    atomic_write_json(OUT / "error_budget.json", out)
    its = out["iteration"]
    for k in its:
        i = k - 1
        print(
            f"  it {k:2d} exploitability {out['exploitability'][i]:7.3f} (exact FP {ref.exploitability[i]:7.3f}, "
            f"bound {out['bound'][i]:7.2f})  br {out['br_error'][i]:.3f}  sl W2 {out['sl_w2'][i]:.3f} "
            f"(expl gap {out['sl_exploitability_gap'][i]:+.3f})  flow W2 {out['cnf_w2'][i]:.3f}"
        )
    print(f"  C1 = {out['C1']:.2f} (exploitability per unit mean-path error), C2 = {out['C2']:.2f}; bound holds: "
          f"{out['bound_holds']}")  # fmt: skip
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    ax = axes[0]
    ax.semilogy(its, out["exploitability"], "o-", ms=3, label="DEDA-FP: true (exact) exploitability")
    ax.semilogy(its, out["mixture_exploitability"], "s:", ms=3, label="mixture of its learned best responses")
    ax.semilogy(its, ref.exploitability, "k--", label="exact fictitious play (same scheme, exact parts)")
    ax.semilogy(its[1:], out["bound"][1:], "r-.", label="theorem's bound from the measured errors")
    ax.set_xlabel("fictitious-play iteration k")
    ax.set_ylabel("exploitability")
    ax.set_title("exploitability vs the error budget's bound")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.semilogy(its, [max(v, 1e-4) for v in out["br_error"]], "o-", ms=3, label="best response: V*(m) - J_m(BR)")
    ax.semilogy(its, out["sl_w2"], "s-", ms=3, label="cloning: W2(cloned, mixture) populations")
    ax.semilogy(its, out["cnf_w2"], "^-", ms=3, label="flow: W2(flow, cloned policy's population)")
    ax.semilogy(its, [abs(v) for v in out["sl_exploitability_gap"]], "x:", label="|exploitability(cloned) - (mixture)|")
    ax.set_xlabel("fictitious-play iteration k")
    ax.set_ylabel("error (max over t for W2)")
    ax.set_title("measured errors per iteration")
    ax.legend(fontsize=7)
    for a in axes:
        a.grid(alpha=0.3, which="both")
    fig.suptitle(f"DEDA-FP error budget on lq (Abar=0.3, x_target=1), seed's settings (PPO, uniform averaging); "
                 f"C1={out['C1']:.1f}, C2={out['C2']:.1f}", fontsize=9)  # fmt: skip
    fig.tight_layout()
    save(fig, OUT / "error_budget.png")


LQ2 = dict(A=[[1.0, 0.1], [0.0, 1.0]], B=[[1.0, 0.0], [0.3, 1.0]], Abar=[[0.3, 0.0], [0.1, 0.2]],
           x_target=[1.0, -0.5], init_mean=[1.0, 0.0], dim=2)  # fmt: skip
CONVERGE = dict(
    damping=0.5,
    br_method="pathwise",
    br_iterations=150,
    br_kwargs={"lr": 0.01},
    bc_steps=1000,
    n_agents=1024,
    time_onehot=True,
)


def _against_exact(lq, policy) -> dict:
    """Exact exploitability (stochastic and mean actions) and the relative errors of gains, offsets, mean path."""
    sol = lq.exact_solution()
    det = lq.exploitability_of_policy(lambda t, x: policy.mean_action(t, x), 100_000, seed=1)
    gen = torch.Generator().manual_seed(2)
    sto = lq.exploitability_of_policy(lambda t, x: policy.sample(t, x, gen)[0], 100_000, seed=1)
    K, k = lq.fit_affine(lambda t, x: policy.mean_action(t, x))

    def rel(a, b):  # relative error of matrices/vectors, per time step
        return ((a - b).flatten(1).norm(dim=1) / b.flatten(1).norm(dim=1)).tolist()

    return {
        "exploitability_stochastic": sto["exploitability"],
        "exploitability_mean_action": det["exploitability"],
        "se": det["se"],
        "gain_rel_error": rel(K, sol.K),
        "offset_rel_error": rel(k, sol.k),
        "mean_path_rel_error": rel(det["mean_path"], sol.mean_path),
        "K": K.tolist(), "k": k.tolist(), "mean_path": det["mean_path"].tolist(),
        "K_exact": sol.K.tolist(), "k_exact": sol.k.tolist(), "mean_path_exact": sol.mean_path.tolist(),
    }  # fmt: skip


def study_converge(iterations: int, seed: int) -> None:
    """DEDA-FP with damped averaging and pathwise best responses on 1-D and 2-D LQ, against the exact equilibrium."""
    out = {"settings": CONVERGE, "iterations": iterations}
    games = {"lq_1d": mfglearn.make("lq", Abar=0.3, x_target=1.0), "lq_2d": mfglearn.make("lq", **LQ2)}
    for name, lq in games.items():
        r = deep_fictitious_play(lq, "deda_fp", iterations, seed=seed, callback=_log, **CONVERGE)
        check = _against_exact(lq, r.policy)
        ref_u = lq_fictitious_play(lq, iterations)
        ref_d = lq_fictitious_play(lq, iterations, damping=CONVERGE["damping"])
        out[name] = {
            "history": r.history, "seconds": r.history["seconds"][-1], **check,
            "exact_fp_uniform": ref_u.exploitability, "exact_fp_damped": ref_d.exploitability,
        }  # fmt: skip
        print(
            f"  {name}: exact exploitability {check['exploitability_stochastic']:.4f} (sampled actions), "
            f"{check['exploitability_mean_action']:.4f} +- {check['se']:.4f} (mean actions); max relative error: "
            f"gain {max(check['gain_rel_error']):.3f}, offset {max(check['offset_rel_error']):.3f}, "
            f"mean path {max(check['mean_path_rel_error']):.3f}; {r.history['seconds'][-1]:.0f}s"
        )
        r.save(OUT / f"converge_{name}")
    atomic_write_json(OUT / "converge.json", out)
    plot_converge(out)


FLOOR = 3e-3  # exploitabilities below the 20k-agent Monte-Carlo resolution (~0.01) are drawn here


def plot_converge(out: dict) -> None:
    """``converge.png`` from ``converge.json``'s contents."""
    iterations = out["iterations"]
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    budget = OUT / "error_budget.json"
    seed_run = json.loads(budget.read_text())["exploitability"] if budget.exists() else None
    ax = axes[0]
    for name, style in (("lq_1d", "o-"), ("lq_2d", "s-")):
        d = out[name]
        seen = [max(v, FLOOR) for v in d["history"]["exact_exploitability"]]
        ax.semilogy(d["history"]["iteration"], seen, style, ms=3, label=f"{name}: damped DEDA-FP, pathwise BR")
        floor = [max(v, 1e-6) for v in d["exact_fp_damped"]]  # a log axis: exact zeros drawn at 1e-6
        ax.semilogy(range(1, iterations + 1), floor, ":", color=ax.lines[-1].get_color(),
                    label=f"{name}: exact FP, damping {CONVERGE['damping']}")  # fmt: skip
    ax.semilogy(range(1, iterations + 1), out["lq_1d"]["exact_fp_uniform"], "k--", label="lq_1d: exact FP, uniform")
    if seed_run is not None:
        ax.semilogy(
            range(1, len(seed_run) + 1), seed_run, "x-", color="grey", label="lq_1d: seed's DEDA-FP (PPO, uniform)"
        )
    ax.axhline(0.05, color="r", lw=0.8, label="target 0.05")
    ax.axhline(FLOOR, color="grey", lw=0.6, ls=":", label=f"Monte-Carlo floor (values < {FLOOR} drawn here)")
    ax.set_xlabel("fictitious-play iteration")
    ax.set_ylabel("exact exploitability")
    ax.legend(fontsize=6)
    d = out["lq_1d"]
    ts = list(range(len(d["K"])))
    axes[1].plot(ts, [K[0][0] for K in d["K_exact"]], "k-", label="exact gain K_t")
    axes[1].plot(ts, [K[0][0] for K in d["K"]], "o--", label="learned (affine fit)")
    axes[1].plot(ts, [k[0] for k in d["k_exact"]], "k:", label="exact offset k_t")
    axes[1].plot(ts, [k[0] for k in d["k"]], "s--", label="learned offset")
    axes[1].set_title("lq_1d: gain and offset")
    t1 = list(range(len(d["mean_path"])))
    axes[2].plot(t1, [m[0] for m in d["mean_path_exact"]], "k-", label="exact equilibrium")
    axes[2].plot(t1, [m[0] for m in d["mean_path"]], "o--", label="learned policy, 100k agents")
    d2 = out["lq_2d"]
    for j, mk in ((0, "^"), (1, "v")):
        axes[2].plot(t1, [m[j] for m in d2["mean_path_exact"]], "k-", lw=0.8)
        axes[2].plot(t1, [m[j] for m in d2["mean_path"]], mk + ":", label=f"lq_2d coordinate {j + 1}")
    axes[2].set_title("mean path")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_xlabel("t" if ax is not axes[0] else "fictitious-play iteration")
    for ax in axes[1:]:
        ax.legend(fontsize=7)
    fig.suptitle("DEDA-FP with damped averaging and pathwise best responses vs the exact LQ equilibrium", fontsize=9)
    fig.tight_layout()
    save(fig, OUT / "converge.png")


def study_best_responses(seed: int) -> None:
    """PPO, SAC and the pathwise best response against Riccati's, on lq's equilibrium mean path."""
    from mfglearn.deep.best_response import best_response
    from mfglearn.deep.error_budget import best_response_error

    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0)
    sol = lq.exact_solution()
    game = lq.as_continuous()
    flow = [MeanField(sol.mean_path[t].view(1, -1).float()) for t in range(lq.T + 1)]
    chunks = (20, 20, 20, 40, 60, 80)
    settings = {"ppo": {}, "sac": {}, "pathwise": {"lr": 0.01}}
    out: dict = {"chunks": list(chunks), "settings": settings}
    for method, kw in settings.items():
        br, done, secs = None, 0, 0.0
        rows = {"iterations": [], "seconds": [], "error_sampled": [], "error_mean": [], "action_std": []}
        for chunk in chunks:
            t0 = time.perf_counter()
            br = best_response(game, flow, method, iterations=chunk, warm=br, seed=seed + done, n_agents=1024, **kw)
            secs += time.perf_counter() - t0
            done += chunk
            gen = torch.Generator().manual_seed(seed + 5)
            e_s = best_response_error(
                lq, lambda t, x, p=br.policy, g=gen: p.sample(t, x, g)[0], sol.mean_path, 50_000, 1
            )
            e_d = best_response_error(lq, lambda t, x, p=br.policy: p.mean_action(t, x), sol.mean_path, 50_000, 1)
            with torch.no_grad():
                std = float(br.policy(torch.zeros(1000), torch.ones(1000, 1))[1].exp().mean())
            for key, v in (("iterations", done), ("seconds", secs), ("error_sampled", e_s["error"]),
                           ("error_mean", e_d["error"]), ("action_std", std)):  # fmt: skip
                rows[key].append(v)
            print(f"  {method:8s} {done:4d} its {secs:6.1f}s  error {e_s['error']:8.4f} (sampled) "
                  f"{e_d['error']:8.4f} (mean action)  std {std:.3f}")  # fmt: skip
        out[method] = rows
    atomic_write_json(OUT / "best_responses.json", out)
    plot_best_responses(out)


def plot_best_responses(out: dict) -> None:
    """``best_responses.png`` from ``best_responses.json``'s contents."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for method in out["settings"]:
        r = out[method]
        for ax, xk in zip(axes, ("iterations", "seconds"), strict=True):
            ax.semilogy(r[xk], r["error_sampled"], "o-", ms=3, label=f"{method}: sampled actions")
            ax.semilogy(
                r[xk], r["error_mean"], "x--", ms=4, color=ax.lines[-1].get_color(), label=f"{method}: mean action"
            )
    axes[1].set_xscale("log")
    axes[0].set_xlabel("best-response iterations (1024 episodes each)")
    axes[1].set_xlabel("wall time (s, one thread)")
    for ax in axes:
        ax.set_ylabel("V* - J (paired with Riccati)")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7)
    fig.suptitle("deep best responses on lq's equilibrium mean path vs the exact Riccati best response", fontsize=9)
    fig.tight_layout()
    save(fig, OUT / "best_responses.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["lq", "four_rooms", "timing", "budget", "converge", "best_responses"])
    ap.add_argument("--iterations", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument(
        "--replot", action="store_true", help="four_rooms, converge, best_responses: redraw from the saved results"
    )
    add_out(ap, "deda_fp")
    args = ap.parse_args()
    global OUT
    OUT = args.out
    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.part == "lq":
        study_lq(args.iterations or 20, args.seed)
    elif args.part == "four_rooms" and args.replot:
        plot_four_rooms()
    elif args.part == "four_rooms":
        study_four_rooms(args.iterations or 8, args.seed)
    elif args.part == "budget":
        study_budget(args.iterations or 20, args.seed)
    elif args.part == "converge" and args.replot:
        plot_converge(json.loads((OUT / "converge.json").read_text()))
    elif args.part == "converge":
        study_converge(args.iterations or 20, args.seed)
    elif args.part == "best_responses" and args.replot:
        plot_best_responses(json.loads((OUT / "best_responses.json").read_text()))
    elif args.part == "best_responses":
        study_best_responses(args.seed)
    else:
        study_timing(args.n, args.repeats)


if __name__ == "__main__":
    main()
