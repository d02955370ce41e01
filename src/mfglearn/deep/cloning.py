"""Behavioural cloning of a time-conditioned Gaussian policy (DEDA-FP's average policy).

DEDA-FP keeps the ``(t, x, a)`` samples of every past best response and fits the
average policy ``pi_bar(a | t, x)`` by negative log-likelihood; the mixture of best
responses is what fictitious play averages, and a Gaussian fitted to it by maximum
likelihood is its moment match.
"""

from __future__ import annotations

import math

import torch

from mfglearn.deep.train import fit_nll, mlp, standardise_
from mfglearn.errors import ValidationError


class GaussianPolicy(torch.nn.Module):
    """``a ~ N(m(t, x), diag(s(t, x))^2)`` with an MLP on ``(t / horizon, x)``.

    With ``bound``, actions are squashed: ``a = bound * tanh(u)``, ``u ~ N(m, s^2)`` (SAC's
    bounded actions; log-probabilities include the change of variables).

    Args:
        state_dim, action_dim: dimensions.
        horizon: largest time (for input scaling).
        hidden: hidden layer sizes.
        bound: optional action bound for tanh squashing.
        time_onehot: also feed a one-hot of the integer time step (``horizon + 1`` inputs). With
            ``t / horizon`` alone the MLP smooths over time and misses the last steps' kink in LQ
            gains (3-6% off at ``t = T - 2, T - 1``; ``benchmarks/study_deda_fp.py converge``).
    """

    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        horizon: float,
        hidden=(64, 64),
        bound: float | None = None,
        time_onehot: bool = False,
    ):
        super().__init__()
        self.config = dict(
            state_dim=int(state_dim), action_dim=int(action_dim), horizon=float(horizon),
            hidden=[int(h) for h in hidden], bound=None if bound is None else float(bound),
        )  # fmt: skip
        if time_onehot:  # only when set: configs written before it stay loadable as they are
            self.config["time_onehot"] = True
        self.time_onehot = bool(time_onehot)
        self.n_times = int(math.floor(horizon)) + 1
        extra = self.n_times if time_onehot else 0
        self.net = mlp(state_dim + 1 + extra, 2 * action_dim, hidden)
        self.action_dim, self.horizon = int(action_dim), float(horizon)
        self.bound = None if bound is None else float(bound)
        self.register_buffer("x_mean", torch.zeros(state_dim))
        self.register_buffer("x_std", torch.ones(state_dim))

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log standard deviation of the (pre-squash) Gaussian, each ``(N, action_dim)``."""
        parts = [t.reshape(-1, 1).to(x.dtype) / self.horizon, (x - self.x_mean) / self.x_std]
        if self.time_onehot:
            step = t.reshape(-1).round().long().clamp(0, self.n_times - 1)
            parts.append(torch.nn.functional.one_hot(step, self.n_times).to(x.dtype))
        inp = torch.cat(parts, -1)
        out = self.net(inp)
        mean, log_std = out.split(self.action_dim, -1)
        return mean, log_std.clamp(-10.0, 3.0)

    def _squash_logdet(self, u: torch.Tensor) -> torch.Tensor:
        # log |d(bound * tanh u)/du|, written stably
        return (math.log(self.bound) + 2 * (math.log(2.0) - u - torch.nn.functional.softplus(-2 * u))).sum(-1)

    def log_prob(self, t: torch.Tensor, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """``log pi(a | t, x)``: ``(N,)``."""
        mean, log_std = self(t, x)
        u = a if self.bound is None else torch.atanh((a / self.bound).clamp(-1 + 1e-6, 1 - 1e-6))
        z = (u - mean) / log_std.exp()
        lp = (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        return lp if self.bound is None else lp - self._squash_logdet(u)

    def sample(
        self, t: torch.Tensor, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised sample ``a (N, action_dim)`` and its ``log pi(a | t, x)`` ``(N,)``."""
        mean, log_std = self(t, x)
        eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        u = mean + log_std.exp() * eps
        lp = (-0.5 * eps**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        if self.bound is None:
            return u, lp
        return self.bound * torch.tanh(u), lp - self._squash_logdet(u)

    @torch.no_grad()
    def mean_action(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The deterministic action (the Gaussian's mean, squashed if bounded): ``(N, action_dim)``."""
        mean, _ = self(t, x)
        return mean if self.bound is None else self.bound * torch.tanh(mean)

    @torch.no_grad()
    def act(self, t: torch.Tensor, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample actions ``(N, action_dim)``."""
        return self.sample(t, x, generator)[0]


def behavioural_cloning(
    policy: GaussianPolicy,
    t: torch.Tensor,
    x: torch.Tensor,
    a: torch.Tensor,
    steps: int = 2000,
    batch_size: int = 512,
    lr: float = 3e-3,
    seed: int = 0,
    sample_weights: torch.Tensor | None = None,
) -> list[float]:
    """Fit ``policy`` to samples ``(t_i, x_i, a_i)`` by negative log-likelihood; returns the loss per step.

    ``sample_weights`` ``(n,)``: each sample's weight in the loss (default: equal).
    """
    x = x.reshape(x.shape[0], -1)
    a = a.reshape(a.shape[0], -1)
    if not (t.shape[0] == x.shape[0] == a.shape[0]):
        raise ValidationError(f"t, x and a need one entry per sample, got {t.shape[0]}, {x.shape[0]}, {a.shape[0]}")
    standardise_(policy.x_mean, policy.x_std, x)
    return fit_nll(
        policy.parameters(),
        lambda idx: -policy.log_prob(t[idx], x[idx], a[idx]).mean(),
        x.shape[0],
        steps,
        batch_size,
        lr,
        seed,
        x.device,
        sample_weights,
    )
