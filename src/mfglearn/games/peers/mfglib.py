"""MFGLib's ten environments (mfglib 0.3.0), with its exact definitions and defaults.

MFGLib's conventions, kept here: a horizon ``T`` means decisions at ``t = 0..T``
(``T + 1`` of them), rewards at every ``t`` including ``T`` (they may depend on the
action at ``T``), no transition after ``T``; the mean field is the state-action
measure ``L_t``; multi-dimensional states and actions are flattened in C order. A
game here has ``horizon = T + 1``, ``mean_field="state_action"``, and its last
kernel (after ``t = T``, which no value depends on) is the identity. Policies are
``(T + 1, S, A)`` with ``S``, ``A`` the flattened sizes, so
``mfglearn.exploitability`` equals ``mfglib.scoring.exploitability_score`` (MFGLib
computes in float32: agreement to ~1e-6 relative).

Kernels that do not depend on the mean field are sparse (``B`` successors per
pair) rather than MFGLib's dense ``S x S x A`` tensors; mean-field-dependent ones are
built in a few tensor operations per step.

Where MFGLib departs from the paper it cites, parity with MFGLib wins and the
docstring says so.

Solvers: ``mirror_descent(learning_rate=alpha)`` is MFGLib's ``OnlineMirrorDescent(alpha)``
and ``fictitious_play(ties="uniform")`` its ``FictitiousPlay()`` (iterates agree to 1e-4,
``tests/games/peers/test_mfglib_parity.py``), except where the true Q-values tie exactly (building
evacuation, treasure hunting, crowd motion): MFGLib's greedy step then keeps the actions
that float32 round-off happens to favour, which no float64 computation can follow.
MFGLib's fictitious play crashes on ``equilibrium_price`` (two-dimensional actions); ours runs.
"""

from __future__ import annotations

import math

import torch

from mfglearn._common.checks import check_finite, check_int, check_positive
from mfglearn.errors import ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import Kernel, SparseKernel

F64 = torch.float64


def _identity(S: int, A: int) -> SparseKernel:
    return SparseKernel.deterministic(torch.arange(S).unsqueeze(1).expand(S, A))


def _mu0(mu0, shape: tuple[int, ...]) -> torch.Tensor:
    n = math.prod(shape)
    if isinstance(mu0, str):
        if mu0 != "uniform":
            raise ValidationError(f"mu0 must be 'uniform' or a tensor of shape {shape}, got {mu0!r}")
        return torch.full((n,), 1.0 / n, dtype=F64)
    t = torch.as_tensor(mu0, dtype=F64)
    if t.numel() != n:
        raise ValidationError(f"mu0 must have {n} entries (state shape {shape}), got {t.numel()}")
    return t.reshape(n)


def _game(
    name: str,
    T: int,
    S: tuple[int, ...],
    A: tuple[int, ...],
    mu0: torch.Tensor,
    reward,
    kernel,
    params: dict,
    r_max: float,
    layout: dict | None = None,
    device=None,
) -> FiniteMFG:
    """A FiniteMFG with MFGLib's time convention: ``reward(t, L_nd)`` gets ``L`` shaped ``(*S, *A)``.

    Every reward here also takes a batch of times: ``t`` a ``(T,)`` tensor and ``L`` shaped ``(T, *S, *A)``,
    so that a whole flow's rewards are one call (``batched_reward``) instead of one per time step.
    A mean-field-dependent ``kernel(t, L)`` returns a dense ``(..., S, A, S)`` tensor or an ``(index, prob)``
    pair of ``(..., S, A, K)`` tensors for ``L`` shaped ``(..., *S, *A)`` (or a kernel shared by all), so
    that a batch of mean fields gets its kernels in one call (``batched_transition``).
    """
    T = check_int("T", T)
    nS, nA = math.prod(S), math.prod(A)
    last = _identity(nS, nA)

    def reward_fn(t, L):
        lead = L.shape[:-2]  # () for one time, (T,) for a batch of times
        t = int(t) if not lead else t
        return reward(t, L.reshape(*lead, *S, *A)).reshape(*lead, nS, nA)

    if isinstance(kernel, Kernel):
        transition = kernel  # mean-field independent: the kernel after T is irrelevant anyway
    else:

        def transition(t, L):
            return kernel(int(t), L.reshape(*L.shape[:-2], *S, *A)) if t < T else last

    return FiniteMFG(
        n_states=nS,
        n_actions=nA,
        mu0=mu0,
        reward=reward_fn,
        transition=transition,
        horizon=T + 1,
        mean_field="state_action",
        batched_reward=True,
        batched_transition=not isinstance(kernel, Kernel),
        name=name,
        layout={"mfglib_shape": (S, A), "r_max": float(r_max), **(layout or {})},
        params=params,
        device=device,
    )


