"""Does ``torch.compile`` pay for the large grid's backward step? One fused compiled step against the eager passes.

    python benchmarks/bench_compiled_step.py [--rows 1000 --cols 1000 --steps 20 --threads 1]

The backward step of a best response on the stencil (``large_grid``, float32, a state reward plus an action
cost) is ``Q_t = r_t + c + pull(V_{t+1})``, ``V_t = max_a Q_t`` and the greedy action's index. The eager
passes are the library's (:meth:`~mfglearn.core.value.FrozenMDP.backup`,
:func:`~mfglearn.core.value.action_max`, :func:`~mfglearn.core.value.first_maximiser`); the compiled step
is the same arithmetic written as one function for Inductor, which fuses it into one loop over the grid.
Prints the compile time, milliseconds per step of both, their ratio and the ratio of each to the step's
memory-traffic floor (read ``V_{t+1}`` and ``r_t``, write ``Q_t`` and ``V_t``, at the copy bandwidth
measured in the same run), and checks that both give the same ``Q``, ``V`` and indices. Needs a C++
compiler (Inductor's CPU backend); the library itself never compiles.
"""

from __future__ import annotations

import argparse
import time

import torch
from _paths import add_out  # noqa: E402  (benchmarks/_paths.py)
from bench_large_grid import copy_bandwidth

import mfglearn
from mfglearn._common.io import atomic_write_json
from mfglearn.core.flow import mean_field_flow
from mfglearn.core.value import action_max, first_maximiser, freeze
from mfglearn.model.kernels import GRID_MOVES


def fused_step(kernel, R: int, C: int):
    """The backward step as one function of ``(V_{t+1} (S,), r_t (S,), cost (A, S))``, for ``torch.compile``."""
    F = torch.nn.functional
    keep, allowed, nw, stay = kernel.keep, kernel.allowed, kernel.noise_weight, kernel.stay_weight

    def shifted(xp, a):
        dr, dc = GRID_MOVES[a]
        return xp[1 + dr : 1 + dr + R, 1 + dc : 1 + dc + C]

    def step(v, r, cost):
        g = v.view(R, C)
        gp = F.pad(g, (1, 1, 1, 1))
        w = g * stay
        for b in range(1, 5):
            w = w + nw[b] * shifted(gp, b)
        wp = F.pad(w, (1, 1, 1, 1))
        rr = r.view(R, C)
        qs = [w + rr + cost[0].view(R, C)]
        for a in range(1, 5):
            qs.append(keep[a] * w + allowed[a] * shifted(wp, a) + rr + cost[a].view(R, C))
        m = qs[0]
        for a in range(1, 5):
            m = torch.maximum(m, qs[a])
        run = (qs[0] < m).to(v.dtype)
        count = run
        for a in range(1, 4):
            run = run * (qs[a] < m).to(v.dtype)
            count = count + run
        return torch.stack(qs).view(5, R * C), m.view(-1), count.to(torch.uint8).view(-1)

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--cols", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20, help="backward steps timed (best of 3 sweeps)")
    ap.add_argument("--threads", type=int, default=1)
    add_out(ap, "compiled_step")
    args = ap.parse_args()
    mfglearn.set_threads(args.threads)
    from mfglearn._common.memory import keep_freed_memory

    keep_freed_memory()
    game = mfglearn.make(
        "large_grid", rows=args.rows, cols=args.cols, horizon=args.steps, wall_density=0.1, dtype=torch.float32
    )
    mdp = freeze(game, mean_field_flow(game, game.uniform_policy()))
    kernel, H, S = mdp.kernels[0], mdp.H, game.S
    V, Q = mdp.empty_v(), mdp.empty_q()
    idx = torch.empty(H, S, dtype=torch.uint8)
    V[H] = mdp.terminal

    def eager(t: int) -> None:
        mdp.backup(t, V[t + 1], out=Q[t])
        action_max(Q[t], None, out=V[t])
        first_maximiser(Q[t], V[t], out=idx[t])

    cost = mdp.action_cost.T.contiguous()  # (A, S)
    t0 = time.perf_counter()
    compiled = torch.compile(fused_step(kernel, args.rows, args.cols), dynamic=False)
    compiled(V[H], mdp.state_reward[H - 1], cost)
    compile_s = time.perf_counter() - t0

    def sweep(f) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for t in range(H - 1, -1, -1):
                f(t)
            best = min(best, time.perf_counter() - t0)
        return best / H * 1e3

    eager_ms = sweep(eager)
    outs = {}

    def comp(t: int) -> None:
        outs[t] = compiled(V[t + 1], mdp.state_reward[t], cost)

    compiled_ms = sweep(comp)
    q, v, i = outs[0]
    same = dict(
        Q=float((q.T - Q[0]).abs().max()), V=float((v - V[0]).abs().max()), index_mismatches=int((i != idx[0]).sum())
    )
    bw = copy_bandwidth()
    floor_ms = 4 * (S + S * 5 + S * 5 + S) / (bw * 1e9) * 1e3
    print(f"grid {args.rows}x{args.cols}, float32, threads={args.threads}; copy bandwidth {bw:.1f} GB/s")
    print(f"compile: {compile_s:.1f} s")
    print(f"eager    {eager_ms:7.2f} ms/step  {eager_ms / floor_ms:5.1f}x the floor")
    print(f"compiled {compiled_ms:7.2f} ms/step  {compiled_ms / floor_ms:5.1f}x the floor")
    print(f"eager / compiled: {eager_ms / compiled_ms:.2f}x; largest differences {same}")
    atomic_write_json(
        args.out / "compiled_step.json",
        dict(
            rows=args.rows,
            cols=args.cols,
            threads=args.threads,
            copy_gb_s=bw,
            compile_seconds=compile_s,
            eager_ms=eager_ms,
            compiled_ms=compiled_ms,
            floor_ms=floor_ms,
            differences=same,
            command="python benchmarks/bench_compiled_step.py",
        ),
    )
    print(f"wrote {args.out / 'compiled_step.json'}")


if __name__ == "__main__":
    main()
