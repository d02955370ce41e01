"""FiniteMFG construction, kernels and validation errors."""

import pytest
import torch

import mfglearn
from mfglearn import FiniteMFG
from mfglearn.core.flow import mean_field_flow
from mfglearn.errors import ShapeError, UnknownNameError, ValidationError
from mfglearn.model.kernels import ComposedKernel, DenseKernel, SparseKernel, _check_index_prob


def tiny(**over):
    kw = dict(
        n_states=2,
        n_actions=2,
        mu0=[0.5, 0.5],
        reward=torch.zeros(2, 2),
        transition=torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]),
        horizon=3,
    )
    kw.update(over)
    return FiniteMFG(**kw)


def test_game_from_arrays_in_a_few_lines():
    g = tiny()
    assert (g.S, g.A, g.H) == (2, 2, 3)
    pi = g.uniform_policy()
    assert pi.shape == (3, 2, 2)
    assert mfglearn.exploitability(g, pi) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "over, match",
    [
        (dict(mu0=[0.7, 0.7]), "mu0 sums to 1.4"),
        (dict(mu0=[1.5, -0.5]), r"mu0\[1\] is -0.5"),
        (dict(mu0=[0.5, 0.5, 0.0]), r"mu0 must have shape \(2,\)"),
        (dict(mu0=[float("nan"), 1.0]), r"mu0\[0\] is nan"),
        (dict(reward=torch.zeros(3, 2)), "reward must have shape"),
        (
            dict(reward=torch.tensor([[0.0, float("inf")], [0, 0]])),
            r"reward tensor of game .custom. \(axes \[s, a\]\) is inf at index \[0, 1\]",
        ),
        (dict(transition=torch.tensor([[[0.5, 0.4], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])), r"\(0, 0\) sum to 0.9"),
        (
            dict(transition=torch.tensor([[[1.2, -0.2], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])),
            r"\[s, a, s'\]=\(0, 0, 1\) is -0.2",
        ),
        (dict(transition=torch.zeros(2, 2, 3)), r"shape \(S, A, S\)"),
        (dict(horizon=0), "horizon must be a positive integer"),
        (dict(horizon=None), "exactly one of horizon"),
        (dict(horizon=None, gamma=1.0), r"gamma must be in \[0, 1\)"),
        (dict(legal=torch.tensor([[True, False], [False, False]])), r"legal\[1\] allows no action"),
    ],
)
def test_bad_game_input_names_the_entry(over, match):
    with pytest.raises(ValidationError, match=match):
        tiny(**over)


def test_sparse_index_out_of_range():
    idx = torch.tensor([[[0], [5]], [[1], [0]]])
    with pytest.raises(ValidationError, match=r"successor index\[s, a, b\]=\(0, 1, 0\) is 5, outside 0..1"):
        tiny(transition=(idx, torch.ones(2, 2, 1)))


@pytest.mark.parametrize(
    "prob, index, match",
    [
        ([[[float("nan"), 1.0]]], None, r"\(0, 0, 0\) is nan; all entries must be finite"),
        ([[[float("inf"), float("-inf")]]], None, r"\(0, 0, 0\) is inf"),
        ([[[1.0 + 1e-5, 0.0]]], None, r"\(0, 0\) sum to 1.00001"),
        ([[[1.5, -0.5]]], None, r"\(0, 0, 1\) is -0.5 < 0"),
        ([[[0.5, 0.5]]], [[[0, -1]]], r"\(0, 0, 1\) is -1, outside 0..1"),
        ([[[0.5, 0.5]]], [[[2, 0]]], r"\(0, 0, 0\) is 2, outside 0..1"),
        ([[[]]], [[[]]], r"sum to 0, not 1"),
    ],
)
def test_kernel_check_rejects_every_kind_of_bad_row(prob, index, match):
    # the fast path reads back four extremes: each kind of bad entry must still fail it and be named
    prob = torch.tensor(prob, dtype=torch.float64).reshape(1, 1, -1)
    index = None if index is None else torch.tensor(index, dtype=torch.int64).reshape(1, 1, -1)
    with pytest.raises(ValidationError, match=match):
        _check_index_prob(index, prob, 2, "k", "[s, a, b]")


def test_kernel_check_accepts_rows_within_its_tolerance():
    prob = torch.tensor([[[1.0 - 5e-7, 5e-7 - 5e-7]], [[0.25, 0.75]]], dtype=torch.float64)
    _check_index_prob(torch.tensor([[[0, 1]], [[1, 1]]]), prob, 2, "k", "[s, a, b]")
    _check_index_prob(None, torch.tensor([[[1.0 + 9e-7, -9e-7]]], dtype=torch.float64), 2, "k", "[s, a, b]")


def test_callable_reward_with_wrong_shape():
    with pytest.raises(ShapeError, match=r"must return shape \(2, 2\)"):
        tiny(reward=lambda t, mu: torch.zeros(5))


def test_bad_policy_errors():
    g = tiny()
    with pytest.raises(ShapeError, match=r"policy must have shape \(3, 2, 2\)"):
        mfglearn.exploitability(g, torch.ones(3, 2, 3) / 3)
    with pytest.raises(ValidationError, match="policy sums to 2"):
        mfglearn.exploitability(g, torch.ones(3, 2, 2))
    g2 = tiny(legal=torch.tensor([[True, False], [True, True]]))
    with pytest.raises(ValidationError, match="illegal action"):
        mfglearn.exploitability(g2, torch.full((3, 2, 2), 0.5))


def test_unknown_names():
    with pytest.raises(UnknownNameError, match="unknown game 'four_room'.*Did you mean four_rooms"):
        mfglearn.make("four_room")
    with pytest.raises(UnknownNameError, match="has no parameter 'horizn'"):
        mfglearn.make("four_rooms", horizn=3)
    with pytest.raises(UnknownNameError, match="unknown solver"):
        mfglearn.solve(tiny(), "nope")
    with pytest.raises(UnknownNameError, match="has no hyperparameter 'lr'"):
        mfglearn.solve(tiny(), "mirror_descent", lr=0.1)


def _random_sparse(S=7, A=3, B=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, S, (S, A, B), generator=g)
    p = torch.rand(S, A, B, generator=g, dtype=torch.float64)
    return SparseKernel(idx, p / p.sum(-1, keepdim=True))


def test_kernels_agree_with_dense_and_are_adjoint():
    g = torch.Generator().manual_seed(1)
    S, A = 7, 3
    sp = _random_sparse(S, A)
    move = torch.randint(0, S, (S, A), generator=g)
    nidx = torch.randint(0, S, (S, 2), generator=g)
    npb = torch.rand(S, 2, generator=g, dtype=torch.float64)
    comp = ComposedKernel(move, nidx, npb / npb.sum(-1, keepdim=True))
    for k in (sp, comp, DenseKernel(sp.dense())):
        P = k.dense()
        m = torch.rand(S, A, generator=g, dtype=torch.float64)
        v = torch.rand(S, generator=g, dtype=torch.float64)
        torch.testing.assert_close(k.push(m), torch.einsum("sa,sat->t", m, P))
        torch.testing.assert_close(k.pull(v), P @ v)
        # adjointness <push m, v> = <m, pull v>
        torch.testing.assert_close((k.push(m) * v).sum(), (m * k.pull(v)).sum())
        assert torch.allclose(P.sum(-1), torch.ones(S, A, dtype=torch.float64))


SMALL = {
    "large_grid": dict(rows=20, cols=30, horizon=10, wall_density=0.3),
    "evacuation": dict(rows=20, cols=30, horizon=10),
    # quantised MF-Garnet kernels jump with the mean field (no exact fixed point); its continuous version has one
    "benchmfg/mf_garnet": dict(n_states=12, quantize=False),
    "openspiel/dynamic_routing_sioux_falls": dict(horizon=6),
    "openspiel/dynamic_routing_sioux_falls_dummy_demand": dict(horizon=10),
}


@pytest.mark.parametrize("gid", mfglearn.list_games())
def test_every_game_conserves_mass(gid):
    g = mfglearn.make(gid, **SMALL.get(gid, {}))
    if not isinstance(g, FiniteMFG):
        pytest.skip("static game: no flow")
    if not g.is_finite_horizon:
        from mfglearn.core.stationary import stationary_distribution

        pi = g.uniform_policy()
        mu = stationary_distribution(g, pi)
        m = mu.unsqueeze(-1) * pi if g.mean_field == "state_action" else mu
        torch.testing.assert_close(g.kernel_at(0, m).push(mu.unsqueeze(-1) * pi), mu)
        assert mu.sum().item() == pytest.approx(1.0) and (mu >= 0).all()
        return
    flow = mean_field_flow(g, g.uniform_policy())
    torch.testing.assert_close(flow.mu.sum(-1), torch.ones(g.H + 1, dtype=torch.float64))
    assert (flow.mu >= 0).all()


def test_state_action_mean_field_game():
    # reward depends on how many agents take each action: a congestion game on actions
    g = FiniteMFG(
        n_states=1,
        n_actions=2,
        mu0=[1.0],
        reward=lambda t, L: -L.sum(0).expand(1, 2),
        transition=torch.zeros(1, 2, dtype=torch.long),
        horizon=1,
        mean_field="state_action",
    )
    r = mfglearn.solve(g, "fictitious_play", iterations=200, initial_policy=torch.tensor([[[0.9, 0.1]]]))
    torch.testing.assert_close(r.policy[0, 0], torch.tensor([0.5, 0.5], dtype=torch.float64), atol=1e-2, rtol=0)


def test_grid_kernel_matches_its_sparse_form():
    from mfglearn.model.kernels import GridKernel

    gen = torch.Generator().manual_seed(0)
    free = torch.rand(6, 7, generator=gen) > 0.25
    k = GridKernel(free, 0.3)
    sp = k.to_sparse()
    m = torch.rand(42, 5, generator=gen, dtype=torch.float64)
    v = torch.rand(2, 42, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(k.push(m), sp.push(m))
    torch.testing.assert_close(k.pull(v), sp.pull(v))
    # walls stay empty
    assert k.push(m * free.reshape(-1, 1))[~free.reshape(-1)].abs().max() == 0


def test_finite_check_survives_an_overflowing_sum_and_still_catches_inf():
    from mfglearn.model.finite import _check_values

    big = torch.full((4, 3), 3e38, dtype=torch.float32)  # finite entries whose float32 sum overflows
    _check_values(big, "reward", None)
    big[2, 1] = float("inf")
    with pytest.raises(ValidationError, match=r"reward is inf at index \[2, 1\]"):
        _check_values(big, "reward", None)
    nan = torch.zeros(3, 2, dtype=torch.float64)
    nan[1, 0] = float("nan")
    with pytest.raises(ValidationError, match=r"at index \[1, 0\]"):
        _check_values(nan, "reward", None)


def test_sparse_push_through_its_matrix_matches_bincount_and_batches_bit_for_bit(monkeypatch):
    import mfglearn.model.kernels as kernels
    from mfglearn.model.kernels import SparseKernel

    gen = torch.Generator().manual_seed(4)
    S, A, K = 300, 4, 5
    index = torch.randint(0, S, (S, A, K), generator=gen)
    index[:, :, 1] = index[:, :, 0]  # repeated successors are merged in the matrix
    prob = torch.rand(S, A, K, generator=gen, dtype=torch.float64)
    k = SparseKernel(index, prob / prob.sum(-1, keepdim=True))
    assert k.index.numel() >= kernels.MATRIX_PUSH_MIN
    m = torch.rand(7, S, A, generator=gen, dtype=torch.float64)
    k.push(m)
    assert "_push_matrix" not in k.__dict__  # a kernel of its own (new every step, as mean-field-dependent ones)
    game = FiniteMFG(
        n_states=S, n_actions=A, mu0=torch.full((S,), 1 / S), reward=torch.zeros(S, A), transition=k, horizon=2
    )
    k = game.kernel_at(0)
    batch = k.push(m)
    assert "_push_matrix" in k.__dict__
    assert all(torch.equal(batch[i], k.push(m[i])) for i in range(7))  # members push with their solo bits
    monkeypatch.setattr(kernels, "MATRIX_PUSH_MIN", 1 << 40)
    torch.testing.assert_close(batch, k.push(m), rtol=1e-14, atol=1e-15)  # the bincount path


@pytest.mark.parametrize("K, small", [(3, True), (3, False), (4, True), (5, False), (7, False)])
def test_sparse_pull_through_its_matrix_is_the_gathers_bit_for_bit(K, small, monkeypatch):
    import mfglearn.model.kernels as kernels
    from mfglearn.model.kernels import SparseKernel

    gen = torch.Generator().manual_seed(K)
    A = 4
    # from PER_SUCCESSOR_MIN_ROWS entries on 5+ successors are gathered one by one; a small kernel of up to 4
    # is gathered in one go and summed (from MATRIX_PUSH_MIN entries on it has a matrix)
    S = -(-(kernels.MATRIX_PUSH_MIN if small else kernels.PER_SUCCESSOR_MIN_ROWS) // (A * K))
    index = torch.randint(0, S, (S, A, K), generator=gen)
    index[:, :, 1] = index[:, :, 0]  # repeated successors stay apart in the matrix, in successor order
    prob = torch.rand(S, A, K, generator=gen, dtype=torch.float64)
    game = FiniteMFG(
        n_states=S,
        n_actions=A,
        mu0=torch.full((S,), 1 / S),
        reward=torch.zeros(S, A),
        transition=SparseKernel(index, prob / prob.sum(-1, keepdim=True)),
        horizon=2,
    )
    k = game.kernel_at(0)
    values = [torch.randn(S, generator=gen, dtype=torch.float64) * scale for scale in (1e-8, 1.0, 1e8)]
    values += [torch.randn(B, S, generator=gen, dtype=torch.float64) for B in (2, 64)]
    values.append(torch.randn(2, 256, S, generator=gen, dtype=torch.float64))  # a batch's evaluation pair
    pulled = [k.pull(v) for v in values]
    assert "_pull_matrix" in k.__dict__
    assert all(torch.equal(pulled[4][i], k.pull(values[4][i])) for i in range(64))  # members pull with solo bits
    monkeypatch.setattr(kernels, "PULL_MATRIX_MIN_SUCCESSORS", 1 << 40)  # the gathers
    for v, p in zip(values, pulled, strict=True):
        q = k.pull(v)
        assert p.shape == q.shape == (*v.shape[:-1], S, A) and p.dtype == q.dtype == torch.float64
        assert p.is_contiguous() and torch.equal(p, q)


def test_a_kernel_of_fewer_successors_or_its_own_keeps_the_gathers():
    import mfglearn.model.kernels as kernels
    from mfglearn.model.kernels import SparseKernel

    S, A = 3000, 4
    index = torch.randint(0, S, (S, A, 3), generator=torch.Generator().manual_seed(0))
    k2 = SparseKernel(index[..., :2], torch.full((S, A, 2), 1 / 2, dtype=torch.float64))
    k2._reused = True
    assert not kernels._pulls_by_matrix(k2, torch.zeros(S, dtype=torch.float64))  # 2 successors: not reliably faster
    k3 = SparseKernel(index, torch.full((S, A, 3), 1 / 3, dtype=torch.float64))
    k3._reused = True
    assert kernels._pulls_by_matrix(k3, torch.zeros(S, dtype=torch.float64))
    k5 = SparseKernel(index[..., [0, 1, 2, 0, 1]], torch.full((S, A, 5), 0.2, dtype=torch.float64))
    assert not kernels._pulls_by_matrix(k5, torch.zeros(S, dtype=torch.float64))  # not a game's static kernel
    k5._reused = True
    assert kernels._pulls_by_matrix(k5, torch.zeros(S, dtype=torch.float64))
    s = 300  # 6000 entries: 5 successors summed in one go, in torch's own order, which the product does not keep
    k5s = SparseKernel(index[:s, :, [0, 1, 2, 0, 1]] % s, torch.full((s, A, 5), 0.2, dtype=torch.float64))
    k5s._reused = True
    assert not kernels._pulls_by_matrix(k5s, torch.zeros(s, dtype=torch.float64))
