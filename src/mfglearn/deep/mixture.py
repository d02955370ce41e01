"""Time-conditioned Gaussian mixture ``mu_t(x)``: DEDA-FP's default density model of the mean field.

``mu_t(x) = sum_k w_k(t) N(x; m_k(t), L_k(t) L_k(t)^T)``, with the weights, means and Cholesky
factors read from one small network of ``t`` alone. Because that network never sees ``x``, a
population query costs one network call per distinct time and then a few elementwise passes per
sample (draw a component, add scaled noise; or one residual per component): no conditioner runs
per sample, unlike a normalizing flow's coupling or autoregressive layers. It has the interface of
:class:`~mfglearn.deep.flows.TimeFlow` (``log_prob``, ``density``, ``sample``, ``fit``, plus the
grid forms ``sample_grid`` / ``log_prob_grid``) and needs only torch.

Inputs are standardised as in the flow (state by its mean and standard deviation, time by the
horizon). Standard deviations are floored at ``min_std`` (in standardised units), so that a
population with atoms (agents pushed onto a wall) cannot make the likelihood unbounded. Such
atoms dominate held-out likelihoods: on the four-rooms population (16% of the agents exactly on the
domain's edge), standardising DEDA-FP's fitted mixture by a fresh sample's statistics instead (means
0.5-3% of a standard deviation away) moved its held-out NLL from -1.31 to -0.95, through its narrow
components on the edges.
"""

from __future__ import annotations

import math

import torch

from mfglearn.deep.train import TimeDensity, mlp
from mfglearn.errors import ValidationError

# time groups below this many samples on average are evaluated by gathering each sample's
# parameters; larger groups by one pass per distinct time (no (N, K, d, d) gather)
_GROUP_MIN_SAMPLES = 64


