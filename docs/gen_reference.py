"""Generate the games pages, the solver table and the API reference at build time (mkdocs-gen-files).

Everything here is read from the registry and the package's modules, so the site cannot drift from
the code: a new game or algorithm gets its page on the next build.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import sys
from pathlib import Path

import griffe
import mkdocs_gen_files

import mfglearn
from mfglearn._common.text import plain
from mfglearn.algorithm import GAME_KINDS
from mfglearn.games.registry import get_game_spec
from mfglearn.registry import ALGORITHMS

ROOT = Path(__file__).resolve().parents[1]

FIGURES = ROOT / "docs" / "assets" / "games"
nav = mkdocs_gen_files.Nav()


def _slug(game_id: str) -> str:
    return game_id.replace("/", "__")


def _value(v: object) -> str:
    text = repr(v)
    return f"`{text if len(text) < 60 else text[:57] + '...'}`".replace("|", "\\|")


def _sections(doc: str) -> tuple[str, dict[str, str]]:
    """A Google-style docstring's text and its ``Args:`` descriptions by name (griffe parses it, quietly)."""
    text, args = [], {}
    logger = logging.getLogger("griffe")
    level, logger.level = logger.level, logging.ERROR
    try:
        for section in griffe.Docstring(doc).parse("google", warn_unknown_params=False, warn_missing_types=False):
            if section.kind.value == "parameters":
                for p in section.value:
                    for name in p.name.split(","):  # "low, high: ..." documents two parameters at once
                        args[name.strip()] = plain(p.description).replace("\n", " ")
            elif section.kind.value == "text":
                text.append(plain(section.value))
    finally:
        logger.level = level
    return "\n\n".join(text), args


def _game_page(game_id: str) -> str:
    spec = get_game_spec(game_id)
    raw = inspect.getdoc(spec.make) or spec.description
    text, meaning = _sections(raw)
    lines = [f"# `{game_id}`", "", text, ""]
    # a factory that names the family it builds on (":func:`crowd_grid`") gets that family's model and parameters
    module = sys.modules.get(getattr(spec.make, "__module__", ""), None)
    for family in dict.fromkeys(re.findall(r":func:`~?([\w.]+)`", raw)):
        fn = getattr(module, family.rsplit(".", 1)[-1], None)
        if callable(fn) and fn is not spec.make and inspect.getdoc(fn):
            family_text, family_args = _sections(inspect.getdoc(fn))
            meaning = {**family_args, **meaning}
            lines += [f"## The family: `{family.rsplit('.', 1)[-1]}`", "", family_text, ""]
    lines += [
        "| kind | populations | build it |",
        "|---|---|---|",
        f"| {spec.kind.replace('_', '-')} | {spec.populations} | `mfglearn.make({game_id!r})` |",
        "",
    ]
    params = spec.parameters()
    if params:
        lines += ["## Parameters", "", "| name | default | meaning |", "|---|---|---|"]
        lines += [f"| `{k}` | {_value(v)} | {meaning.get(k, '').replace('|', '/')} |" for k, v in params.items()]
        lines += [
            "",
            f"Pass them to `make` (`mfglearn.make({game_id!r}, {next(iter(params))}=...)`) or on the "
            f"command line (`--set game.{next(iter(params))}=...`).",
            "",
        ]
    fits = [n for n, impls in sorted(ALGORITHMS.items()) if any(spec.kind in c.game_kinds for c in impls)]
    lines += ["## Solvers for it", "", ", ".join(f"`{n}`" for n in fits), ""]
    fig = FIGURES / f"{_slug(game_id)}.png"
    if fig.exists():
        lines += ["## Figure", "", f"![{game_id}](../assets/games/{fig.name})", ""]
        caption = FIGURES / f"{_slug(game_id)}.txt"
        if caption.exists():
            lines += [caption.read_text().strip(), ""]
    return "\n".join(lines)


# -- games ------------------------------------------------------------------------------------------
index = [
    "# Games",
    "",
    "Every registered game id, with its kind and what it models. `mfglearn games -v` prints the",
    "same from the command line.",
    "",
    "| id | kind | populations | what it models |",
    "|---|---|---|---|",
]
for gid in mfglearn.list_games():
    spec = get_game_spec(gid)
    index.append(
        f"| [`{gid}`]({_slug(gid)}.md) | {spec.kind.replace('_', '-')} | {spec.populations} | "
        f"{plain(spec.description)} |"
    )
    with mkdocs_gen_files.open(f"games/{_slug(gid)}.md", "w") as f:
        f.write(_game_page(gid))
