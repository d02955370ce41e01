"""Deep RL on a game beyond exact tabular reach: a crowd evacuating a million-cell grid (issue 17, part 5).

``evacuation`` (1000 x 1000 cells, 300 steps, 5 actions): one ``(H, S, A)`` tensor in float32 is
6 GB and an exact best response holds four (policy, its Q, the best response's Q, the rewards),
24 GB before any working memory: more than this 24 GiB machine. MF-PPO runs instead with
``population="simulated"`` (:mod:`mfglearn.deep.sampled`): the mean field is the empirical
measure of ``--n-population`` agents playing the network, and nothing of size ``H * S * A`` is
built. Its exploitability is estimated by :func:`mfglearn.approximate_exploitability` (a fresh
PPO best response against the policy's simulated population, fresh episodes, 95% interval), for
the uniform policy (where MF-PPO starts) and for the learned one. PPO, not the DQN: on 300 steps
a bootstrapped Q-network does not propagate values back from the end within its budget (a first
run with 1000 DQN steps found -2.1 for the uniform policy and -73 for the learned one: best
responses worse than the policies they answer).

First, the same pipeline on a small version of the game (``--check-size`` cells a side) where the
exact answer is known: the exact exploitability of the simulated-population MF-PPO's tabulated
policy, next to exact-mode MF-PPO and exact mirror descent, and the approximate estimate next to
the exact value it bounds from below.

Produces, under --out (committed: benchmarks/results/evacuation/):

* ``evacuation.png``: population density snapshots under the uniform and the learned policy, the
  population's value per iteration, and the approximate exploitabilities with their intervals;
* ``evacuation.json``: every number, times and peak memory.

    python benchmarks/study_evacuation.py            # ~20 min on 2 threads
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import time

import torch
from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.deep.discrete import NetworkPolicy, to_game_policy
from mfglearn.deep.sampled import simulate_states
from mfglearn.population.approximate import approximate_exploitability
from mfglearn.viz._mpl import pyplot, save

OUT = scratch("evacuation")
SNAPSHOTS = (0, 1 / 3, 2 / 3, 1)  # fractions of the horizon


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # Linux: kB


def check_small(size: int, seed: int) -> dict:
    """Simulated-population MF-PPO and the approximate exploitability where the exact answer is known."""
    game = mfglearn.make("evacuation", rows=size, cols=size, horizon=size, window=1, start_size=0.25)
    uniform = game.uniform_policy()
    out = {"game": {"rows": size, "cols": size, "horizon": size, "window": 1, "start_size": 0.25}}
    out["uniform_exact"] = mfglearn.exploitability(game, uniform)
    md = mfglearn.solve(game, "mirror_descent", iterations=15, learning_rate=0.1)
    out["mirror_descent_15"] = md.exploitability
    t0 = time.perf_counter()
    exact = mfglearn.solve(game, "mf_ppo", iterations=15, n_agents=1000, seed=seed)
    out["mf_ppo_exact_mode"] = {"exploitability": exact.exploitability, "seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    sim = mfglearn.solve(
        game, "mf_ppo", iterations=15, n_agents=1000, population="simulated", n_population=5000, seed=seed
    )
    seconds = time.perf_counter() - t0
    pi = to_game_policy(game, sim.policy.tabulate())
    exact_gap = mfglearn.exploitability(game, pi)
    approx = approximate_exploitability(
        game, sim.policy, n_agents=20_000, br_steps=30, eval_episodes=4000, best_response="ppo"
    )
    out["mf_ppo_simulated"] = {
        "exploitability_exact": exact_gap,
        "approximate": approx,
        "population_value": sim.history["population_value"],
        "seconds": seconds,
    }
    print(
        f"[check {size}x{size}, H={size}] uniform {out['uniform_exact']:.2f}; mirror descent (15) "
        f"{md.exploitability:.2f}; MF-PPO exact mode {exact.exploitability:.2f}; simulated mode {exact_gap:.2f} "
        f"exactly, approximate {approx['exploitability']:.2f} [{approx['ci95'][0]:.2f}, {approx['ci95'][1]:.2f}]"
    )
    return out


def densities(game, policy: NetworkPolicy, n: int, seed: int, bins: int) -> list[torch.Tensor]:
    """Population densities at the snapshot times, coarse-grained to ``bins x bins`` (agents per coarse cell / n)."""
    gen = torch.Generator().manual_seed(seed)
    states, _ = simulate_states(game, lambda t, s: policy.act(t, s, gen), n, gen)
    R, C = game.layout["grid_shape"]
    out = []
    for f in SNAPSHOTS:
        t = round(f * game.H)
        s = states[t]
        r, c = s // C * bins // R, s % C * bins // C
        out.append(torch.bincount(r * bins + c, minlength=bins * bins).view(bins, bins).to(torch.float64) / n)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--cols", type=int, default=1000)
    ap.add_argument("--horizon", type=int, default=300)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--n-population", type=int, default=20_000)
    ap.add_argument("--n-agents", type=int, default=2000, help="MF-PPO episodes per iteration")
    ap.add_argument("--br-steps", type=int, default=30, help="the approximate exploitability's PPO iterations")
    ap.add_argument("--check-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--replot", action="store_true", help="redraw the figure from evacuation.json")
    add_out(ap, "evacuation")
    args = ap.parse_args()
    mfglearn.set_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.replot:
        plot(json.loads((args.out / "evacuation.json").read_text()), args.out)
        return
    data = {"threads": args.threads, "check": check_small(args.check_size, args.seed)}

    game = mfglearn.make("evacuation", rows=args.rows, cols=args.cols, horizon=args.horizon, dtype=torch.float32)
    H, S, A = game.H, game.S, game.A
    tabular_gb = H * S * A * 4 / 1e9
    data["game"] = {"rows": args.rows, "cols": args.cols, "horizon": H, "states": S, "actions": A}
    data["exact_memory_gb"] = {"one_HSA_tensor_float32": tabular_gb, "four_tensors": 4 * tabular_gb}
    print(f"[evacuation {args.rows}x{args.cols}, H={H}] one (H, S, A) float32 tensor: {tabular_gb:.1f} GB")
    settings = dict(
        population="simulated", n_population=args.n_population, n_agents=args.n_agents,
        onehot_max=64, hidden=(64, 64), seed=args.seed,
    )  # fmt: skip
    t0 = time.perf_counter()
    algo = mfglearn.make_algorithm(game, "mf_ppo", **settings)
    start = algo.policy()  # the zero-output network: MF-PPO's starting point, the uniform policy
    uniform = NetworkPolicy(copy.deepcopy(start.net), start.features, start.legal)
    result = algo.solve(args.iterations)
    data["mf_ppo"] = {
        "settings": {**settings, "hidden": list(settings["hidden"]), "iterations": args.iterations},
        "population_value": result.history["population_value"],
        "seconds": time.perf_counter() - t0,
    }
    print(f"MF-PPO: {args.iterations} iterations in {data['mf_ppo']['seconds']:.0f} s; population value "
          f"{result.history['population_value'][0]:.2f} -> {result.history['population_value'][-1]:.2f}")  # fmt: skip
    approx = {}
    for name, pol in (("uniform", uniform), ("mf_ppo", result.policy)):
        t0 = time.perf_counter()
        est = approximate_exploitability(
            game, pol, n_agents=args.n_population, br_steps=args.br_steps, eval_episodes=4000, onehot_max=64,
            hidden=(64, 64), seed=args.seed, best_response="ppo",
        )  # fmt: skip
        approx[name] = {**est, "seconds": time.perf_counter() - t0}
        print(f"approximate exploitability, {name}: {est['exploitability']:.2f} "
              f"[{est['ci95'][0]:.2f}, {est['ci95'][1]:.2f}] ({approx[name]['seconds']:.0f} s)")  # fmt: skip
    data["approximate_exploitability"] = approx
    bins = 200
    data["snapshots"] = {
        "times": [round(f * H) for f in SNAPSHOTS],
        "bins": bins,
        "uniform": [d.tolist() for d in densities(game, uniform, args.n_population, args.seed, bins)],
        "mf_ppo": [d.tolist() for d in densities(game, result.policy, args.n_population, args.seed, bins)],
        "exit": list(game.layout["exit"]),
    }
    data["peak_rss_gb"] = peak_rss_gb()
    print(f"peak RSS {data['peak_rss_gb']:.2f} GB (one (H, S, A) tensor: {tabular_gb:.1f} GB)")
    atomic_write_json(args.out / "evacuation.json", data)
    plot(data, args.out)


def plot(data: dict, out) -> None:
    from matplotlib.colors import LogNorm

    plt = pyplot()
    snaps = data["snapshots"]
    times = snaps["times"]
    fig = plt.figure(figsize=(16, 8.5), layout="constrained")
    grid = fig.add_gridspec(2, len(times) + 1, width_ratios=[1] * len(times) + [1.25])
    rows, cols = data["game"]["rows"], data["game"]["cols"]
    bins = snaps["bins"]
    vmax = max(max(max(r) for r in d) for k in ("uniform", "mf_ppo") for d in snaps[k])
    norm = LogNorm(vmin=1e-5, vmax=vmax)
    er, ec = snaps["exit"]
    # crop to where the crowd ever is (and the exit), with a margin: the rest of the grid stays empty
    occupied = sum(torch.tensor(d) for k in ("uniform", "mf_ppo") for d in snaps[k]).nonzero()
    cell_r, cell_c = rows / bins, cols / bins
    r_lo, r_hi = min(occupied[:, 0].min() * cell_r, er), max((occupied[:, 0].max() + 1) * cell_r, er)
    c_lo, c_hi = min(occupied[:, 1].min() * cell_c, ec), max((occupied[:, 1].max() + 1) * cell_c, ec)
    pad = 0.1 * max(r_hi - r_lo, c_hi - c_lo)
    box = (max(0, c_lo - pad), min(cols, c_hi + pad), min(rows, r_hi + pad), max(0, r_lo - pad))
    for i, (key, label) in enumerate((("uniform", "uniform policy"), ("mf_ppo", "MF-PPO (simulated population)"))):
        for j, t in enumerate(times):
            ax = fig.add_subplot(grid[i, j])
            img = torch.tensor(snaps[key][j]).clamp_min(1e-9)
            im = ax.imshow(img, cmap="magma", norm=norm, extent=(0, cols, rows, 0), interpolation="nearest")
            ax.plot([ec], [er], marker="*", color="cyan", markersize=12, markeredgecolor="k")
            ax.set_xlim(box[0], box[1])
            ax.set_ylim(box[2], box[3])
            ax.set_title(f"{label}, t = {t}", fontsize=9)
            ax.set_xlabel("column")
            if j == 0:
                ax.set_ylabel("row")
    label = f"share of the agents per {rows // bins} x {cols // bins}-cell block (log scale)"
    fig.colorbar(im, ax=fig.axes, shrink=0.6, location="left", label=label)
    ax = fig.add_subplot(grid[0, -1])
    pv = data["mf_ppo"]["population_value"]
    ax.plot(range(1, len(pv) + 1), pv, "o-")
    ax.set_xlabel("MF-PPO iteration")
    ax.set_ylabel("population's mean return (before the update)")
    ax.set_title("learning on the simulated population", fontsize=9)
    ax = fig.add_subplot(grid[1, -1])
    ap = data["approximate_exploitability"]
    names = ["uniform", "mf_ppo"]  # fixed order: the JSON file sorts its keys
    vals = [ap[n]["exploitability"] for n in names]
    err = [[v - ap[n]["ci95"][0] for n, v in zip(names, vals, strict=True)],
           [ap[n]["ci95"][1] - v for n, v in zip(names, vals, strict=True)]]  # fmt: skip
    bars = ax.bar(["uniform (MF-PPO's start)", "MF-PPO"], vals, yerr=err, capsize=6, color=["0.6", "C0"])
    ax.bar_label(bars, labels=[f"{v:.1f}" for v in vals], padding=4)
    ax.set_ylim(0, 1.12 * max(max(vals), 1e-9))
    ax.set_ylabel("approximate exploitability (PPO best response, 95% CI)")
    ax.set_title("a lower bound: the best response is learned", fontsize=9)
    g = data["game"]
    fig.suptitle(
        f"evacuation: {g['rows']}x{g['cols']} cells, H = {g['horizon']} (one (H, S, A) float32 tensor = "
        f"{data['exact_memory_gb']['one_HSA_tensor_float32']:.1f} GB); peak RSS {data['peak_rss_gb']:.1f} GB"
    )
    save(fig, out / "evacuation.png")


if __name__ == "__main__":
    main()
