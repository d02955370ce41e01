"""MF-OMI-FBS: occupation-measure inclusion by forward-backward splitting (Hu & Zhang 2024), as MFGLib's.

Each iteration takes a step along the rewards evaluated at the current flow ``d``,
``d' = d - alpha (c_d + eta d)`` with ``c_d = -r(d)``, then projects ``d'``
(Euclidean) onto the occupation measures of the MDP frozen at ``d``:
``{x >= 0 : sum_a x_0 = mu0, sum_a x_{t+1} = P_t(d)^T x_t}``.

MFGLib hands the projection to OSQP with dense ``HS x HSA`` constraint matrices. Here it
is solved in the dual: ``x(lambda) = (d' + A^T lambda)^+`` and ``lambda`` maximises the
concave, piecewise-quadratic dual by a semismooth Newton method whose linear systems
``A D A^T delta = b - A x`` are solved by conjugate gradients with matrix-free products
(the kernels' sparse push/pull), with a backtracking line search. No matrix is ever
formed, so memory and time grow with the number of transitions, not its square.
"""

from __future__ import annotations

import math
import warnings

import torch

from mfglearn._common.checks import check_bool
from mfglearn.algorithm import Alias
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.flow import mean_field_flow
from mfglearn.errors import ValidationError
from mfglearn.model.kernels import Kernel
from mfglearn.solvers.base import Solver, check_positive
from mfglearn.solvers.occupation import kernels_and_rewards, policy_from_flow

DENSE_NEWTON_MAX_ROWS = 400
STALL_STEPS = 25  # Newton steps without a 10% lower residual before a plateau within 100 tol is accepted


def constraint_matrix(game, kernels: list[Kernel], H: int) -> torch.Tensor:
    """Sparse ``A`` (``(H S, H S A)``, COO): the flow constraints of the MDP with these kernels, MFGLib's row order."""
    S, A = game.S, game.A
    dev = game.mu0.device
    rows, cols, vals = [], [], []
    s = torch.arange(S, device=dev)
    a = torch.arange(A, device=dev)
    for t in range(H - 1):
        sp = kernels[t].to_sparse()
        B = sp.index.shape[-1]
        src = (s.view(S, 1, 1) * A + a.view(1, A, 1)).expand(S, A, B)
        rows.append(t * S + sp.index.reshape(-1))
        cols.append(t * S * A + src.reshape(-1))
        vals.append(sp.prob.reshape(-1))
        # minus the next step's state marginal
        rows.append((t * S + s).repeat_interleave(A))
        cols.append((t + 1) * S * A + (s.view(S, 1) * A + a).reshape(-1))
        vals.append(-torch.ones(S * A, dtype=game.dtype, device=dev))
    rows.append(((H - 1) * S + s).repeat_interleave(A))
    cols.append((s.view(S, 1) * A + a).reshape(-1))
    vals.append(torch.ones(S * A, dtype=game.dtype, device=dev))
    idx = torch.stack([torch.cat(rows), torch.cat(cols)])
    return torch.sparse_coo_tensor(idx, torch.cat(vals), (H * S, H * S * A)).coalesce()


def _pcg(op, rhs: torch.Tensor, diag: torch.Tensor, tol: float, max_iter: int) -> torch.Tensor:
    """Conjugate gradients with a Jacobi preconditioner for the SPD operator ``op``."""
    inv = 1.0 / diag.clamp_min(1e-300)
    x = torch.zeros_like(rhs)
    r = rhs.clone()
    z = inv * r
    p = z.clone()
    rz = (r * z).sum()
    stop = tol * tol * max(float((r * r).sum()), 1e-300)
    for _ in range(max_iter):
        Ap = op(p)
        alpha = rz / (p * Ap).sum().clamp_min(1e-300)
        x = x + alpha * p
        r = r - alpha * Ap
        if float((r * r).sum()) <= stop:
            break
        z = inv * r
        rz_new = (r * z).sum()
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x


