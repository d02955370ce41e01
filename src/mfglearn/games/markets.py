"""Market games: the repeated second-price ad auction with budgets and an equilibrium-price game.

Both are discounted, stationary games with a state-action mean field ``L``: what
an agent faces is the population's *actions* (bids, quantities sold), not only
its states. Each carries a ``sampler`` that simulates one round the way the
market really runs (opponents drawn from the population, a Vickrey auction, a
random conversion value, a random production shock), so model-free learners see
realised, noisy rewards while exact solvers use the expectations.
"""

from __future__ import annotations

import math

import torch

from mfglearn._common.checks import check_int
from mfglearn._common.sampling import categorical
from mfglearn.errors import ShapeError, ValidationError
from mfglearn.model.finite import FiniteMFG
from mfglearn.model.kernels import DenseKernel


def _check_measure(L: torch.Tensor, S: int, A: int, game: str) -> torch.Tensor:
    if L is None or tuple(L.shape) != (S, A):
        got = None if L is None else tuple(L.shape)
        raise ShapeError(
            f"{game}'s mean field is the state-action measure L of shape ({S}, {A}) (mu[s] * pi[a|s]); got {got}"
        )
    return L


def win_payment_matrix(bids: torch.Tensor, n_bidders: int) -> torch.Tensor:
    """``W[a, y]``: probability that bid ``a`` wins a second-price auction and pays ``y``.

    ``bids`` ``(A,)`` is the distribution of each of the ``n_bidders - 1`` opponents'
    bids (i.i.d.); bid ``0`` abstains and never wins; ties are broken uniformly at
    random and the winner pays the highest opponent bid.
    """
    A = bids.shape[0]
    n = n_bidders - 1
    F = bids.cumsum(0).clamp(max=1.0)  # P(bid <= y)
    F_lt = F - bids  # P(bid < y)
    a = torch.arange(A, device=bids.device)
    # highest opponent bid Y = y < a: P(Y = y) = F(y)^n - F(y-1)^n
    p_max = F**n - F_lt**n
    W = torch.where(a.unsqueeze(1) > a.unsqueeze(0), p_max.unsqueeze(0), torch.zeros((), dtype=bids.dtype))
    # Y = a with k >= 1 opponents tied at a: win with probability 1 / (k + 1)
    k = torch.arange(1, n + 1, device=bids.device, dtype=bids.dtype)
    binom = torch.tensor([math.comb(n, int(j)) for j in k.tolist()], dtype=bids.dtype, device=bids.device)
    tie = (binom * bids.unsqueeze(1) ** k * F_lt.unsqueeze(1) ** (n - k) / (k + 1)).sum(1)
    W = W + torch.diag(tie)
    W[0] = 0.0
    return W


