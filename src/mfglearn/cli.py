"""The ``mfglearn`` command line: ``games``, ``solvers``, ``solve``, ``compare``, ``sweep``, ``tune``,
``show``, ``plot`` and ``completion`` (``mfglearn COMMAND --help`` shows each one's options and examples)."""

from __future__ import annotations

import argparse
import logging
import sys

from mfglearn._common.text import plain
from mfglearn.errors import MFGError
from mfglearn.runs.config import parse_value as _parse_value


def _log():
    return logging.getLogger("mfglearn")


def _parse_sets(items: list[str]) -> tuple[dict, dict]:
    game, solver = {}, {}
    for item in items:
        if "=" not in item:
            raise MFGError(f"--set expects key=value (e.g. game.horizon=20 or solver.learning_rate=0.1), got {item!r}")
        key, val = item.split("=", 1)
        scope, _, name = key.partition(".")
        if scope not in ("game", "solver", "stationary") or not name:
            raise MFGError(f"--set key must start with 'game.', 'solver.' or 'stationary.', got {key!r}")
        if scope == "stationary":  # discounted games: options of the stationary mean field (tol, max_iter, ...)
            game.setdefault("stationary", {})[name] = _parse_value(val)
        else:
            (game if scope == "game" else solver)[name] = _parse_value(val)
    return game, solver


def _cmd_games(args) -> int:
    from mfglearn.registry import game_info, list_games

    if args.json:
        print(dumps_json([{"id": gid, **game_info(gid)} for gid in list_games()]))
        return 0
    for gid in list_games():
        info = game_info(gid)
        pops = f"{info['populations']} pop" if info["populations"] > 1 else ""
        print(f"{gid:50s} {info['kind']:15s} {pops:7s} {plain(info['description'], code='')}")
        if args.verbose:
            params = ", ".join(f"{k}={v!r}" for k, v in info["parameters"].items())
            print(f"{'':50s} params: {params}")
    return 0


def _cmd_solvers(args) -> int:
    from mfglearn.registry import algorithm_info, list_algorithms

    if args.json:
        print(dumps_json([{"name": name, **info} for name in list_algorithms() for info in algorithm_info(name)]))
        return 0
    for name in list_algorithms():
        for info in algorithm_info(name):
            kinds = ", ".join(info["game_kinds"])
            print(f"{name:28s} [{kinds}] {plain(info['description'], code='')}")
            print(f"{'':28s} one iteration: {info['iteration']}")
            params = ", ".join(f"{n}={v!r}" for n, v in info["hyperparameters"].items())
            print(f"{'':28s} hyperparameters: {params}")
            if info["aliases"]:
                old = ", ".join(f"{o} -> {n}" for o, n in info["aliases"].items())
                print(f"{'':28s} deprecated aliases: {old}")
    return 0


