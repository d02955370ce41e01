"""solve_batch: B members as one tensor program, each equal to its own solve."""

from __future__ import annotations

import warnings

import pytest
import torch

import mfglearn
from mfglearn.errors import ValidationError
from mfglearn.model.batch import GameBatch
from mfglearn.model.kernels import (
    BatchDenseKernel,
    BatchSparseKernel,
    ComposedKernel,
    DenseKernel,
    SparseKernel,
    stack_kernels,
)

ITS = 12


def _member(hp: dict, b: int) -> dict:
    return {k: v[b] if isinstance(v, list) else v for k, v in hp.items()}


def _assert_equal_to_solo(results, games, solver, hp, tol=1e-10):
    for b, r in enumerate(results):
        game = games[b] if isinstance(games, list) else games
        solo = mfglearn.solve(game, solver, ITS, **_member(hp, b))
        assert r.history["exploitability"] == pytest.approx(solo.history["exploitability"], abs=tol, rel=tol)
        assert r.history["policy_delta"] == pytest.approx(solo.history["policy_delta"], abs=tol, rel=tol)
        assert torch.allclose(r.policy, solo.policy, atol=1e-12, rtol=0)
        assert torch.allclose(r.mean_field, solo.mean_field, atol=1e-12, rtol=0)
        assert r.hyperparameters == solo.hyperparameters


@pytest.mark.parametrize(
    "game, solver, hp",
    [
        ("mfglib/beach_bar", "mirror_descent", {"learning_rate": [0.01, 0.1, 1.0]}),  # state-action mean field
        ("beach_bar", "fictitious_play", {"damping": [0.2, 0.5, 1.0]}),  # exact ties: greedy picks must agree
        ("mfglib/susceptible_infected", "prior_descent", {"temperature": [1.0, 3.0], "inner_steps": 4}),
        ("four_rooms", "boltzmann_policy_iteration", {"temperature": [5.0, 10.0]}),  # legal mask, grid kernel
        ("mfglib/random_linear", "fixed_point", {"damping": [1.0, 0.5], "temperature": 2.0}),
        ("sis", "fictitious_play", {"temperature": [0.5, 2.0]}),
        ("four_rooms", "fictitious_play", {"damping": [0.3, 1.0]}),  # 5 noise successors, greedy ties
        ("mfglib/crowd_motion", "fictitious_play", {"damping": [0.3, 0.6], "ties": "uniform"}),
    ],
)
def test_each_member_equals_its_own_solve(game, solver, hp):
    g = mfglearn.make(game)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        results = mfglearn.solve_batch(g, solver, ITS, **hp)
        _assert_equal_to_solo(results, g, solver, hp)
    assert all(r.extra["batch_size"] == len(results) for r in results)
    assert [r.iterations for r in results] == [ITS] * len(results)


def test_a_large_batch_updates_in_place_with_its_members_bits(monkeypatch):
    import mfglearn.solvers.batch as batch

    monkeypatch.setattr(batch, "LARGE_TENSOR", 1)  # every batch is large: mirror descent adds in place
    g = mfglearn.make("mfglib/crowd_motion")  # its pulls go through the static kernel's CSR matrix
    rates = [0.1, 1.0]
    solvers = [mfglearn.make_algorithm(g, "mirror_descent", learning_rate=x) for x in rates]
    given = [s.y for s in solvers]
    kept = [y.clone() for y in given]
    results = batch.run_batch(solvers, ITS)
    assert all(torch.equal(y, k) for y, k in zip(given, kept, strict=True))  # the members' own tensors untouched
    for r, x in zip(results, rates, strict=True):
        solo = mfglearn.solve(g, "mirror_descent", ITS, learning_rate=x)
        assert r.history["exploitability"] == solo.history["exploitability"]  # the same bits
        assert torch.equal(r.policy, solo.policy)


def test_different_games_of_one_structure_batch_together():
    games = [mfglearn.make("beach_bar", size=8, horizon=6, crowd_aversion=c, bar=b) for c, b in [(0.5, 2), (2.0, 5)]]
    games.append(games[0])  # the same object twice: its callables run once for both
    results = mfglearn.solve_batch(games, "mirror_descent", ITS, learning_rate=0.1)
    assert [r.extra["batch_size"] for r in results] == [3, 3, 3]
    _assert_equal_to_solo(results, games, "mirror_descent", {"learning_rate": 0.1})


def test_mean_field_dependent_kernels_of_different_games_stack():
    # distinct objects of a game whose kernel depends on the mean field: stacked member by member
    games = [mfglearn.make("mfglib/susceptible_infected", T=8, mu0=m) for m in [(0.4, 0.6), (0.9, 0.1)]]
    results = mfglearn.solve_batch(games, "mirror_descent", ITS, learning_rate=[0.1, 0.3])
    _assert_equal_to_solo(results, games, "mirror_descent", {"learning_rate": [0.1, 0.3]})


def test_members_that_cannot_share_a_batch_run_alone():
    # damping None and a number take different code paths; mf_omo has no batched update; sizes differ
    r = mfglearn.solve_batch("beach_bar", "fictitious_play", ITS, damping=[None, 0.5])
    assert all("batch_size" not in x.extra for x in r)
    _assert_equal_to_solo(r, "beach_bar", "fictitious_play", {"damping": [None, 0.5]})
    r = mfglearn.solve_batch("mfglib/left_right", "mf_omo", 3, optimizer_lr=[0.1, 0.2])
    assert len(r) == 2 and all("batch_size" not in x.extra for x in r)
    games = [mfglearn.make("beach_bar", size=s, horizon=5) for s in (6, 7)]
    r = mfglearn.solve_batch(games, "mirror_descent", 3)
    assert [x.policy.shape[1] for x in r] == [6, 7]


