"""Exact fictitious play on LQ: the mixture's closed forms against brute-force particles, fixed points, pins."""

import pytest
import torch

import mfglearn
from mfglearn.errors import ValidationError
from mfglearn.exact.lq_fictitious_play import (
    lq_fictitious_play,
    mixture_exploitability,
    mixture_mean_paths,
    mixture_values,
)

F64 = torch.float64


@pytest.fixture(scope="module")
def lq():
    return mfglearn.make("lq", Abar=0.3, x_target=1.0, horizon=6)


def _particles(lq, K, k, weights, n, seed):
    """Brute force: n agents, agent i follows component j for exact quotas of the weights, empirical mean field."""
    gen = torch.Generator().manual_seed(seed)
    comp = torch.repeat_interleave(torch.arange(len(weights)), (torch.as_tensor(weights) * n).round().long())
    n = comp.numel()
    x = lq.init_mean + lq.init_std * torch.randn(n, lq.d, generator=gen, dtype=F64)
    ret = torch.zeros(n, dtype=F64)
    means = []
    for t in range(lq.T):
        m = x.mean(0)
        means.append(m)
        a = -torch.einsum("nab,nb->na", K[comp, t], x) + k[comp, t]
        ret -= lq.cX * ((x - lq.x_target) ** 2).sum(1) + lq.cA * (a**2).sum(1) + lq.cM * ((x - m) ** 2).sum(1)
        x = x @ lq.A.T + a @ lq.B.T + m @ lq.Abar.T + lq.noise_std * torch.randn(n, lq.d, generator=gen, dtype=F64)
    m = x.mean(0)
    means.append(m)
    ret -= lq.cX * ((x - lq.x_target) ** 2).sum(1) + lq.cM * ((x - m) ** 2).sum(1)
    return torch.stack(means), ret, comp


def test_mixture_closed_forms_match_brute_force_particles(lq):
    ref = lq_fictitious_play(lq, 3)
    w = torch.tensor([0.5, 0.3, 0.2], dtype=F64)
    m, sub = mixture_mean_paths(lq, ref.K, ref.k, w)
    m = m.view(lq.T + 1, lq.d)
    means, ret, comp = _particles(lq, ref.K, ref.k, w, 400_000, seed=0)
    # the empirical mean of 400k agents is within a few standard errors (~0.002) of the closed form
    torch.testing.assert_close(means, m, atol=0.01, rtol=0)
    vals = mixture_values(lq, ref.K, ref.k, m)
    for j in range(3):
        r = ret[comp == j]
        assert abs(float(r.mean()) - float(vals[j])) < 5 * float(r.std()) / r.numel() ** 0.5 + 0.02
    # exploitability: Riccati against the particles' mean path minus their mean return
    _, _, P, (p, q) = lq.best_response(means)
    brute = lq.initial_value(P, p, q) - float(ret.mean())
    assert brute == pytest.approx(mixture_exploitability(lq, ref.K, ref.k, w), abs=0.05)


def test_one_component_is_the_affine_policy_and_the_equilibrium_is_a_fixed_point(lq):
    ref = lq_fictitious_play(lq, 2)
    one = mixture_exploitability(lq, ref.K[1:], ref.k[1:], torch.ones(1, dtype=F64))
    assert one == pytest.approx(lq.exploitability_of_affine(list(ref.K[1]), list(ref.k[1])), abs=1e-9)
    sol = lq.exact_solution()
    at_eq = lq_fictitious_play(lq, 4, initial_K=sol.K, initial_k=sol.k)
    assert max(abs(e) for e in at_eq.exploitability) < 1e-8
    torch.testing.assert_close(at_eq.mean_paths[-1], sol.mean_path, atol=1e-9, rtol=0)


def test_weights_uniform_and_damped(lq):
    uni = lq_fictitious_play(lq, 4)
    torch.testing.assert_close(uni.weights, torch.full((4,), 0.25, dtype=F64))
    damped = lq_fictitious_play(lq, 3, damping=0.5)
    torch.testing.assert_close(damped.weights, torch.tensor([0.25, 0.25, 0.5], dtype=F64))
    # damping 1 is the best-response (fixed-point) iteration: its average is the last best response
    fp = lq_fictitious_play(lq, 3, damping=1.0)
    last = lq.exploitability_of_affine(list(fp.K[-1]), list(fp.k[-1]))
    assert fp.exploitability[-1] == pytest.approx(last, abs=1e-9)
    with pytest.raises(ValidationError, match="damping"):
        lq_fictitious_play(lq, 2, damping=0.0)
    with pytest.raises(ValidationError, match="iterations"):
        lq_fictitious_play(lq, 0)


def test_pinned_reference_on_the_study_game():
    """lq(Abar=0.3, x_target=1), the DEDA-FP study's game: uniform fictitious play's own rate is slow."""
    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0)
    uni = lq_fictitious_play(lq, 20)
    assert uni.exploitability[:3] == pytest.approx([17.260660309126997, 11.849976317159026, 9.071716173391174])
    assert uni.exploitability[-1] == pytest.approx(1.9849, abs=1e-4)
    assert lq_fictitious_play(lq, 20, damping=0.5).exploitability[-1] == pytest.approx(1.3283e-4, rel=1e-3)
