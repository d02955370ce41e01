"""The minibatch maximum-likelihood loop shared by the flow and behavioural cloning."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch


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
