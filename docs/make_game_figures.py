"""Draw the figure of every game's documentation page into docs/assets/games/ (committed).

    python docs/make_game_figures.py [--only GAME_ID ...]

Each figure shows the game's equilibrium as fictitious play computes it from the game's default parameters
(mirror descent for multi-population and routing games), with the plotting function mfglearn's own runs use;
the caption next to it gives the solver, the iterations and the exploitability reached from the uniform
policy's. Games without a tabular equilibrium at their defaults (continuous, static, the 10^6-cell grids, the
full Sioux Falls demand) have no figure: their pages say so by having none.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import mfglearn
from mfglearn.games.registry import get_game_spec
from mfglearn.viz._mpl import pyplot

OUT = Path(__file__).resolve().parent / "assets" / "games"
SKIP = {
    "large_grid",
    "evacuation",
    "openspiel/dynamic_routing_sioux_falls",
    "openspiel/dynamic_routing_sioux_falls_dummy_demand",
}


def _solve(game):
    multi = getattr(game, "populations", None) is not None and game.n_populations > 1
    routing = "routing" in game.layout
    solver, hp, iters = (
        ("mirror_descent", {"learning_rate": 0.1}, 30) if multi or routing else ("fictitious_play", {}, 60)
    )
    start = mfglearn.exploitability(game, mfglearn.uniform_policy(game))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = mfglearn.solve(game, solver, iterations=iters, **hp)
    name = solver.replace("_", " ")
    caption = f"{name}, {iters} iterations: exploitability {start:.4g} (uniform) -> {res.exploitability:.4g}"
    if start < 1e-9:  # symmetric games: nothing to improve on, and an averaging solver first moves away
        caption += "; the uniform policy is already an equilibrium of this game"
    return res, caption


def _figure(game, res):
    from mfglearn.viz.grids import plot_grid_density, plot_line_density
    from mfglearn.viz.populations import plot_network_flows, plot_population_snapshots
    from mfglearn.viz.stationary import plot_stationary

    mu, pi, layout = res.mean_field, res.policy, game.layout
    title = f"{game.name}: equilibrium"
    if "routing" in layout:
        from mfglearn.core.routes import link_entries

        if not layout["routing"].network.positions:
            return None
        return plot_network_flows(game, {res.solver: link_entries(game, pi)}, times={res.solver: -res.value})
    if getattr(game, "populations", None) is not None and game.n_populations > 1:
        if not isinstance(layout.get("grid"), tuple):
            return None
        return plot_population_snapshots(game, mu, title=title)
    if "cells" in layout or "grid_shape" in layout:
        if mu.dim() == 2:
            H = mu.shape[0] - 1
            ts = sorted({0, H // 4, H // 2, H})
            return plot_grid_density(game, [mu[t] for t in ts], [f"t = {t}" for t in ts], suptitle=title)
        return plot_grid_density(game, [mu], ["stationary mean field"], suptitle=title)
    if mu.dim() == 2:
        return plot_line_density(game, mu, title=title)
    return plot_stationary(game, mu, pi, title=title)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", default=None, help="game ids to redraw (default: every game)")
    args = ap.parse_args()
    mfglearn.set_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    plt = pyplot()
    for gid in args.only or mfglearn.list_games():
        spec = get_game_spec(gid)
        if spec.kind in ("continuous", "static") or gid in SKIP:
            continue
        game = mfglearn.make(gid)
        try:
            res, caption = _solve(game)
        except mfglearn.MFGError as exc:  # e.g. kinetic congestion: no exact stationary mean field to draw
            print(f"{gid}: no figure ({str(exc).split(':')[0]})")
            continue
        fig = _figure(game, res)
        if fig is None:
            continue
        slug = gid.replace("/", "__")
        fig.savefig(OUT / f"{slug}.png", dpi=72, bbox_inches="tight")
        plt.close(fig)
        (OUT / f"{slug}.txt").write_text(f"The equilibrium at the default parameters ({caption}).\n")
        print(gid, caption)


if __name__ == "__main__":
    main()