def ad_auction(
    budget_max: int = 6,
    bid_max: int = 4,
    n_bidders: int = 5,
    value_mean: float = 3.0,
    value_spread: float = 1.0,
    overdraft_penalty: float = 0.2,
    refill_prob: float = 0.25,
    gamma: float = 0.8,
    device=None,
) -> FiniteMFG:
    """Repeated second-price ad auction with budgets (Guo, Hu, Xu, Zhang 2019, Section 5).

    An advertiser's state is its remaining budget ``b in 0..budget_max``; its action a
    bid ``a in 0..bid_max`` (``0``: do not bid). Each round it meets ``n_bidders - 1``
    opponents drawn from the population, whose bids follow the population's bid
    distribution ``sum_s L[s, .]``. The highest bid wins (ties uniform) and pays the
    second-highest bid ``y``; the winner earns a random conversion value
    ``v ~ Uniform[value_mean - value_spread, value_mean + value_spread]`` (unknown to
    learners) and, if ``y > b``, an overdraft penalty ``(1 + overdraft_penalty)(y - b)``:
    ``r = [win] (v - y - (1 + rho)(y - b)^+)``. The winner's budget drops to
    ``max(b - y, 0)``; independently, with probability ``refill_prob`` per round the
    budget is refilled to ``budget_max`` (a new campaign period).
    """
    budget_max, bid_max = check_int("budget_max", budget_max), check_int("bid_max", bid_max)
    try:
        n_bidders = check_int("n_bidders", n_bidders, minimum=2)
    except ValidationError:
        raise ValidationError(
            f"n_bidders must be an integer >= 2 (an auction needs opponents), got {n_bidders!r}"
        ) from None
    if value_spread < 0 or overdraft_penalty < 0:
        raise ValidationError("value_spread and overdraft_penalty must be >= 0")
    if not 0.0 <= refill_prob <= 1.0:
        raise ValidationError(f"refill_prob must be in [0, 1], got {refill_prob}")
    S, A, M = int(budget_max) + 1, int(bid_max) + 1, int(n_bidders)
    rho = float(overdraft_penalty)
    b = torch.arange(S, dtype=torch.float64)
    y = torch.arange(A, dtype=torch.float64)
    # profit of winning and paying y with budget b: (S, Y)
    profit = value_mean - y.unsqueeze(0) - (1 + rho) * (y.unsqueeze(0) - b.unsqueeze(1)).clamp(min=0)
    after_pay = (b.unsqueeze(1) - y.unsqueeze(0)).clamp(min=0).long()  # (S, Y)

    def outcomes(L: torch.Tensor) -> torch.Tensor:
        return win_payment_matrix(_check_measure(L, S, A, "ad_auction").sum(0), M)

    def outcomes_check(L: torch.Tensor) -> torch.Tensor:
        return _check_measure(L, S, A, "ad_auction")

    def reward(t, L: torch.Tensor) -> torch.Tensor:
        W = outcomes(L)  # (A, Y)
        return profit.to(L) @ W.T  # (S, A)

    def transition(t, L: torch.Tensor) -> DenseKernel:
        W = outcomes(L)
        P = torch.zeros(S, A, S, dtype=L.dtype, device=L.device)
        idx = after_pay.to(L.device).unsqueeze(1).expand(S, A, A)
        P.scatter_add_(2, idx, W.unsqueeze(0).expand(S, A, A).contiguous())
        lose = 1.0 - W.sum(1)  # (A,)
        P[torch.arange(S), :, torch.arange(S)] += lose
        P = (1 - refill_prob) * P
        P[:, :, S - 1] += refill_prob
        return DenseKernel(P)

    def sampler(L: torch.Tensor, states: torch.Tensor, bids: torch.Tensor, gen: torch.Generator):
        N = states.shape[0]
        opp = categorical(outcomes_check(L).sum(0), gen, (N, M - 1))
        top = opp.amax(1)
        ties = (opp == bids.unsqueeze(1)).sum(1)
        u = torch.rand(N, 3, generator=gen, dtype=L.dtype, device=L.device)
        win = (bids > 0) & ((top < bids) | ((top == bids) & (u[:, 0] * (ties + 1) < 1)))
        v = value_mean + value_spread * (2 * u[:, 1] - 1)
        pay = top.to(L.dtype)
        r = win * (v - pay - (1 + rho) * (pay - states).clamp(min=0))
        nxt = torch.where(win, (states - top).clamp(min=0), states)
        nxt = torch.where(u[:, 2] < refill_prob, torch.full_like(nxt, S - 1), nxt)
        return nxt, r

    return FiniteMFG(
        n_states=S,
        n_actions=A,
        mu0=torch.full((S,), 1.0 / S, dtype=torch.float64),
        reward=reward,
        transition=transition,
        gamma=gamma,
        mean_field="state_action",
        sampler=sampler,
        name="ad_auction",
        layout={"states": [f"budget {i}" for i in range(S)], "actions": [f"bid {i}" for i in range(A)]},
        params=dict(
            budget_max=budget_max,
            bid_max=bid_max,
            n_bidders=n_bidders,
            value_mean=value_mean,
            value_spread=value_spread,
            overdraft_penalty=overdraft_penalty,
            refill_prob=refill_prob,
            gamma=gamma,
        ),
        device=device,
    )


