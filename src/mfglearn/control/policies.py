"""Closed-loop planner policies ``h = policy(mu, t)`` and the result of an MFC solver."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from mfglearn.control.lifted import LiftedMFC, SimplexInterpolator
from mfglearn.errors import ValidationError
from mfglearn.result import Result

CHUNK = 1 << 16  # (mu, h) pairs evaluated per batch: bounds memory of batched kernels


def chunked_model(lifted: LiftedMFC, mu: torch.Tensor, h: torch.Tensor, t: int = 0):
    """``r(mu, h)`` ``(B,)`` and ``Phi(mu, h)`` ``(B, S)`` for many pairs, in chunks."""
    rs, nxt = [], []
    for i in range(0, mu.shape[0], CHUNK):
        m, hh = mu[i : i + CHUNK], h[i : i + CHUNK]
        rs.append(lifted.reward(m, hh, t))
        nxt.append(lifted.phi(m, hh, t))
    return torch.cat(rs), torch.cat(nxt)


class MFCPolicy:
    """A planner's policy: ``__call__(mu (B, S), t) -> h (B, S, A)``."""

    kind = "base"

    def __call__(self, mu: torch.Tensor, t: int = 0) -> torch.Tensor:
        raise NotImplementedError

    def tensors(self) -> dict:
        raise NotImplementedError


class OpenLoopPolicy(MFCPolicy):
    """A fixed sequence ``h_t`` (``(T, S, A)``), the last one repeated after ``T``; ignores ``mu``."""

    kind = "open_loop"

    def __init__(self, hs: torch.Tensor):
        self.hs = hs

    def __call__(self, mu, t=0):
        return self.hs[min(t, self.hs.shape[0] - 1)].expand(mu.shape[0], -1, -1)

    def tensors(self) -> dict:
        return {"hs": self.hs}


class LookaheadPolicy(MFCPolicy):
    """Greedy one-step lookahead on a value function tabulated on a simplex grid.

    ``h(mu, t) = argmax_{h_j in net} r(mu, h_j) + gamma V_{t+1}(Phi(mu, h_j))`` with ``V``
    interpolated linearly between grid points (``values``: ``(G,)`` stationary or
    ``(H+1, G)`` finite horizon).
    """

    kind = "lookahead"

    def __init__(self, lifted: LiftedMFC, h_net: torch.Tensor, values: torch.Tensor, resolution: int):
        self.lifted, self.h_net, self.values, self.resolution = lifted, h_net, values, int(resolution)
        self.interp = SimplexInterpolator(lifted.S, resolution, h_net.dtype)

    def scores(self, mu: torch.Tensor, t: int = 0) -> torch.Tensor:
        """``(B, J)`` lookahead values of every net policy."""
        B, J = mu.shape[0], self.h_net.shape[0]
        mus = mu.repeat_interleave(J, 0)
        hs = self.h_net.repeat(B, 1, 1)
        r, nxt = chunked_model(self.lifted, mus, hs, t)
        finite = self.values.dim() == 2
        V = self.values[t + 1] if finite else self.values
        idx, lam = self.interp.weights(nxt)
        g = 1.0 if finite else float(self.lifted.gamma)
        return (r + g * (lam * V[idx]).sum(-1)).view(B, J)

    def __call__(self, mu, t=0):
        return self.h_net[self.scores(mu, t).argmax(-1)]

    def tensors(self) -> dict:
        return {"h_net": self.h_net, "values": self.values, "resolution": self.resolution}


class KernelQPolicy(MFCPolicy):
    """Greedy policy of a Q-table on a net of ``P(S) x H``, read through a kernel: ``argmax_j (Gamma_K q)(mu, h_j)``."""

    kind = "kernel_q"

    def __init__(self, mu_net: torch.Tensor, h_net: torch.Tensor, q: torch.Tensor, kernel: Kernel):
        self.mu_net, self.h_net, self.q, self.kernel = mu_net, h_net, q, kernel

    def q_values(self, mu: torch.Tensor) -> torch.Tensor:
        """``(B, J)``: the kernel-smoothed Q of every net policy at populations ``mu``."""
        return self.kernel.weights(mu, self.mu_net) @ self.q

    def __call__(self, mu, t=0):
        return self.h_net[self.q_values(mu).argmax(-1)]

    def tensors(self) -> dict:
        return {
            "mu_net": self.mu_net,
            "h_net": self.h_net,
            "q": self.q,
            "kernel": self.kernel.name,
            "bandwidth": self.kernel.bandwidth,
        }


