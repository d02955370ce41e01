"""The minibatch maximum-likelihood loop shared by the flow and behavioural cloning."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

from mfglearn.errors import ValidationError


@contextlib.contextmanager
def seeded(seed: int, device="cpu") -> Iterator[None]:
    """Run network initialisation from ``torch.manual_seed(seed)`` without touching the caller's global RNG.

    Modules initialise their weights from torch's global generator; forking it keeps the
    library's rule (randomness only through explicit generators) visible to the caller:
    their own random stream is the same before and after.
    """
    dev = torch.device(device)
    devices = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def mlp(inputs: int, outputs: int, hidden=(64, 64)) -> torch.nn.Sequential:
    """``Linear -> SiLU`` layers of widths ``hidden``, then a linear output layer."""
    layers, width = [], inputs
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.SiLU()]
        width = h
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, outputs))


def standardise_(mean_buf: torch.Tensor, std_buf: torch.Tensor, x: torch.Tensor) -> None:
    """Store ``x``'s per-coordinate mean and standard deviation (floored at 1e-6) in a module's buffers."""
    mean_buf.copy_(x.mean(0))
    std_buf.copy_(x.std(0).clamp_min(1e-6))


def fit_nll(
    params,
    nll: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    device=None,
    sample_weights: torch.Tensor | None = None,
) -> list[float]:
    """Adam with a cosine schedule on ``nll(batch_indices)`` (mean negative log-likelihood); returns the losses.

    Batches are drawn uniformly from the ``n`` samples, or in proportion to ``sample_weights`` ``(n,)``.
    """
    gen = torch.Generator(device=device).manual_seed(int(seed))
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = []
    for _ in range(int(steps)):
        if sample_weights is None:
            idx = torch.randint(n, (min(batch_size, n),), generator=gen, device=device)
        else:
            idx = torch.multinomial(sample_weights, min(batch_size, n), replacement=True, generator=gen)
        loss = nll(idx)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


class TimeDensity(torch.nn.Module):
    """Base of the time-conditioned density models ``mu_t(x)``: standardisation buffers, ``density`` and ``fit``.

    Subclasses set ``dim``, register ``x_mean`` / ``x_std`` and define ``log_prob(x, t)``,
    ``sample(t, n, generator)`` and ``_fit_parameters()``; the grid forms default to flat calls."""

    dim: int

    def log_prob(self, x: torch.Tensor, t) -> torch.Tensor:
        raise NotImplementedError

    def sample(self, t, n: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def _fit_parameters(self):
        raise NotImplementedError

    def density(self, x: torch.Tensor, t) -> torch.Tensor:
        """``mu_t(x)``: ``(N,)``."""
        return self.log_prob(x, t).exp()

    @torch.no_grad()
    def sample_grid(self, times: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples at each of ``times`` ``(U,)``: ``(U, n, d)`` (by default one flat ``sample`` call)."""
        times = torch.as_tensor(times, dtype=self.x_mean.dtype, device=self.x_mean.device).reshape(-1)
        return self.sample(times.repeat_interleave(int(n)), generator=generator).view(times.shape[0], int(n), self.dim)

    def log_prob_grid(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """``log mu_{times[u]}(x[u, i])`` for ``x`` ``(U, n, d)`` and ``times`` ``(U,)``: ``(U, n)``."""
        U, n = x.shape[:2]
        times = torch.as_tensor(times, dtype=self.x_mean.dtype, device=self.x_mean.device).reshape(-1)
        return self.log_prob(x.reshape(U * n, self.dim), times.repeat_interleave(n)).view(U, n)

    def fit(
        self,
        t: torch.Tensor,
        x: torch.Tensor,
        steps: int = 2000,
        batch_size: int = 512,
        lr: float = 3e-3,
        seed: int = 0,
    ) -> list[float]:
        """Maximum likelihood on samples ``t`` ``(N,)``, ``x`` ``(N, d)``; returns the loss (mean NLL) per step."""
        x = torch.as_tensor(x, dtype=self.x_mean.dtype, device=self.x_mean.device).reshape(-1, self.dim)
        t = torch.as_tensor(t, dtype=self.x_mean.dtype, device=self.x_mean.device).reshape(-1)
        if x.shape[0] != t.shape[0]:
            raise ValidationError(f"t and x need one entry per sample, got {t.shape[0]} and {x.shape[0]}")
        standardise_(self.x_mean, self.x_std, x)
        return fit_nll(
            self._fit_parameters(),
            lambda idx: -self.log_prob(x[idx], t[idx]).mean(),
            x.shape[0],
            steps,
            batch_size,
            lr,
            seed,
            x.device,
        )