class TimeMixture(TimeDensity):
    """Conditional density ``mu_t(x)`` for ``x in R^d`` and ``t in [0, horizon]``: a Gaussian mixture.

    Args:
        dim: state dimension ``d``.
        horizon: largest time (times are divided by it).
        kind: ``"gmm"`` (accepted so that a saved ``config`` rebuilds the model).
        components: number of mixture components ``K``.
        hidden: hidden layer sizes of the network ``t -> (weights, means, Cholesky factors)``.
        min_std: floor of each component's standard deviations, in standardised units.
    """

    def __init__(
        self,
        dim: int,
        horizon: float,
        kind: str = "gmm",
        components: int = 32,
        hidden=(64, 64),
        min_std: float = 1e-3,
    ):
        super().__init__()
        if kind != "gmm":
            raise ValidationError(f"TimeMixture is kind 'gmm', got {kind!r}; use TimeFlow for 'nsf' or 'realnvp'")
        if int(dim) < 1 or int(components) < 1:
            raise ValidationError(f"dim and components must be >= 1, got {dim} and {components}")
        if horizon <= 0:
            raise ValidationError(f"horizon must be > 0, got {horizon}")
        if not min_std > 0:
            raise ValidationError(f"min_std must be > 0, got {min_std}")
        self.dim, self.horizon, self.kind = int(dim), float(horizon), kind
        self.components, self.min_std = int(components), float(min_std)
        self.config = dict(
            dim=self.dim,
            horizon=self.horizon,
            kind=kind,
            components=self.components,
            hidden=list(hidden),
            min_std=self.min_std,
        )
        d, K = self.dim, self.components
        rows, cols = torch.tril_indices(d, d)
        self.register_buffer("_rows", rows, persistent=False)
        self.register_buffer("_cols", cols, persistent=False)
        self._per_component = 1 + d + rows.numel()
        self.net = mlp(1, K * self._per_component, hidden)
        with torch.no_grad():  # start the components spread over the standardised data, not all at 0
            last = self.net[-1]
            last.weight.mul_(0.1)
            bias = last.bias.view(K, self._per_component)
            bias.zero_()
            bias[:, 1 : 1 + d] = torch.randn(K, d)
            diag = rows == cols
            bias[:, 1 + d :][:, diag] = math.log(math.expm1(0.5))  # softplus^-1(0.5): std 0.5
        self.register_buffer("x_mean", torch.zeros(d))
        self.register_buffer("x_std", torch.ones(d))

    # ----------------------------------------------------------------- parameters
    def _context(self, t) -> torch.Tensor:
        return torch.as_tensor(t, dtype=self.x_mean.dtype, device=self.x_mean.device).reshape(-1, 1) / self.horizon

    def parameters_at(self, t) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-weights ``(U, K)``, means ``(U, K, d)`` and Cholesky factors ``(U, K, d, d)`` at times ``t`` ``(U,)``,
        in standardised coordinates."""
        d, K = self.dim, self.components
        out = self.net(self._context(t)).view(-1, K, self._per_component)
        log_w = out[..., 0].log_softmax(-1)
        mean = out[..., 1 : 1 + d]
        L = out.new_zeros(out.shape[0], K, d, d)
        L[..., self._rows, self._cols] = out[..., 1 + d :]
        diag = torch.nn.functional.softplus(torch.diagonal(L, dim1=-2, dim2=-1)) + self.min_std
        return log_w, mean, L.tril(-1) + torch.diag_embed(diag)

    def _log_terms(self, t):
        """Per component: ``log w_k - log det L_k - d/2 log 2 pi`` ``(U, K)``, means and inverse factors."""
        log_w, mean, L = self.parameters_at(t)
        eye = torch.eye(self.dim, dtype=L.dtype, device=L.device).expand_as(L)
        L_inv = torch.linalg.solve_triangular(L, eye, upper=False)
        diag = torch.diagonal(L, dim1=-2, dim2=-1)
        const = log_w - diag.log().sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)
        return const, mean, L_inv

    @staticmethod
    def _mixture_log_prob(z, const, mean, L_inv) -> torch.Tensor:
        """``log sum_k exp(const_k - |L_k^-1 (z - m_k)|^2 / 2)`` for ``z`` ``(..., n, d)``, parameters of ``(..., K)``.

        The residual is formed per component (not by expanding the quadratic), so that narrow
        components lose no precision to cancellation in float32."""
        d = z.shape[-1]
        # one (..., n, K) plane per coordinate: small batched matmuls (einsum) ran ~3x slower
        r = [z[..., j : j + 1] - mean[..., j].unsqueeze(-2) for j in range(d)]
        q = torch.zeros_like(r[0]) if d else None
        for i in range(d):
            y = r[i] * L_inv[..., i, i].unsqueeze(-2)
            for j in range(i):
                y.add_(r[j] * L_inv[..., i, j].unsqueeze(-2))
            q.addcmul_(y, y, value=-0.5)
        return torch.logsumexp(q.add_(const.unsqueeze(-2)), -1)

    # ----------------------------------------------------------------- densities
    def log_prob(self, x: torch.Tensor, t) -> torch.Tensor:
        """``log mu_t(x)`` for ``x`` ``(N, d)`` and times ``t`` (a scalar, or ``(N,)``): ``(N,)``."""
        z = (x - self.x_mean) / self.x_std
        t = torch.as_tensor(t, dtype=self.x_mean.dtype, device=self.x_mean.device)
        if t.dim() == 0:
            const, mean, L_inv = self._log_terms(t)
            lp = self._mixture_log_prob(z, const[0], mean[0], L_inv[0])
        else:
            times, inverse = torch.unique(t, return_inverse=True)
            const, mean, L_inv = self._log_terms(times)
            if z.shape[0] < _GROUP_MIN_SAMPLES * times.shape[0]:
                lp = self._mixture_log_prob(z.unsqueeze(1), const[inverse], mean[inverse], L_inv[inverse])[:, 0]
            else:  # one pass per distinct time: its (n, K) planes stay in cache
                order = torch.argsort(inverse, stable=True)
                counts = torch.bincount(inverse, minlength=times.shape[0]).tolist()
                parts = torch.split(z[order], counts)
                vals = torch.cat(
                    [self._mixture_log_prob(p, const[u], mean[u], L_inv[u]) for u, p in enumerate(parts) if len(p)]
                )
                lp = torch.empty_like(vals).index_put_((order,), vals)
        return lp - torch.log(self.x_std).sum()

    def log_prob_grid(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """``log mu_{times[u]}(x[u, i])`` for ``x`` ``(U, n, d)`` and ``times`` ``(U,)``: ``(U, n)``."""
        z = (x - self.x_mean) / self.x_std
        const, mean, L_inv = self._log_terms(times)
        out = torch.stack([self._mixture_log_prob(z[u], const[u], mean[u], L_inv[u]) for u in range(z.shape[0])])
        return out - torch.log(self.x_std).sum()

    # ----------------------------------------------------------------- samples
    def _alias_tables(self, log_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Walker's alias tables ``(U, K)`` for the weights: a draw is one uniform, two lookups and a compare.

        Built by pairing, in every row at once, the smallest remaining scaled weight with the largest
        (K - 1 vectorised steps); ``torch.multinomial`` and ``searchsorted`` were 2x slower to draw from."""
        U, K = log_w.shape
        q = log_w.double().exp()
        q = q * (K / q.sum(-1, keepdim=True))
        alias = torch.arange(K, device=q.device).expand(U, K).clone()
        done = torch.zeros(U, K, dtype=torch.bool, device=q.device)
        rows = torch.arange(U, device=q.device)
        for _ in range(K - 1):
            small = q.masked_fill(done, math.inf).argmin(-1)
            large = q.masked_fill(done, -math.inf).argmax(-1)
            alias[rows, small] = large
            q[rows, large] -= 1 - q[rows, small]
            done[rows, small] = True
        return q.masked_fill(~done, 1.0).clamp_(0.0, 1.0), alias

    def _draw(self, t_rows, rows: torch.Tensor, generator) -> torch.Tensor:
        """One sample per entry of ``rows`` ``(N,)``, an index into the times ``t_rows`` ``(U,)``: ``(N, d)``."""
        d, K = self.dim, self.components
        log_w, mean, L = self.parameters_at(t_rows)
        threshold, alias = self._alias_tables(log_w)
        # one table of each component's mean and scaled factor in state units: one gather per sample
        scale = self.x_std.unsqueeze(-1)
        table = torch.cat([mean * self.x_std + self.x_mean, (scale * L).flatten(-2)], -1).reshape(-1, d + d * d)
        v = torch.rand(rows.shape[0], generator=generator, dtype=torch.float64, device=rows.device) * K
        column = v.long().clamp_max_(K - 1)
        cell = rows * K + column
        keep = (v - column) < threshold.reshape(-1)[cell]
        pick = torch.where(keep, cell, rows * K + alias.reshape(-1)[cell])
        p = table[pick]
        eps = torch.randn(rows.shape[0], d, generator=generator, dtype=p.dtype, device=p.device)
        x = p[:, :d].contiguous()
        for j in range(d):
            x.addcmul_(p[:, d + j : d * d + d : d], eps[:, j : j + 1])
        return x

    @torch.no_grad()
    def sample(self, t, n: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples of ``mu_t`` (scalar ``t``), or one sample per entry of a time vector ``t``: ``(N, d)``.

        Randomness comes from ``generator`` (the global RNG without one)."""
        t = torch.as_tensor(t, dtype=self.x_mean.dtype, device=self.x_mean.device)
        if t.dim() == 0:
            if n is None:
                raise ValidationError("a scalar time needs n, the number of samples")
            return self.sample_grid(t.reshape(1), n, generator)[0]
        times, inverse = torch.unique(t, return_inverse=True)
        return self._draw(times, inverse, generator)

    @torch.no_grad()
    def sample_grid(self, times: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples at each of ``times`` ``(U,)``: ``(U, n, d)``."""
        times = torch.as_tensor(times, dtype=self.x_mean.dtype, device=self.x_mean.device).reshape(-1)
        rows = torch.arange(times.shape[0], device=times.device).repeat_interleave(int(n))
        return self._draw(times, rows, generator).view(times.shape[0], int(n), self.dim)

    # ----------------------------------------------------------------- fit
    def _fit_parameters(self):
        return self.net.parameters()
