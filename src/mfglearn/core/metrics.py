"""Equilibrium metrics: exploitability, quality, deltas.

* exploitability (NashConv) ``E(pi) = max_pi' J(pi', mu^pi) - J(pi, mu^pi)``;
* quality ``T(pi, mu) = max_pi' J(pi', mu) - J(pi, mu)`` against any flow ``mu``;
* mean-field delta: mean over time of the l1 distance between two flows;
* policy delta: population-weighted l1 distance between two policies.
"""

from __future__ import annotations

import torch

from mfglearn._common.memory import LARGE_TENSOR
from mfglearn.core.evaluation import Evaluation
from mfglearn.core.flow import Flow, mean_field_flow
from mfglearn.core.policy import check_policy
from mfglearn.core.stationary import (
    StationaryFlow,
    evaluate_stationary_policy,
    stationary_distribution,
    stationary_exploitability,
    stationary_quality,
)
from mfglearn.core.value import (
    action_sum,
    best_response,
    evaluate_and_best_respond,
    evaluate_policy,
    freeze,
    policy_return,
    sum_last,
)
from mfglearn.model.finite import FiniteMFG, check_distribution


def evaluate(game: FiniteMFG, pi: torch.Tensor, flow: Flow | None = None, *, check: bool = True) -> Evaluation:
    """Flow, policy value and best response of ``pi`` (``(H, S, A)``) in one pass.

    Pass ``flow`` if ``pi``'s flow is already known, to skip recomputing it.
    Discounted games: ``pi`` is ``(S, A)`` and the flow its stationary mean field.
    ``check=False`` skips validating ``pi`` (algorithms evaluating their own iterates).
    """
    if check:
        pi = check_policy(game, pi)
    if not game.is_finite_horizon:
        return evaluate_stationary_policy(game, pi, None if flow is None else flow.mu)
    if flow is None:
        flow = mean_field_flow(game, pi)
    mdp = freeze(game, flow)
    V, Q, Vb, Qb, br = evaluate_and_best_respond(mdp, pi, lazy_best_policy=True)
    returns = torch.stack([policy_return(mdp, V), policy_return(mdp, Vb)])
    # one host sync; a batch of games keeps its (B,) returns on the device for the caller to read once
    value, best_value = returns.unbind(0) if returns.dim() > 1 else returns.tolist()
    return Evaluation(
        policy=pi,
        flow=flow,
        mdp=mdp,
        value=value,
        best_value=best_value,
        V=V,
        Q=Q,
        V_best=Vb,
        Q_best=Qb,
        best_policy=br,
    )


def exploitability(game: FiniteMFG, pi: torch.Tensor) -> float:
    """Exploitability (NashConv) of ``pi``: best-response gain against ``pi``'s own mean field.

    ``pi`` has shape ``(H, S, A)`` (finite horizon) or ``(S, A)`` (discounted games,
    against the stationary mean field). Always ``>= 0``; zero exactly at a Nash equilibrium.
    """
    if not game.is_finite_horizon:
        return stationary_exploitability(game, check_policy(game, pi))
    return evaluate(game, pi).exploitability


def quality(game: FiniteMFG, pi: torch.Tensor, mu: torch.Tensor) -> float:
    """Quality ``T(pi, mu) = max_pi' J(pi', mu) - J(pi, mu)`` against a given flow ``mu`` ``(H+1, S)``.

    For discounted games ``mu`` is a stationary distribution ``(S,)`` and ``J`` starts from it.
    """
    from mfglearn.core.flow import flow_from_mu

    pi = check_policy(game, pi)
    mu = check_mean_field(game, mu)
    if not game.is_finite_horizon:
        return stationary_quality(game, pi, mu)
    sa = mu[:-1].unsqueeze(-1) * pi if game.mean_field == "state_action" else None
    mdp = freeze(game, flow_from_mu(game, mu, sa))
    V, _ = evaluate_policy(mdp, pi)
    Vb, _, _ = best_response(mdp)
    return float(policy_return(mdp, Vb) - policy_return(mdp, V))


def check_mean_field(game: FiniteMFG, mu) -> torch.Tensor:
    """``mu`` as a tensor after checking it is a flow ``(H+1, S)`` (or ``(S,)`` on a discounted game)
    of probability distributions."""
    mu = torch.as_tensor(mu, dtype=game.dtype, device=game.device)
    shape = (game.H + 1, game.S) if game.is_finite_horizon else (game.S,)
    if tuple(mu.shape) != shape:
        from mfglearn.errors import ShapeError

        raise ShapeError(f"mean field must have shape {shape}, got {tuple(mu.shape)}")
    check_distribution(mu, "mean field")
    return mu


def mean_field_delta(mu_a: torch.Tensor, mu_b: torch.Tensor) -> float:
    """Mean over time of ``||mu_a[t] - mu_b[t]||_1`` (flows of shape ``(H+1, S)`` or ``(S,)``)."""
    return float(mean_field_delta_tensor(mu_a, mu_b))


def mean_field_delta_tensor(mu_a: torch.Tensor, mu_b: torch.Tensor) -> torch.Tensor:
    """:func:`mean_field_delta` as a 0-d tensor on the flows' device (no host synchronisation).

    Flows of a batch of games (``(H+1, B, S)``) give one delta per member, ``(B,)``."""
    d = sum_last((mu_a - mu_b).abs_())
    return d.mean(0) if d.dim() else d


def policy_delta(pi_a: torch.Tensor, pi_b: torch.Tensor, mu: torch.Tensor | None = None) -> float:
    """Distance between policies: ``sum_s mu(s) ||pi_a(.|s) - pi_b(.|s)||_1``, averaged over time.

    With ``mu=None`` the states are weighted uniformly. ``mu`` may be a flow ``(H+1, S)``.
    """
    return float(policy_delta_tensor(pi_a, pi_b, mu))


def policy_delta_tensor(pi_a: torch.Tensor, pi_b: torch.Tensor, mu: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`policy_delta` as a 0-d tensor on the policies' device (no host synchronisation).

    Policies of a batch of games (``(H, B, S, A)``, flow ``(H+1, B, S)``) give ``(B,)``."""
    if pi_a.dim() >= 3 and pi_a.numel() >= LARGE_TENSOR:  # a time step at a time: no (H, S, A) temporaries
        d = torch.stack([action_sum((a - b).abs_()) for a, b in zip(pi_a, pi_b, strict=True)])
    else:
        d = sum_last((pi_a - pi_b).abs_())  # (H, S), (S,) or (H, B, S)
    per_state = d.mean(-1) if mu is None else sum_last((mu[: d.shape[0]] if mu.dim() == d.dim() >= 2 else mu) * d)
    return per_state.mean(0) if per_state.dim() else per_state


def policy_mean_field(game: FiniteMFG, pi: torch.Tensor):
    """The mean field a policy induces: its flow (finite horizon, or a batch of games) or stationary
    distribution (discounted)."""
    if game.is_finite_horizon:
        return mean_field_flow(game, pi)

    return StationaryFlow(stationary_distribution(game, pi))
