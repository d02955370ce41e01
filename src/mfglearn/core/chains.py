"""Finite Markov chains: stationary distributions that always answer.

The stationary mean field of a discounted game is the invariant law of the
chain ``P_pi`` its policy induces. Best responses are deterministic, so these
chains are routinely *reducible*: transient states (a cell an agent leaves and
never re-enters), absorbing states (a wall-side cell where "stay" is optimal),
several recurrent classes. For such a chain the invariant law is not unique,
and this module returns the one the population actually reaches: the long-run
(Cesaro) average of ``start @ P^t``, which is the stationary law of each closed
class weighted by the mass that ends up there from ``start``.

Everything is subtraction-free where accuracy matters (GTH elimination), and the
back-substitution is rescaled as it goes, so probabilities down to the smallest
normal double (~1e-308) neither overflow nor lose digits.
"""

from __future__ import annotations

import numpy as np
import torch

from mfglearn.errors import ValidationError


def _gth_np(P: np.ndarray) -> tuple[np.ndarray, bool]:
    A = P.copy()
    S = A.shape[0]
    tiny = np.finfo(A.dtype).tiny
    ok = True
    for k in range(S - 1, 0, -1):
        s = A[k, :k].sum()
        if s <= 0:
            ok = False  # reported through `ok`
        # a pivot below the smallest normal double is taken as that double: dividing by a denormal would
        # overflow, and the state it belongs to holds (up to round-off) all the mass either way
        A[:k, k] /= max(s, tiny)
        A[:k, :k] += np.outer(A[:k, k], A[k, :k])
    mu = np.zeros(S, dtype=A.dtype)
    mu[0] = 1.0
    for k in range(1, S):
        a = A[:k, k]
        m = a.max()
        if m > 1e150:
            # mu[k] = (mu[:k] @ (a / m)) * m may overflow: rescale the others instead of forming it
            v = mu[:k] @ (a / m)
            if v > 1.0:
                mu[:k] = mu[:k] / v / m  # each factor >= 1: no overflow
                mu[k] = 1.0
            elif v * m > 1.0:
                mu[:k] /= v * m
                mu[k] = 1.0
            else:
                mu[k] = v * m
        else:
            mu[k] = mu[:k] @ a
            if mu[k] > 1.0:
                # keep the running maximum at 1: a state whose exit probability is 1e-300 gets relative
                # mass 1e300 without overflowing, and the others underflow to their true (tiny) share
                mu[: k + 1] /= mu[k]
    return mu / mu.sum(), ok


def gth(P: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """Grassmann-Taksar-Heyman stationary distribution of a row-stochastic ``(S, S)`` matrix.

    Returns ``(mu, ok)``: ``ok`` is True when every elimination pivot was positive, in
    which case ``mu`` ``(S,)`` is the chain's unique stationary distribution (exact to
    round-off, however slowly the chain mixes). ``ok`` is False when the chain is
    reducible in a way elimination from the last state cannot handle (``mu`` is then
    meaningless); :func:`limit_distribution` handles those chains. The ``S`` sequential
    elimination steps run in NumPy on the host, where each costs a microsecond.
    """
    mu, ok = _gth_np(P.detach().cpu().numpy())
    return torch.from_numpy(mu).to(P.device), ok


def communicating_classes(P: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Communicating classes of ``P`` ``(S, S)``: ``(labels (S,), closed (n_classes,))``.

    ``labels[s]`` is the class of state ``s`` (classes numbered ``0..n-1``); ``closed[c]`` is
    True for a recurrent (closed) class, one the chain never leaves.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    adj = (P > 0).cpu().numpy()
    n, labels = connected_components(csr_matrix(adj), directed=True, connection="strong")
    i, j = np.nonzero(adj)
    leaving = labels[i] != labels[j]
    closed = np.ones(n, dtype=bool)
    closed[np.unique(labels[i[leaving]])] = False
    return labels, closed


def limit_distribution(P: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    """The law the chain ``P`` ``(S, S)`` settles into from ``start`` ``(S,)``: ``lim (1/n) sum_t start P^t``.

    Irreducible chains (and chains with a single recurrent class): the unique stationary
    distribution, whatever ``start``. Otherwise each recurrent class ``C`` contributes its
    own stationary law times the mass ``start`` eventually sends into ``C`` (its own mass
    plus what the transient states are absorbed into it; one linear solve).
    """
    check_distribution_finite(P, "the chain P_pi the policy induces")
    Pn = P.detach().cpu().numpy()
    mu, ok = _gth_np(Pn)
    if not ok:
        mu = _reducible_limit(Pn, start.detach().cpu().numpy().astype(Pn.dtype), P)
    return torch.from_numpy(mu).to(P.device)


def _absorbed_mass(P: np.ndarray, start: np.ndarray, transient: np.ndarray) -> np.ndarray:
    """Where the mass ``start`` ends up once it has left the transient states: ``(S,)``, zero on ``transient``.

    State reduction, GTH's idea applied to absorption: transient states are removed one by one, the mass on
    the removed state is passed to its exits in proportion, and the other transient states' rows absorb the
    paths through it. Every step adds non-negative numbers and divides by a sum of exits, never subtracts: a
    state that leaves with probability 1e-20 is still emptied exactly (``I - P_TT`` would be singular there).
    """
    A = P.copy()
    m = start.copy()
    alive = np.ones(len(start), dtype=bool)
    tiny = np.finfo(A.dtype).tiny
    for k in np.nonzero(transient)[0]:
        alive[k] = False
        w = np.where(alive, A[k], 0.0)
        w /= max(w.sum(), tiny)
        m += m[k] * w
        m[k] = 0.0
        rows = alive & transient
        if rows.any():
            A[rows] += np.outer(A[rows, k], w)
            A[rows, k] = 0.0
    return m


def _reducible_limit(P: np.ndarray, start: np.ndarray, P_t: torch.Tensor) -> np.ndarray:
    labels, closed = communicating_classes(P_t)
    recurrent = closed[labels]
    transient = ~recurrent
    mass = _absorbed_mass(P, start, transient) if transient.any() else start.copy()
    out = np.zeros_like(start)
    for c in np.nonzero(closed)[0]:
        idx = labels == c
        m = mass[idx].sum()
        if m > 0 and idx.sum() == 1:
            out[idx] = m  # an absorbing state
        elif m > 0:
            sub = P[np.ix_(idx, idx)]
            pi_c, _ = _gth_np(sub / sub.sum(-1, keepdims=True))
            out[idx] = m * pi_c
    total = out.sum()
    if not total > 0:
        raise ValidationError("the starting distribution has no mass: give start= a probability vector")
    return out / total


def check_distribution_finite(mu: torch.Tensor, what: str) -> torch.Tensor:
    """Raise a clear error if ``mu`` has a NaN or inf (never hand one back silently)."""
    if not bool(torch.isfinite(mu).all()):
        bad = tuple(int(i) for i in (~torch.isfinite(mu)).nonzero()[0])
        raise ValidationError(
            f"{what} is not finite (entry {list(bad)} is {mu[bad].item()}): the game's transition or the policy "
            "contains a NaN or inf, or a probability below the dtype's range; check them with game.check()"
        )
    return mu
