"""Fingerprint of the numbers mfglearn computes: every algorithm kind on small fixed settings, as JSON.

Run it on two checkouts and compare, e.g. before and after a refactor that must not change any number::

    git worktree add /tmp/old 8ed7d44                       # mfglearn 0.1
    PYTHONPATH=/tmp/old/src python benchmarks/fingerprint.py > old.json
    python benchmarks/fingerprint.py > new.json
    python benchmarks/fingerprint.py --diff old.json new.json

It runs on 0.1 too (then with 0.1's hyperparameter names). One thread; about a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import torch

import mfglearn

NEW = hasattr(mfglearn, "Algorithm")  # 0.2's contract; 0.1 spelled some hyperparameters differently


def fingerprint() -> dict:
    """Histories and values of each algorithm on small fixed settings."""
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    out = {}

    def h(r, k="exploitability"):
        return [float(x) for x in r.history[k]]

    g = mfglearn.make("four_rooms", horizon=20)
    out["fp"] = h(mfglearn.solve(g, "fictitious_play", iterations=10))
    out["fp_damped"] = h(
        mfglearn.solve(g, "fictitious_play", iterations=10, **({"damping": 0.3} if NEW else {"learning_rate": 0.3}))
    )
    out["omd"] = h(mfglearn.solve(g, "mirror_descent", iterations=10, learning_rate=0.03))
    out["bpi"] = h(
        mfglearn.solve(
            g, "boltzmann_policy_iteration", iterations=10, **({"temperature": 2.0} if NEW else {"learning_rate": 0.5})
        )
    )
    out["fixed_point"] = h(mfglearn.solve(g, "fixed_point", iterations=10, temperature=0.5, damping=0.5))
    out["prior"] = h(
        mfglearn.solve(
            g,
            "prior_descent",
            iterations=10,
            **({"temperature": 2.0, "inner_steps": 3} if NEW else {"eta": 2.0, "n_inner": 3}),
        )
    )
    b = mfglearn.make("mfglib/beach_bar")
    out["omo"] = h(mfglearn.solve(b, "mf_omo", iterations=10, **({"optimizer_lr": 0.01} if NEW else {"lr": 0.01})))
    out["omi"] = h(
        mfglearn.solve(
            b, "occupation_measure_inclusion", iterations=5, **({"learning_rate": 0.5} if NEW else {"alpha": 0.5})
        )
    )
    d = mfglearn.make("four_rooms_crowd")
    out["trpo"] = h(
        mfglearn.solve(
            d, "mf_trpo", iterations=10, **({"trust_region": 1.0, "entropy": 0.1} if NEW else {"eta": 1.0, "lam": 0.1})
        )
    )
    out["trpo_sampled"] = h(mfglearn.solve(d, "mf_trpo_sampled", iterations=3, n_samples=4, n_agents=2000, seed=0))
    a = mfglearn.make("ad_auction")
    out["gmfq"] = h(
        mfglearn.solve(
            a,
            "gmf_q",
            iterations=5,
            **({"inner_steps": 50, "temperature": 1 / 20.0} if NEW else {"inner_iterations": 50, "c": 20.0}),
            n_agents=2000,
        )
    )
    out["naive"] = h(
        mfglearn.solve(
            a,
            "q_learning_naive",
            iterations=5,
            **({"inner_steps": 50} if NEW else {"inner_iterations": 50}),
            n_agents=2000,
        )
    )
    from mfglearn.control import MFCKQ, MFCQLearning, optimize_open_loop, solve_dp

    c = mfglearn.make("congestion")
    out["kq"] = MFCKQ(c, mu_resolution=10, policy_resolution=2).solve().value
    out["kq_sampled"] = MFCKQ(c, mu_resolution=8, policy_resolution=2, n_agents=500, seed=0).solve().value
    out["mfc_q"] = MFCQLearning(c, mu_resolution=6, policy_resolution=2, samples=20000, seed=0).solve().value
    dp = solve_dp(c, mu_resolution=20, policy_resolution=4)
    out["dp"] = [dp.value, dp.extra["grid_value"]]
    out["open_loop"] = optimize_open_loop(c, steps=100).value
    r = mfglearn.make("ride_sharing")
    out["dp_rs"] = solve_dp(r, mu_resolution=10, policy_resolution=2).value
    m = mfglearn.solve(mfglearn.make("meeting", sigma=[0.5, 1, 2], alpha=3, beta=1, gamma=2, quorum=0.9), "fixed_point")
    out["meeting"] = [m.start_time, m.planned_arrival.tolist(), float(m.exploitability)]
    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0)
    s = lq.exact_solution()
    out["lq_exact"] = [s.value, s.K.flatten().tolist()[:3]]
    try:
        from mfglearn.deep.fictitious_play import deep_fictitious_play
    except ImportError:
        from mfglearn.deep.deda_fp import deep_fictitious_play
    tiny = dict(
        n_agents=64,
        br_iterations=2,
        first_br_iterations=2,
        bc_steps=10,
        flow_steps=10,
        memory_per_iteration=128,
        exact_every=1,
    )
    for meth in ("deep_fp_sampled", "deep_fp_average", "deda_fp"):
        rr = deep_fictitious_play(lq.as_continuous(), meth, iterations=2, **tiny)
        out[meth] = [h(rr, "br_return"), [x for x in rr.history["exact_exploitability"]]]
    return out


def diff(a: dict, b: dict) -> int:
    """Print one line per entry (identical or not); returns the number that differ."""
    bad = 0
    for k in sorted(set(a) | set(b)):
        same = a.get(k) == b.get(k)
        bad += not same
        print(f"{k:16s} {'identical' if same else 'DIFFERENT'}")
    return bad


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--diff", nargs=2, metavar=("OLD", "NEW"), help="compare two fingerprints")
    args = ap.parse_args()
    if args.diff:
        sys.exit(1 if diff(*(json.load(open(p)) for p in args.diff)) else 0)
    print(json.dumps(fingerprint()))