with mkdocs_gen_files.open("games/index.md", "w") as f:
    f.write("\n".join(index) + "\n")
with mkdocs_gen_files.open("games/SUMMARY.md", "w") as f:
    f.write("* [All games](index.md)\n" + "".join(f"* [{g}]({_slug(g)}.md)\n" for g in mfglearn.list_games()))

# -- solvers x game kinds ---------------------------------------------------------------------------
rows = [
    "# Solvers",
    "",
    "Which algorithm solves which kind of game (`mfglearn.solve` refuses a wrong pairing and names",
    "the algorithms that fit), what one iteration is, and its hyperparameters with their defaults",
    "(`mfglearn solvers` prints the same).",
    "",
    "| algorithm | game kinds | what it does |",
    "|---|---|---|",
]
details = []
for name in sorted(ALGORITHMS):
    infos = mfglearn.algorithm_info(name)
    kinds = {k for i in infos for k in i["game_kinds"]}
    marks = ", ".join(k.replace("_", "-") for k in GAME_KINDS if k in kinds)
    if infos[0]["problem"] == "control":
        marks += " (mean-field control)"
    rows.append(f"| [`{name}`](#{name}) | {marks} | {plain(infos[0]['description'])} |")
    for info in infos:
        details += [
            f"## `{name}`" if info is infos[0] else f"### `{name}` on {', '.join(info['game_kinds'])} games",
            "",
            f"{plain(info['description'])}. Class `{info['class']}`; for "
            f"{', '.join(k.replace('_', '-') for k in info['game_kinds'])} games. "
            f"One iteration: {info['iteration']}.",
            "",
        ]
        hps = {k: v for k, v in info["hyperparameters"].items() if k not in ("device", "threads", "check_memory")}
        if hps:
            details += ["| hyperparameter | default |", "|---|---|"]
            details += [f"| `{k}` | {_value(v)} |" for k, v in hps.items()]
            details.append("")
        if info["aliases"]:
            details += ["Deprecated names: " + ", ".join(f"`{a}` -> `{b}`" for a, b in info["aliases"].items()), ""]
with mkdocs_gen_files.open("reference/solvers.md", "w") as f:
    f.write("\n".join(rows + ["", *details]) + "\n")

# -- API reference: one page per public module --------------------------------------------------------
api_nav = mkdocs_gen_files.Nav()
for path in sorted((ROOT / "src" / "mfglearn").rglob("*.py")):
    parts = path.relative_to(ROOT / "src").with_suffix("").parts
    if any(p.startswith("_") and p != "__init__" for p in parts) or parts[-1] == "__main__":
        continue
    if parts[-1] == "__init__":
        parts = parts[:-1]
    ident = ".".join(parts)
    doc_path = Path("api", *parts[1:]).with_suffix(".md") if len(parts) > 1 else Path("api", "index.md")
    api_nav[parts[1:] or ("mfglearn",)] = doc_path.relative_to("api").as_posix()
    with mkdocs_gen_files.open(doc_path, "w") as f:
        f.write(f"# `{ident}`\n\n::: {ident}\n")
with mkdocs_gen_files.open("api/SUMMARY.md", "w") as f:
    f.writelines(api_nav.build_literate_nav())

