"""Bench-MFG's protocol on its environments: seeds, mean +- std, paired comparisons, a table and a figure each.

For every environment, every algorithm (Bench-MFG's, in its finite-step convention, and
mfglearn's exact solvers) runs from Bench-MFG's random initial policy for each seed
(Bench-MFG's seeds 10, 42, 111, 1032 by default). The score is the *exact* stationary
exploitability of the final policy (mfglearn's convention; Bench-MFG's own number is in
the ``benchmfg`` column). Per environment the table gives mean +- std over seeds and a
paired comparison of each algorithm with the environment's best (mean paired difference
and the two-sided Wilcoxon signed-rank p-value over seeds); the figure shows each
algorithm's exploitability per iteration (mean over seeds, min-max band), log scale.
A run that raises (e.g. an exact solver on a kernel with no exact mean-field fixed point)
is reported as failed with its reason, not dropped.

Writes ``benchmfg_protocol.csv``, ``benchmfg_protocol.md``, ``benchmfg_protocol.json`` and
``benchmfg_<env>.png`` under ``--out``.

    python benchmarks/study_benchmfg.py [--iterations 60] [--seeds 10,42,111,1032] [--envs lasry_lions_chain,...]
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
from pathlib import Path

import numpy as np
import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json, atomic_write_text
from mfglearn.games.peers.benchmfg import ENVS as GAMES
from mfglearn.solvers.benchmfg import benchmfg_initial_policy

ENVS = [gid.split("/", 1)[1] for gid in GAMES]  # our benchmfg/* ids, without the prefix
GAME_KW = {"mf_garnet": {"n_states": 30}}  # the default 100 states take minutes per run on one core
ALGOS = [
    # label, solver, hyperparameters, uses the initial policy
    ("B-OMD", "benchmfg_omd", {"learning_rate": 0.005, "temperature": 0.2}, True),
    ("B-PI", "benchmfg_policy_iteration", {"variant": "greedy"}, True),
    ("B-smooth PI", "benchmfg_policy_iteration", {"variant": "smooth"}, True),
    ("B-Boltzmann PI", "benchmfg_policy_iteration", {"variant": "boltzmann"}, True),
    ("B-fict. play", "benchmfg_fixed_point", {"schedule": "fictitious_play"}, True),
    ("B-PSO", "pso", {"num_particles": 50}, False),
    ("fictitious play", "fictitious_play", {}, True),
    ("mirror descent", "mirror_descent", {"learning_rate": 0.1}, True),
    ("Boltzmann PI", "boltzmann_policy_iteration", {"temperature": 0.2}, True),
    ("MF-TRPO", "mf_trpo", {}, True),
]


def run(game, solver: str, hp: dict, init: bool, seed: int, iterations: int) -> dict:
    kw = dict(hp)
    if init:
        kw["initial_policy"] = benchmfg_initial_policy(game, seed)
    if solver == "pso":
        kw["seed"] = seed
    try:
        r = mfglearn.solve(game, solver, iterations=iterations, **kw)
    except mfglearn.ValidationError as err:
        return {"failed": str(err).split(":")[0][:90]}
    curve = r.history.get("exact_exploitability") or r.history["exploitability"]
    try:
        exact = mfglearn.exploitability(game, r.policy, stationary={"max_iter": 300})
    except mfglearn.ValidationError:
        exact = float("nan")
    bench = r.history["exploitability"][-1] if solver.startswith("benchmfg") or solver == "pso" else float("nan")
    return {"exact": exact, "benchmfg": bench, "curve": [float(x) for x in curve]}


def paired(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean of ``a - b`` over seeds and the two-sided Wilcoxon signed-rank p-value (1 when all equal)."""
    from scipy.stats import wilcoxon

    d = np.asarray(a) - np.asarray(b)
    if not np.isfinite(d).all():
        return float("nan"), float("nan")
    if np.allclose(d, 0):
        return 0.0, 1.0
    return float(d.mean()), float(wilcoxon(a, b).pvalue)


