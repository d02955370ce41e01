"""Lazy matplotlib import with the non-interactive backend."""

from __future__ import annotations

from mfglearn.errors import missing_extra


def pyplot():
    """``matplotlib.pyplot`` with the Agg backend, or a clear error naming the extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise missing_extra("matplotlib", "plot") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save(fig, path) -> str:
    """Save ``fig`` to ``path`` atomically (PNG/SVG/PDF by extension) and close it."""
    import io
    from pathlib import Path

    from mfglearn._common.io import atomic_write_bytes

    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=130, bbox_inches="tight")
    pyplot().close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return str(path)
