"""Multi-population and routing games against OpenSpiel 2.0.2, and the cost of the multi-population path.

One process, one thread, ratios (not absolute seconds) are the figures to quote:

* NashConv of the uniform policy, and three mirror-descent iterations each followed by a NashConv,
  in mfglearn and in OpenSpiel (``MunchausenMirrorDescent``, the same iterates on the grid games;
  on routing games OpenSpiel's iterates differ, see tests/games/peers/test_openspiel_routing.py),
  with both NashConv values side by side;
* a single-population game solved directly and rebuilt through ``multi_population_game`` (one
  population of mass 1): seconds per iteration of fictitious play and mirror descent, and
  whether the histories are bit-identical.

    python benchmarks/bench_populations.py [--skip-openspiel] [--out DIR]
"""

from __future__ import annotations

import argparse
import time

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.model.populations import Population, multi_population_game

GAMES = [
    ("openspiel/predator_prey_5x5x3", "python_mfg_predator_prey", "predator_prey_5x5x3"),
    ("openspiel/predator_prey_5x5x4", "python_mfg_predator_prey", "predator_prey_5x5x4"),
    ("openspiel/crowd_avoidance", "python_mfg_crowd_avoidance", "crowd_avoidance"),
    ("openspiel/dynamic_routing_braess", "python_mfg_dynamic_routing", "dynamic_routing_braess"),
    (
        "openspiel/dynamic_routing_sioux_falls_dummy_demand",
        "python_mfg_dynamic_routing",
        "dynamic_routing_sioux_falls_dummy_demand",
    ),
]


def best_of(fn, repeats: int = 3):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def one_population(g):
    reward = (lambda t, mf: g.reward(t, mf[0])) if callable(g.reward) else g.reward
    pop = Population(g.S, g.A, g.mu0, reward, g.transition, legal=g.legal, terminal_reward=g.terminal_reward)
    return multi_population_game([pop], horizon=g.horizon, gamma=g.gamma, batched_reward=g.batched_reward)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-openspiel", action="store_true")
    add_out(ap, "populations_bench", committed="benchmarks/results")
    args = ap.parse_args()
    mfglearn.set_threads(1)
    rows = []
    if not args.skip_openspiel:
        from open_spiel.python import policy as policy_std
        from open_spiel.python.mfg.algorithms import munchausen_mirror_descent, nash_conv
        from open_spiel.python.mfg.games import factory

        print(
            f"{'game':52s} {'NashConv(uniform) s: OS / ours':>32s} {'ratio':>7s} {'3 OMD it. s: OS / ours':>24s}"
            f" {'ratio':>7s}  NashConv after 3 (OS, ours)"
        )
        for gid, os_name, setting in GAMES:
            game = mfglearn.make(gid)
            osg = factory.create_game_with_setting(os_name, setting)
            t_us, e_us = best_of(lambda g=game: mfglearn.exploitability(g, g.uniform_policy()))
            t_os, e_os = best_of(
                lambda o=osg: nash_conv.NashConv(o, policy_std.UniformRandomPolicy(o)).nash_conv(), repeats=1
            )

            def os_md(o=osg):
                md = munchausen_mirror_descent.MunchausenMirrorDescent(o, lr=0.5)
                for _ in range(3):
                    md.iteration()
                    v = nash_conv.NashConv(o, md.get_policy()).nash_conv()
                return v

            m_os, v_os = best_of(os_md, repeats=1)
            m_us, res = best_of(lambda g=game: mfglearn.solve(g, "mirror_descent", iterations=3, learning_rate=0.5))
            assert abs(e_us - e_os) < 1e-6, (gid, e_us, e_os)
            print(
                f"{gid:52s} {t_os:15.3f} / {t_us:9.4f} {t_os / t_us:7.0f}x {m_os:12.2f} / {m_us:8.3f}"
                f" {m_os / m_us:7.0f}x  {v_os:.6f}, {res.exploitability:.6f}"
            )
            rows.append(
                {
                    "game": gid,
                    "nashconv_uniform": e_us,
                    "openspiel_nashconv_s": t_os,
                    "mfglearn_nashconv_s": t_us,
                    "openspiel_omd3_s": m_os,
                    "mfglearn_omd3_s": m_us,
                    "omd3_nashconv": {"openspiel": v_os, "mfglearn": res.exploitability},
                }
            )
    print()
    print(
        f"{'single-population game':32s} {'solver':16s} {'plain s/it':>11s} {'via P=1 s/it':>13s} {'ratio':>6s}"
        "  bit-identical"
    )
    overhead = []
    for gid, kw in [
        ("four_rooms", {}),
        ("openspiel/crowd_modelling", {}),
        ("beach_bar", {}),
        ("openspiel/crowd_modelling_2d_four_rooms", {}),
    ]:
        g = mfglearn.make(gid, **kw)
        m = one_population(g)
        for solver, hp in [("fictitious_play", {}), ("mirror_descent", {"learning_rate": 0.1})]:
            n = 30
            t_plain, a = best_of(lambda g=g, s=solver, hp=hp: mfglearn.solve(g, s, iterations=30, **hp), repeats=5)
            t_multi, b = best_of(lambda m=m, s=solver, hp=hp: mfglearn.solve(m, s, iterations=30, **hp), repeats=5)
            same = a.history["exploitability"] == b.history["exploitability"] and torch.equal(a.policy, b.policy)
            print(
                f"{gid:32s} {solver:16s} {1e3 * t_plain / n:9.3f}ms {1e3 * t_multi / n:11.3f}ms"
                f" {t_multi / t_plain:6.2f}  {same}"
            )
            overhead.append(
                {
                    "game": gid,
                    "solver": solver,
                    "plain_s_per_it": t_plain / n,
                    "one_population_path_s_per_it": t_multi / n,
                    "bit_identical": same,
                }
            )
    atomic_write_json(
        args.out / "populations_bench.json",
        {
            "command": "python benchmarks/bench_populations.py",
            "openspiel": rows,
            "one_population_path": overhead,
            "torch": torch.__version__,
        },
    )
    print(f"wrote {args.out / 'populations_bench.json'}")


if __name__ == "__main__":
    main()
