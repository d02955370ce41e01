"""Metrics per population of a multi-population game (:mod:`mfglearn.model.populations`).

Conventions: ``E_p`` is population ``p``'s exploitability (its best-response gain against the
joint mean field, per unit of its own mass); :func:`mfglearn.exploitability` and every solver
report ``sum_p m_p E_p`` (OpenSpiel's NashConv when the masses are 1). On a single-population
game these functions return one entry equal to the usual exploitability.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfglearn.core.evaluation import Evaluation
from mfglearn.model.finite import FiniteMFG


@dataclass
class PopulationReport:
    """Each population's numbers for one policy (tensors of shape ``(P,)``).

    Attributes:
        names: population names.
        masses: ``m_p``.
        value: ``J_p(pi, mu^pi)``, the population's expected return.
        best_value: ``max_pi' J_p(pi', mu^pi)``.
        exploitability: ``E_p = best_value - value``.
        total: ``sum_p m_p E_p`` (what :func:`mfglearn.exploitability` returns).
    """

    names: tuple[str, ...]
    masses: torch.Tensor
    value: torch.Tensor
    best_value: torch.Tensor
    exploitability: torch.Tensor
    total: float

    def as_dict(self) -> dict:
        return {
            n: {"value": float(v), "best_value": float(b), "exploitability": float(e), "mass": float(m)}
            for n, v, b, e, m in zip(
                self.names, self.value, self.best_value, self.exploitability, self.masses, strict=True
            )
        }


def population_report(game: FiniteMFG, ev: Evaluation) -> PopulationReport:
    """Split an :class:`~mfglearn.core.evaluation.Evaluation` of ``game`` by population."""
    lay = game.populations
    if game.is_finite_horizon:
        weights, V, Vb = game.mu0, ev.V[0], ev.V_best[0]
    else:
        weights, V, Vb = ev.flow.mu, ev.V, ev.V_best
    if lay is None:
        val = (weights * V).sum().reshape(1)
        best = (weights * Vb).sum().reshape(1)
        names, masses = ("pop0",), torch.ones(1, dtype=V.dtype)
    else:
        w = torch.tensor(lay.weights, dtype=V.dtype, device=V.device)
        val = torch.stack([(m * v).sum() for m, v in zip(lay.split(weights), lay.split(V), strict=True)]) / w
        best = torch.stack([(m * v).sum() for m, v in zip(lay.split(weights), lay.split(Vb), strict=True)]) / w
        names, masses = lay.names, torch.tensor(lay.masses, dtype=V.dtype)
    gap = best - val
    return PopulationReport(names, masses, val.cpu(), best.cpu(), gap.cpu(), float(ev.exploitability))


def exploitability_per_population(game: FiniteMFG, pi: torch.Tensor) -> torch.Tensor:
    """``(P,)`` exploitabilities ``E_p`` of ``pi`` (a joint ``(H, S, A)`` or ``(S, A)`` policy)."""
    from mfglearn.core.metrics import evaluate

    return population_report(game, evaluate(game, pi)).exploitability
