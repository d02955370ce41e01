"""Figures of a run directory, whatever algorithm produced it (``mfglearn plot RUN_DIR``)."""

from __future__ import annotations

from pathlib import Path

from mfglearn.errors import MFGError


def plot_run(run_dir: str | Path) -> list[str]:
    """Draw a finished run's figures into ``run_dir/plots``; returns the paths written.

    Every run gets ``metrics.png`` (its per-iteration metrics); tabular runs on grids add the
    density snapshots, an animation and the policy; line games a density heat map; mean-field
    control runs the population steered by the planner; stationary games without a map their stationary
    law and policy as bars; deep runs density snapshots over time;
    multi-population grid games their populations in one colour each (snapshots and an animation),
    routing games the link flows on the network.
    """
    import torch

    from mfglearn.registry import make
    from mfglearn.runs.rundir import load_run
    from mfglearn.viz.curves import plot_histories
    from mfglearn.viz.grids import (
        animate_grid,
        plot_grid_density,
        plot_line_density,
        plot_policy_arrows,
        plot_policy_over_time,
    )

    run_dir = Path(run_dir)
    d = load_run(run_dir)
    config = d["config"]
    game = d["game"] or make(config["game"], **config.get("game_params", {}))
    if not d["history"] or d["result"] is None:
        raise MFGError(f"{run_dir} has not finished; finish it with 'mfglearn solve --resume {run_dir}'")
    res, out = d["result"], run_dir / "plots"
    metrics = ("exploitability", "exact_exploitability", "quality", "mean_field_delta", "policy_delta")
    metrics += ("residual", "objective", "br_return", "value")
    keys = [k for k in metrics if any(isinstance(v, (int, float)) for v in d["history"].get(k, []))][:4]
    name = _title(config, res)
    paths = [plot_histories({config["solver"]: d["history"]}, keys, out / "metrics.png", title=name)]
    if res.kind == "mfc":
        from mfglearn.viz.control import plot_planner_path

        paths.append(plot_planner_path(game, res, out / "population.png"))
    elif res.kind == "deep":
        from mfglearn.viz.continuous import plot_density_snapshots

        g = game.as_continuous() if hasattr(game, "as_continuous") else game
        paths.append(plot_density_snapshots(g, res, out / "density.png", n_agents=2000))
    elif isinstance(res.mean_field, torch.Tensor) and _multi_population_figures(game, res, out, paths, name):
        pass
    elif isinstance(res.mean_field, torch.Tensor):
        mu, pi = res.mean_field, res.policy
        layout = getattr(game, "layout", {})
        if "cells" in layout or "grid_shape" in layout:
            if mu.dim() == 2:
                ts = sorted({0, mu.shape[0] // 4, mu.shape[0] // 2, 3 * mu.shape[0] // 4, mu.shape[0] - 1})
                paths.append(
                    plot_grid_density(game, [mu[t] for t in ts], [f"t = {t}" for t in ts], out / "density.png", name)
                )
                paths.append(animate_grid(game, mu, out / "crowd.gif", title=game.name))
                if "actions" in layout:
                    paths.append(plot_policy_over_time(game, pi, mu, path=out / "policy.png", title=f"{name}: policy"))
            else:
                paths.append(plot_grid_density(game, [mu], ["stationary mean field"], out / "density.png", name))
                if "actions" in layout:
                    paths.append(
                        plot_policy_arrows(game, pi, mu, out / "policy.png", title=f"{name}: stationary policy")
                    )
        elif mu.dim() == 2:
            paths.append(plot_line_density(game, mu, out / "density.png", title=name))
        elif mu.dim() == 1 and pi.dim() == 2:
            from mfglearn.viz.stationary import plot_stationary

            paths.append(plot_stationary(game, mu, pi, out / "stationary.png", title=f"{name}: stationary equilibrium"))
    return [str(p) for p in paths]


_SKIP = {"device", "threads", "check_memory", "initial_policy", "seed", "exact_metrics", "br_kwargs"}


# the knobs a reader needs first, in this order; then any other setting that differs from its default
_KEY = (
    "learning_rate",
    "temperature",
    "damping",
    "trust_region",
    "entropy",
    "inner_steps",
    "beta",
    "epsilon",
    "mu_resolution",
    "policy_resolution",
    "n_agents",
    "br_method",
)


def _title(config: dict, res) -> str:
    """``game, solver (key hyperparameters)``: what a figure needs to be read on its own."""
    from mfglearn.registry import algorithm_info

    hp = (config.get("resolved") or {}).get("hyperparameters") or getattr(res, "hyperparameters", {}) or {}
    try:
        defaults = algorithm_info(config["solver"])[0]["hyperparameters"]
    except Exception:  # a solver no longer registered: the key knobs only
        defaults = {}
    names = [k for k in _KEY if k in hp]
    names += [k for k in hp if k not in names and k not in _SKIP and k in defaults and hp[k] != defaults[k]]
    shown = [
        f"{k}={hp[k]:g}" if isinstance(hp[k], float) else f"{k}={hp[k]}"
        for k in names
        if isinstance(hp[k], (int, float, str)) and not isinstance(hp[k], bool)
    ][:4]
    return f"{config['game']}, {config['solver']}" + (f" ({', '.join(shown)})" if shown else "")


def _multi_population_figures(game, res, out: Path, paths: list, name: str) -> bool:
    """Figures of multi-population grid games and routing games; ``False`` if ``game`` is neither."""
    layout = getattr(game, "layout", {})
    if "routing" in layout:
        from mfglearn.core.routes import link_entries
        from mfglearn.viz.populations import plot_network_flows

        if layout["routing"].network.positions:
            shares = {res.solver: link_entries(game, res.policy)}
            paths.append(plot_network_flows(game, shares, out / "network.png", {res.solver: -res.value}))
        return True
    grid = layout.get("grid")
    if getattr(game, "populations", None) is not None and isinstance(grid, tuple) and res.mean_field.dim() == 2:
        from mfglearn.viz.populations import animate_populations, plot_population_snapshots

        paths.append(plot_population_snapshots(game, res.mean_field, out / "populations.png", title=name))
        paths.append(animate_populations(game, res.mean_field, out / "populations.gif", title=game.name))
        return True
    return False
