"""MF-TRPO study (seed 001): four-rooms crowd and a harder game, against fictitious play and OMD.

Produces, under --out (committed: benchmarks/results/mf_trpo/):

* ``panels_<game>.png``: the seed's four panels (exploitability, quality,
  mean-field deltas, mu-weighted policy deltas) for MF-TRPO, fictitious play and
  online mirror descent on the same discounted game;
* ``decay_<game>.png``: exact MF-TRPO's exploitability against L, the number of
  policy updates (outer iterations x inner steps), log-log with a C/L line;
* ``sampled_<game>.png``: sample-based MF-TRPO over several seeds (mean and
  min-max band) for two sample sizes, against the exact algorithm;
* ``density_four_rooms_crowd.png``: equilibrium density on the map;
* ``summary.json``: the final numbers.

    python benchmarks/study_mf_trpo.py [--iterations 60 --seeds 5]
"""

from __future__ import annotations

import argparse
import time

from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.viz import plot_grid_density, plot_histories, plot_loglog

OUT = scratch("mf_trpo")  # --out sets it; benchmarks/results/mf_trpo holds the committed run
PANELS = ("exploitability", "quality", "mean_field_delta", "policy_delta")


def compare(game, iterations: int, trpo: dict, omd_lr: float) -> dict:
    runs = {}
    for label, solver, hp in [
        (f"MF-TRPO (eta={trpo['trust_region']}, K={trpo['inner_steps']}, beta={trpo['beta']})", "mf_trpo", trpo),
        ("fictitious play", "fictitious_play", {}),
        (f"online mirror descent (lr={omd_lr})", "mirror_descent", {"learning_rate": omd_lr}),
    ]:
        t0 = time.perf_counter()
        r = mfglearn.solve(game, solver, iterations=iterations, **hp)
        h = dict(r.history)
        h.setdefault("quality", h["exploitability"])  # FP/OMD evaluate against their own mean field
        runs[label] = h
        print(
            f"  {label:45s} exploitability {h['exploitability'][0]:.3e} -> {r.exploitability:.3e}"
            f"  ({time.perf_counter() - t0:.1f}s)"
        )
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--seeds", type=int, default=5)
    add_out(ap, "mf_trpo")
    args = ap.parse_args()
    global OUT
    OUT = args.out
    mfglearn.set_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    summary = {}
    games = {
        "four_rooms_crowd": (mfglearn.make("four_rooms_crowd"), dict(trust_region=1.0, inner_steps=10, beta=0.5), 0.1),
        "random_S30": (
            mfglearn.make("random", n_states=30, n_actions=4, gamma=0.9, seed=3),
            dict(trust_region=1.0, inner_steps=10, beta=0.3),
            0.1,
        ),
    }
    for name, (game, trpo, lr) in games.items():
        print(f"{name}: S={game.S} A={game.A} gamma={game.gamma}")
        runs = compare(game, args.iterations, trpo, lr)
        plot_histories(runs, PANELS, OUT / f"panels_{name}.png", title=f"{name}: MF-TRPO vs FP vs OMD")
        summary[name] = {k: {m: v[m][-1] for m in PANELS} for k, v in runs.items()}

        # exploitability vs L = p * K for exact MF-TRPO, for several K
        curves = {}
        for K in (1, 5, 20):
            r = mfglearn.solve(game, "mf_trpo", iterations=args.iterations, **{**trpo, "inner_steps": K})
            L = [p * K for p in r.history["iteration"]]
            curves[f"K={K}"] = (L, r.history["exploitability"])
        plot_loglog(curves, OUT / f"decay_{name}.png", xlabel="L", title=f"{name}: exact MF-TRPO")

        # sample-based MF-TRPO, several seeds, two sample sizes; harmonic population steps
        # (beta_p = beta / (p + 1)) average out the sampling noise of the population updates
        strpo = {**trpo, "beta_decay": 1.0}
        sampled = {"exact": mfglearn.solve(game, "mf_trpo", iterations=args.iterations // 2, **strpo).history}
        for n, agents in ((4, 2000), (16, 20000)):
            hs = []
            t0 = time.perf_counter()
            for seed in range(args.seeds):
                r = mfglearn.solve(
                    game,
                    "mf_trpo_sampled",
                    iterations=args.iterations // 2,
                    n_samples=n,
                    n_agents=agents,
                    seed=seed,
                    **strpo,
                )
                hs.append(r.history)
            sampled[f"sampled: {n} rollouts/pair, {agents} agents"] = hs
            finals = [h["exploitability"][-1] for h in hs]
            summary[f"{name}/sampled_n{n}"] = {
                "mean": sum(finals) / len(finals),
                "min": min(finals),
                "max": max(finals),
            }
            print(
                f"  sampled n={n:3d}: final exploitability mean {sum(finals) / len(finals):.3e}"
                f" [{min(finals):.3e}, {max(finals):.3e}] over {args.seeds} seeds ({time.perf_counter() - t0:.1f}s)"
            )
        plot_histories(
            sampled,
            ("exploitability", "quality"),
            OUT / f"sampled_{name}.png",
            title=f"{name}: sample-based MF-TRPO ({args.seeds} seeds, beta_p = beta/(p+1))",
            styles={"exact": {"ls": "--", "color": "k", "lw": 1.2}},
        )
        if name == "four_rooms_crowd":
            r = mfglearn.solve(game, "mf_trpo", iterations=args.iterations, **trpo)
            plot_grid_density(
                game,
                [game.mu0, r.mean_field],
                ["initial population", "MF-TRPO equilibrium"],
                OUT / "density_four_rooms_crowd.png",
            )
    atomic_write_json(OUT / "summary.json", summary)
    print(f"wrote figures and summary.json to {OUT}")


if __name__ == "__main__":
    main()
