"""Every Python code block of the README and of the documentation runs as written, on its own
(no names from other blocks), so that none can drift from the code or use an undefined name."""

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCKS = [
    (page.relative_to(ROOT).as_posix(), i, code)
    for page in PAGES
    for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))
]


def test_the_pages_have_code_blocks():
    pages = {p for p, _, _ in BLOCKS}
    assert sum(p == "README.md" for p, _, _ in BLOCKS) >= 5
    assert len(pages) >= 10, pages  # the README and most documentation pages


@pytest.mark.parametrize("page,i,code", BLOCKS, ids=[f"{p}:{i}" for p, i, _ in BLOCKS])
def test_code_block_runs(page, i, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # convergence warnings are part of what some blocks show
        exec(compile(code, f"{page} python block {i}", "exec"), {"__name__": "__docs__"})
