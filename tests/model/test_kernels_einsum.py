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


def test_a_static_dense_kernel_keeps_its_push_matrix_and_einsums_bits():
    import mfglearn

    g = torch.Generator().manual_seed(3)
    S, A = 7, 3
    P = torch.softmax(torch.randn(S, A, S, generator=g, dtype=torch.float64), -1)
    game = mfglearn.FiniteMFG(
        n_states=S, n_actions=A, mu0=torch.full((S,), 1 / S), reward=torch.zeros(S, A), transition=P, horizon=4
    )
    k = game.kernel_at(0)
    m = torch.rand(S, A, generator=g, dtype=torch.float64)
    first = k.push(m)
    assert "_push_copy" in k.__dict__  # a game's static kernel keeps the reordered copy
    assert torch.equal(k.push(m), first) and torch.equal(first, torch.einsum("...sa,sat->...t", m, k.P))
    fresh = DenseKernel(P)
    fresh.push(m)
    assert "_push_copy" not in fresh.__dict__  # a kernel built for one step does not