def auction_round(
    states: torch.Tensor,
    bids: torch.Tensor,
    game: FiniteMFG,
    gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One round of the *N-player* ad auction: agents are split at random into auctions of ``n_bidders``.

    ``states``, ``bids``: ``(N,)`` with ``N`` a multiple of ``n_bidders``. Returns
    ``(next_states, rewards)``. The same rules as :func:`ad_auction`'s sampler, but
    opponents are the other members of one's auction, not draws from a mean field.
    """
    p = game.params
    M, S = int(p["n_bidders"]), int(p["budget_max"]) + 1
    N = states.shape[0]
    if N % M:
        raise ValidationError(f"the N-player auction needs N to be a multiple of n_bidders={M}, got N={N}")
    dt = torch.float64
    perm = torch.randperm(N, generator=gen, device=states.device).view(-1, M)
    g_bids = bids[perm].to(dt)
    # random tie-breaking: a uniform in [0, 0.5) never changes the order of distinct integer bids
    key = g_bids + 0.5 * torch.rand(g_bids.shape, generator=gen, dtype=dt, device=states.device)
    top2 = key.topk(2, dim=1)
    winner_col = top2.indices[:, 0]
    pay = g_bids.gather(1, top2.indices[:, 1:2]).squeeze(1)
    winners = perm.gather(1, winner_col.unsqueeze(1)).squeeze(1)
    has_bid = bids[winners] > 0
    winners, pay = winners[has_bid], pay[has_bid]
    u = torch.rand(N, 2, generator=gen, dtype=dt, device=states.device)
    r = torch.zeros(N, dtype=dt, device=states.device)
    b = states[winners].to(dt)
    v = p["value_mean"] + p["value_spread"] * (2 * u[winners, 0] - 1)
    r[winners] = v - pay - (1 + p["overdraft_penalty"]) * (pay - b).clamp(min=0)
    nxt = states.clone()
    nxt[winners] = (b - pay).clamp(min=0).long()
    nxt = torch.where(u[:, 1] < p["refill_prob"], torch.full_like(nxt, S - 1), nxt)
    return nxt, r


def equilibrium_price(
    inventory_max: int = 5,
    sell_max: int = 2,
    base_price: float = 2.0,
    price_impact: float = 4.0,
    holding_cost: float = 0.02,
    sale_cost: float = 0.2,
    production_prob: float = 0.5,
    production_units: int = 1,
    gamma: float = 0.9,
    device=None,
) -> FiniteMFG:
    """Price formation with inventories: a price set by the population's aggregate supply.

    A producer holds ``x in 0..inventory_max`` units and sells ``q in 0..min(x, sell_max)``.
    The market clears at the linear inverse-demand price
    ``p(L) = base_price - price_impact * sum_{s,a} L[s, a] a`` (the mean quantity
    sold), so the price is an equilibrium object. Reward
    ``p(L) q - sale_cost q^2 - holding_cost x``; inventory evolves as
    ``x' = min(x - q + D, inventory_max)`` with production ``D = production_units``
    with probability ``production_prob`` (else 0). The reward is Lasry-Lions monotone
    in ``L`` (``-price_impact * q * mean(q)``), so the equilibrium is unique. The
    equilibrium price is ``p(L*)``, see :func:`market_price`.
    With the defaults, selling all production would push the price to zero; in
    equilibrium producers at full capacity hold back (and waste production) just
    enough to keep the price near 0.12: a mixed, interior equilibrium.
    """
    inventory_max, sell_max = check_int("inventory_max", inventory_max), check_int("sell_max", sell_max)
    production_units = check_int("production_units", production_units)
    if not 0.0 <= production_prob <= 1.0:
        raise ValidationError(f"production_prob must be in [0, 1], got {production_prob}")
    if price_impact < 0 or holding_cost < 0 or sale_cost < 0:
        raise ValidationError("price_impact, holding_cost and sale_cost must be >= 0")
    S, A = int(inventory_max) + 1, int(sell_max) + 1
    x = torch.arange(S).unsqueeze(1)
    q = torch.arange(A).unsqueeze(0)
    legal = q <= x
    left = (x - q).clamp(min=0)
    P = torch.zeros(S, A, S, dtype=torch.float64)
    P.scatter_add_(2, left.unsqueeze(-1), torch.full((S, A, 1), 1 - production_prob, dtype=torch.float64))
    P.scatter_add_(
        2,
        (left + production_units).clamp(max=S - 1).unsqueeze(-1),
        torch.full((S, A, 1), production_prob, dtype=torch.float64),
    )
    qf = q.to(torch.float64)
    cost = holding_cost * x.to(torch.float64) + sale_cost * q.to(torch.float64) ** 2

    def price(L: torch.Tensor) -> torch.Tensor:
        _check_measure(L, S, A, "equilibrium_price")
        return base_price - price_impact * (L.sum(0) * qf.squeeze(0).to(L)).sum()

    def reward(t, L: torch.Tensor) -> torch.Tensor:
        return price(L) * qf.to(L) - cost.to(L)

    def sampler(L: torch.Tensor, states: torch.Tensor, sold: torch.Tensor, gen: torch.Generator):
        made = torch.rand(states.shape, generator=gen, dtype=L.dtype, device=L.device) < production_prob
        nxt = (states - sold + made * production_units).clamp(0, S - 1)
        q_ = sold.to(L.dtype)
        r = price(L) * q_ - sale_cost * q_**2 - holding_cost * states.to(L.dtype)
        return nxt, r

    game = FiniteMFG(
        n_states=S,
        n_actions=A,
        mu0=torch.full((S,), 1.0 / S, dtype=torch.float64),
        reward=reward,
        transition=P,
        gamma=gamma,
        legal=legal,
        mean_field="state_action",
        sampler=sampler,
        name="equilibrium_price",
        layout={"states": [f"inventory {i}" for i in range(S)], "actions": [f"sell {i}" for i in range(A)]},
        params=dict(
            inventory_max=inventory_max,
            sell_max=sell_max,
            base_price=base_price,
            price_impact=price_impact,
            holding_cost=holding_cost,
            sale_cost=sale_cost,
            production_prob=production_prob,
            production_units=production_units,
            gamma=gamma,
        ),
        device=device,
    )
    return game


def market_price(game: FiniteMFG, L: torch.Tensor) -> float:
    """The clearing price ``base_price - price_impact * E_L[q]`` of :func:`equilibrium_price` at measure ``L``."""
    p = game.params
    q = torch.arange(game.A, dtype=L.dtype, device=L.device)
    return float(p["base_price"] - p["price_impact"] * (L.sum(0) * q).sum())
