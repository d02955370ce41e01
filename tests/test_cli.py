"""The command line, end to end through a subprocess."""

import json
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "mfglearn", *args], capture_output=True, text=True, timeout=120)


def test_solve_json():
    p = run(
        "solve",
        "beach_bar",
        "--solver",
        "mirror_descent",
        "--iterations",
        "5",
        "--set",
        "game.size=8",
        "--set",
        "solver.learning_rate=0.5",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["iterations"] == 5 and d["exploitability"] >= 0 and d["hyperparameters"]["learning_rate"] == 0.5


def test_solve_table_and_save(tmp_path):
    p = run("solve", "left_right", "--iterations", "4", "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "final exploitability" in p.stdout
    assert (tmp_path / "result.safetensors").stat().st_size > 0 and (tmp_path / "summary.json").exists()


def test_lists():
    assert "four_rooms" in run("games").stdout
    assert "mirror_descent" in run("solvers").stdout


def test_errors_are_one_line():
    for args, needle in [
        (("solve", "nope"), "unknown game 'nope'"),
        (("solve", "four_rooms", "--set", "game.horizn=3"), "has no parameter 'horizn'"),
        (("solve", "four_rooms", "--set", "horizon=3"), "must start with 'game.', 'solver.' or 'stationary.'"),
        (
            ("solve", "left_right", "--solver", "mirror_descent", "--set", "solver.learning_rate=-1"),
            "learning_rate must be a finite number > 0",
        ),
    ]:
        p = run(*args)
        assert p.returncode == 2
        assert needle in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1


def test_version_and_a_help_that_does_not_load_torch():
    import subprocess
    import sys

    import mfglearn

    out = subprocess.run([sys.executable, "-m", "mfglearn.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"mfglearn {mfglearn.__version__}"
    code = "import sys, mfglearn.cli; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    # the facade still resolves lazily, submodules included
    code = "import mfglearn; print(type(mfglearn.make('beach_bar')).__name__, mfglearn.core.stationary.__name__)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == [
        "FiniteMFG",
        "mfglearn.core.stationary",
    ]


def test_every_subcommand_speaks_json(tmp_path, capsys):
    # in-process (the subprocess start-up would dominate): each --json prints exactly one JSON document
    from mfglearn.cli import main

    def as_json(*argv):
        assert main([*argv, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    run_dir = str(tmp_path / "run")
    assert any(g["id"] == "benchmfg/lasry_lions_chain" for g in as_json("games"))
    assert any(s["name"] == "pso" and "discounted" in s["game_kinds"] for s in as_json("solvers"))
    assert as_json("solve", "left_right", "--iterations", "3", "--out", run_dir)["iterations"] == 3
    shown = as_json("show", run_dir)
    assert shown["finished"] and shown["iterations_done"] == 3 and shown["config"]["game"] == "left_right"
    assert all(p.endswith(".png") for p in as_json("plot", run_dir)["figures"])
    cmp = as_json(
        "compare",
        "left_right",
        "--solvers",
        "fixed_point,mirror_descent",
        "--iterations",
        "2",
        "--out",
        str(tmp_path / "cmp"),
    )
    assert [r["solver"] for r in cmp["results"]] == ["fixed_point", "mirror_descent"] and cmp["figure"]
    sw = as_json(
        "sweep",
        "left_right",
        "--solver",
        "mirror_descent",
        "--grid",
        "solver.learning_rate=0.1,1",
        "--iterations",
        "2",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "sw"),
    )
    assert isinstance(sw, dict)
    tu = as_json("tune", "mirror_descent", "--games", "left_right", "--trials", "2", "--iterations", "2")
    assert isinstance(tu, dict)
    assert "mfglearn" in as_json("completion", "bash")["script"]


def test_help_lists_examples_and_defaults(capsys):
    from mfglearn.cli import main

    for command in ("games", "solvers", "solve", "compare", "sweep", "tune", "show", "plot", "completion"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "examples:" in text and f"mfglearn {command}" in text, command
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    assert "(default: fictitious_play)" in capsys.readouterr().out


def test_completion_script_names_the_subcommands(capsys):
    from mfglearn.cli import main

    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "complete" in script and all(c in script for c in ("solve", "sweep", "plot"))


def test_quiet_and_verbose_levels(tmp_path, capsys):
    from mfglearn.cli import main

    run = str(tmp_path / "run")
    assert main(["solve", "left_right", "--iterations", "2", "--out", run, "--no-plots", "-q"]) == 0
    capsys.readouterr()
    assert main(["solve", "--resume", run, "--iterations", "3", "--no-plots", "-v"]) == 0
    assert "extending" in capsys.readouterr().err  # an info message, shown at -v
    assert main(["solve", "--resume", run, "--iterations", "4", "--no-plots"]) == 0
    assert "extending" not in capsys.readouterr().err  # not at the default level


def test_sweep_progress_counts_trials(tmp_path, capsys):
    from mfglearn.cli import main

    grid = ["--grid", "solver.learning_rate=0.1,1"]
    args = ["sweep", "left_right", "--solver", "mirror_descent", *grid, "--iterations", "2", "--workers", "1"]
    assert main([*args, "--out", str(tmp_path / "sw"), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "sweep" in err and "2/2" in err and "trial/s" in err  # count, rate


def test_multi_population_and_routing_runs(tmp_path):
    from mfglearn.cli import main

    pp, rt = tmp_path / "pp", tmp_path / "rt"
    argv = [
        "solve",
        "openspiel/predator_prey_5x5x3",
        "--solver",
        "mirror_descent",
        "--iterations",
        "3",
        "--out",
        str(pp),
    ]
    assert main([*argv, "--set", "solver.learning_rate=0.5"]) == 0
    assert main(["plot", str(pp)]) == 0
    assert {"populations.png", "populations.gif", "metrics.png"} <= {p.name for p in (pp / "plots").iterdir()}
    argv = ["solve", "openspiel/dynamic_routing_braess", "--solver", "fictitious_play", "--iterations", "2"]
    assert main([*argv, "--set", "game.horizon=60", "--out", str(rt)]) == 0
    assert main(["plot", str(rt)]) == 0
    assert (rt / "plots" / "network.png").exists()
    assert (
        main(
            [
                "compare",
                "openspiel/crowd_avoidance",
                "--solvers",
                "fictitious_play,mirror_descent",
                "--iterations",
                "2",
                "--out",
                str(tmp_path / "cmp"),
                "--json",
            ]
        )
        == 0
    )


USER_GAME = '''
import torch

from mfglearn import FiniteMFG


def ring(size: int = 6, horizon: int = 8, aversion: float = 1.0):
    """Crowd aversion on a ring: stay or step left/right."""
    nxt = (torch.arange(size)[:, None] + torch.tensor([-1, 0, 1])) % size
    mu0 = torch.zeros(size, dtype=torch.float64)
    mu0[0] = 1.0
    return FiniteMFG(
        n_states=size, n_actions=3, mu0=mu0, horizon=horizon, transition=nxt, name="ring",
        reward=lambda t, mu: -aversion * torch.log(mu + 1e-9)[:, None] - 0.1 * torch.tensor([1.0, 0.0, 1.0]),
    )


def not_a_game():
    return 42
'''


def test_a_user_game_from_a_file_runs_through_the_cli(tmp_path, monkeypatch):
    import mfglearn
    from mfglearn.cli import main

    (tmp_path / "games").mkdir()
    (tmp_path / "games" / "my_game.py").write_text(USER_GAME)
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    argv = ["solve", "games/my_game.py:ring", "--solver", "mirror_descent", "--iterations", "4", "--out", str(run)]
    assert main([*argv, "--set", "game.size=8", "--set", "solver.learning_rate=0.1"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["game"] == f"{tmp_path / 'games' / 'my_game.py'}:ring"  # absolute: works from anywhere
    monkeypatch.chdir("/")
    assert main(["show", str(run), "--json"]) == 0
    assert main(["plot", str(run)]) == 0 and (run / "plots" / "metrics.png").exists()
    assert main(["solve", "--resume", str(run), "--iterations", "7"]) == 0
    assert len(json.loads((run / "history.json").read_text())["exploitability"]) == 7
    game = mfglearn.make(config["game"], size=8)
    resumed = mfglearn.Result.load(run)
    direct = mfglearn.solve(game, "mirror_descent", iterations=7, learning_rate=0.1)
    assert resumed.history["exploitability"] == direct.history["exploitability"]
    monkeypatch.chdir(tmp_path)
    grid = ["--grid", "solver.learning_rate=0.05,0.1", "--iterations", "3", "--workers", "1"]
    assert main(["sweep", "games/my_game.py:ring", "--solver", "mirror_descent", *grid, "--out", "sw", "--json"]) == 0


def test_user_game_errors_are_one_line(tmp_path):
    (tmp_path / "g.py").write_text(USER_GAME)
    (tmp_path / "broken.py").write_text("import nonexistent_module_xyz\n")
    for ref, msg in [
        (f"{tmp_path}/missing.py:ring", "does not exist"),
        (f"{tmp_path}/g.py:nope", "has no callable 'nope'"),
        (f"{tmp_path}/broken.py:f", "importing the game .* failed: ModuleNotFoundError"),
        (f"{tmp_path}/g.py:not_a_game", "returned a int; it must return a game"),
        ("no_such_package_xyz.games:f", "importing the game .* failed"),
    ]:
        p = run("solve", ref, "--iterations", "1")
        assert p.returncode != 0 and "Traceback" not in p.stderr, p.stderr
        import re

        assert re.search(msg, p.stderr), (ref, p.stderr)


def test_options_without_effect_are_warned_about(tmp_path, capsys):
    from mfglearn.cli import main

    assert main(["solve", "left_right", "--iterations", "2", "--checkpoint-every", "5", "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "--checkpoint-every has no effect without --out" in err and "--no-plots has no effect" in err
    run = str(tmp_path / "run")
    assert main(["solve", "left_right", "--iterations", "2", "--out", run, "--no-plots"]) == 0
    assert "no effect" not in capsys.readouterr().err
    assert main(["solve", "--resume", run, "--checkpoint-every", "3", "--no-plots"]) == 0
    assert "keeps its own interval" in capsys.readouterr().err
