"""mfglearn vs Bench-MFG (bench-mfg-suite 0.1.3) on its environments, side by side in one run.

For every environment and every Bench-MFG algorithm (OMD, greedy / smooth / Boltzmann policy
iteration, pure / damped fixed point and fictitious play, PSO) run both libraries for the same
iterations from Bench-MFG's seed-42 initial policy, one thread each, and print ms per iteration
(both evaluate every iterate's exploitability, as Bench-MFG's ``eval`` does), the ratio and
both final exploitabilities. Bench-MFG runs its default JIT-compiled JAX path (float32) after
a warm-up run that compiles it; mfglearn runs the same algorithm in float64
(``benchmfg_*`` / ``pso``: identical iterates to Bench-MFG's float64 run). ``exact`` is the
exact stationary exploitability of mfglearn's final policy. ``--garnet`` times OMD on
MF-Garnet as the number of states grows. Writes ``benchmfg.json`` under ``--out``.

    pip install bench-mfg-suite==0.1.3
    python benchmarks/bench_benchmfg.py [--iterations 50] [--envs lasry_lions_chain,sis_epidemic] [--out DIR]
    python benchmarks/bench_benchmfg.py --garnet --sizes 10,25,50,100,200
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)

import mfglearn  # noqa: E402
from mfglearn._common.io import atomic_write_json  # noqa: E402
from mfglearn.games.peers.benchmfg import CONFIG_NAMES as ENVS  # noqa: E402
from mfglearn.solvers.benchmfg import benchmfg_initial_policy  # noqa: E402

SECTION = {"omd": "omd", "pi": "pi", "damped_fixed_point": "dampedfp", "pso": "pso"}
ALGOS = [
    ("OMD", "omd", [], "benchmfg_omd", {}),
    ("PI", "pi", ["algorithm.pi.variant=policy_iteration"], "benchmfg_policy_iteration", {"variant": "greedy"}),
    (
        "smooth PI",
        "pi",
        ["algorithm.pi.variant=smooth_policy_iteration"],
        "benchmfg_policy_iteration",
        {"variant": "smooth"},
    ),
    (
        "Boltzmann PI",
        "pi",
        ["algorithm.pi.variant=boltzmann_policy_iteration"],
        "benchmfg_policy_iteration",
        {"variant": "boltzmann"},
    ),
    (
        "pure FP",
        "damped_fixed_point",
        ["algorithm.dampedfp.lambda_schedule=pure"],
        "benchmfg_fixed_point",
        {"schedule": "pure"},
    ),
    (
        "damped FP",
        "damped_fixed_point",
        ["algorithm.dampedfp.lambda_schedule=damped"],
        "benchmfg_fixed_point",
        {"schedule": "damped"},
    ),
    (
        "fict. play",
        "damped_fixed_point",
        ["algorithm.dampedfp.lambda_schedule=fictitious_play"],
        "benchmfg_fixed_point",
        {"schedule": "fictitious_play"},
    ),
    ("PSO", "pso", ["algorithm.pso.num_particles=20"], "pso", {"num_particles": 20}),
]


def bench_run(cfg_name: str, yaml: str, extra: list[str], iterations: int, env_overrides=()):
    from benchmfg.api import load_config, make_environment, make_solver

    ov = [
        f"environment={cfg_name}",
        f"algorithm={yaml}",
        f"algorithm.{SECTION[yaml]}.num_iterations={iterations}",
        *extra,
        *env_overrides,
    ]
    cfg = load_config(ov)
    np.random.seed(42)
    env, pi0 = make_environment(cfg)
    start = np.array(env.stationary_mean_field)
    solver = make_solver(cfg, environment=env, initial_policy=pi0)
    out = solver.eval()  # compiles (its jitted functions are keyed on this environment object)
    # time a second run of the same solver, from the same start (eval leaves its mean field in the environment)
    env.stationary_mean_field = start
    np.random.seed(42)
    np.random.uniform(-1.0, 1.0, pi0.shape)  # the initial policy's draw, so PSO replays the same stream
    t0 = time.perf_counter()
    again = solver.eval()
    ms = (time.perf_counter() - t0) / iterations * 1e3
    if not np.allclose(np.asarray(again[2], dtype=float), np.asarray(out[2], dtype=float), rtol=1e-4, atol=1e-6):
        raise RuntimeError("Bench-MFG's timed run differs from its first run")
    return ms, float(np.asarray(out[2])[-1]), pi0


def ours_run(game, solver: str, kw: dict, pi0, iterations: int):
    kw = dict(kw)
    if solver != "pso":
        kw["initial_policy"] = torch.as_tensor(pi0, dtype=torch.float64)
    mfglearn.solve(game, solver, iterations=2, **kw)  # warm caches
    t0 = time.perf_counter()
    r = mfglearn.solve(game, solver, iterations=iterations, **kw)
    ms = (time.perf_counter() - t0) / iterations * 1e3
    try:
        exact = mfglearn.exploitability(game, r.policy, stationary={"max_iter": 200})
    except mfglearn.ValidationError:
        exact = float("nan")  # no exact mean-field fixed point (kinetic congestion)
    return ms, float(r.history["exploitability"][-1]), exact


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--garnet-iterations", type=int, default=5, help="MF-Garnet's 100 states: fewer iterations")
    ap.add_argument("--envs", default=",".join(ENVS))
    ap.add_argument("--garnet", action="store_true", help="MF-Garnet scaling curve instead of the table")
    ap.add_argument("--sizes", default="10,25,50,100,200")
    add_out(ap, "benchmfg_bench", committed="benchmarks/results")
    args = ap.parse_args()
    torch.set_num_threads(1)
    logging.disable(logging.CRITICAL)
    os.environ["TQDM_DISABLE"] = "1"
    rows = []
    if args.garnet:
        print(f"{'states':>7s} {'mfglearn ms':>12s} {'Bench-MFG ms':>13s} {'ratio':>7s}")
        for S in map(int, args.sizes.split(",")):
            ov = [f"environment.num_states={S}"]
            b_ms, b_e, pi0 = bench_run("mf_garnet", "omd", [], args.iterations, ov)
            game = mfglearn.make("benchmfg/mf_garnet", n_states=S)
            m_ms, m_e, _ = ours_run(game, "benchmfg_omd", {}, pi0, args.iterations)
            rows.append(dict(states=S, mfglearn_ms=m_ms, benchmfg_ms=b_ms, mfglearn_expl=m_e, benchmfg_expl=b_e))
            print(f"{S:7d} {m_ms:12.2f} {b_ms:13.2f} {b_ms / m_ms:7.2f}", flush=True)
        name = "benchmfg_garnet.json"
    else:
        head = f"{'environment':22s} {'algorithm':13s} {'mfglearn ms':>11s} {'Bench ms':>9s} {'speed-up':>8s}"
        print(head + f" {'expl. ours':>11s} {'expl. Bench':>11s} {'exact':>10s}")
        for cfg_name in args.envs.split(","):
            game = mfglearn.make(ENVS[cfg_name])
            n = args.garnet_iterations if cfg_name == "mf_garnet" else args.iterations
            for label, yaml, extra, solver, kw in ALGOS:
                b_ms, b_e, pi0 = bench_run(cfg_name, yaml, extra, n)
                assert np.allclose(benchmfg_initial_policy(game, 42).numpy(), pi0)
                m_ms, m_e, exact = ours_run(game, solver, kw, pi0, n)
                rows.append(
                    dict(
                        env=cfg_name,
                        algorithm=label,
                        mfglearn_ms=m_ms,
                        benchmfg_ms=b_ms,
                        mfglearn_expl=m_e,
                        benchmfg_expl=b_e,
                        exact_expl=exact,
                    )
                )
                print(
                    f"{cfg_name:22s} {label:13s} {m_ms:11.3f} {b_ms:9.3f} {b_ms / m_ms:8.2f} {m_e:11.4g} {b_e:11.4g} "
                    f"{exact:10.4g}",
                    flush=True,
                )
        name = "benchmfg.json"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / name, {"iterations": args.iterations, "rows": rows})


if __name__ == "__main__":
    main()
