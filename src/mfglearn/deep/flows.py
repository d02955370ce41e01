"""Time-conditioned normalizing flow ``mu_t(x)``: densities and samples of a mean-field flow.

(:func:`time_density` builds either this or the default Gaussian mixture of
:mod:`mfglearn.deep.mixture`, which answers population queries faster.)

DEDA-FP represents the average mean field by a conditional flow ``f_phi(., t)`` fitted by
maximum likelihood on ``(t, x)`` samples of the population:
``-E[log p_0(f^{-1}(x, t)) + log |det d f^{-1} / dx|]``. Inputs are standardised (state by
its mean and standard deviation, time scaled to ``[0, 1]``), which keeps the spline
bounds and the optimiser well conditioned. Built on zuko (``pip install 'mfglearn[deep]'``).
"""

from __future__ import annotations

import torch

from mfglearn.deep.train import TimeDensity
from mfglearn.errors import ValidationError, missing_extra


class TimeFlow(TimeDensity):
    """Conditional density ``mu_t(x)`` for ``x in R^d`` and ``t in [0, horizon]``.

    Args:
        dim: state dimension ``d``.
        horizon: largest time (times are divided by it).
        kind: ``"nsf"`` (neural spline flow, accurate) or ``"realnvp"`` (affine couplings, faster sampling).
        transforms: number of flow layers.
        hidden: hidden layer sizes of the conditioners.
    """

    def __init__(self, dim: int, horizon: float, kind: str = "nsf", transforms: int = 3, hidden=(64, 64)):
        super().__init__()
        try:
            import zuko
        except ImportError:
            raise missing_extra("zuko", "deep") from None
        if kind not in ("nsf", "realnvp"):
            raise ValidationError(f"kind must be 'nsf' or 'realnvp', got {kind!r}")
        if horizon <= 0:
            raise ValidationError(f"horizon must be > 0, got {horizon}")
        if kind == "realnvp" and dim < 2:
            raise ValidationError("RealNVP splits the coordinates and needs dim >= 2; use kind='nsf' in one dimension")
        self.dim, self.horizon, self.kind = int(dim), float(horizon), kind
        self.config = dict(
            dim=self.dim, horizon=self.horizon, kind=kind, transforms=int(transforms), hidden=list(hidden)
        )
        cls = zuko.flows.NSF if kind == "nsf" else zuko.flows.RealNVP
        self.flow = cls(features=self.dim, context=1, transforms=transforms, hidden_features=tuple(hidden))
        self.register_buffer("x_mean", torch.zeros(self.dim))
        self.register_buffer("x_std", torch.ones(self.dim))

    def _context(self, t: torch.Tensor) -> torch.Tensor:
        return (torch.as_tensor(t, dtype=self.x_mean.dtype, device=self.x_mean.device).reshape(-1, 1)) / self.horizon

    def log_prob(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``log mu_t(x)`` for ``x`` ``(N, d)`` and times ``t`` ``(N,)``: ``(N,)``."""
        z = (x - self.x_mean) / self.x_std
        return self.flow(self._context(t)).log_prob(z) - torch.log(self.x_std).sum()

    @torch.no_grad()
    def sample(
        self, t: float | torch.Tensor, n: int | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` samples of ``mu_t`` (scalar ``t``), or one sample per entry of a time vector ``t``: ``(N, d)``.

        With ``generator``, the base noise is drawn from it and pushed through the flow's inverse
        transform (reproducible without the global RNG); without, zuko samples from the global RNG.
        """
        t = torch.as_tensor(t, dtype=self.x_mean.dtype, device=self.x_mean.device)
        ctx = self._context(t.expand(n) if t.dim() == 0 else t)
        dist = self.flow(ctx)
        if generator is None:
            z = dist.sample()
        else:
            eps = torch.randn(ctx.shape[0], self.dim, generator=generator, dtype=ctx.dtype, device=ctx.device)
            z = dist.transform.inv(eps)
        return z * self.x_std + self.x_mean

    def _fit_parameters(self):
        return self.flow.parameters()


DENSITY_KINDS = ("gmm", "nsf", "realnvp")


def time_density(dim: int, horizon: float, kind: str = "gmm", **kwargs) -> TimeDensity:
    """The time-conditioned density model of ``kind``: ``"gmm"``
    (:class:`~mfglearn.deep.mixture.TimeMixture`, the default: fastest population queries) or a
    :class:`TimeFlow` (``"nsf"``, ``"realnvp"``). ``kwargs`` go to the constructor; a saved
    ``config`` rebuilds the same model (``time_density(**config)``)."""
    if kind == "gmm":
        from mfglearn.deep.mixture import TimeMixture

        return TimeMixture(dim, horizon, **kwargs)
    if kind not in DENSITY_KINDS:
        raise ValidationError(f"kind must be one of {', '.join(map(repr, DENSITY_KINDS))}, got {kind!r}")
    return TimeFlow(dim, horizon, kind=kind, **kwargs)
