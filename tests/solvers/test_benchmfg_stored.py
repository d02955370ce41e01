"""Bench-MFG's published results reproduced: ``results/LasryLionsChain/best/best_model.yaml`` in its repository
(final exploitability after 150 iterations, mean over its seeds 10, 42, 111 and 1032, computed in float32)."""

import numpy as np
import pytest

import mfglearn
from mfglearn.solvers.benchmfg import benchmfg_initial_policy

SEEDS = (10, 42, 111, 1032)
STORED = [  # Bench-MFG's version name, our solver and hyperparameters, its final mean exploitability
    ("fplay_sweep", "benchmfg_fixed_point", {"schedule": "fictitious_play"}, 4.598785400390625),
    ("pure_fp_sweep", "benchmfg_fixed_point", {"schedule": "pure"}, 317.33128356933594),
    ("damped_sweep_damped0p10", "benchmfg_fixed_point", {"schedule": "damped", "damping": 0.1}, 189.3537769317627),
    (
        "smooth_pi_sweep_temp0p20_damped0p10",
        "benchmfg_policy_iteration",
        {"variant": "smooth", "damping": 0.1},
        137.90075302124023,
    ),
    ("policy_iteration_sweep_temp0p20", "benchmfg_policy_iteration", {"variant": "greedy"}, 560.1595611572266),
]


@pytest.mark.parametrize("version, solver, hp, stored", STORED, ids=[s[0] for s in STORED])
def test_bench_mfgs_stored_lasry_lions_results_are_reproduced(version, solver, hp, stored):
    game = mfglearn.make("benchmfg/lasry_lions_chain")
    finals = [
        mfglearn.solve(game, solver, iterations=150, initial_policy=benchmfg_initial_policy(game, s), **hp).history[
            "exploitability"
        ][-1]
        for s in SEEDS
    ]
    # Bench-MFG ran in float32: agreement to its round-off
    assert np.mean(finals) == pytest.approx(stored, rel=1e-5)
