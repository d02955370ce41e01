"""Every example script runs with its small budgets (``--quick``) and every exploitability it reports fell.

The scripts print "exploitability LABEL: START -> END" for each solve, START being the initial policy's.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
LINE = re.compile(r"^exploitability (?P<label>.+?): (?P<start>\S+) -> (?P<end>[0-9.eE+-]+)", re.M)


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_lowers_the_exploitability(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, str(script), "--quick"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    found = list(LINE.finditer(out.stdout))
    assert found, f"{script.name} reports no exploitability:\n{out.stdout}"
    for m in found:
        start, end = float(m["start"]), float(m["end"])
        assert end < start, f"{script.name}: {m['label']} went from {start} to {end}"