def figure(env: str, runs: dict, out: Path) -> None:
    n_seeds = max(len(v) for v in runs.values())
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    cmap = plt.get_cmap("tab10")
    for i, (label, per_seed) in enumerate(runs.items()):
        curves = [r["curve"] for r in per_seed if "curve" in r]
        if not curves:
            continue
        n = min(map(len, curves))
        c = np.clip(np.array([x[:n] for x in curves]), 1e-12, None)
        it = np.arange(1, n + 1)
        style = "-" if not label.startswith("B-") else "--"
        ax.plot(it, c.mean(0), style, color=cmap(i % 10), label=label, lw=1.6)
        ax.fill_between(it, c.min(0), c.max(0), color=cmap(i % 10), alpha=0.15, lw=0)
    ax.set_yscale("log")
    # the axis follows the mean curves: a band reaching 0 (one seed at an exact equilibrium) is clipped
    # instead of stretching the axis down to 1e-12 and flattening every curve
    means = [ln.get_ydata() for ln in ax.get_lines()]
    if means:
        ax.set_ylim(bottom=max(1e-12, min(float(np.min(m)) for m in means) / 3))
    ax.set_xlabel("iteration")
    ax.set_ylabel("exploitability (mean; exact zeros drawn at 1e-12)")
    ax.set_title(
        f"benchmfg/{env}: mean over {n_seeds} seeds, min-max band\n"
        "solid: mfglearn's exact solvers, exact exploitability; dashed: Bench-MFG's algorithms, its finite-step one",
        fontsize=9,
    )
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(out / f"benchmfg_{env}.png", dpi=130)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--seeds", default="10,42,111,1032")
    ap.add_argument("--envs", default=",".join(ENVS))
    add_out(ap, "benchmfg")
    ap.add_argument("--replot", action="store_true", help="redraw the figures from --out's JSON without running")
    args = ap.parse_args()
    if args.replot:
        import json

        for env, runs in json.loads((Path(args.out) / "benchmfg_protocol.json").read_text())["runs"].items():
            figure(env, runs, Path(args.out))
        return
    torch.set_num_threads(1)
    os.environ["TQDM_DISABLE"] = "1"
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, everything = [], {}
    for env in args.envs.split(","):
        game = mfglearn.make("benchmfg/" + env, **GAME_KW.get(env, {}))
        runs = {
            label: [run(game, s, hp, init, seed, args.iterations) for seed in seeds] for label, s, hp, init in ALGOS
        }
        everything[env] = runs
        score = {k: [r.get("exact", float("nan")) for r in v] for k, v in runs.items()}
        ok = {k: v for k, v in score.items() if all(math.isfinite(x) for x in v)}
        best = min(ok, key=lambda k: np.mean(ok[k])) if ok else None
        for label, per_seed in runs.items():
            fails = [r["failed"] for r in per_seed if "failed" in r]
            e = np.array(score[label])
            b = np.array([r.get("benchmfg", float("nan")) for r in per_seed])
            diff, p = paired(score[label], score[best]) if best and label in ok else (float("nan"), float("nan"))
            rows.append(
                {
                    "environment": env,
                    "algorithm": label,
                    "exact_mean": float(np.mean(e)),
                    "exact_std": float(np.std(e)),
                    "benchmfg_mean": float(np.mean(b)),
                    "vs_best": best or "",
                    "paired_diff": diff,
                    "wilcoxon_p": p,
                    "failed": f"{len(fails)}/{len(seeds)}: {fails[0]}" if fails else "",
                }
            )
            print(
                f"{env:22s} {label:16s} exact {np.mean(e):10.4g} +- {np.std(e):9.3g}  "
                f"Bench-MFG conv. {np.mean(b):10.4g}  vs {best}: {diff:+.3g} (p={p:.2g}) {rows[-1]['failed']}",
                flush=True,
            )
        figure(env, runs, out)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(out / "benchmfg_protocol.csv", buf.getvalue())
    md = [
        "| environment | algorithm | exact expl. (mean +- std) | Bench-MFG conv. | vs best: paired diff (p) | failed |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        md.append(
            f"| {r['environment']} | {r['algorithm']} | {r['exact_mean']:.4g} +- {r['exact_std']:.2g} | "
            f"{r['benchmfg_mean']:.4g} | {r['paired_diff']:+.3g} ({r['wilcoxon_p']:.2g}) | {r['failed']} |"
        )
    atomic_write_text(out / "benchmfg_protocol.md", "\n".join(md) + "\n")
    atomic_write_json(
        out / "benchmfg_protocol.json",
        {"iterations": args.iterations, "seeds": seeds, "rows": rows, "runs": everything},
    )


if __name__ == "__main__":
    main()
