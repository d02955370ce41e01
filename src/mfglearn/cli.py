"""The ``mfglearn`` command line.

mfglearn games                      list games and their parameters
mfglearn solvers                    list solvers and their hyperparameters
mfglearn solve GAME --solver NAME --iterations N [--set key=value ...] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import sys

from mfglearn.errors import MFGError
from mfglearn.runs.config import parse_value as _parse_value


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
    if args.resume and _deep_config(args.resume) is not None:
        c = _deep_config(args.resume)
        return _solve_deep(args, c["game"], c["solver"], c["iterations"], c["game_params"], c["solver_params"])
    if args.resume:
        result = rundir.resume_run(args.resume, progress=progress)
        out = args.resume
    else:
        cfg = {}
        if args.config:
            from mfglearn.runs.config import load_toml_config

            cfg = load_toml_config(args.config)
        game_id = args.game or cfg.get("game")
        if not game_id:
            raise MFGError("solve needs a GAME (see 'mfglearn games'), a --config file, or --resume RUN_DIR")
        solver = args.solver or cfg.get("solver", "fictitious_play")
        iterations = args.iterations if args.iterations is not None else cfg.get("iterations", 100)
        target = args.target if args.target is not None else cfg.get("target_exploitability")
        set_game, set_solver = _parse_sets(args.set or [])
        game_params = {**cfg.get("game_params", {}), **set_game}
        solver_params = {**cfg.get("solver_params", {}), **set_solver}
        if getattr(mfglearn.get_solver(solver), "is_mfc", False):
            return _solve_mfc(args, game_id, solver, iterations, game_params, solver_params)
        if getattr(mfglearn.get_solver(solver), "is_deep", False):
            return _solve_deep(args, game_id, solver, iterations, game_params, solver_params)
        if args.out:
            result = rundir.run(
                game_id,
                solver,
                iterations,
                args.out,
                game_params,
                solver_params,
                checkpoint_every=args.checkpoint_every,
                progress=progress,
                target_exploitability=target,
            )
        else:
            game = mfglearn.make(game_id, **game_params)
            result = mfglearn.solve(
                game, solver, iterations=iterations, progress=progress, target_exploitability=target, **solver_params
            )
        out = args.out
    if out and not args.no_plots:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                _cmd_plot(argparse.Namespace(run_dir=out))
        except ImportError:
            print("mfglearn: note: install 'mfglearn[plot]' for figures in the results directory", file=sys.stderr)
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


def _solve_mfc(args, game_id: str, solver: str, iterations: int, game_params: dict, solver_params: dict) -> int:
    """Mean-field control solvers: an MFCResult, saved with its config and a population plot."""
    from pathlib import Path

    import mfglearn
    from mfglearn.runs.io import atomic_write_json

    if args.resume:
        raise MFGError("mean-field control runs are short and not resumable; rerun without --resume")
    game = mfglearn.make(game_id, **game_params)
    result = mfglearn.solve(game, solver, iterations=iterations, **solver_params)
    if args.out:
        out = Path(args.out)
        result.save(out)
        config = dict(game=game_id, solver=solver, iterations=iterations)
        atomic_write_json(out / "config.json", {**config, "game_params": game_params, "solver_params": solver_params})
        if not args.no_plots:
            try:
                from mfglearn.viz.control import plot_planner_path

                plot_planner_path(game, result, out / "plots" / "population.png")
            except ImportError:
                print("mfglearn: note: install 'mfglearn[plot]' for figures in the results directory", file=sys.stderr)
    summary = {"solver": solver, "game": game_id, "value": result.value, "hyperparameters": result.hyperparameters}
    summary.update({k: v for k, v in result.extra.items() if isinstance(v, (int, float))})
    if args.out:
        summary["run_dir"] = str(args.out)
    print(json.dumps(summary) if args.json else result.summary())
    return 0


def _deep_config(run_dir: str) -> dict | None:
    from pathlib import Path

    path = Path(run_dir) / "config.json"
    if not path.exists():
        return None
    config = json.loads(path.read_text())
    return config if config.get("deep") else None


def _solve_deep(args, game_id: str, solver: str, iterations: int, game_params: dict, solver_params: dict) -> int:
    """Deep fictitious play on a continuous game: checkpoints every iteration into --out, resumable."""
    from pathlib import Path

    import mfglearn
    from mfglearn.runs.io import atomic_write_json

    out = Path(args.resume or args.out) if (args.resume or args.out) else None
    game = mfglearn.make(game_id, **game_params)
    if out is not None:
        config = dict(game=game_id, solver=solver, iterations=iterations, deep=True)
        atomic_write_json(out / "config.json", {**config, "game_params": game_params, "solver_params": solver_params})
    cls = mfglearn.get_solver(solver)
    solver_obj = cls(game, **mfglearn._check_hparams(cls, solver_params))
    quiet = args.json

    def report(k, r):
        if not quiet:
            h = r.history
            ex = h["exact_exploitability"][-1]
            ex = f"  exact exploitability {ex:.4f}" if ex is not None else ""
            br = h["br_return"][-1]
            print(f"iteration {k + 1:4d}  best-response return {br:10.4f}{ex}  {h['seconds'][-1]:7.1f}s")

    result = solver_obj.solve(iterations, callback=report, checkpoint=out)
    summary = result.summary()
    if out is not None:
        result.save(out)
        atomic_write_json(out / "summary.json", summary)
        summary["run_dir"] = str(out)
        if not args.no_plots:
            try:
                from mfglearn.viz.continuous import plot_density_snapshots

                g = game.as_continuous() if hasattr(game, "as_continuous") else game
                plot_density_snapshots(g, result, out / "plots" / "density.png", n_agents=2000)
            except ImportError:
                print("mfglearn: note: install 'mfglearn[plot]' for figures in the results directory", file=sys.stderr)
    print(json.dumps(summary) if args.json else f"{solver} on {game_id}: {summary}")
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

    deep = _deep_config(args.run_dir)
    if deep is not None:  # a deep fictitious-play run: its summary
        from pathlib import Path

        summary = Path(args.run_dir) / "summary.json"
        print(f"run        {args.run_dir}\ngame       {deep['game']} {deep.get('game_params') or ''}")
        print(f"solver     {deep['solver']} {deep.get('solver_params') or ''}")
        print(summary.read_text() if summary.exists() else "not finished: resume with --resume")
        return 0
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
    from mfglearn.viz import animate_grid, plot_grid_density, plot_histories, plot_line_density, plot_policy_arrows

    if _deep_config(args.run_dir) is not None:
        from mfglearn.deep.deda_fp import DeepFPResult
        from mfglearn.viz.continuous import plot_density_snapshots

        c = _deep_config(args.run_dir)
        game = mfglearn.make(c["game"], **c.get("game_params", {}))
        game = game.as_continuous() if hasattr(game, "as_continuous") else game
        result = DeepFPResult.load(args.run_dir)
        print(plot_density_snapshots(game, result, Path(args.run_dir) / "plots" / "density.png"))
        return 0
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
        pi = d["policy"]
        if mu.dim() == 2:
            ts = sorted({0, mu.shape[0] // 4, mu.shape[0] // 2, 3 * mu.shape[0] // 4, mu.shape[0] - 1})
            paths.append(plot_grid_density(game, [mu[t] for t in ts], [f"t={t}" for t in ts], out / "density.png"))
            paths.append(animate_grid(game, mu, out / "crowd.gif", title=game.name))
            pi0, mu_arrows, when = pi[0], mu[0], "t=0"
        else:
            paths.append(plot_grid_density(game, [mu], ["stationary mean field"], out / "density.png"))
            pi0, mu_arrows, when = pi, mu, "stationary"
        if pi is not None and "actions" in game.layout:
            paths.append(plot_policy_arrows(game, pi0, mu_arrows, out / "policy.png", title=f"policy ({when})"))
    elif mu is not None and mu.dim() == 2:
        paths.append(plot_line_density(game, mu, out / "density.png"))
    for p in paths:
        print(p)
    return 0


def _cmd_tune(args) -> int:
    import mfglearn
    from mfglearn.runs.tune import tune

    mfglearn.set_threads(args.threads)
    res = tune(
        args.solver,
        [g.strip() for g in args.games.split(",") if g.strip()],
        n_trials=args.trials,
        iterations=args.iterations,
        metric=args.metric,
        fail_threshold=args.fail_threshold,
        seed=args.seed,
    )
    out = {"solver": res.solver, "metric": args.metric, "best_value": res.best_value, "best_params": res.best_params}
    out["scores"] = res.scores
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{res.solver}: best {args.metric} {res.best_value:.6g} with {res.best_params}")
        for g, v in res.scores.items():
            print(f"  {g:40s} best exploitability {v:.6g}")
    return 0


def _cmd_sweep(args) -> int:
    from mfglearn.runs import sweep as sw

    grid = sw.parse_grid(args.grid or [])
    res = sw.sweep(
        args.game,
        args.solver,
        grid,
        seeds=sw.parse_seeds(args.seeds),
        iterations=args.iterations,
        out=args.out,
        backend="ray" if args.ray else None,
        workers=args.workers,
        search=args.search,
        trials=args.trials,
    )
    if args.json:
        print(json.dumps(res["best"]))
        return 0
    keys = list(grid)
    print(f"{'trial':>6} " + " ".join(f"{k:>22s}" for k in keys) + f" {'seed':>5} {'exploitability':>15} {'s':>7}")
    for r in res["rows"]:
        vals = " ".join(f"{r.get(k)!s:>22s}" for k in keys)
        print(f"{r['trial']!s:>6} {vals} {r['seed']!s:>5} {r['exploitability']:15.6e} {r['seconds']:7.2f}")
    b = res["best"]
    print(f"best: {b['config']} mean exploitability {b['mean_exploitability']:.6e} over {b['runs']} run(s)")
    print(f"results in {res['out']} (results.csv, results.json, best.json, one folder per trial)")
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
    so.add_argument("--solver", default=None, help="solver name (default: fictitious_play)")
    so.add_argument("--iterations", type=int, default=None, help="iterations (default: 100)")
    so.add_argument("--config", default=None, metavar="FILE.toml", help="run configuration; --set overrides it")
    so.add_argument(
        "--set", action="append", metavar="SCOPE.KEY=VALUE", help="game.param=value or solver.param=value (repeatable)"
    )
    so.add_argument("--target", type=float, default=None, help="stop at this exploitability")
    so.add_argument("--out", default=None, help="results directory (config, history, tensors, checkpoints)")
    so.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    so.add_argument("--checkpoint-every", type=int, default=10, help="iterations between checkpoints")
    so.add_argument("--no-plots", action="store_true", help="do not draw figures into the results directory")
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
    sw = sub.add_parser("sweep", help="grid or Optuna search over hyperparameters, locally or on Ray")
    sw.add_argument("game")
    sw.add_argument("--solver", default="fictitious_play")
    sw.add_argument("--grid", action="append", metavar="SCOPE.KEY=V1,V2,...")
    sw.add_argument("--seeds", default=None, help="e.g. 0..4 or 0,3,7")
    sw.add_argument("--iterations", type=int, default=100)
    sw.add_argument("--out", default="sweep")
    sw.add_argument("--workers", type=int, default=None, help="local processes (default: CPU count)")
    sw.add_argument("--ray", action="store_true", help="run on Ray (RAY_ADDRESS or a local instance)")
    sw.add_argument("--search", choices=["grid", "optuna"], default="grid")
    sw.add_argument("--trials", type=int, default=None, help="Optuna trials")
    sw.add_argument("--json", action="store_true")
    sw.set_defaults(func=_cmd_sweep)
    tu = sub.add_parser("tune", help="Optuna over a solver's hyperparameters across several games (MFGLib's tune)")
    tu.add_argument("solver")
    tu.add_argument("--games", required=True, help="comma-separated game ids")
    tu.add_argument("--trials", type=int, default=20)
    tu.add_argument("--iterations", type=int, default=100)
    tu.add_argument("--metric", choices=["geometric_mean", "failure_rate"], default="geometric_mean")
    tu.add_argument("--fail-threshold", type=float, default=1e-3)
    tu.add_argument("--seed", type=int, default=0)
    tu.add_argument("--threads", type=int, default=1)
    tu.add_argument("--json", action="store_true")
    tu.set_defaults(func=_cmd_tune)
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
