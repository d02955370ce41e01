"""Small games with known answers: left-right, rock-paper-scissors, SIS epidemic, discretised LQ.

python examples/classic_games.py [--quick]
"""

import argparse

import mfglearn
from mfglearn.games.classic import rps_equilibrium

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--quick", action="store_true", help="small budgets (the tests run this)")
scale = 0.2 if ap.parse_args().quick else 1.0
mfglearn.set_threads(1)


def solve(game, solver, iterations, label, initial_policy=None, **hp):
    """Solve and print the exploitability from the initial policy (default: uniform) to the last iterate."""
    pi0 = mfglearn.uniform_policy(game) if initial_policy is None else initial_policy
    start = mfglearn.exploitability(game, pi0)
    res = mfglearn.solve(game, solver, iterations=max(2, int(iterations * scale)), initial_policy=pi0, **hp)
    print(f"exploitability {label}: {start:.4g} -> {res.exploitability:.4g}")
    return res


game = mfglearn.make("left_right")
everyone_left = mfglearn.uniform_policy(game).clone()
everyone_left[..., 0], everyone_left[..., 1] = 1.0, 0.0  # the uniform policy is already the equilibrium here
lr = solve(game, "fictitious_play", 200, "left-right (from everyone going left)", initial_policy=everyone_left)
print(f"  mass going left {float(lr.mean_field[1, 1]):.3f} (equilibrium 0.5)")

payoff = (1.0, 2.0, 3.0)
rps = solve(mfglearn.make("rock_paper_scissors", payoff=payoff), "fictitious_play", 500, "rock-paper-scissors")
print(
    "  population",
    [round(float(x), 3) for x in rps.mean_field[1, 1:]],
    "closed form",
    [round(float(x), 3) for x in rps_equilibrium(payoff)],
)

sis = solve(mfglearn.make("sis", horizon=30), "mirror_descent", 200, "SIS epidemic", learning_rate=0.1)
print(
    "  infected at t=0,10,20,30:",
    [round(float(sis.mean_field[t, 1]), 3) for t in (0, 10, 20, 30)],
    "distancing at t=0:",
    round(float(sis.policy[0, 0, 1]), 3),
)

game = mfglearn.make("lq_discrete", size=21, horizon=10)
lq = solve(game, "fixed_point", 20, "discretised LQ")
mean = (lq.mean_field * game.mu0.new_tensor(range(21))).sum(-1)
print("  population mean over time", [round(float(m), 2) for m in mean])
