"""The ``mfglearn`` command line.

mfglearn games                      list games and their parameters
mfglearn solvers                    list solvers and their hyperparameters
mfglearn solve GAME --solver NAME --iterations N [--set key=value ...] [--json]
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys

from mfglearn.errors import MFGError


def _parse_value(text: str):
    low = text.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parse_sets(items: list[str]) -> tuple[dict, dict]:
    game, solver = {}, {}
    for item in items:
        if "=" not in item:
            raise MFGError(f"--set expects key=value (e.g. game.horizon=20 or solver.learning_rate=0.1), got {item!r}")
        key, val = item.split("=", 1)
        scope, _, name = key.partition(".")
        if scope not in ("game", "solver") or not name:
            raise MFGError(f"--set key must start with 'game.' or 'solver.', got {key!r}")
        (game if scope == "game" else solver)[name] = _parse_value(val)
    return game, solver


def _cmd_games(args) -> int:
    from mfglearn.games.registry import GAMES

    for gid in sorted(GAMES):
        spec = GAMES[gid]
        print(f"{gid:42s} {spec.description}")
        if args.verbose:
            params = ", ".join(f"{k}={v!r}" for k, v in spec.parameters().items())
            print(f"{'':42s} params: {params}")
    return 0


def _cmd_solvers(args) -> int:
    import mfglearn

    for name in mfglearn.list_solvers():
        cls = mfglearn.get_solver(name)
        sig = inspect.signature(cls.__init__)
        params = ", ".join(
            f"{n}={p.default!r}"
            for n, p in sig.parameters.items()
            if n not in ("self", "game", "kw") and p.kind is not p.VAR_KEYWORD
        )
        print(f"{name:28s} {cls.description}\n{'':28s} hyperparameters: {params}")
    return 0


def _print_history(h: dict, header: str) -> None:
    print(header)
    print(f"{'iter':>6} {'exploitability':>16} {'seconds':>9}")
    n = len(h["iteration"])
    shown = sorted({0, n - 1} | {i for i in range(n) if (i + 1) & i == 0 or (i + 1) % max(1, n // 10) == 0})
    for i in shown if n else []:
        print(f"{h['iteration'][i]:6d} {h['exploitability'][i]:16.6e} {h['seconds'][i]:9.3f}")
    if n:
        print(f"final exploitability {h['exploitability'][-1]:.6e} after {n} iterations ({h['seconds'][-1]:.3f}s)")


def _cmd_solve(args) -> int:
    import mfglearn
    from mfglearn.runs import rundir

    mfglearn.set_threads(args.threads)
    progress = args.progress and not args.json
    if args.resume:
        result = rundir.resume_run(args.resume, progress=progress)
        out = args.resume
    else:
        if not args.game:
            raise MFGError("solve needs a GAME (see 'mfglearn games') or --resume RUN_DIR")
        game_params, solver_params = _parse_sets(args.set or [])
        if args.out:
            result = rundir.run(
                args.game,
                args.solver,
                args.iterations,
                args.out,
                game_params,
                solver_params,
                checkpoint_every=args.checkpoint_every,
                progress=progress,
                target_exploitability=args.target,
            )
        else:
            game = mfglearn.make(args.game, **game_params)
            result = mfglearn.solve(
                game,
                args.solver,
                iterations=args.iterations,
                progress=progress,
                target_exploitability=args.target,
                **solver_params,
            )
        out = args.out
    if args.json:
        summary = result.summary()
        if out:
            summary["run_dir"] = str(out)
        print(json.dumps(summary))
        return 0
    _print_history(result.history, f"{result.solver} on {result.game}")
    if out:
        print(f"results in {out}")
    return 0


def _cmd_compare(args) -> int:
    from pathlib import Path

    import mfglearn

    mfglearn.set_threads(args.threads)
    game_params, _ = _parse_sets(args.set or [])
    game = mfglearn.make(args.game, **game_params)
    names = [n.strip() for n in args.solvers.split(",") if n.strip()]
    if not names:
        raise MFGError("--solvers needs a comma-separated list, e.g. fictitious_play,mirror_descent")
    for name in names:  # fail before running anything
        mfglearn.get_solver(name)
    histories = {}
    print(f"{'solver':28s} {'exploitability':>16s} {'seconds':>9s}")
    for name in names:
        r = mfglearn.solve(game, name, iterations=args.iterations)
        histories[name] = r.history
        print(f"{name:28s} {r.exploitability:16.6e} {r.history['seconds'][-1]:9.3f}")
    out = Path(args.out or f"compare-{game.name.replace('/', '_')}")
    from mfglearn.runs.io import atomic_write_json
    from mfglearn.viz import plot_histories

    atomic_write_json(out / "histories.json", histories)
    path = plot_histories(histories, ("exploitability",), out / "compare.png", title=f"{game.name}")
    print(f"figure: {path}")
    return 0


def _cmd_show(args) -> int:
    from mfglearn.runs.rundir import load_run

    d = load_run(args.run_dir)
    c, s = d["config"], d["summary"] or {}
    print(f"run        {args.run_dir}")
    print(f"game       {c['game']} {c.get('game_params') or ''}")
    print(f"solver     {c['solver']} {c.get('resolved', {}).get('hyperparameters', c.get('solver_params'))}")
    done = len(d["history"]["iteration"]) if d["history"] else 0
    print(f"iterations {done}/{c['iterations']}" + ("" if d["summary"] else "  (not finished: resume with --resume)"))
    if s:
        print(f"exploitability {s['exploitability']:.6e}   value {s['value']:.6g}   seconds {s['seconds']:.3f}")
    return 0


def _cmd_plot(args) -> int:
    from pathlib import Path

    import mfglearn
    from mfglearn.runs.rundir import load_run
    from mfglearn.viz import plot_grid_density, plot_histories

    d = load_run(args.run_dir)
    if not d["history"]:
        raise MFGError(f"{args.run_dir} has no history yet; finish it with 'mfglearn solve --resume {args.run_dir}'")
    out = Path(args.run_dir) / "plots"
    keys = [k for k in ("exploitability", "quality", "mean_field_delta", "policy_delta") if k in d["history"]]
    paths = [
        plot_histories({d["config"]["solver"]: d["history"]}, keys, out / "metrics.png", title=d["config"]["game"])
    ]
    game = mfglearn.make(d["config"]["game"], **d["config"].get("game_params", {}))
    mu = d["mean_field"]
    if mu is not None and ("cells" in game.layout or "grid_shape" in game.layout):
        if mu.dim() == 2:
            ts = sorted({0, mu.shape[0] // 4, mu.shape[0] // 2, 3 * mu.shape[0] // 4, mu.shape[0] - 1})
            paths.append(plot_grid_density(game, [mu[t] for t in ts], [f"t={t}" for t in ts], out / "density.png"))
        else:
            paths.append(plot_grid_density(game, [mu], ["stationary mean field"], out / "density.png"))
    for p in paths:
        print(p)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mfglearn", description="Mean-field games: solve, learn, compare.")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("games", help="list registered games")
    g.add_argument("-v", "--verbose", action="store_true", help="show parameters")
    g.set_defaults(func=_cmd_games)
    s = sub.add_parser("solvers", help="list solvers")
    s.set_defaults(func=_cmd_solvers)
    so = sub.add_parser("solve", help="solve a game")
    so.add_argument("game", nargs="?")
    so.add_argument("--solver", default="fictitious_play")
    so.add_argument("--iterations", type=int, default=100)
    so.add_argument(
        "--set", action="append", metavar="SCOPE.KEY=VALUE", help="game.param=value or solver.param=value (repeatable)"
    )
    so.add_argument("--target", type=float, default=None, help="stop at this exploitability")
    so.add_argument("--out", default=None, help="results directory (config, history, tensors, checkpoints)")
    so.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    so.add_argument("--checkpoint-every", type=int, default=10, help="iterations between checkpoints")
    so.add_argument("--json", action="store_true", help="print one JSON summary line")
    so.add_argument("--progress", action="store_true", help="show a progress bar")
    so.add_argument("--threads", type=int, default=1)
    so.set_defaults(func=_cmd_solve)
    co = sub.add_parser("compare", help="run several solvers on one game, one figure")
    co.add_argument("game")
    co.add_argument("--solvers", required=True, help="comma-separated solver names")
    co.add_argument("--iterations", type=int, default=100)
    co.add_argument("--set", action="append", metavar="game.KEY=VALUE")
    co.add_argument("--out", default=None)
    co.add_argument("--threads", type=int, default=1)
    co.set_defaults(func=_cmd_compare)
    sh = sub.add_parser("show", help="summarise a run directory")
    sh.add_argument("run_dir")
    sh.set_defaults(func=_cmd_show)
    pl = sub.add_parser("plot", help="draw a run directory's figures")
    pl.add_argument("run_dir")
    pl.set_defaults(func=_cmd_plot)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (MFGError, ValueError, TypeError, FloatingPointError) as exc:
        print(f"mfglearn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mfglearn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