def project_occupation(
    game,
    kernels: list[Kernel],
    d: torch.Tensor,
    tol: float = 1e-9,
    max_newton: int = 500,
    lam0: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean projection of ``d`` (``(H, S, A)``) onto the occupation measures of ``kernels`` from ``mu0``.

    Semismooth Newton on the dual; Newton systems solved exactly (dense solve of the
    ``HS x HS`` matrix ``A D A^T``) up to ``DENSE_NEWTON_MAX_ROWS`` rows, beyond by
    Jacobi-preconditioned conjugate gradients with sparse matrix-vector products.
    Stops when ``|A x - b|_inf < tol``. ``lam0`` warm-starts the dual (e.g. with the
    previous iteration's); returns ``(x, lam)``.
    """
    H, S, A = d.shape
    with warnings.catch_warnings():  # torch flags its (stable here) sparse CSR support as beta
        warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
        Am = constraint_matrix(game, kernels, H)
        At = Am.t().coalesce()
        Acsr, Atcsr = Am.to_sparse_csr(), At.to_sparse_csr()
    n = H * S
    b = torch.zeros(n, dtype=d.dtype, device=d.device)
    b[-S:] = game.mu0.to(d)
    dflat = d.reshape(-1)
    lam = torch.zeros(n, dtype=d.dtype, device=d.device) if lam0 is None else lam0.clone()

    def dual(u: torch.Tensor, lam: torch.Tensor) -> float:
        return float(-0.5 * (u.clamp(min=0) ** 2).sum() + (lam * b).sum())

    u = dflat + Atcsr @ lam
    grad = b
    best, stale = math.inf, 0
    for _ in range(max_newton):
        x = u.clamp(min=0)
        grad = b - Acsr @ x
        res = float(grad.abs().max())
        if res < tol:
            return x.view(H, S, A), lam
        # Near a degenerate solution (whole states inactive) the ridge-regularised steps can keep finding
        # round-off-sized ascent without lowering the residual: the line search below never fails, so its
        # round-off exit never fires. Accept such a plateau on the same terms (within 100 tol).
        best, stale = (res, 0) if res < 0.9 * best else (best, stale + 1)
        if stale >= STALL_STEPS and res < 100 * tol:
            return x.view(H, S, A), lam
        active = (u > 0).to(d.dtype)
        # regularised semismooth Newton: a ridge shrinking with the residual keeps the steps
        # bounded where whole states are inactive, and vanishes at the solution
        ridge = min(1e-2, 1e-3 * float(grad.abs().max()))
        if n <= DENSE_NEWTON_MAX_ROWS:
            ia, va = Am.indices(), Am.values()
            AD = torch.sparse_coo_tensor(ia, va * active[ia[1]], Am.shape)
            M = torch.sparse.mm(AD, At).to_dense()
            M.diagonal().add_(ridge)
            delta = torch.linalg.solve(M, grad)
        else:
            # diag(A D A^T)_i = sum_j A_ij^2 D_j, from the COO entries
            ia, va = Am.indices(), Am.values()
            diag = torch.zeros(n, dtype=d.dtype, device=d.device).index_add_(0, ia[0], va**2 * active[ia[1]]) + ridge
            delta = _pcg(lambda v, D=active, e=ridge: Acsr @ (D * (Atcsr @ v)) + e * v, grad, diag, 1e-10, 20 * n)
        q0, slope, step = dual(u, lam), float((grad * delta).sum()), 1.0
        while True:
            lam_new = lam + step * delta
            u_new = dflat + Atcsr @ lam_new
            if dual(u_new, lam_new) >= q0 + 1e-4 * step * slope:
                break
            step *= 0.5
            if step < 1e-12:  # no ascent left: round-off floor of the dual
                if float(grad.abs().max()) < 100 * tol:
                    return x.view(H, S, A), lam
                break
        lam, u = lam_new, u_new
    raise ValidationError(
        f"occupation-measure projection did not converge in {max_newton} Newton steps "
        f"(constraint residual {float(grad.abs().max()):.2e}); the kernels may be inconsistent"
    )


class OccupationMeasureInclusion(Solver):
    """MF-OMI-FBS (MFGLib's ``OccupationMeasureInclusion``), with an exact matrix-free projection.

    Args:
        game: a finite-horizon game.
        learning_rate: step size ``alpha`` (> 0; alias ``alpha``).
        perturbation: ``eta d`` added to the step (``eta >= 0``; speeds convergence, biases the limit; alias ``eta``).
        tol: projection accuracy (constraint residual, sup norm); MFGLib's OSQP default is 1e-8.
        zero_tol: flow entries at or below this are treated as zero when reading off the policy
            (MFGLib: ``10 * (atol + rtol) / 2 = 1e-7``).
        warm_start: start each projection's dual from the previous one (MFGLib warm-starts OSQP).
    """

    name = "occupation_measure_inclusion"
    description = "MF-OMI-FBS: forward-backward splitting on occupation measures, exact dual-Newton projection"
    _state_tensors = ("d", "lam")
    aliases = {"alpha": Alias("learning_rate"), "eta": Alias("perturbation")}

    def __init__(
        self,
        game,
        learning_rate: float = 1e-3,
        perturbation: float = 0.0,
        tol: float = 1e-9,
        zero_tol: float = 1e-7,
        warm_start: bool = True,
        **kw,
    ):
        super().__init__(game, **kw)
        if game.H < 2:
            raise ValidationError("occupation_measure_inclusion needs at least two time steps")
        self.alpha = check_positive("learning_rate", learning_rate)
        self.eta = check_positive("perturbation", perturbation, allow_zero=True)
        self.tol = check_positive("tol", tol)
        self.zero_tol = check_positive("zero_tol", zero_tol, allow_zero=True)
        self.warm_start = check_bool("warm_start", warm_start)
        self.lam: torch.Tensor | None = None
        flow = mean_field_flow(game, self.policy)
        self.d = flow.mu[:-1].unsqueeze(-1) * self.policy

    @property
    def hyperparameters(self) -> dict:
        return {
            "learning_rate": self.alpha,
            "perturbation": self.eta,
            "tol": self.tol,
            "zero_tol": self.zero_tol,
            "warm_start": self.warm_start,
        }

    def _update(self, ev: Evaluation):
        kernels, r = kernels_and_rewards(self.game, self.d)
        step = self.d + self.alpha * (r - self.eta * self.d)
        self.d, lam = project_occupation(self.game, kernels, step, self.tol, lam0=self.lam)
        self.lam = lam if self.warm_start else None
        L = torch.where(self.d.abs() <= self.zero_tol, torch.zeros_like(self.d), self.d)
        return policy_from_flow(L), None

    def _result_extra(self) -> dict:
        return {"d": self.d}
