"""Deep building blocks: the time-conditioned flow fits a moving Gaussian; cloning recovers a linear-Gaussian policy."""

import pytest
import torch

pytest.importorskip("zuko")

from mfglearn.deep.cloning import GaussianPolicy, behavioural_cloning  # noqa: E402
from mfglearn.deep.flows import TimeFlow  # noqa: E402
from mfglearn.errors import ValidationError  # noqa: E402

T = 10


def moving_gaussian(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, T + 1, (n,), generator=g).float()
    m, s = 2 * t / T, 0.5 + 0.5 * t / T
    return t, (m + s * torch.randn(n, generator=g)).unsqueeze(1), m, s


def test_flow_fits_a_moving_gaussian():
    torch.manual_seed(0)
    t, x, m, s = moving_gaussian(20_000)
    flow = TimeFlow(1, T, transforms=3, hidden=(32, 32))
    flow.fit(t, x, steps=600)
    tt, xt, mt, st = moving_gaussian(5_000, seed=1)  # held-out samples
    with torch.no_grad():
        ll = float(flow.log_prob(xt, tt).mean())
    truth = float(torch.distributions.Normal(mt, st).log_prob(xt[:, 0]).mean())
    assert abs(ll - truth) < 0.03  # measured 0.0003 nats
    samples = flow.sample(5.0, 20_000)
    assert float(samples.mean()) == pytest.approx(1.0, abs=0.06)
    assert float(samples.std()) == pytest.approx(0.75, abs=0.05)


def test_realnvp_in_two_dimensions_and_bad_input():
    g = torch.Generator().manual_seed(0)
    t = torch.randint(0, T + 1, (4000,), generator=g).float()
    x = torch.randn(4000, 2, generator=g) + (t / T).unsqueeze(1)
    flow = TimeFlow(2, T, kind="realnvp", transforms=2, hidden=(16, 16))
    losses = flow.fit(t, x, steps=200)
    assert losses[-1] < losses[0]
    assert flow.sample(torch.tensor([0.0, 10.0])).shape == (2, 2)
    with pytest.raises(ValidationError, match="needs dim >= 2"):
        TimeFlow(1, T, kind="realnvp")
    with pytest.raises(ValidationError, match="one entry per sample"):
        flow.fit(t[:10], x[:9], steps=1)


def test_cloning_recovers_a_linear_gaussian_policy():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 20_000
    t = torch.randint(0, T + 1, (n,), generator=g).float()
    x = 1.5 * torch.randn(n, 1, generator=g)
    K, k = 0.5 + 0.05 * t, 1.0 - 0.1 * t
    a = (-K * x[:, 0] + k).unsqueeze(1) + 0.3 * torch.randn(n, 1, generator=g)
    pol = GaussianPolicy(1, 1, T)
    behavioural_cloning(pol, t, x, a, steps=1500)
    tt = torch.tensor([0.0, 5.0, 10.0])
    xx = torch.tensor([[-1.0], [0.5], [1.0]])
    with torch.no_grad():
        mean, log_std = pol(tt, xx)
    truth = -(0.5 + 0.05 * tt) * xx[:, 0] + (1.0 - 0.1 * tt)
    assert float((mean[:, 0] - truth).abs().max()) < 0.05  # measured 0.02
    assert float((log_std.exp() - 0.3).abs().max()) < 0.03


def test_time_onehot_policy_separates_time_steps_and_round_trips():
    from mfglearn.deep.fictitious_play import policy_from_state, policy_state

    p = GaussianPolicy(1, 1, 4, hidden=(8,), time_onehot=True)
    assert p.net[0].in_features == 1 + 1 + 5 and p.config["time_onehot"] is True
    assert "time_onehot" not in GaussianPolicy(1, 1, 4).config  # older configs stay as they were
    back = policy_from_state(policy_state(p), "cpu")
    t, x = torch.arange(5.0), torch.zeros(5, 1)
    torch.testing.assert_close(back.mean_action(t, x), p.mean_action(t, x))


def test_flow_grid_forms_are_its_flat_calls():
    flow = TimeFlow(2, T, kind="realnvp", transforms=2, hidden=(8, 8))
    times = torch.tensor([0.0, 4.0, 10.0])
    grid = flow.sample_grid(times, 5, torch.Generator().manual_seed(0))
    flat = flow.sample(times.repeat_interleave(5), generator=torch.Generator().manual_seed(0))
    assert grid.shape == (3, 5, 2) and torch.equal(grid.reshape(15, 2), flat)
    with torch.no_grad():
        assert torch.equal(flow.log_prob_grid(grid, times).reshape(-1), flow.log_prob(flat, times.repeat_interleave(5)))
