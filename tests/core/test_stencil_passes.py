"""The stencil's fused passes (pull into a given tensor, push from either layout) and the greedy policy from
per-step indices, against the generic gather/scatter kernel and torch's argmax."""

import copy

import pytest
import torch

import mfglearn
from mfglearn.core.flow import mean_field_flow
from mfglearn.core.value import action_dot, best_response, first_maximiser, freeze, one_hot
from mfglearn.errors import ShapeError
from mfglearn.model.kernels import GridKernel
from mfglearn.model.layout import empty, is_action_major


@pytest.mark.parametrize("noise", [0.0, 0.3])
@pytest.mark.parametrize("action_major", [True, False])
def test_pull_into_out_and_push_match_the_sparse_kernel(noise, action_major):
    gen = torch.Generator().manual_seed(1)
    free = torch.rand(7, 9, generator=gen) > 0.3
    k = GridKernel(free, noise)
    sp = k.to_sparse()
    S = k.n_states
    v = torch.rand(3, S, generator=gen, dtype=torch.float64)
    Q = empty((3, 4, S, 5), action_major=action_major, dtype=torch.float64)
    Q.fill_(float("nan"))
    got = k.pull(v, out=Q[:, 2])
    assert got.data_ptr() == Q[:, 2].data_ptr()  # written in place: no temporary
    torch.testing.assert_close(Q[:, 2], sp.pull(v))
    assert Q[:, [0, 1, 3]].isnan().all()  # nothing else touched
    with pytest.raises(ShapeError, match=r"pull out must have shape \(3, 63, 5\)"):
        k.pull(v, out=Q[0])
    m = torch.rand(S, 5, generator=gen, dtype=torch.float64)
    m = m if not action_major else m.T.contiguous().T
    torch.testing.assert_close(k.push(m), sp.push(m))
    assert k.push(m).sum().item() == pytest.approx(m.sum().item(), rel=1e-14)  # mass is conserved


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_push_policy_is_the_push_of_the_product_bit_for_bit(noise):
    # the flow's step: the stencil forms mu * pi_a one action at a time, the generic kernel the whole product
    gen = torch.Generator().manual_seed(3)
    k = GridKernel(torch.rand(8, 11, generator=gen) > 0.25, noise, dtype=torch.float32)
    sp = k.to_sparse()
    mu = torch.rand(k.n_states, generator=gen)
    pi = torch.softmax(torch.randn(k.n_states, 5, generator=gen), -1)
    for layout in (pi, pi.T.contiguous().T):
        assert torch.equal(k.push_policy(mu, layout), k.push(mu.unsqueeze(-1) * layout))
        assert torch.equal(sp.push_policy(mu, layout), sp.push(mu.unsqueeze(-1) * layout))
        torch.testing.assert_close(k.push_policy(mu, layout), sp.push_policy(mu, layout))
    mus, pis = mu.expand(2, -1), pi.expand(2, -1, -1)  # a batch: the generic product and push
    assert torch.equal(k.push_policy(mus, pis), k.push(mus.unsqueeze(-1) * pis))
    with pytest.raises(ShapeError, match=r"push_policy needs mu \(\.\.\., 88\) and pi \(\.\.\., 88, 5\)"):
        k.push_policy(mu[:-1], pi)
    with pytest.raises(ShapeError, match="same leading axes"):
        k.push_policy(mus, pi)


def test_first_maximiser_is_argmax_with_ties_and_illegal_actions():
    gen = torch.Generator().manual_seed(2)
    q = torch.randint(0, 3, (70000, 5), generator=gen).to(torch.float32)  # many ties
    q[::7, 1] = float("-inf")
    for layout in (q, q.T.contiguous().T):
        best = layout.amax(-1)
        idx = first_maximiser(layout, best)
        assert idx.dtype == torch.uint8
        assert torch.equal(idx.long(), q.argmax(-1))
        pol = one_hot(idx, layout)
        assert is_action_major(pol) == is_action_major(layout)
        assert torch.equal(pol, torch.nn.functional.one_hot(q.argmax(-1), 5).float())
    pi = torch.softmax(torch.randn(70000, 5, generator=gen), -1)
    qf = torch.randn(70000, 5, generator=gen)
    torch.testing.assert_close(action_dot(pi, qf), (pi * qf).sum(-1))


def test_best_response_on_the_stencil_equals_the_sparse_kernel():
    # 120 x 120 cells: each step's (S, A) is above the size where the passes go plane by plane
    game = mfglearn.make("large_grid", rows=120, cols=120, horizon=4, wall_density=0.2, noise=0.2)
    sparse = copy.copy(game)
    sparse._static_kernel = game._static_kernel.to_sparse()
    pi = game.uniform_policy()
    V, Q, br = best_response(freeze(game, mean_field_flow(game, pi)))
    Vs, Qs, brs = best_response(freeze(sparse, mean_field_flow(sparse, pi)))
    assert is_action_major(Q) and not is_action_major(Qs)
    torch.testing.assert_close(V, Vs, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(Q, Qs, rtol=1e-12, atol=1e-12)
    # the same greedy policy wherever the maximiser is unique (ties may break differently after round-off)
    top2 = Qs.topk(2, -1).values
    unique = (top2[..., 0] - top2[..., 1]) > 1e-9
    assert unique.float().mean() > 0.5
    assert torch.equal(br.argmax(-1)[unique], brs.argmax(-1)[unique])
    assert torch.equal(br.sum(-1), torch.ones_like(br.sum(-1)))
