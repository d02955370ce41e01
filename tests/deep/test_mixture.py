"""The time-conditioned Gaussian mixture: its density against torch.distributions, its draws against the mixture's
moments, a fit against a known moving mixture, the grid forms against the flat ones, save/load and bad input."""

import math

import pytest
import torch

from mfglearn.deep.fictitious_play import flow_from_state, module_state
from mfglearn.deep.flows import time_density
from mfglearn.deep.mixture import TimeMixture
from mfglearn.errors import ValidationError

T = 10


def reference_log_prob(m: TimeMixture, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The same mixture through torch.distributions, sample by sample (no shared code with the model's formula)."""
    log_w, mean, L = m.parameters_at(t)
    std = m.x_std
    comp = torch.distributions.MultivariateNormal(mean * std + m.x_mean, scale_tril=std.unsqueeze(-1) * L)
    mix = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(logits=log_w), comp)
    return mix.log_prob(x)


def trained_like(dim: int, components: int = 5, seed: int = 0) -> TimeMixture:
    torch.manual_seed(seed)
    m = TimeMixture(dim, T, components=components, hidden=(16,))
    with torch.no_grad():  # a non-trivial mixture: random weights, spread means, correlated factors
        for p in m.net.parameters():
            p.add_(0.5 * torch.randn_like(p))
        m.x_mean.copy_(torch.linspace(-1, 1, dim))
        m.x_std.copy_(torch.linspace(0.5, 2, dim))
    return m


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_log_prob_equals_torch_distributions_on_every_path(dim):
    m = trained_like(dim).double()  # float64: both sides then agree to round-off (float32 ones differ by ~6e-4)
    g = torch.Generator().manual_seed(1)
    n = 3000
    t = torch.randint(0, T + 1, (n,), generator=g).double()
    x = 2 * torch.randn(n, dim, generator=g, dtype=torch.float64)
    with torch.no_grad():
        ref = reference_log_prob(m, x, t)
        gathered = m.log_prob(x[:40], t[:40])  # few samples per time: parameters gathered per sample
        grouped = m.log_prob(x, t)  # many per time: one pass per distinct time
        scalar = m.log_prob(x[:50], torch.tensor(4.0, dtype=torch.float64))
        ref_scalar = reference_log_prob(m, x[:50], torch.full((50,), 4.0, dtype=torch.float64))
        times = torch.tensor([0.0, 3.5, 10.0], dtype=torch.float64)
        grid = m.log_prob_grid(x[:300].view(3, 100, dim), times)
        ref_grid = reference_log_prob(m, x[:300], times.repeat_interleave(100)).view(3, 100)
    assert torch.allclose(gathered, ref[:40], atol=1e-9)
    assert torch.allclose(grouped, ref, atol=1e-9)
    assert torch.allclose(scalar, ref_scalar, atol=1e-9)
    assert torch.allclose(grid, ref_grid, atol=1e-9)


def test_density_integrates_to_one_in_two_dimensions():
    m = trained_like(2)
    h = 0.03
    axis = torch.arange(-30, 30, h) + h / 2
    xx, yy = torch.meshgrid(axis, axis, indexing="ij")
    pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    with torch.no_grad():
        mass = float(m.density(pts, torch.tensor(7.0)).double().sum()) * h * h
    assert mass == pytest.approx(1.0, abs=1e-4)  # measured 1 - 2e-6


def test_narrow_components_keep_their_precision():
    """A component 1e-3 wide far from the origin: the residual form loses nothing in float32."""
    m = TimeMixture(1, T, components=1, hidden=(4,))
    with torch.no_grad():
        m.net[-1].weight.zero_()
        m.net[-1].bias.copy_(torch.tensor([0.0, 50.0, -20.0]))  # weight, mean 50, std = softplus(-20) + 1e-3
        x = torch.tensor([[50.0], [50.001], [50.003]])
        lp = m.log_prob(x, torch.tensor(0.0))
    s = 1e-3 + math.log1p(math.exp(-20.0))
    offsets = (x.double() - 50).flatten().tolist()  # the float32 inputs' own offsets
    expected = [-0.5 * (d / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi) for d in offsets]
    assert lp.tolist() == pytest.approx(expected, abs=2e-3)


def test_draws_follow_the_mixture_and_are_reproducible():
    m = trained_like(2, components=4)
    times = torch.tensor([0.0, 5.0, 10.0])
    with torch.no_grad():
        log_w, mean, L = m.parameters_at(times)
    std, mu_x = m.x_std, m.x_mean
    w = log_w.exp()
    means = mean * std + mu_x  # (U, K, d)
    covs = (std.unsqueeze(-1) * L) @ (std.unsqueeze(-1) * L).transpose(-1, -2)
    first = (w.unsqueeze(-1) * means).sum(1)
    second = (w[..., None, None] * (covs + means.unsqueeze(-1) * means.unsqueeze(-2))).sum(1)
    cov = second - first.unsqueeze(-1) * first.unsqueeze(-2)
    n = 200_000
    xs = m.sample_grid(times, n, torch.Generator().manual_seed(0))
    assert xs.shape == (3, n, 2)
    for u in range(3):
        se = (cov[u].diagonal() / n).sqrt()
        assert ((xs[u].mean(0) - first[u]).abs() < 5 * se).all()
        assert torch.allclose(torch.cov(xs[u].T), cov[u], rtol=0.03, atol=0.03 * float(cov[u].abs().max()))
    again = m.sample_grid(times, n, torch.Generator().manual_seed(0))
    assert torch.equal(xs, again)
    flat = m.sample(times.repeat_interleave(1000), generator=torch.Generator().manual_seed(2))
    assert flat.shape == (3000, 2)
    assert m.sample(5.0, 7).shape == (7, 2)


def test_alias_tables_give_the_weights_exactly():
    m = TimeMixture(1, T, components=6)
    w = torch.tensor([[0.5, 0.2, 0.1, 0.1, 0.1, 0.0], [1 / 6] * 6, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
    threshold, alias = m._alias_tables(w.clamp_min(1e-300).log())
    K = w.shape[1]
    # each column keeps threshold/K of its own weight and gives the rest to its alias
    implied = threshold / K
    implied = implied.scatter_add(1, alias, (1 - threshold) / K)
    assert torch.allclose(implied, w.double(), atol=1e-12)


def test_fit_recovers_a_moving_two_component_mixture():
    g = torch.Generator().manual_seed(0)
    n = 40_000
    t = torch.randint(0, T + 1, (n,), generator=g).float()
    side = torch.rand(n, generator=g) < 0.3
    centre = torch.where(side, -2.0 + 0.2 * t, 1.0 + 0.1 * t)
    x = (centre + torch.where(side, 0.3, 0.6) * torch.randn(n, generator=g)).unsqueeze(1)

    def truth(xq, tq):
        a = torch.distributions.Normal(-2.0 + 0.2 * tq, 0.3).log_prob(xq) + math.log(0.3)
        b = torch.distributions.Normal(1.0 + 0.1 * tq, 0.6).log_prob(xq) + math.log(0.7)
        return torch.logaddexp(a, b)

    torch.manual_seed(0)
    m = TimeMixture(1, T, components=4, hidden=(32, 32))
    losses = m.fit(t, x, steps=800, seed=0)
    assert losses[-1] < losses[0]
    tq = torch.randint(0, T + 1, (5000,), generator=g).float()
    sq = torch.rand(5000, generator=g) < 0.3
    xq = torch.where(sq, -2.0 + 0.2 * tq, 1.0 + 0.1 * tq) + torch.where(sq, 0.3, 0.6) * torch.randn(5000, generator=g)
    with torch.no_grad():
        gap = float(truth(xq, tq).mean() - m.log_prob(xq.unsqueeze(1), tq).mean())
    assert 0 <= gap + 0.01 and gap < 0.03  # the held-out KL to the truth, in nats (measured 0.004)


def test_save_load_factory_and_bad_input():
    m = trained_like(2)
    back = flow_from_state(module_state(m), "cpu")
    assert isinstance(back, TimeMixture)
    x, t = torch.randn(20, 2), torch.arange(20.0) % (T + 1)
    with torch.no_grad():
        assert torch.equal(back.log_prob(x, t), m.log_prob(x, t))
    assert isinstance(time_density(2, T), TimeMixture)
    with pytest.raises(ValidationError, match="kind must be one of"):
        time_density(2, T, kind="maf")
    with pytest.raises(ValidationError, match="min_std must be > 0"):
        TimeMixture(2, T, min_std=0)
    with pytest.raises(ValidationError, match="horizon must be > 0"):
        TimeMixture(2, 0)
    with pytest.raises(ValidationError, match="needs n"):
        m.sample(3.0)
    with pytest.raises(ValidationError, match="one entry per sample"):
        m.fit(t[:5], x[:4], steps=1)
