"""Docstring text for humans: reStructuredText roles and double backticks as plain inline code."""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|const):`(~?)([^`]+)`")


def plain(text: str, code: str = "`") -> str:
    """``:class:`~a.b.C` `` -> ``` `C` ``` (the last dotted part when the target starts with ``~``) and
    ````x```` -> ```` `x` ````; ``code=""`` drops the backticks (terminal output)."""

    def repl(m: re.Match) -> str:
        target = m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2)
        return f"{code}{target}{code}"

    return _ROLE.sub(repl, text).replace("``", code if code else "")
