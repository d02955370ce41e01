"""MF-OMI-FBS: the matrix-free projection satisfies the KKT conditions; the solver converges and resumes."""

import pytest
import torch

import mfglearn
from mfglearn.core.flow import mean_field_flow
from mfglearn.errors import ValidationError
from mfglearn.solvers.occupation import kernels_and_rewards
from mfglearn.solvers.omi import OccupationMeasureInclusion, constraint_matrix, project_occupation


@pytest.mark.parametrize(
    "gid, kw",
    [
        ("mfglib/beach_bar", {}),
        ("mfglib/susceptible_infected", {"T": 8}),
        ("mfglib/crowd_motion", {"torus_l": 5, "torus_w": 5}),
    ],
)
def test_projection_is_the_euclidean_projection(gid, kw):
    """KKT: x >= 0, A x = b, and x - d = A^T lam on the support, A^T lam + d <= 0 off it."""
    game = mfglearn.make(gid, **kw)
    d = mean_field_flow(game, game.uniform_policy()).sa
    kernels, r = kernels_and_rewards(game, d)
    target = d + 0.5 * r + 0.3 * torch.randn(d.shape, generator=torch.Generator().manual_seed(0), dtype=d.dtype)
    x, lam = project_occupation(game, kernels, target)
    H, S, A = d.shape
    Am = constraint_matrix(game, kernels, H)
    b = torch.zeros(H * S, dtype=d.dtype)
    b[-S:] = game.mu0
    assert float(x.min()) >= 0
    assert float((torch.sparse.mm(Am, x.reshape(-1, 1)).squeeze(1) - b).abs().max()) < 1e-8
    g = target.reshape(-1) + torch.sparse.mm(Am.t(), lam.reshape(-1, 1)).squeeze(1)
    xf = x.reshape(-1)
    support = xf > 1e-12
    assert float((xf[support] - g[support]).abs().max()) < 1e-7
    assert float(g[~support].max()) < 1e-7 if (~support).any() else True
    # and it is closer to the target than the flow it started from (a feasible point)
    assert float((x - target).norm()) <= float((d - target).norm()) + 1e-12


def test_omi_converges_on_a_monotone_game_and_resumes(tmp_path):
    game = mfglearn.make("mfglib/beach_bar")
    full = OccupationMeasureInclusion(game, learning_rate=0.5)
    full.solve(30)
    assert full.history["exploitability"][-1] < 0.2 * full.history["exploitability"][0]
    a = OccupationMeasureInclusion(game, learning_rate=0.5)
    a.solve(15)
    ckpt = tmp_path / "omi.pt"
    a.save_checkpoint(ckpt)
    b = OccupationMeasureInclusion(game, learning_rate=0.5)
    b.load_checkpoint(ckpt)
    b.solve(15)
    assert b.history["exploitability"] == pytest.approx(full.history["exploitability"], rel=1e-9)


def test_bad_input():
    with pytest.raises(ValidationError, match="learning_rate must be a finite number > 0"):
        OccupationMeasureInclusion(mfglearn.make("mfglib/left_right"), learning_rate=0)
