"""Figures are produced, non-empty, and bad input is refused."""

import pytest

import mfglearn

pytest.importorskip("matplotlib")
from mfglearn.viz import plot_grid_density, plot_histories, plot_loglog  # noqa: E402


def test_history_panels_and_bands(tmp_path):
    a = mfglearn.solve("left_right", "fictitious_play", iterations=5).history
    b = mfglearn.solve("left_right", "mirror_descent", iterations=5).history
    p = plot_histories(
        {"fp": a, "omd (2 seeds)": [b, b]},
        ("exploitability", "policy_delta"),
        tmp_path / "h.png",
        styles={"fp": {"ls": "--"}},
    )
    assert (tmp_path / "h.png").stat().st_size > 5000
    assert p.endswith("h.png")


def test_loglog_and_density(tmp_path):
    plot_loglog({"run": ([1, 2, 4, 8], [1.0, 0.5, 0.26, 0.12])}, tmp_path / "l.png")
    game = mfglearn.make("four_rooms", horizon=5)
    r = mfglearn.solve(game, "fictitious_play", iterations=2)
    plot_grid_density(game, [r.mean_field[0], r.mean_field[-1]], ["t=0", "t=H"], tmp_path / "d.png")
    assert (tmp_path / "l.png").stat().st_size > 5000 and (tmp_path / "d.png").stat().st_size > 5000


def test_density_needs_a_grid():
    game = mfglearn.make("beach_bar")
    with pytest.raises(mfglearn.ValidationError, match="no grid layout"):
        plot_grid_density(game, game.mu0)


def test_population_and_network_figures(tmp_path):
    import mfglearn
    from mfglearn.core.routes import link_entries
    from mfglearn.viz.populations import animate_populations, plot_network_flows, plot_population_snapshots

    g = mfglearn.make("openspiel/crowd_avoidance", horizon=4)
    mu = mfglearn.solve(g, "mirror_descent", iterations=2).mean_field
    for path in (plot_population_snapshots(g, mu, tmp_path / "p.png"), animate_populations(g, mu, tmp_path / "p.gif")):
        assert (tmp_path / path).stat().st_size > 1000
    b = mfglearn.make("openspiel/dynamic_routing_braess", horizon=60)
    out = plot_network_flows(b, {"uniform": link_entries(b, b.uniform_policy())}, tmp_path / "n.png", {"uniform": 3.5})
    assert (tmp_path / out).stat().st_size > 1000
    with pytest.raises(mfglearn.ValidationError, match="not a multi-population grid game"):
        plot_population_snapshots(mfglearn.make("four_rooms"), mu, tmp_path / "x.png")


def test_shared_colour_scale_leaves_out_an_initial_point_mass():
    import numpy as np

    from mfglearn.viz.grids import informative_times, shared_top

    maxima = [1.0, 0.39, 0.2, 0.12, 0.08, 0.05, 0.03, 0.02, 0.01, 0.01, 0.01]
    frames = [np.array([[m, np.nan]]) for m in maxima]  # a wall (NaN) in every frame
    assert shared_top(frames) == 0.39  # the largest maximum within 10x the median after t = 0 (0.04)
    assert shared_top([np.array([[m]]) for m in (1.0, 0.4, 0.01, 0.01)]) == 0.01  # few panels: t = 0, 1 saturate
    assert shared_top([np.array([[0.2]]), np.array([[0.1]])]) == 0.2  # nothing extreme: the true maximum
    assert informative_times(30) == [1, 10, 20, 29] and informative_times(3) == [0, 1, 2]


@pytest.mark.parametrize(
    "game,solver,sets",
    [
        ("four_rooms", "mirror_descent", ["--set", "game.horizon=6", "--set", "solver.learning_rate=0.1"]),
        ("four_rooms_crowd", "fictitious_play", []),
        ("beach_bar", "fictitious_play", []),
        ("equilibrium_price", "fictitious_play", []),  # stationary, no map: bars of the law and the policy
        ("openspiel/predator_prey_5x5x3", "mirror_descent", []),
    ],
)
def test_run_figures_draw_without_warnings(tmp_path, game, solver, sets, recwarn):
    import warnings

    from mfglearn.cli import main

    run = tmp_path / "run"
    assert main(["solve", game, "--solver", solver, "--iterations", "3", *sets, "--out", str(run), "--no-plots"]) == 0
    recwarn.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a matplotlib or numpy warning while drawing fails the test
        from mfglearn.viz import plot_run

        paths = plot_run(run)
    assert paths and all((run / "plots" / p.split("/")[-1]).stat().st_size > 3000 for p in paths)


def test_stationary_plot_and_shared_scale_refuse_bad_input():
    from mfglearn.viz import plot_stationary
    from mfglearn.viz.grids import shared_top

    game = mfglearn.make("equilibrium_price")
    with pytest.raises(mfglearn.ValidationError, match="stationary law"):
        plot_stationary(game, game.mu0, mfglearn.uniform_policy(game)[None])
    with pytest.raises(mfglearn.ValidationError, match="no frames"):
        shared_top([])