def _clip_moves(pos: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    return pos.clamp(lo, hi)


def beach_bar(
    T: int = 2, n: int = 4, bar_loc: int = 2, log_eps: float = 1e-20, p_still: float = 0.5, mu0="uniform", device=None
) -> FiniteMFG:
    """MFGLib's beach bar: ``n`` positions, actions left/stay/right, noise left/stay/right.

    Reward ``-d(s, bar) - [a != stay] / n - log(mu(s) + log_eps)``. As in MFGLib (and unlike
    Perrin et al. 2020, whose beach is a torus), the distance ``d`` is measured on the
    torus while moves are clipped at the ends of a line.
    """
    if not 0 <= bar_loc <= n - 1:
        raise ValidationError("bar_loc must be between zero and n-1 (inclusive)")
    if not 0 <= p_still <= 1:
        raise ValidationError("p_still must be a valid probability")
    check_positive("log_eps", log_eps)
    s = torch.arange(n)
    nxt = (s.view(n, 1, 1) + torch.arange(3).view(1, 3, 1) - 1 + torch.tensor([-1, 0, 1]).view(1, 1, 3)).clamp(0, n - 1)
    prob = torch.tensor([(1 - p_still) / 2, p_still, (1 - p_still) / 2], dtype=F64).expand(n, 3, 3)
    dist = torch.minimum(torch.arange(n).roll(bar_loc), torch.arange(n).flip(0).roll(bar_loc + 1)).to(F64)
    base = -dist.unsqueeze(1) - torch.tensor([1.0, 0.0, 1.0], dtype=F64) / n

    def reward(t, L):
        return base.to(L) - torch.log(L.sum(-1) + log_eps).unsqueeze(-1)

    return _game(
        "mfglib/beach_bar",
        T,
        (n,),
        (3,),
        _mu0(mu0, (n,)),
        reward,
        SparseKernel(nxt, prob.contiguous()),
        dict(T=T, n=n, bar_loc=bar_loc, log_eps=log_eps, p_still=p_still),
        n,
        {"line": n},
        device,
    )


def building_evacuation(
    T: int = 3,
    n_floor: int = 5,
    floor_l: int = 10,
    floor_w: int = 10,
    log_eps: float = 1e-20,
    eta: float = 1.0,
    evac_r: float = 10.0,
    mu0="uniform",
    device=None,
) -> FiniteMFG:
    """MFGLib's building evacuation: floors of ``floor_l x floor_w`` tiles, go down the stairs.

    Actions right, left, up, down (clipped to the floor), downstairs (only at tile
    (0, 0)) and upstairs (only at the opposite corner). Reward
    ``-eta log(max(mu(s), log_eps)) + evac_r [floor 0]``.
    """
    check_positive("log_eps", log_eps)  # its log bounds the reward: log(0) is undefined
    S = (n_floor, floor_l, floor_w)
    f, x, y = torch.meshgrid(torch.arange(n_floor), torch.arange(floor_l), torch.arange(floor_w), indexing="ij")
    corner0 = (x == 0) & (y == 0)
    corner1 = (x == floor_l - 1) & (y == floor_w - 1)
    moves = [
        (f, (x + 1).clamp(max=floor_l - 1), y),
        (f, (x - 1).clamp(min=0), y),
        (f, x, (y - 1).clamp(min=0)),
        (f, x, (y + 1).clamp(max=floor_w - 1)),
        (torch.where(corner0, (f - 1).clamp(min=0), f), x, y),
        (torch.where(corner1, (f + 1).clamp(max=n_floor - 1), f), x, y),
    ]
    nxt = torch.stack([(ff * floor_l + xx) * floor_w + yy for ff, xx, yy in moves], -1).reshape(-1, 6)
    bonus = torch.zeros(S, dtype=F64)
    bonus[0] = evac_r

    def reward(t, L):
        mu = L.sum(-1).clamp(min=log_eps)
        return (-eta * torch.log(mu) + bonus.to(L)).unsqueeze(-1).expand(*mu.shape, 6)

    return _game(
        "mfglib/building_evacuation",
        T,
        S,
        (6,),
        _mu0(mu0, S),
        reward,
        SparseKernel.deterministic(nxt),
        dict(T=T, n_floor=n_floor, floor_l=floor_l, floor_w=floor_w, log_eps=log_eps, eta=eta, evac_r=evac_r),
        -eta * math.log(log_eps) + evac_r,
        {"floors": S},
        device,
    )


def conservative_treasure_hunting(
    T: int = 5, n: int = 3, r: tuple = (1.0, 1.0, 1.0), c: tuple = (1.0, 1.0, 1.0, 1.0, 1.0), mu0="uniform", device=None
) -> FiniteMFG:
    """MFGLib's conservative treasure hunting (Guo et al. 2022): ``n`` sites, pick the next one.

    At ``t = 0`` the move to site ``a`` is sure and there is no reward. Later, with
    ``D_s = |L_t - e_s e_s^T|^2``, the move succeeds with probability
    ``1 / (1 + n c_{t-1} D_s)`` and is otherwise uniform; the reward at site ``s`` for
    staying (``a = s``) is ``r_s (1 - D_s / 2)``.
    """
    if n != len(r):
        raise ValidationError("n must equal len(r)")
    if T != len(c):
        raise ValidationError("T must equal len(c)")
    rr = torch.tensor(r, dtype=F64)
    eye = torch.eye(n, dtype=F64)

    def dists(L):  # D_s = sum_{i,j} (L_ij - [i = j = s])^2, for every s: (..., n)
        return (L**2).sum((-2, -1)).unsqueeze(-1) - 2 * torch.diagonal(L, dim1=-2, dim2=-1) + 1

    def reward(t, L):
        later = (torch.as_tensor(t, device=L.device) != 0).to(L).reshape(*L.shape[:-2], 1)  # no reward at t = 0
        return torch.diag_embed(later * rr.to(L) * (1 - dists(L) / 2))

    def kernel(t, L):
        if t == 0:
            return SparseKernel.deterministic(torch.arange(n).expand(n, n))
        ct = c[t - 1] * dists(L)  # (..., n) per source state
        den = (1 + n * ct).unsqueeze(-1).unsqueeze(-1)
        # P[s, a, s'] = c D_s / den + [s' = a] / den
        return (ct.unsqueeze(-1).unsqueeze(-1) / den).expand(*ct.shape, n, n) + eye.to(L) / den

    return _game(
        "mfglib/conservative_treasure_hunting",
        T,
        (n,),
        (n,),
        _mu0(mu0, (n,)),
        reward,
        kernel,
        dict(T=T, n=n, r=list(r), c=list(c)),
        max(r),
        device=device,
    )


def crowd_motion(
    T: int = 3,
    torus_l: int = 20,
    torus_w: int = 20,
    loc_change_freq: int = 2,
    c: float = 10.0,
    log_eps: float = 1e-10,
    p_still: float = 0.5,
    seed: int = 0,
    mu0="uniform",
    device=None,
) -> FiniteMFG:
    """MFGLib's crowd motion: a 2-D beach bar whose bar moves at random every ``loc_change_freq`` steps.

    Despite the names, moves are clipped at the borders (not a torus), as in MFGLib.
    Reward ``c (1 - d_1(s, bar_t) / (torus_l + torus_w)) - log(mu(s) + log_eps)``. The bar's
    path is drawn from ``torch.manual_seed(seed)`` exactly as MFGLib does.
    """
    check_positive("log_eps", log_eps)  # log(mu + log_eps) must stay finite on empty cells
    S = (torus_l, torus_w)
    gen = torch.Generator().manual_seed(int(seed))
    bar = (torus_l // 2, torus_w // 2)
    bars = [bar]
    for i in range(T + 1):
        if (i + 1) % loc_change_freq == 0:
            rl = [-1, 1][int(torch.randint(0, 2, (1,), generator=gen))]
            ud = [-1, 1][int(torch.randint(0, 2, (1,), generator=gen))]
            new = (bar[0] + rl, bar[1] + ud)
            if 0 <= new[0] < torus_l and 0 <= new[1] < torus_w:
                bar = new
        bars.append(bar)
    gx, gy = torch.meshgrid(torch.arange(torus_l), torch.arange(torus_w), indexing="ij")
    dist = [((gx - b[0]).abs() + (gy - b[1]).abs()).to(F64) / (torus_l + torus_w) for b in bars[: T + 1]]
    c1 = 1.0 - torch.stack(dist)
    acts = torch.tensor([(1, 0), (-1, 0), (0, 1), (0, -1), (0, 0)])
    x = (gx.reshape(-1, 1, 1) + acts[:, 0].view(1, 5, 1) + acts[:, 0].view(1, 1, 5)).clamp(0, torus_l - 1)
    y = (gy.reshape(-1, 1, 1) + acts[:, 1].view(1, 5, 1) + acts[:, 1].view(1, 1, 5)).clamp(0, torus_w - 1)
    q = (1 - p_still) / 4
    prob = torch.tensor([q, q, q, q, p_still], dtype=F64).expand(torus_l * torus_w, 5, 5).contiguous()

    def reward(t, L):
        mu = L.sum(-1)
        return (c * c1[t].to(L) - torch.log(mu + log_eps)).unsqueeze(-1).expand(*mu.shape, 5)

    return _game(
        "mfglib/crowd_motion",
        T,
        S,
        (5,),
        _mu0(mu0, S),
        reward,
        SparseKernel(x * torus_w + y, prob),
        dict(
            T=T,
            torus_l=torus_l,
            torus_w=torus_w,
            loc_change_freq=loc_change_freq,
            c=c,
            log_eps=log_eps,
            p_still=p_still,
            seed=seed,
        ),
        c - math.log(log_eps),
        {"grid_shape": S, "bars": bars},
        device,
    )


def equilibrium_price(
    T: int = 4,
    s_inv: int = 3,
    Q: int = 2,
    H: int = 2,
    d: float = 1.0,
    e0: float = 1.0,
    sigma: float = 1.0,
    c: tuple = (1.0, 1.0, 1.0, 1.0, 1.0),
    mu0="uniform",
    device=None,
) -> FiniteMFG:
    """MFGLib's equilibrium price (Guo et al. 2022): inventory ``s``, consume ``q``, replenish ``h``.

    Actions are pairs ``(q, h)`` flattened as ``q (H + 1) + h``. Price
    ``p_t = (d / (sum L_t q + e0))^(1 / sigma)``; reward
    ``(p_t - c0) q - c1 q^2 - c2 h - (c2 + c3)(q - s)^+ - c4 s``; next inventory
    ``min(s - min(q, s) + h, s_inv)``.
    """
    check_positive("e0", e0)  # the price's denominator when nobody sells
    check_positive("sigma", sigma)  # its exponent is 1 / sigma
    if not isinstance(c, (list, tuple)) or len(c) != 5:
        raise ValidationError(f"c must be the five cost coefficients (c0, c1, c2, c3, c4), got {c!r}")
    c0, c1, c2, c3, c4 = (check_finite(f"c[{i}]", x) for i, x in enumerate(c))
    nS = s_inv + 1
    s = torch.arange(nS).view(nS, 1, 1)
    qq = torch.arange(Q + 1).view(1, Q + 1, 1)
    hh = torch.arange(H + 1).view(1, 1, H + 1)
    nxt = (s - torch.minimum(qq, s) + hh).clamp(max=s_inv).reshape(nS, -1)
    qf, hf, sf = qq.to(F64), hh.to(F64), s.to(F64)
    static = (-c0 * qf - c1 * qf**2 - c2 * hf - (c2 + c3) * (qf - sf).clamp(min=0) - c4 * sf).expand(nS, Q + 1, H + 1)

    def reward(t, L):
        p = (d / ((L * qf.to(L)).sum((-3, -2, -1)) + e0)) ** (1 / sigma)
        return p.reshape(*p.shape, 1, 1, 1) * qf.to(L) + static.to(L)

    return _game(
        "mfglib/equilibrium_price",
        T,
        (nS,),
        (Q + 1, H + 1),
        _mu0(mu0, (nS,)),
        reward,
        SparseKernel.deterministic(nxt),
        dict(T=T, s_inv=s_inv, Q=Q, H=H, d=d, e0=e0, sigma=sigma, c=list(c)),
        (d / e0) ** (1 / sigma) * Q + c0 * Q + c1 * Q**2 + c2 * H + (c2 + c3) * Q + c4 * s_inv,
        device=device,
    )


def left_right(mu0=(1.0, 0.0, 0.0), device=None) -> FiniteMFG:
    """MFGLib's left-right (Cui & Koeppl 2021): one choice, penalised by the crowd on its side (twice on the right)."""

    def reward(t, L):
        mu = L.sum(-1)
        r = torch.stack([torch.zeros_like(mu[..., 0]), -mu[..., 1], -2 * mu[..., 2]], -1)
        return r.unsqueeze(-1).expand(*r.shape, 2)

    nxt = (1 + torch.arange(2)).expand(3, 2)
    return _game(
        "mfglib/left_right",
        1,
        (3,),
        (2,),
        _mu0(mu0, (3,)),
        reward,
        SparseKernel.deterministic(nxt),
        dict(mu0=list(mu0)),
        2.0,
        device=device,
    )


def linear_quadratic(
    T: int = 3,
    el: int = 5,
    m: int = 2,
    sigma: float = 3.0,
    delta: float = 0.1,
    k: float = 1.0,
    q: float = 0.01,
    kappa: float = 0.5,
    c_term: float = 1.0,
    mu0="uniform",
    device=None,
) -> FiniteMFG:
    """MFGLib's linear-quadratic game (Perrin et al. 2020) on ``-el..el`` with moves ``-m..m``.

    ``x' = round(x + (k (m_t - x) + a) delta + sigma eps sqrt(delta))`` clipped, ``eps`` on
    ``-3..3`` times ``sigma`` with Gaussian weights of ``eps`` itself (as MFGLib: with the
    default ``sigma = 3`` the noise support is ``-9..9`` while its weights are those of
    ``N(0, 9)`` evaluated at ``3 eps``). Reward
    ``delta (-a^2 / 2 + q a (m_t - x) - kappa (m_t - x)^2 / 2)``, and at ``t = T``
    ``-c_term (m_t - x)^2 / 2``. Rounding is done in float32 as in MFGLib.
    """
    check_positive("delta", delta)  # the time step: the noise scales with sqrt(delta)
    nS, nA = 2 * el + 1, 2 * m + 1
    eps = torch.arange(-3, 4, dtype=torch.float32) * sigma
    w = torch.exp(-0.5 * eps.pow(2)) / torch.sqrt(torch.tensor(2 * math.pi))
    w = (w / w.sum()).to(F64)
    w = w / w.sum()  # MFGLib's float32 weights, renormalised so no mass leaks in float64
    xs = torch.arange(nS, dtype=torch.float32).view(nS, 1, 1)
    acts = torch.arange(nA, dtype=torch.float32).view(1, nA, 1)
    pos = torch.arange(-el, el + 1, dtype=F64)
    a = torch.arange(-m, m + 1, dtype=F64)

    def kernel(t, L):
        mt = (pos.to(L) * L.sum(-1)).sum(-1).to(torch.float32)
        mt = mt.reshape(*mt.shape, 1, 1, 1)  # one per mean field of a batch
        nxt = xs - el + (k * (mt - xs + el) + acts - m) * delta + sigma * eps.view(1, 1, 7) * math.sqrt(delta)
        idx = torch.round(nxt).clamp(-el, el).long() + el
        return idx, w.to(L).expand(idx.shape).contiguous()

    def reward(t, L):
        mt = (pos.to(L) * L.sum(-1)).sum(-1, keepdim=True)  # (..., 1): the mean position
        gap = (mt - pos.to(L)).unsqueeze(-1)  # (..., nS, 1)
        running = (-0.5 * a.to(L) ** 2 + q * a.to(L) * gap - 0.5 * kappa * gap**2) * delta
        final = (-0.5 * c_term * gap**2).expand(running.shape)
        last = (torch.as_tensor(t, device=L.device) == T).reshape(*L.shape[:-2], 1, 1)  # the terminal step
        return torch.where(last, final, running)

    return _game(
        "mfglib/linear_quadratic",
        T,
        (nS,),
        (nA,),
        _mu0(mu0, (nS,)),
        reward,
        kernel,
        dict(T=T, el=el, m=m, sigma=sigma, delta=delta, k=k, q=q, kappa=kappa, c_term=c_term),
        (0.5 * m**2 + 2 * q * m * el + 2 * kappa * el**2) * delta,
        {"line": nS},
        device,
    )


def random_linear(T: int = 3, n: int = 5, m: float = 10.0, seed: int = 0, mu0="uniform", device=None) -> FiniteMFG:
    """MFGLib's random linear game: rewards ``R1 L + R2`` and kernels ``softmax(P1 L + P2)``, uniform in ``[-m, m]``.

    Drawn from ``torch.manual_seed(seed)`` in MFGLib's order (reward then transition), so
    the same seed gives the same game.
    """
    gen = torch.Generator().manual_seed(int(seed))
    r1 = (2 * m * torch.rand(n, n, generator=gen) - m).to(F64)
    r2 = (2 * m * torch.rand(n, n, generator=gen) - m).to(F64)
    p1 = (2 * m * torch.rand(n, n, n, generator=gen) - m).to(F64)
    p2 = (2 * m * torch.rand(n, n, n, generator=gen) - m).to(F64)

    def reward(t, L):
        return r1.to(L) @ L + r2.to(L)

    p1_rows = p1.reshape(n * n, n)  # (s' s, k)

    def kernel(t, L):
        # P1 L as one (s' s, k) x (k, a) product per member: the same sums as MFGLib's p1 @ L, bit for bit, where
        # broadcasting p1 (s', s, k) over L made n products per member and copied both operands (1.6x slower)
        logits = torch.matmul(p1_rows.to(L), L).view(*L.shape[:-2], n, n, n) + p2.to(L)
        P = torch.softmax(logits, dim=-3)  # (..., s', s, a)
        return P.movedim(-3, -1).contiguous()

    return _game(
        "mfglib/random_linear",
        T,
        (n,),
        (n,),
        _mu0(mu0, (n,)),
        reward,
        kernel,
        dict(T=T, n=n, m=m, seed=seed),
        2 * m,
        device=device,
    )


def rock_paper_scissors(T: int = 1, mu0=(1.0, 0.0, 0.0, 0.0), device=None) -> FiniteMFG:
    """MFGLib's generalised rock-paper-scissors (Shapley 1964; Cui & Koeppl 2021): states start, R, P, S."""

    def reward(t, L):
        mu = L.sum(-1)
        m1, m2, m3 = mu[..., 1], mu[..., 2], mu[..., 3]
        r = torch.stack([torch.zeros_like(m1), 2 * m3 - m2, 4 * m1 - 2 * m3, 6 * m2 - 3 * m1], -1)
        return r.unsqueeze(-1).expand(*r.shape, 3)

    nxt = (1 + torch.arange(3)).expand(4, 3)
    return _game(
        "mfglib/rock_paper_scissors",
        T,
        (4,),
        (3,),
        _mu0(mu0, (4,)),
        reward,
        SparseKernel.deterministic(nxt),
        dict(T=T, mu0=list(mu0)),
        6.0,
        device=device,
    )


def susceptible_infected(T: int = 50, mu0=(0.4, 0.6), device=None) -> FiniteMFG:
    """MFGLib's SIS model (Cui & Koeppl 2021): going out infects with probability ``0.81 mu(I)``; recovery 0.3."""
    r = torch.tensor([[0.0, -0.5], [-1.0, -1.5]], dtype=F64)

    base = torch.zeros(2, 2, 2, dtype=F64)
    base[0, 0, 0] = 1.0
    base[0, 1, 0] = 1.0
    base[1, :, 0] = 0.3
    base[1, :, 1] = 0.7
    infect = torch.zeros(2, 2, 2, dtype=F64)
    infect[0, 0] = torch.tensor([-1.0, 1.0])  # going out while susceptible: S -> I with 0.81 mu(I)

    def kernel(t, L):
        infected = L[..., 1, :].sum(-1)
        return base.to(L) + (0.81 * infected).reshape(*infected.shape, 1, 1, 1) * infect.to(L)

    return _game(
        "mfglib/susceptible_infected",
        T,
        (2,),
        (2,),
        _mu0(mu0, (2,)),
        lambda t, L: r.to(L).expand(L.shape),
        kernel,
        dict(T=T, mu0=list(mu0)),
        1.5,
        device=device,
    )


ENVS = {
    "mfglib/beach_bar": beach_bar,
    "mfglib/building_evacuation": building_evacuation,
    "mfglib/conservative_treasure_hunting": conservative_treasure_hunting,
    "mfglib/crowd_motion": crowd_motion,
    "mfglib/equilibrium_price": equilibrium_price,
    "mfglib/left_right": left_right,
    "mfglib/linear_quadratic": linear_quadratic,
    "mfglib/random_linear": random_linear,
    "mfglib/rock_paper_scissors": rock_paper_scissors,
    "mfglib/susceptible_infected": susceptible_infected,
}


MFGLIB_NAMES = [gid.split("/", 1)[1] for gid in ENVS]  # MFGLib's own names, e.g. "beach_bar"
