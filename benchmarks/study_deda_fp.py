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
  with DEDA-FP's flow vs simulating the population of Algo1 / Algo2, mean +- std over repeats.

    python benchmarks/study_deda_fp.py lq          # ~10 min on 1 thread
    python benchmarks/study_deda_fp.py four_rooms  # ~15 min
    python benchmarks/study_deda_fp.py timing      # needs four_rooms' saved results
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.deep.fictitious_play import (
    DeepFPResult,
    MixturePolicy,
    approximate_exploitability,
    deep_fictitious_play,
    simulate_population,
)
from mfglearn.deep.flows import TimeFlow
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
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for method in METHODS:
        h = runs[method].history
        axes[0].semilogy(h["iteration"], h["exact_exploitability"], marker="o", ms=3, label=LABELS[method])
        axes[1].semilogy(h["seconds"], h["exact_exploitability"], marker="o", ms=3, label=LABELS[method])
    axes[0].set_xlabel("fictitious-play iteration")
    axes[1].set_xlabel("wall time (s, one thread)")
    for ax in axes:
        ax.set_ylabel("exact exploitability")
        ax.grid(alpha=0.3)
    axes[0].legend()
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


def study_timing(n: int, repeats: int) -> None:
    game = mfglearn.make("four_rooms_exploration")
    T = game.horizon
    res = {m: DeepFPResult.load(OUT / f"four_rooms_{m}") for m in METHODS}
    flow = res["deda_fp"].flow
    times = torch.arange(T + 1, dtype=torch.float32).repeat_interleave(n)

    def from_flow(f, density: bool):
        def run():
            x = f.sample(times)
            if density:
                with torch.no_grad():
                    return x, f.density(x, times)
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

    # the same population modelled by a RealNVP flow (affine couplings: one pass to sample)
    gen = torch.Generator().manual_seed(1)
    train = simulate_population(game, res["deda_fp"].policy, 4096, gen)
    held = simulate_population(game, res["deda_fp"].policy, 4096, gen)
    nvp = TimeFlow(2, T, kind="realnvp")
    t_train = torch.arange(T + 1, dtype=torch.float32).repeat_interleave(4096)
    nvp.fit(t_train, train.reshape(-1, 2), steps=1500, seed=0)
    with torch.no_grad():
        nll = {
            name: float(-f.log_prob(held.reshape(-1, 2), t_train).mean())
            for name, f in (("nsf", flow), ("realnvp", nvp))
        }
    print(f"held-out NLL of the average policy's population: NSF {nll['nsf']:.3f}, RealNVP {nll['realnvp']:.3f}")

    k = len(res["deep_fp_sampled"].policy.policies)
    rows = {
        "DEDA-FP (flow)": (from_flow(flow, False), from_flow(flow, True)),
        "DEDA-FP (RealNVP flow)": (from_flow(nvp, False), from_flow(nvp, True)),
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
    print(f"{n} population trajectories over T={T} (samples of mu_t; + densities at them), {repeats} repeats")
    for name, (f_s, f_d) in rows.items():
        ms, ss = _time(f_s, repeats)
        md, sd = _time(f_d, repeats)
        out["rows"][name] = {"samples": [ms, ss], "samples_and_density": [md, sd]}
        print(f"  {name:52s} samples {ms:7.3f} +- {ss:.3f} s   samples+density {md:7.3f} +- {sd:.3f} s")
    for flow_name in ("DEDA-FP (flow)", "DEDA-FP (RealNVP flow)"):
        base = out["rows"][flow_name]
        print(f"  time relative to {flow_name}:")
        for name, row in out["rows"].items():
            r_s = row["samples"][0] / base["samples"][0]
            r_d = row["samples_and_density"][0] / base["samples_and_density"][0]
            row[f"ratio_vs_{flow_name}"] = {"samples": r_s, "samples_and_density": r_d}
            print(f"    {name:52s} x{r_s:.2f} (samples)  x{r_d:.2f} (+density)")
    atomic_write_json(OUT / "timing.json", out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["lq", "four_rooms", "timing"])
    ap.add_argument("--iterations", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=10)
    add_out(ap, "deda_fp")
    args = ap.parse_args()
    global OUT
    OUT = args.out
    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.part == "lq":
        study_lq(args.iterations or 20, args.seed)
    elif args.part == "four_rooms":
        study_four_rooms(args.iterations or 8, args.seed)
    else:
        study_timing(args.n, args.repeats)


if __name__ == "__main__":
    main()