def test_bad_batches_get_one_clear_error():
    with pytest.raises(ValidationError, match="one length"):
        mfglearn.solve_batch("beach_bar", "mirror_descent", 2, learning_rate=[0.1, 0.2], initial_policy=[None] * 3)
    with pytest.raises(ValidationError, match="differ in n_states"):
        GameBatch([mfglearn.make("beach_bar", size=5), mfglearn.make("beach_bar", size=6)])
    with pytest.raises(ValidationError, match="discounted"):
        GameBatch([mfglearn.make("four_rooms_crowd")] * 2)
    with pytest.raises(ValidationError, match="takes no callback"):
        mfglearn.solve_batch("beach_bar", "mirror_descent", 2, callback=lambda a, i: True)
    with pytest.raises(ValidationError, match="learning_rate must be"):
        mfglearn.solve_batch("beach_bar", "mirror_descent", 2, learning_rate=[0.1, -1.0])


def test_a_batch_warns_once_for_its_diverging_members():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mfglearn.solve_batch("beach_bar", "fixed_point", 40, damping=[1.0, 1.0, 1.0], temperature=None)
    msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(msgs) == 1 and "3 of 3 members" in msgs[0] and "cycles" in msgs[0]


def test_initial_policies_vary_inside_a_batch():
    g = mfglearn.make("beach_bar", size=6, horizon=5)
    pis = [g.uniform_policy(), mfglearn.solve(g, "fictitious_play", 3).policy]
    results = mfglearn.solve_batch(g, "mirror_descent", ITS, initial_policy=pis)
    assert results[0].extra["batch_size"] == 2
    _assert_equal_to_solo(results, g, "mirror_descent", {"initial_policy": pis})


# ---------------------------------------------------------------- kernels with a batch axis
def _kernels():
    gen = torch.Generator().manual_seed(0)
    S, A, K = 6, 3, 2
    idx = torch.randint(0, S, (S, A, K), generator=gen)
    prob = torch.rand(S, A, K, generator=gen, dtype=torch.float64)
    sparse = SparseKernel(idx, prob / prob.sum(-1, keepdim=True))
    P = torch.rand(S, A, S, generator=gen, dtype=torch.float64)
    dense = DenseKernel(P / P.sum(-1, keepdim=True))
    move = torch.randint(0, S, (S, A), generator=gen)
    nprob = torch.rand(S, K, generator=gen, dtype=torch.float64)
    composed = ComposedKernel(move, torch.randint(0, S, (S, K), generator=gen), nprob / nprob.sum(-1, keepdim=True))
    return sparse, dense, composed


@pytest.mark.parametrize("which", [0, 1, 2])
def test_a_shared_kernel_pushes_a_batch_like_each_member(which):
    k = _kernels()[which]
    m = torch.rand(4, 6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(k.push(m), torch.stack([k.push(x) for x in m]))
    v = torch.rand(2, 4, 6, dtype=torch.float64)
    assert torch.allclose(k.pull(v), torch.stack([torch.stack([k.pull(x) for x in row]) for row in v]), atol=1e-15)


def test_stacked_member_kernels_act_member_by_member():
    sparse, dense, composed = _kernels()
    m = torch.rand(2, 6, 3, dtype=torch.float64)
    v = torch.rand(5, 2, 6, dtype=torch.float64)
    for members, kind in [([sparse, composed.to_sparse()], BatchSparseKernel), ([sparse, dense], BatchDenseKernel)]:
        k = stack_kernels(members)
        assert isinstance(k, kind)
        assert torch.allclose(k.push(m), torch.stack([mk.push(x) for mk, x in zip(members, m, strict=True)]))
        want = torch.stack([torch.stack([mk.pull(x) for mk, x in zip(members, row, strict=True)]) for row in v])
        assert torch.allclose(k.pull(v), want)
    assert stack_kernels([sparse, sparse]) is sparse


def test_a_batched_transition_that_ignores_the_batch_is_refused():
    S = 2
    base = torch.tensor([[[0.9, 0.1], [0.5, 0.5]], [[0.2, 0.8], [0.3, 0.7]]], dtype=torch.float64)

    def transition(t, m):  # ignores the leading batch axis of m
        return base * (1 - 0.5 * m[..., 0].sum()) + 0.5 * m[..., 0].sum() * base.flip(-1)

    with pytest.raises(ValidationError, match="batched_transition"):
        mfglearn.FiniteMFG(
            n_states=S,
            n_actions=2,
            mu0=[0.3, 0.7],
            reward=torch.zeros(S, 2),
            transition=transition,
            horizon=3,
            batched_transition=True,
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_batch_on_cuda_matches_the_cpu_batch():
    for game, solver, hp in [
        ("mfglib/susceptible_infected", "mirror_descent", {"learning_rate": [0.1, 1.0]}),
        ("four_rooms", "fictitious_play", {"damping": [0.2, 0.5]}),
    ]:
        cpu = mfglearn.solve_batch(game, solver, ITS, **hp)
        gpu = mfglearn.solve_batch(game, solver, ITS, device="cuda", **hp)
        for a, b in zip(cpu, gpu, strict=True):
            assert b.extra["batch_size"] == 2 and b.policy.device.type == "cuda"
            assert a.history["exploitability"] == pytest.approx(b.history["exploitability"], rel=1e-9, abs=1e-9)
