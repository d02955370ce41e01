"""MF-OMO: a finite-horizon MFG as an optimisation over occupation measures (Guo, Hu, Zhang 2022).

Minimise over the state-action flow ``L``, a slack ``z`` and a dual ``y``

    ``c1 |A_L L - b|^2 + c2 |A_L^T y + z - c_L|^2 + c3 z . L``     (``loss="l1_l2"``)

(``"l2"`` squares the last term; ``"l1"`` uses absolute values for the first two)
with any torch optimiser, either projecting after each step onto
``L_t in simplex``, ``z >= 0, sum z <= SA(T^2+T+2) r_max``, ``|y| <= S(T+1)(T+2) r_max / 2``
(default), or on the smooth reparameterisation ``L = softmax(u)``,
``z = c_v softmax(v)[:-1]``, ``y = c_w sin(w)`` (``parameterize=True``). A zero
objective is exactly a Nash equilibrium. Options as MFGLib's ``MFOMO``: hat
initialisation of ``(y, z)`` from the optimal values against the initial flow,
adaptive residual balancing of ``c1, c2``. Unlike MFGLib, ``A_L`` is never built: the
residuals come from the kernels' sparse push/pull, and the game's own kernels and
rewards are differentiated through.
"""

from __future__ import annotations

import math

import torch

from mfglearn._common.checks import check_bool, check_int, check_positive
from mfglearn.algorithm import Alias
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.flow import flow_from_mu
from mfglearn.core.value import best_response, freeze
from mfglearn.errors import ValidationError
from mfglearn.solvers.base import Solver
from mfglearn.solvers.occupation import (
    adjoint,
    flow_residual,
    kernels_and_rewards,
    policy_from_flow,
    project_simplex,
)


def reward_bound(game) -> float:
    """``r_max`` for MF-OMO's constraint radii: the game's declared bound (MFGLib's for its
    environments), else the largest ``|r|`` along the uniform policy's flow."""
    if "r_max" in game.layout:
        return float(game.layout["r_max"])
    from mfglearn.core.flow import mean_field_flow

    flow = mean_field_flow(game, game.uniform_policy())
    ms = flow.sa if game.mean_field == "state_action" else flow.mu[: game.H]
    return float(game.rewards_along(ms).abs().max())


