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


def _cmd_solve(args) -> int:
    import mfglearn

    mfglearn.set_threads(args.threads)
    game_params, solver_params = _parse_sets(args.set or [])
    game = mfglearn.make(args.game, **game_params)
    result = mfglearn.solve(
        game,
        args.solver,
        iterations=args.iterations,
        progress=args.progress and not args.json,
        target_exploitability=args.target,
        **solver_params,
    )
    if args.out:
        from pathlib import Path

        path = result.save(Path(args.out) / "result.pt")
        if not args.json:
            print(f"saved {path}")
    if args.json:
        print(json.dumps(result.summary()))
        return 0
    h = result.history
    time_desc = f"H={game.horizon}" if game.is_finite_horizon else f"gamma={game.gamma}"
    print(f"{args.solver} on {game.name}: S={game.S} A={game.A} {time_desc}")
    print(f"{'iter':>6} {'exploitability':>16} {'seconds':>9}")
    n = len(h["iteration"])
    shown = sorted(set([0, n - 1] + [i for i in range(n) if (i + 1) & i == 0 or (i + 1) % max(1, n // 10) == 0]))
    for i in shown if n else []:
        print(f"{h['iteration'][i]:6d} {h['exploitability'][i]:16.6e} {h['seconds'][i]:9.3f}")
    print(
        f"final exploitability {result.exploitability:.6e} after {n} iterations ({h['seconds'][-1] if n else 0:.3f}s)"
    )
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
    so.add_argument("game")
    so.add_argument("--solver", default="fictitious_play")
    so.add_argument("--iterations", type=int, default=100)
    so.add_argument(
        "--set", action="append", metavar="SCOPE.KEY=VALUE", help="game.param=value or solver.param=value (repeatable)"
    )
    so.add_argument("--target", type=float, default=None, help="stop at this exploitability")
    so.add_argument("--out", default=None, help="folder to save result.pt in")
    so.add_argument("--json", action="store_true", help="print one JSON summary line")
    so.add_argument("--progress", action="store_true", help="show a progress bar")
    so.add_argument("--threads", type=int, default=1)
    so.set_defaults(func=_cmd_solve)
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
