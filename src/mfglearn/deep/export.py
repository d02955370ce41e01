"""Deep policies in portable formats: ``torch.export`` programs, TorchScript, ONNX.

A trained policy is saved with its run as ``state_dict`` + JSON settings (``result.safetensors``,
loadable with ``weights_only=True``); this module writes the *deterministic* policy
``(t, x) -> mean action`` as a standalone program that needs neither mfglearn nor its classes:
``torch.export.load(path).module()(t, x)``, ``torch.jit.load(path)(t, x)`` (also from C++), or any
ONNX runtime. The batch size is dynamic in every format.
"""

from __future__ import annotations

from pathlib import Path

import torch

from mfglearn._common.checks import check_int
from mfglearn.errors import MFGError, ValidationError

FORMATS = ("export", "torchscript", "onnx")


class MeanActionProgram(torch.nn.Module):
    """``forward(t (N,), x (N, d)) -> (N, action_dim)``: a policy's deterministic action, as one module."""

    def __init__(self, policy: torch.nn.Module):
        super().__init__()
        self.policy = policy

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.policy.mean_action(t, x)


def export_policy(policy: torch.nn.Module, path: str | Path, state_dim: int | None = None, format: str = "export"):
    """Write ``policy``'s deterministic action ``(t, x) -> a`` to ``path`` as a standalone program.

    Args:
        policy: a deep policy with ``mean_action(t, x)`` (``GaussianPolicy``, ``MixturePolicy``, a
            ``DeepFPResult.policy``).
        path: the file to write (``.pt2`` for ``export``, ``.pt`` for ``torchscript``, ``.onnx``).
        state_dim: ``d``; read from the policy's settings when it has them.
        format: ``"export"`` (``torch.export``, loads with ``torch.export.load``: the default),
            ``"torchscript"`` (``torch.jit.load``, also from C++; deprecated by PyTorch 2.13, which warns) or
            ``"onnx"`` (``pip install 'mfglearn[export]'``; runs in onnxruntime).

    Returns:
        The path written.
    """
    if format not in FORMATS:
        raise ValidationError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if not hasattr(policy, "mean_action"):
        raise ValidationError(f"{type(policy).__name__} has no mean_action(t, x): not a deep policy")
    if state_dim is None:
        first = policy.policies[0] if hasattr(policy, "policies") else policy
        state_dim = getattr(first, "config", {}).get("state_dim")
    if state_dim is None:
        raise ValidationError("give state_dim=: the policy does not record its state dimension")
    state_dim = check_int("state_dim", state_dim)
    program = MeanActionProgram(policy).eval()
    param = next(policy.parameters(), None)
    dtype, device = (param.dtype, param.device) if param is not None else (torch.float32, torch.device("cpu"))
    t, x = torch.zeros(4, dtype=dtype, device=device), torch.zeros(4, int(state_dim), dtype=dtype, device=device)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # the suffix tells torch.export the format
    if format == "export":
        batch = torch.export.Dim("batch", min=1)
        ep = torch.export.export(program, (t, x), dynamic_shapes={"t": {0: batch}, "x": {0: batch}})
        torch.export.save(ep, str(tmp))
    elif format == "torchscript":
        torch.jit.save(torch.jit.trace(program, (t, x), check_trace=False), str(tmp))
    else:
        try:
            import onnx  # noqa: F401
            import onnxscript  # noqa: F401  (torch.onnx.export(dynamo=True) needs it)
        except ImportError:
            raise MFGError("ONNX export needs onnx and onnxscript: pip install 'mfglearn[export]'") from None
        batch = torch.export.Dim("batch", min=1)
        torch.onnx.export(
            program,
            (t, x),
            str(tmp),
            input_names=["t", "x"],
            output_names=["action"],
            dynamic_shapes={"t": {0: batch}, "x": {0: batch}},
            dynamo=True,
            verbose=False,
        )
    tmp.replace(path)  # atomically: a reader never sees half a program
    return path
