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
