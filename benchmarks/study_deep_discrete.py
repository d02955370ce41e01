"""Deep RL on finite games against the exact solvers, at equal iterations (issue 17, part 5 and 6).

On ``four_rooms`` and ``maze`` the deep solvers' network policies are tabulated on every ``(t, s)``
and their exact exploitability computed with the core primitives, next to the exact solver they
approximate: ``deep_mirror_descent`` and ``mf_ppo`` against ``mirror_descent`` (same learning
rate for the first) and ``deep_average_network_fp`` against ``fictitious_play``, with its DQN best
response (OpenSpiel's) and with ``best_response="ppo"`` (``deep_average_network_fp_ppo``). At the end, the
approximate exploitability (a fresh DQN best response, fresh episodes, 95% interval) of each final
deep policy is checked against its exact value.

Produces, under --out (committed: benchmarks/results/deep_discrete/):

* ``exploitability.png``: exact exploitability per iteration and against wall time, per game;
* ``deep_discrete.json``: the curves, times and the approximate-vs-exact checks.

    python benchmarks/study_deep_discrete.py            # ~20 min on 1 thread
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from _paths import add_out, scratch  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.viz._mpl import pyplot, save

OUT = scratch("deep_discrete")
GAMES = {"four_rooms": {}, "maze": {}}
LEARNING_RATE = 0.03  # the exact solver's default: stable on both games
RUNS = {
    "mirror_descent": ("mirror_descent", {"learning_rate": LEARNING_RATE}),
    "deep_mirror_descent": (
        "deep_mirror_descent",
        {"learning_rate": LEARNING_RATE, "n_agents": 8192, "inner_steps": 500, "batch_size": 2048},
    ),  # fmt: skip
    "fictitious_play": ("fictitious_play", {}),
    "deep_average_network_fp": ("deep_average_network_fp", {"br_steps": 1000}),
    "deep_average_network_fp_ppo": ("deep_average_network_fp", {"best_response": "ppo", "br_steps": 20}),
    "mf_ppo": ("mf_ppo", {}),
}
DEEP = ("deep_mirror_descent", "deep_average_network_fp", "mf_ppo")  # network policies (solver names)
STYLE = {
    "mirror_descent": "k--",
    "deep_mirror_descent": "o-",
    "fictitious_play": "k:",
    "deep_average_network_fp": "s-",
    "deep_average_network_fp_ppo": "d-",
    "mf_ppo": "^-",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--replot", action="store_true", help="redraw the figure from deep_discrete.json")
    ap.add_argument("--runs", nargs="*", default=None, help=f"run only these of {list(RUNS)}, keeping the others "
                    "from the existing deep_discrete.json")  # fmt: skip
    add_out(ap, "deep_discrete")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.replot:
        return plot(json.loads((out_dir / "deep_discrete.json").read_text()), out_dir)
    out: dict = {"iterations": args.iterations, "threads": args.threads, "runs": {k: v[1] for k, v in RUNS.items()}}
    todo = RUNS if args.runs is None else {k: RUNS[k] for k in args.runs}
    if args.runs is not None:  # the other runs come from the committed results
        old = json.loads((out_dir / "deep_discrete.json").read_text())
        if old["iterations"] != args.iterations:
            raise SystemExit(f"--runs needs --iterations {old['iterations']}, as in the existing results")
        out.update({gid: old[gid] for gid in GAMES})
    for gid, params in GAMES.items():
        game = mfglearn.make(gid, **params)
        uniform = mfglearn.exploitability(game, game.uniform_policy())
        res = out.get(gid, {"uniform_exploitability": uniform})
        for label, (solver, hp) in todo.items():
            t0 = time.perf_counter()
            extra = {"seed": args.seed} if solver in DEEP else {}
            r = mfglearn.solve(game, solver, args.iterations, **hp, **extra)
            ex = r.history["exploitability"]
            res[label] = {
                "exploitability": ex,
                "seconds": r.history["seconds"],
                "total_seconds": time.perf_counter() - t0,
            }
            print(f"{gid:10s} {label:24s} exploitability {uniform:.1f} -> {ex[-1]:.2f} in {args.iterations} its, "
                  f"{r.history['seconds'][-1]:.1f}s")  # fmt: skip
            if solver in DEEP:
                t1 = time.perf_counter()
                approx = mfglearn.approximate_exploitability(
                    game, r.policy, br_steps=1500, eval_episodes=10_000, seed=args.seed + 1, exact_mean_field=True
                )
                res[label]["approximate"] = {**approx, "exact": ex[-1], "seconds": time.perf_counter() - t1}
                lo, hi = approx["ci95"]
                print(f"    approximate exploitability {approx['exploitability']:.2f} (95% [{lo:.2f}, {hi:.2f}]) "
                      f"vs exact {ex[-1]:.2f}")  # fmt: skip
        out[gid] = {**res, "S": game.S, "H": game.H}
    atomic_write_json(out_dir / "deep_discrete.json", out)
    plot(out, out_dir)


def plot(out: dict, out_dir) -> None:
    """``exploitability.png`` from ``deep_discrete.json``'s contents."""
    plt = pyplot()
    fig, axes = plt.subplots(2, len(GAMES), figsize=(6 * len(GAMES), 7.5))
    for col, gid in enumerate(GAMES):
        res = out[gid]
        for label in RUNS:
            ex = res[label]["exploitability"]
            axes[0, col].semilogy(range(1, len(ex) + 1), ex, STYLE[label], ms=3, label=label)
            axes[1, col].loglog(res[label]["seconds"], ex, STYLE[label], ms=3, label=label)
        for row in (0, 1):
            ax = axes[row, col]
            ax.axhline(res["uniform_exploitability"], color="grey", lw=0.8, label="uniform policy")
            ax.set_ylabel("exact exploitability")
            ax.set_xlabel("iteration" if row == 0 else "wall time (s, one thread; log scale)")
            ax.grid(alpha=0.3, which="both")
            ax.set_title(f"{gid} (S={res['S']}, H={res['H']})")
        axes[0, col].legend(fontsize=7)
    title = "deep RL policies (tabulated, exact exploitability) vs the exact solvers they approximate"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, out_dir / "exploitability.png")


if __name__ == "__main__":
    main()
