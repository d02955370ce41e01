"""Action-major storage of (..., S, A) tensors on stencil games: same numbers as row-major, plane-wise kernels."""

import copy

import pytest
import torch

import mfglearn
from mfglearn.core.value import greedy
from mfglearn.model.layout import empty, is_action_major, to_action_major


def test_layout_helpers():
    x = torch.randn(3, 7, 5)
    y = to_action_major(x)
    assert is_action_major(y) and not is_action_major(x) and torch.equal(x, y)
    assert to_action_major(y) is y
    assert is_action_major(empty((2, 7, 5), action_major=True)) and not is_action_major(
        empty((2, 7, 5), action_major=False)
    )
    assert not is_action_major(torch.randn(7, 1))  # one action: no layout to speak of


@pytest.mark.parametrize("legal", [False, True])
def test_greedy_on_planes_equals_argmax_with_ties(legal):
    g = torch.Generator().manual_seed(0)
    Q = torch.randint(0, 3, (4, 50, 5), generator=g).double()  # many exact ties
    mask = torch.rand(50, 5, generator=g) < 0.7 if legal else None
    if mask is not None:
        mask[:, 2] = True  # every state keeps a legal action
    row = greedy(Q, mask)
    planes = greedy(to_action_major(Q), mask)
    assert is_action_major(planes) and torch.equal(row, planes)


def test_stencil_pull_is_action_major_and_equals_the_sparse_kernel():
    game = mfglearn.make("large_grid", rows=9, cols=7, horizon=3, wall_density=0.2)
    k = game.kernel_at(0)
    v = torch.randn(2, game.S, dtype=torch.float64)
    out = k.pull(v)
    assert out.shape == (2, game.S, 5) and is_action_major(out)
    assert torch.allclose(out, k.to_sparse().pull(v), atol=1e-14)
    m = to_action_major(torch.rand(game.S, 5, dtype=torch.float64))
    assert torch.allclose(k.push(m), k.to_sparse().push(m.contiguous()), atol=1e-14)


@pytest.mark.parametrize("solver", ["mirror_descent", "fictitious_play", "prior_descent", "boltzmann_policy_iteration"])
def test_stencil_solves_stay_action_major_and_match_the_sparse_kernel(solver):
    game = mfglearn.make("large_grid", rows=10, cols=8, horizon=5, wall_density=0.2)
    sparse = copy.copy(game)
    sparse._static_kernel = game._static_kernel.to_sparse()
    assert is_action_major(game.uniform_policy()) and not is_action_major(sparse.uniform_policy())
    algo = mfglearn.make_algorithm(game, solver)
    algo.step()
    assert is_action_major(algo.policy)
    a = mfglearn.solve(game, solver, iterations=6)
    b = mfglearn.solve(sparse, solver, iterations=6)
    assert a.history["exploitability"] == pytest.approx(b.history["exploitability"], rel=1e-9, abs=1e-12)
    assert torch.allclose(a.policy, b.policy, atol=1e-9)