def _print_history(h: dict, header: str, monitor: str) -> None:
    print(header)
    key = "exploitability" if any(isinstance(v, float) for v in h.get("exploitability", [])) else monitor
    values = h.get(key, [])
    print(f"{'iter':>6} {key:>22} {'seconds':>9}")
    n = len(h.get("iteration", []))
    shown = sorted({0, n - 1} | {i for i in range(n) if (i + 1) & i == 0 or (i + 1) % max(1, n // 10) == 0})
    for i in shown if n else []:
        v = values[i] if i < len(values) else None
        cell = f"{v:22.6e}" if isinstance(v, (int, float)) else f"{'-':>22}"
        print(f"{h['iteration'][i]:6d} {cell} {h['seconds'][i]:9.3f}")


def _print_summary(s: dict) -> None:
    parts = [f"{s['solver']} on {s['game']}: {s['iterations']} iterations ({s['seconds']:.3f}s, {s['stopped']})"]
    if isinstance(s.get("exploitability"), float) and s["exploitability"] == s["exploitability"]:
        parts.append(f"final exploitability {s['exploitability']:.6e}")
    parts.append(f"value {s['value']:.6g}")
    print(", ".join(parts))


def _cmd_solve(args) -> int:
    import mfglearn
    from mfglearn.runs import rundir

    mfglearn.set_threads(args.threads)
    progress = args.progress and not args.json
    if not (args.out or args.resume):  # options that only mean something for a results directory
        for flag, given in (("--checkpoint-every", args.checkpoint_every is not None), ("--no-plots", args.no_plots)):
            if given:
                _log().warning("%s has no effect without --out (nothing is written to disk)", flag)
    if args.resume:
        if args.checkpoint_every is not None:
            _log().warning("--checkpoint-every has no effect on --resume: the run keeps its own interval")
        if args.game or args.solver or args.set or args.config or args.target is not None:
            raise MFGError(
                "--resume continues a run as configured; give only the run directory (and --iterations N to extend it)"
            )
        if args.iterations is not None:
            _log().info("extending %s to %d iterations", args.resume, args.iterations)
        result = rundir.resume_run(args.resume, progress=progress, iterations=args.iterations)
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
        if args.out:
            result = rundir.run(
                game_id,
                solver,
                iterations,
                args.out,
                game_params,
                solver_params,
                checkpoint_every=10 if args.checkpoint_every is None else args.checkpoint_every,
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
            from mfglearn.viz import plot_run

            plot_run(out)
        except ImportError:
            _log().warning("install 'mfglearn[plot]' for figures in the results directory")
    summary = result.summary()
    if out:
        summary["run_dir"] = str(out)
    if args.json:
        print(dumps_json(summary))
        return 0
    from mfglearn.registry import get_algorithm

    _print_history(result.history, f"{result.solver} on {result.game}", get_algorithm(result.solver).monitor)
    _print_summary(summary)
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
        mfglearn.get_solver(name, game)
    histories, rows = {}, []
    say = (lambda *a: None) if args.json else print
    say(f"{'solver':28s} {'exploitability':>16s} {'value':>14s} {'seconds':>9s}")
    for name in names:
        r = mfglearn.solve(game, name, iterations=args.iterations, progress=args.progress and not args.json)
        histories[name] = r.history
        rows.append({"solver": name, "exploitability": r.exploitability, "value": r.value, "seconds": r.seconds})
        say(f"{name:28s} {r.exploitability:16.6e} {r.value:14.6g} {r.seconds:9.3f}")
    out = Path(args.out or f"compare-{game.name.replace('/', '_')}")
    from mfglearn._common.io import atomic_write_json
    from mfglearn.viz import plot_histories

    atomic_write_json(out / "histories.json", histories)
    figure = None
    if all(any(isinstance(v, float) for v in h.get("exploitability", [])) for h in histories.values()):
        figure = str(plot_histories(histories, ("exploitability",), out / "compare.png", title=game.name))
        say(f"figure: {figure}")
    else:  # mean-field control: iterations of different algorithms measure different things
        say(f"histories: {out / 'histories.json'} (no common per-iteration metric to plot; compare the values above)")
    if args.json:
        print(
            dumps_json({"game": game.name, "results": rows, "figure": figure, "histories": str(out / "histories.json")})
        )
    return 0


def _cmd_show(args) -> int:
    from mfglearn.runs.rundir import load_run

    d = load_run(args.run_dir)
    c, s = d["config"], d["summary"]
    done = len(d["history"]["iteration"]) if d["history"] else 0
    if args.json:
        print(
            dumps_json(
                {"run": str(args.run_dir), "config": c, "iterations_done": done, "finished": bool(s), "summary": s}
            )
        )
        return 0
    print(f"run        {args.run_dir}")
    print(f"game       {c['game']} {c.get('game_params') or ''}")
    print(f"solver     {c['solver']} {c.get('resolved', {}).get('hyperparameters', c.get('solver_params'))}")
    note = "" if s else "  (not finished: resume with --resume)"
    print(f"iterations {done}/{c['iterations']}" + note)
    if s:
        e = s.get("exploitability")
        expl = f"exploitability {e:.6e}   " if isinstance(e, float) and e == e else ""
        print(f"{expl}value {s['value']:.6g}   seconds {s['seconds']:.3f}   stopped {s['stopped']}")
    return 0


def _cmd_plot(args) -> int:
    from mfglearn.viz import plot_run

    paths = [str(p) for p in plot_run(args.run_dir)]
    print(dumps_json({"figures": paths}) if args.json else "\n".join(paths))
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
        progress=args.progress and not args.json,
        batch_size=args.batch,
    )
    out = {"solver": res.solver, "metric": args.metric, "best_value": res.best_value, "best_params": res.best_params}
    out["scores"] = res.scores
    if args.json:
        print(dumps_json(out))
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
        progress=args.progress and not args.json,
        batch=not args.no_batch,
    )
    if args.json:
        print(dumps_json(res["best"]))
        return 0
    keys, b = list(grid), res["best"]
    metric = b["metric"]
    print(f"{'trial':>6} " + " ".join(f"{k:>22s}" for k in keys) + f" {'seed':>5} {metric:>15} {'s':>7}")
    for r in res["rows"]:
        vals = " ".join(f"{r.get(k)!s:>22s}" for k in keys)
        print(f"{r['trial']!s:>6} {vals} {r['seed']!s:>5} {r[metric]:15.6e} {r['seconds']:7.2f}")
    print(f"best: {b['config']} mean {metric} {b[f'mean_{metric}']:.6e} over {b['runs']} run(s)")
    print(f"results in {res['out']} (results.csv, results.json, best.json, one folder per trial)")
    return 0


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written, and an option's default in its help when it has a meaningful one."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        # None, False and 0 (a -v count) say nothing worth printing
        if "%(default)" in text or default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


_EXAMPLES = {
    "games": """examples:
  mfglearn games                       every game id, its kind and what it models
  mfglearn games -v                    with each game's parameters and defaults
  mfglearn games --json | jq '.[].id'""",
    "solvers": """examples:
  mfglearn solvers                     every algorithm, the game kinds it accepts, its hyperparameters
  mfglearn solvers --json""",
    "solve": """examples:
  mfglearn solve four_rooms --solver fictitious_play --iterations 200
  mfglearn solve four_rooms --solver mirror_descent --set solver.learning_rate=0.03 --out runs/omd --progress
  mfglearn solve --resume runs/omd                 continue after a crash or Ctrl-C
  mfglearn solve --resume runs/omd --iterations 500  extend a finished run
  mfglearn solve my_games.py:ring --set game.size=8  a game of your own (FILE.py:FACTORY or module:factory)
  mfglearn solve --config run.toml --json""",
    "compare": """examples:
  mfglearn compare beach_bar --solvers fictitious_play,mirror_descent,fixed_point --iterations 200
  mfglearn compare four_rooms --solvers fictitious_play,mirror_descent --set game.horizon=20 --out cmp""",
    "sweep": """examples:
  mfglearn sweep beach_bar --solver mirror_descent --grid solver.learning_rate=0.01,0.1,1 --out runs/sweep
  mfglearn sweep ad_auction --solver gmf_q --grid solver.temperature=0.05,0.2 --seeds 0..4
  mfglearn sweep beach_bar --solver mirror_descent --grid solver.learning_rate=0.01,0.1,1 --search optuna --trials 5
  mfglearn sweep ... --ray                         on a Ray cluster (RAY_ADDRESS) or a local Ray""",
    "tune": """examples:
  mfglearn tune mirror_descent --games mfglib/beach_bar,mfglib/susceptible_infected --trials 20 --progress""",
    "show": """examples:
  mfglearn show runs/omd
  mfglearn show runs/omd --json""",
    "plot": """examples:
  mfglearn plot runs/omd                           figures into runs/omd/plots""",
    "completion": "examples:\n"
    "  mfglearn completion bash > ~/.local/share/bash-completion/completions/mfglearn\n"
    '  mfglearn completion zsh > "${fpath[1]}/_mfglearn"',
}


def _cmd_completion(args) -> int:
    try:
        import shtab
    except ImportError:
        raise MFGError("shell completion needs shtab: pip install shtab") from None
    script = shtab.complete(build_parser(), shell=args.shell)
    print(dumps_json({"shell": args.shell, "script": script}) if args.json else script)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from mfglearn import __version__

    p = argparse.ArgumentParser(
        prog="mfglearn",
        description="Mean-field games and mean-field control: solve, learn, compare, sweep, plot.",
        epilog="'mfglearn COMMAND --help' shows a command's options and examples.",
        formatter_class=_Formatter,
    )
    p.add_argument("--version", action="version", version=f"mfglearn {__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    verbosity = argparse.ArgumentParser(add_help=False)  # -v / -q on every command, after its name
    verbosity.add_argument("-v", "--verbose", action="count", default=0, help="more on stderr (-vv: debug)")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr (no warnings)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add = sub.add_parser

    def sub_parser(name, summary, description):
        return _add(
            name,
            help=summary,
            description=description,
            epilog=_EXAMPLES[name],
            formatter_class=_Formatter,
            parents=[verbosity],
        )

    g = sub_parser("games", "list registered games", "List every registered game: id, kind, populations, model.")
    g.add_argument("--json", action="store_true", help="print the list as JSON")
    g.set_defaults(func=_cmd_games)
    s = sub_parser(
        "solvers", "list solvers", "List every algorithm with the game kinds it accepts and its hyperparameters."
    )
    s.add_argument("--json", action="store_true", help="print the list as JSON")
    s.set_defaults(func=_cmd_solvers)
    so = sub_parser(
        "solve",
        "solve a game",
        "Solve a game with one algorithm; print the exploitability trajectory, or write a results directory\n"
        "(--out) with its configuration, history, tensors, checkpoints and figures.",
    )
    so.add_argument("game", nargs="?", help="a game id (mfglearn games), FILE.py:FACTORY or module:factory")
    so.add_argument("--solver", default=None, help="solver name (mfglearn solvers); fictitious_play if not given")
    so.add_argument(
        "--iterations", type=int, default=None, help="iterations; the algorithm's default (100 for tabular solvers)"
    )
    so.add_argument("--config", default=None, metavar="FILE.toml", help="run configuration; --set overrides it")
    so.add_argument(
        "--set",
        action="append",
        metavar="SCOPE.KEY=VALUE",
        help="game.param=value, solver.param=value or stationary.option=value (repeatable)",
    )
    so.add_argument("--target", type=float, default=None, help="stop at this exploitability")
    so.add_argument("--out", default=None, help="results directory (config, history, tensors, checkpoints)")
    so.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    so.add_argument(
        "--checkpoint-every", type=int, default=None, help="iterations between checkpoints, with --out (default: 10)"
    )
    so.add_argument("--no-plots", action="store_true", help="do not draw figures into the results directory")
    so.add_argument("--json", action="store_true", help="print one JSON summary line")
    so.add_argument("--progress", action="store_true", help="a progress bar with rate and time left")
    so.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    so.set_defaults(func=_cmd_solve)
    co = sub_parser(
        "compare",
        "run several solvers on one game, one figure",
        "Run several solvers on one game with the same iterations; print a table and draw their exploitability\n"
        "curves on one figure (OUT/compare.png, histories in OUT/histories.json).",
    )
    co.add_argument("game", help="a game id, FILE.py:FACTORY or module:factory")
    co.add_argument("--solvers", required=True, help="comma-separated solver names")
    co.add_argument("--iterations", type=int, default=100, help="iterations per solver")
    co.add_argument("--set", action="append", metavar="game.KEY=VALUE", help="a game parameter (repeatable)")
    co.add_argument("--out", default=None, help="output folder; compare-GAME if not given")
    co.add_argument("--progress", action="store_true", help="a progress bar per solver")
    co.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    co.add_argument("--json", action="store_true", help="print one JSON document with the results")
    co.set_defaults(func=_cmd_compare)
    sw = sub_parser(
        "sweep",
        "grid or Optuna search over hyperparameters, locally or on Ray",
        "Run a grid (or an Optuna search) of trials, one results directory each, on a local process pool or a\n"
        "Ray cluster; write results.csv, results.json and best.json under --out.",
    )
    sw.add_argument("game", help="a game id, FILE.py:FACTORY or module:factory")
    sw.add_argument("--solver", default="fictitious_play", help="solver name")
    sw.add_argument("--grid", action="append", metavar="SCOPE.KEY=V1,V2,...", help="a grid axis (repeatable)")
    sw.add_argument("--seeds", default=None, help="seeds of sampled solvers, e.g. 0..4 or 0,3,7")
    sw.add_argument("--iterations", type=int, default=100, help="iterations per trial")
    sw.add_argument("--out", default="sweep", help="sweep folder (must be empty or new)")
    sw.add_argument("--workers", type=int, default=None, help="local processes; the CPU count if not given")
    sw.add_argument("--ray", action="store_true", help="run on Ray (RAY_ADDRESS or a local instance)")
    sw.add_argument(
        "--no-batch",
        action="store_true",
        help="use the process pool even where the grid can run as one batch (solve_batch) in this process",
    )
    sw.add_argument("--search", choices=["grid", "optuna"], default="grid", help="every combination, or Optuna TPE")
    sw.add_argument("--trials", type=int, default=None, help="Optuna trials (10 if not given)")
    sw.add_argument("--progress", action="store_true", help="a bar counting finished trials, rate and time left")
    sw.add_argument("--json", action="store_true", help="print the best configuration as JSON")
    sw.set_defaults(func=_cmd_sweep)
    tu = sub_parser(
        "tune",
        "Optuna over a solver's hyperparameters across several games (MFGLib's tune)",
        "Search a solver's hyperparameters with Optuna, scoring each trial on every game given (the geometric\n"
        "mean of the exploitabilities, or the share of games where the solver fails).",
    )
    tu.add_argument("solver", help="solver name")
    tu.add_argument("--games", required=True, help="comma-separated game ids")
    tu.add_argument("--trials", type=int, default=20, help="Optuna trials")
    tu.add_argument("--iterations", type=int, default=100, help="iterations per game and trial")
    tu.add_argument(
        "--metric", choices=["geometric_mean", "failure_rate"], default="geometric_mean", help="what is minimised"
    )
    tu.add_argument("--fail-threshold", type=float, default=1e-3, help="exploitability at which a run has failed")
    tu.add_argument("--seed", type=int, default=0, help="seed of the TPE sampler")
    tu.add_argument(
        "--batch", type=int, default=1, help="trials asked at once and solved as one batch per game (solve_batch)"
    )
    tu.add_argument("--progress", action="store_true", help="Optuna's bar: trials, rate, time left, best value")
    tu.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    tu.add_argument("--json", action="store_true", help="print the best parameters and scores as JSON")
    tu.set_defaults(func=_cmd_tune)
    sh = sub_parser("show", "summarise a run directory", "Summarise a run directory: game, solver, progress, result.")
    sh.add_argument("run_dir", help="a folder written by 'mfglearn solve --out'")
    sh.add_argument("--json", action="store_true", help="print the run's config and summary as JSON")
    sh.set_defaults(func=_cmd_show)
    pl = sub_parser("plot", "draw a run directory's figures", "Draw a finished run's figures into RUN_DIR/plots.")
    pl.add_argument("run_dir", help="a folder written by 'mfglearn solve --out'")
    pl.add_argument("--json", action="store_true", help="print the figures' paths as JSON")
    pl.set_defaults(func=_cmd_plot)
    cp = sub_parser(
        "completion", "print a shell completion script", "Print a completion script for bash, zsh or tcsh (shtab)."
    )
    cp.add_argument("shell", choices=["bash", "zsh", "tcsh"], help="the shell")
    cp.add_argument("--json", action="store_true", help="print the script inside a JSON object")
    cp.set_defaults(func=_cmd_completion)
    return p


def dumps_json(obj) -> str:
    """JSON for ``--json`` (imported lazily: ``mfglearn --help`` must not load torch)."""
    from mfglearn._common.io import dumps_json as _dumps

    return _dumps(obj)


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record comes (a test's capture, a redirection)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _configure_logging(args) -> None:
    """``-q``: errors only; default: warnings; ``-v``: info; ``-vv``: debug (the ``mfglearn`` logger, on stderr)."""
    level = logging.ERROR if args.quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    log = logging.getLogger("mfglearn")
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("mfglearn: %(levelname)s: %(message)s"))
        log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def main(argv: list[str] | None = None) -> int:
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    with warnings.catch_warnings():  # -q silences Python warnings for this command only
        if args.quiet:
            warnings.simplefilter("ignore")
        return _run(args)


def _run(args) -> int:
    try:
        return args.func(args)
    except (MFGError, ValueError, TypeError, FloatingPointError, OverflowError) as exc:
        if args.debug:
            raise
        print(f"mfglearn: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        if args.debug:
            raise
        print("mfglearn: error: out of memory; make the game or the algorithm's grid smaller", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (mfglearn games | head): no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # the environment, not mfglearn: a full disk, a file where a folder should be, permissions
        if args.debug:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        print(
            f"mfglearn: error: {exc.strerror or exc}{where}; check the path, its permissions and free space",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("mfglearn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
