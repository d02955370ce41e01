"""Sums over a short last axis by adding columns (``sum_last``) give torch's sum bit for bit."""

import pytest
import torch

from mfglearn.core.value import _SHORT_SUM_MIN_ROWS, action_dot, sum_last


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("lead", [(_SHORT_SUM_MIN_ROWS,), (2, 256, 3), (4000,), (3,)])
def test_sum_last_is_torch_sum_bit_for_bit(dtype, n, lead):
    gen = torch.Generator().manual_seed(n)
    # magnitudes 1e-8..1e8 in a random order: any other order of addition rounds differently
    scale = torch.logspace(-8, 8, n, dtype=dtype)[torch.randperm(n, generator=gen)]
    x = torch.randn(*lead, n, generator=gen, dtype=dtype) * scale
    for layout in (x, x.movedim(-1, 0).contiguous().movedim(0, -1)):  # row-major and action-major
        assert torch.equal(sum_last(layout), layout.sum(-1))
        out = torch.full(lead, float("nan"), dtype=dtype)
        assert sum_last(layout, out=out) is out
        assert torch.equal(out, layout.sum(-1))
        pi = torch.rand(*lead, n, generator=gen, dtype=dtype)
        assert torch.equal(action_dot(pi, layout), (pi * layout).sum(-1))


def test_sum_last_takes_scalars_and_single_columns():
    assert sum_last(torch.tensor(2.5)).item() == 2.5
    x = torch.rand(300, 1, dtype=torch.float64)
    assert torch.equal(sum_last(x), x.sum(-1))