# -- benchmarks: the committed results, rendered (so the page shows what the scripts last measured) ------
RESULTS = ROOT / "benchmarks" / "results"
TABLES = {
    "openspiel.json": ("OpenSpiel 2.0.2, same game, solver and iterations", "python benchmarks/bench_openspiel.py"),
    "mfglib.json": ("MFGLib 0.3.0, its ten environments", "python benchmarks/bench_mfglib.py"),
    "mfglib_scaling.json": ("MFGLib 0.3.0, growing state spaces", "python benchmarks/bench_mfglib.py --scaling"),
    "mfglib_disagreements.json": (
        "MFGLib 0.3.0: where the final exploitabilities differ, and why",
        "python benchmarks/mfglib_disagreements.py",
    ),
    "benchmfg.json": (
        "Bench-MFG 0.1.3 (JAX, JIT-compiled), ms per iteration",
        "python benchmarks/bench_benchmfg.py --iterations 30",
    ),
    "benchmfg_garnet.json": (
        "Bench-MFG 0.1.3, MF-Garnet as it grows",
        "python benchmarks/bench_benchmfg.py --garnet --sizes 10,25,50,100 --iterations 3",
    ),
    "mfglib_sweep.json": (
        "A 256-setting sweep on each MFGLib environment: one solve_batch against MFGLib's loop",
        "python benchmarks/bench_mfglib.py --sweep 256",
    ),
    "large_grid_scaling.json": (
        "One mirror-descent iteration from 10^2 to 10^6 states (time, peak memory against the data)",
        "python benchmarks/bench_large_grid.py --scaling",
    ),
    "large_grid.json": (
        "A million-state grid against the memory-traffic floor",
        "python benchmarks/bench_large_grid.py --skip-sparse",
    ),
    "compiled_step.json": (
        "The large grid's backward step: the eager passes against one torch.compile'd kernel",
        "python benchmarks/bench_compiled_step.py",
    ),
    "dense_static.json": (
        "A static dense kernel's push: its kept reordered copy against rebuilding it every push",
        "python benchmarks/bench_dense_static.py",
    ),
    "sparse_pull.json": (
        "A static sparse kernel's pull: one sparse product against the successor-by-successor gathers",
        "python benchmarks/bench_sparse_pull.py",
    ),
    "ops_per_iteration.json": (
        "Operators and host syncs per iteration on MFGLib's environments, rewards per step vs batched",
        "python benchmarks/ops_per_iteration.py",
    ),
    "populations_bench.json": (
        "Multi-population and routing games against OpenSpiel",
        "python benchmarks/bench_populations.py",
    ),
}
STUDIES = {
    "mf_trpo": ("MF-TRPO against fictitious play and OMD", "python benchmarks/study_mf_trpo.py"),
    "gmf_q": ("GMF-Q: the failure of naive Q-learning, the smoothing bias", "python benchmarks/study_gmf_q.py"),
    "finite_n": ("Finite-N exploitability of mean-field equilibria", "python benchmarks/study_finite_n.py"),
    "mfc": ("Mean-field control: MFC-K-Q against the exact optimum", "python benchmarks/study_mfc.py"),
    "deda_fp": (
        "DEDA-FP on LQ and the four rooms: exact reference, error budget, convergence",
        "python benchmarks/study_deda_fp.py lq|four_rooms|timing|budget|best_responses|converge",
    ),
    "deep_discrete": ("Deep RL on finite games against the exact solvers", "python benchmarks/study_deep_discrete.py"),
    "evacuation": (
        "Deep RL beyond exact tabular reach: a crowd evacuating a million-cell grid",
        "python benchmarks/study_evacuation.py",
    ),
    "braess": ("Braess's paradox: equilibrium, social optimum, price of anarchy", "python benchmarks/study_braess.py"),
    "populations": ("Predator-prey: curves and finite-N deviations", "python benchmarks/study_populations.py"),
    "benchmfg": ("Bench-MFG's protocol on its nine environments", "python benchmarks/study_benchmfg.py"),
}


def _cell(v: object) -> str:
    if isinstance(v, list):
        return ", ".join(_cell(x) for x in v)
    if isinstance(v, bool) or not isinstance(v, float):
        return str(v) if not isinstance(v, dict) else ", ".join(f"{k}: {_cell(x)}" for k, x in v.items())
    return f"{v:.4g}"


def _table(rows: list[dict]) -> list[str]:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    return out + [""]


page = [
    "# Benchmarks",
    "",
    "What the scripts in `benchmarks/` measured when their results were last committed, side by side with",
    "the peer libraries in the same run (ratios matter: machines are shared). Each script writes under `--out`,",
    "by default a scratch folder; `--out benchmarks/results/<name>` regenerates what is shown here.",
    "",
]
for name, (title, command) in TABLES.items():
    if not (RESULTS / name).exists():
        continue
    data = json.loads((RESULTS / name).read_text())
    page += [f"## {title}", "", f"`{command}`", ""]
    meta = {k: v for k, v in data.items() if not isinstance(v, (list, dict))}
    if meta:
        page += [", ".join(f"{k} = {_cell(v)}" for k, v in meta.items()), ""]
    for key, rows in data.items():
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            page += ([f"**{key}**", ""] if key != "rows" else []) + _table(rows)
page += ["# Studies", ""]
for folder, (title, command) in STUDIES.items():
    pngs = sorted((RESULTS / folder).glob("*.png"))
    if not pngs:
        continue
    page += [f"## {title}", "", f"`{command}`", ""]
    for png in pngs:
        target = f"benchmarks/{folder}/{png.name}"
        with mkdocs_gen_files.open(target, "wb") as f:
            f.write(png.read_bytes())
        page += [f"![{folder}: {png.stem}]({folder}/{png.name})", ""]
with mkdocs_gen_files.open("benchmarks/index.md", "w") as f:
    f.write("\n".join(page) + "\n")