class MFOMO(Solver):
    """MF-OMO (MFGLib's ``MFOMO``), one optimiser step per iteration.

    Args:
        game: a finite-horizon game.
        loss: ``"l1_l2"`` (default), ``"l2"`` or ``"l1"``.
        c1, c2, c3: objective weights.
        rb_freq: residual-balancing period (``None``: off); ``m1, m2, m3`` its thresholds and factor.
        optimizer: a ``torch.optim`` class name.
        optimizer_lr: its learning rate (alias ``lr``).
        parameterize: optimise the unconstrained reparameterisation instead of projecting.
        hat_init: initialise ``y, z`` from the optimal values against the initial flow.
        r_max: reward bound for the constraint radii (default :func:`reward_bound`).
    """

    name = "mf_omo"
    aliases = {"lr": Alias("optimizer_lr")}
    description = "MF-OMO: optimisation over occupation measures with a torch optimiser (projected or reparameterised)"
    _state_tensors = ("L", "z", "y", "c1", "c2", "opt_state")

    def __init__(
        self,
        game,
        loss: str = "l1_l2",
        c1: float = 1.0,
        c2: float = 1.0,
        c3: float = 1.0,
        rb_freq: int | None = None,
        m1: float = 10.0,
        m2: float = 2.0,
        m3: float = 0.1,
        optimizer: str = "Adam",
        optimizer_lr: float = 0.1,
        parameterize: bool = False,
        hat_init: bool = True,
        r_max: float | None = None,
        **kw,
    ):
        super().__init__(game, **kw)
        if loss not in ("l1", "l2", "l1_l2"):
            raise ValidationError(f"loss must be 'l1', 'l2' or 'l1_l2', got {loss!r}")
        try:
            rb_freq = None if rb_freq is None else check_int("rb_freq", rb_freq)
        except ValidationError:
            raise ValidationError(f"rb_freq must be a positive integer or None, got {rb_freq!r}") from None
        if not hasattr(torch.optim, str(optimizer)):
            raise ValidationError(f"optimizer must name a torch.optim class (e.g. 'Adam', 'SGD'), got {optimizer!r}")
        if game.H < 2:
            raise ValidationError("MF-OMO needs at least two time steps")
        self.loss, self.rb_freq, self.optimizer_name = loss, rb_freq, str(optimizer)
        self.c1, self.c2, self.c3 = (
            check_positive(n, v, allow_zero=True) for n, v in (("c1", c1), ("c2", c2), ("c3", c3))
        )
        self.m1, self.m2, self.m3 = (check_positive(n, v) for n, v in (("m1", m1), ("m2", m2), ("m3", m3)))
        self.lr = check_positive("optimizer_lr", optimizer_lr)
        self.parameterize, self.hat_init = check_bool("parameterize", parameterize), check_bool("hat_init", hat_init)
        self.r_max = reward_bound(game) if r_max is None else check_positive("r_max", r_max)
        H, S, A = game.H, game.S, game.A
        T = H - 1
        self.c_z = S * A * (T**2 + T + 2) * self.r_max
        self.c_y = S * (T + 1) * (T + 2) * self.r_max / 2
        self.c_w = self.c_y / math.sqrt(S * (T + 1))
        L0 = self.policy / S  # MFGLib's start: the initial policy divided by the number of states
        z0, y0 = self._hat(L0) if hat_init else (torch.zeros_like(L0), torch.zeros(H, S, dtype=L0.dtype))
        if parameterize:
            if (L0 == 0).any():
                raise ValidationError("parameterize=True needs an initial policy without zeros (log of L)")
            self.L = torch.log(L0)
            zt = z0.reshape(-1) / self.c_z
            if hat_init and zt.sum() < 1:
                aug = torch.cat([zt, (zt.sum()).reshape(1)])  # MFGLib appends 1 - (1 - sum) = sum
                self.z = torch.log(aug.masked_fill(aug == 0, 1e-8))
            else:
                self.z = torch.zeros(H * S * A + 1, dtype=L0.dtype)
            self.y = torch.asin(y0 / self.c_w) if hat_init else torch.zeros(H, S, dtype=L0.dtype)
        else:
            self.L, self.z, self.y = L0.clone(), z0.clone(), y0.clone()
        self._make_optimizer()
        self.opt_state = self._opt.state_dict()

    @property
    def hyperparameters(self) -> dict:
        return dict(
            loss=self.loss,
            c1=self.c1,
            c2=self.c2,
            c3=self.c3,
            rb_freq=self.rb_freq,
            m1=self.m1,
            m2=self.m2,
            m3=self.m3,
            optimizer=self.optimizer_name,
            optimizer_lr=self.lr,
            parameterize=self.parameterize,
            hat_init=self.hat_init,
            r_max=self.r_max,
        )

    # ------------------------------------------------------------------ pieces
    def _hat(self, L: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Hat initialisation: ``y_hat`` from ``V*``, ``z_hat = (V* - Q*)^+`` against the flow ``L``."""
        game = self.game
        mu = torch.cat([L.sum(-1), L[-1:].sum(-1)])  # the terminal slot is unused (no terminal reward)
        sa = L if game.mean_field == "state_action" else None
        V, Q, _ = best_response(freeze(game, flow_from_mu(game, mu, sa)))
        y_hat = torch.cat([V[1 : game.H], -V[:1]])  # MFGLib's ordering: v_1..v_T, then -v_0
        return (V[: game.H].unsqueeze(-1) - Q).clamp(min=0), y_hat

    def _variables(self):
        if not self.parameterize:
            return self.L, self.z, self.y
        H = self.game.H
        L = torch.softmax(self.L.reshape(H, -1), -1).reshape(self.L.shape)
        z = (self.c_z * torch.softmax(self.z, -1)[:-1]).reshape(self.L.shape)
        return L, z, self.c_w * torch.sin(self.y)

    def _terms(self, L, z, y):
        kernels, r = kernels_and_rewards(self.game, L)
        res1 = flow_residual(self.game, L, kernels)
        res2 = adjoint(kernels, y) + z + r
        zl = (z * L).sum()
        if self.loss == "l1":
            return res1.abs().sum(), res2.abs().sum(), zl
        if self.loss == "l2":
            return res1.pow(2).sum(), res2.pow(2).sum(), zl.pow(2)
        return res1.pow(2).sum(), res2.pow(2).sum(), zl

    def objective(self) -> torch.Tensor:
        """The current MF-OMO objective (zero exactly at a Nash equilibrium)."""
        o1, o2, o3 = self._terms(*self._variables())
        return self.c1 * o1 + self.c2 * o2 + self.c3 * o3

    def _make_optimizer(self):
        for t in (self.L, self.z, self.y):
            t.requires_grad_(True)
        self._opt = getattr(torch.optim, self.optimizer_name)([self.L, self.z, self.y], lr=self.lr)

    def _rebalance(self):
        with torch.no_grad():
            o1, o2, o3 = self._terms(*self._variables())
        c1, c2 = self.c1, self.c2
        if max(o2, o3) != 0 and o1 / max(o2, o3) > self.m1:
            c1 = self.c1 * self.m2
        if min(o2, o3) != 0 and o1 / min(o2, o3) < self.m3:
            c1 = self.c1 / self.m2
        if max(o1, o3) != 0 and o2 / max(o1, o3) > self.m1:
            c2 = self.c2 * self.m2
        if min(o1, o3) != 0 and o2 / min(o1, o3) < self.m3:
            c2 = self.c2 / self.m2
        self.c1, self.c2 = c1, c2

    def _project(self):
        with torch.no_grad():
            H = self.game.H
            self.L.copy_(project_simplex(self.L.reshape(H, -1)).reshape(self.L.shape))
            zp = self.z.clamp(min=0)
            if zp.sum() > self.c_z:
                zp = project_simplex(zp.reshape(1, -1), self.c_z).reshape(self.z.shape)
            self.z.copy_(zp)
            norm = self.y.norm()
            if norm > self.c_y:
                self.y.mul_(self.c_y / norm)

    def _update(self, ev: Evaluation):
        # MFGLib counts iterations from 1 and rebalances when (i + 1) % rb_freq == 0
        if self.rb_freq and (self.iteration + 2) % self.rb_freq == 0:
            self._rebalance()
        self._opt.zero_grad()
        obj = self.objective()
        obj.backward()
        self._opt.step()
        if not self.parameterize:
            self._project()
        self._extra = {"objective": float(obj.detach())}
        with torch.no_grad():
            L = self._variables()[0]
            pi = policy_from_flow(L.detach())
        self.opt_state = self._opt.state_dict()
        return pi, None

    def load_state_dict(self, d: dict) -> None:
        super().load_state_dict(d)
        for k in ("L", "z", "y"):
            setattr(self, k, getattr(self, k).detach().clone())
        self._make_optimizer()
        self._opt.load_state_dict(self.opt_state)

    def _result_extra(self) -> dict:
        L, z, y = self._variables()
        return {"L": L.detach(), "objective": float(self.objective().detach())}
