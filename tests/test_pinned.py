"""Pinned regression values for the mean-field control, deep and static algorithms (tiny budgets, fixed seeds).

The MFC values equal those of mfglearn 0.1 bit for bit (checked when the algorithm contract landed);
deep values are float32 network training on one thread, pinned with a loose relative tolerance.
``deda_fp`` changed once, on purpose, in 0.2: its flow is sampled from the run's explicit generator
(it used torch's global RNG), which is what makes its checkpoints resume bit for bit; and again in 0.3, when
its default density model became the Gaussian mixture (``flow_kind="gmm"``; the neural spline flow keeps its
values, pinned with ``flow_kind="nsf"``).
"""

from __future__ import annotations

import pytest

import mfglearn

MFC = [
    ("mfc_kq", None, dict(mu_resolution=10, policy_resolution=2), -3.6723738027108266),
    ("mfc_kq", None, dict(mu_resolution=6, policy_resolution=2, n_agents=200, seed=0), -3.76346235675276),
    ("mfc_dp", None, dict(mu_resolution=10, policy_resolution=2), -3.6723738027108266),
    ("mfc_open_loop", 50, dict(restarts=2, horizon=20, seed=0), -3.51791023623791),
    (
        "mfc_q_learning",
        None,
        dict(mu_resolution=6, policy_resolution=2, samples=5000, episode_length=10, episodes_per_iteration=100, seed=0),
        -4.327771700821184,
    ),
]


@pytest.mark.parametrize("name, iterations, hp, value", MFC)
def test_mfc_values(name, iterations, hp, value):
    res = mfglearn.solve(mfglearn.make("congestion"), name, iterations=iterations, **hp)
    assert res.value == pytest.approx(value, rel=1e-12, abs=1e-12)


_TINY = dict(
    n_agents=64, br_iterations=2, first_br_iterations=2, bc_steps=10, flow_steps=10, memory_per_iteration=128, seed=3
)
DEEP = [
    ("deda_fp", {}, [-12.740531921386719, -11.36815357208252], [22.622893748431625, 13.775201537954732]),
    (
        "deda_fp",
        {"flow_kind": "nsf"},
        [-13.87551498413086, -10.900934219360352],
        [20.94824229909328, 11.728705180996876],
    ),
    ("deep_fp_sampled", {}, [-10.870594024658203, -12.004276275634766], [11.327231940616326, 10.349022942000925]),
    ("deep_fp_average", {}, [-10.870594024658203, -9.464604377746582], [23.583881328795687, 13.460922168027667]),
]


@pytest.mark.parametrize("name, kw, br_return, exact", DEEP)
def test_deep_values(name, kw, br_return, exact):
    lq = mfglearn.make("lq", Abar=0.3, x_target=1.0, horizon=4)
    res = mfglearn.solve(lq, name, iterations=2, exact_every=1, **_TINY, **kw)
    assert res.history["br_return"] == pytest.approx(br_return, rel=1e-3)
    assert res.history["exact_exploitability"] == pytest.approx(exact, rel=1e-3)
    assert res.exploitability == res.history["exact_exploitability"][-1]


def test_meeting_value():
    game = mfglearn.make("meeting", sigma=[0.5, 1, 2], alpha=3, beta=1, gamma=2, quorum=0.9)
    res = mfglearn.solve(game, "fixed_point")
    assert res.stopped == "converged" and res.kind == "static"
    assert res.start_time == pytest.approx(1.5007711550424574, abs=1e-12)
    assert res.planned_arrival.tolist() == pytest.approx(
        [0.2086717217094946, 0.18349223122254454, -0.17357850592097196]
    )
    assert res.exploitability == pytest.approx(0.0, abs=1e-12)