class Kernel:
    """Normalised kernel weights on ``P(S)`` (Nadaraya-Watson): ``Gamma_K f(mu) = sum_i w_i(mu) f(mu_i)``.

    ``name``: ``"triangular"`` (``max(0, 1 - d / bw)``), ``"gaussian"``
    (``exp(-d^2 / (2 bw^2))``), ``"epanechnikov"`` (``max(0, 1 - (d / bw)^2)``) or
    ``"nearest"`` (all weight on the closest net point); ``d`` the l1 distance.
    Points with no net point within the bandwidth fall back to the nearest one.
    """

    NAMES = ("triangular", "gaussian", "epanechnikov", "nearest")

    def __init__(self, name: str = "triangular", bandwidth: float = 0.1):
        if name not in self.NAMES:
            raise ValidationError(f"kernel must be one of {', '.join(self.NAMES)}; got {name!r}")
        if not bandwidth > 0 or not math.isfinite(bandwidth):
            raise ValidationError(f"bandwidth must be a positive number, got {bandwidth!r}")
        self.name, self.bandwidth = name, float(bandwidth)

    def weights(self, mu: torch.Tensor, net: torch.Tensor) -> torch.Tensor:
        """``(B, G)`` rows summing to one, for points ``mu`` ``(B, S)`` and net ``(G, S)``."""
        d = torch.cdist(mu, net, p=1)
        nearest = torch.nn.functional.one_hot(d.argmin(-1), net.shape[0]).to(mu.dtype)
        if self.name == "nearest":
            return nearest
        u = d / self.bandwidth
        if self.name == "triangular":
            w = (1 - u).clamp(min=0)
        elif self.name == "epanechnikov":
            w = (1 - u**2).clamp(min=0)
        else:
            w = torch.exp(-0.5 * u**2)
        tot = w.sum(-1, keepdim=True)
        return torch.where(tot > 1e-300, w / tot.clamp_min(1e-300), nearest)


@dataclass(repr=False)
class MFCResult(Result):
    """Outcome of a mean-field control algorithm (a :class:`~mfglearn.result.Result`).

    ``value`` is the planner's objective achieved by ``policy`` (a closed-loop :class:`MFCPolicy`,
    ``policy(mu (B, S), t) -> h (B, S, A)``) from the game's ``mu0``, evaluated exactly on the lifted
    dynamics, not the algorithm's own estimate; ``extra`` holds method-specific outputs (``grid_value``,
    ``samples``, ...). There is no equilibrium, so ``exploitability`` is ``nan``.
    """

    kind: ClassVar[str] = "mfc"

    @property
    def method(self) -> str:
        """Deprecated: use ``solver``."""
        return self.solver

    def _policy_state(self):
        return {"kind": self.policy.kind, **self.policy.tensors()}

    @classmethod
    def _from_state(cls, d: dict, game) -> MFCResult:
        t = d["policy"]
        kind = t["kind"]
        if kind == "open_loop":
            pol: MFCPolicy = OpenLoopPolicy(t["hs"])
        elif kind == "kernel_q":
            pol = KernelQPolicy(t["mu_net"], t["h_net"], t["q"], Kernel(t["kernel"], t["bandwidth"]))
        else:
            if game is None:
                raise ValidationError("loading a lookahead policy needs the game: MFCResult.load(path, game=...)")
            pol = LookaheadPolicy(LiftedMFC(game), t["h_net"], t["values"], t["resolution"])
        d = {**d, "policy": pol}
        return super()._from_state(d, game)
