"""DenseKernel's push and pull give torch.einsum's bits (the kernels call the products einsum makes)."""

import pytest
import torch

from mfglearn.model.kernels import DenseKernel


@pytest.mark.parametrize("lead", [(), (2,), (3, 4), (256,)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_dense_push_and_pull_equal_einsum_bit_for_bit(lead, dtype):
    g = torch.Generator().manual_seed(len(lead))
    for _ in range(40):
        S = int(torch.randint(1, 60, (1,), generator=g))
        A = int(torch.randint(1, 7, (1,), generator=g))
        P = torch.softmax(torch.randn(S, A, S, generator=g, dtype=dtype), -1)
        k = DenseKernel(P)
        m = torch.rand(*lead, S, A, generator=g, dtype=dtype)
        v = torch.randn(*lead, S, generator=g, dtype=dtype)
        assert torch.equal(k.push(m), torch.einsum("...sa,sat->...t", m, P)), (S, A)
        assert torch.equal(k.pull(v), torch.einsum("sat,...t->...sa", P, v) if lead else P @ v), (S, A)
