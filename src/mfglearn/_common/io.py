"""Atomic, safe files: write to a temporary file in the same folder, fsync, rename; never unpickle.

A crash or Ctrl-C leaves either the old file or the new one, never half of one.

:func:`save_state` / :func:`load_state` store any nested structure of tensors, numbers,
strings, lists, tuples and dicts (a checkpoint, a result, an optimiser's state) in **one**
safetensors file: the tensors as safetensors data, the rest as a JSON skeleton in the file's
header. Loading parses JSON and raw tensor bytes only, so a crafted file cannot run code.
"""

from __future__ import annotations

import functools
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from mfglearn.errors import ValidationError

_SKELETON = "mfglearn.skeleton"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file 0600; a written result gets the permissions the user's umask asks for
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


@functools.cache
def _umask() -> int:
    # reading the umask means setting it: done once per process (not per write, which could race with threads)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented, standard JSON to ``path`` atomically (NaN and infinities become ``null``)."""
    return atomic_write_text(path, dumps_json(obj, indent=2) + "\n")


def dumps_json(obj: Any, **kwargs) -> str:
    """Standard JSON (``NaN``/``Infinity`` are not JSON: they are written as ``null``); tensors as lists."""
    return json.dumps(finite_or_none(obj), sort_keys=True, default=jsonable, allow_nan=False, **kwargs)


def finite_or_none(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by ``None`` (containers copied)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return finite_or_none(obj.tolist())
    return obj


def jsonable(o: Any):
    """``json.dumps`` fallback: tensors as lists, dtypes, devices and paths as strings."""
    if isinstance(o, torch.Tensor):
        return o.tolist()
    if isinstance(o, (torch.dtype, torch.device, Path)):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _encode(obj: Any, tensors: dict[str, torch.Tensor], where: str) -> Any:
    if isinstance(obj, torch.Tensor):
        key = str(len(tensors))
        tensors[key] = obj.detach().to("cpu").contiguous().clone()
        return {"__tensor__": key}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, torch.dtype):
        return {"__dtype__": str(obj).removeprefix("torch.")}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, tensors, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, tensors, f"{where}.{k}") for k, v in obj.items()}
        return {
            "__items__": [[_encode(k, tensors, where), _encode(v, tensors, f"{where}[{k!r}]")] for k, v in obj.items()]
        }
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _encode(obj.item(), tensors, where)
    raise TypeError(f"cannot store {where} of type {type(obj).__name__} (only tensors, numbers, str, list, dict)")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__dtype__" in obj:
        return getattr(torch, obj["__dtype__"])
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    if "__items__" in obj:
        return {_decode_key(k, tensors): _decode(v, tensors) for k, v in obj["__items__"]}
    return {k: _decode(v, tensors) for k, v in obj.items()}


def _decode_key(k, tensors):
    k = _decode(k, tensors)
    return tuple(k) if isinstance(k, list) else k


def dumps_state(obj: Any) -> bytes:
    """``obj`` (nested tensors, numbers, strings, lists, tuples, dicts) as safetensors bytes."""
    from safetensors.torch import save

    tensors: dict[str, torch.Tensor] = {}
    skeleton = _encode(obj, tensors, "state")
    return save(tensors, metadata={_SKELETON: json.dumps(skeleton)})


def save_state(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` to ``path`` atomically in the safe format (see the module docstring)."""
    return atomic_write_bytes(path, dumps_state(obj))


def load_state(path: str | os.PathLike, map_location: str | torch.device | None = None) -> Any:
    """Read a file written by :func:`save_state` (tensors on ``map_location``, default CPU)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path} does not exist")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no iterator)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValidationError(f"{path} is not an mfglearn state file (safetensors): {exc}") from None
    if _SKELETON not in meta:
        raise ValidationError(f"{path} is a safetensors file but holds no mfglearn state")
    if map_location is not None:
        tensors = {k: v.to(map_location) for k, v in tensors.items()}
    try:
        return _decode(json.loads(meta[_SKELETON]), tensors)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValidationError(f"{path} is corrupted: its structure does not match its tensors ({exc})") from None
