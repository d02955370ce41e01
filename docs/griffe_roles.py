"""A griffe extension: Sphinx roles in docstrings (``:func:`x` ``) rendered as inline code.

The package's docstrings use reStructuredText roles so that ``help()`` and IDEs read well; the
documentation site renders Markdown, where a role would print verbatim.
"""

from __future__ import annotations

import griffe

from mfglearn._common.text import plain


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring's roles and double backticks once it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:  # noqa: ARG002
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
