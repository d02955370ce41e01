"""Deep policies export to standalone programs that give the same actions, at any batch size."""

import pytest
import torch

from mfglearn.deep.cloning import GaussianPolicy
from mfglearn.deep.export import export_policy
from mfglearn.deep.fictitious_play import MixturePolicy
from mfglearn.errors import ValidationError


@pytest.fixture
def states():
    g = torch.Generator().manual_seed(1)
    return torch.arange(9.0), torch.randn(9, 2, generator=g)


def test_torch_export_program_matches_the_policy(tmp_path, states):
    torch.manual_seed(0)
    policy = GaussianPolicy(2, 1, horizon=10.0, bound=2.0)
    path = export_policy(policy, tmp_path / "pi.pt2", format="export")
    program = torch.export.load(str(path)).module()  # no mfglearn class is needed to run it
    t, x = states
    assert torch.equal(program(t, x), policy.mean_action(t, x))
    assert program(t[:3], x[:3]).shape == (3, 1)  # the batch is dynamic
    assert not list(tmp_path.glob(".*"))  # written atomically: no temporary file left


def test_programs_of_a_mixture(tmp_path, states):
    torch.manual_seed(0)
    mix = MixturePolicy([GaussianPolicy(2, 1, horizon=10.0), GaussianPolicy(2, 1, horizon=10.0)])
    t, x = states
    program = torch.export.load(str(export_policy(mix, tmp_path / "mix.pt2"))).module()
    assert torch.allclose(program(t, x), mix.mean_action(t, x))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # TorchScript is deprecated in PyTorch 2.13; kept for C++
def test_torchscript_program(tmp_path, states):
    torch.manual_seed(0)
    policy = GaussianPolicy(2, 1, horizon=10.0)
    program = torch.jit.load(str(export_policy(policy, tmp_path / "pi.pt", format="torchscript")))
    t, x = states
    assert torch.allclose(program(t, x), policy.mean_action(t, x))


def test_bad_format_and_non_policies_are_named(tmp_path):
    with pytest.raises(ValidationError, match="format must be one of"):
        export_policy(GaussianPolicy(2, 1, horizon=1.0), tmp_path / "p", format="pickle")
    with pytest.raises(ValidationError, match="no mean_action"):
        export_policy(torch.nn.Linear(2, 1), tmp_path / "p.pt")
    with pytest.raises(ValidationError, match="state_dim"):
        export_policy(GaussianPolicy(2, 1, horizon=1.0), tmp_path / "p.pt2", state_dim=0)


@pytest.mark.filterwarnings("ignore")  # the ONNX exporter's own chatter (torchvision absent, deprecations)
def test_onnx_program_runs_in_onnxruntime(tmp_path, states):
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    policy = GaussianPolicy(2, 1, horizon=10.0, bound=2.0)
    path = export_policy(policy, tmp_path / "pi.onnx", format="onnx")
    session = ort.InferenceSession(str(path))
    t, x = states
    (out,) = session.run(None, {"t": t.numpy(), "x": x.numpy()})
    assert torch.allclose(torch.from_numpy(out), policy.mean_action(t, x), atol=1e-6)
