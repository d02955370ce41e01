"""Small games with known answers: left-right, rock-paper-scissors, SIS epidemic, discretised LQ.

python examples/classic_games.py
"""

import mfglearn
from mfglearn.games.classic import rps_equilibrium

mfglearn.set_threads(1)

lr = mfglearn.solve("left_right", "fictitious_play", iterations=200)
print(f"left-right: mass going left {float(lr.mean_field[1, 1]):.3f} (equilibrium 0.5)")

payoff = (1.0, 2.0, 3.0)
rps = mfglearn.solve(mfglearn.make("rock_paper_scissors", payoff=payoff), "fictitious_play", iterations=500)
print(
    "rock-paper-scissors:",
    [round(float(x), 3) for x in rps.mean_field[1, 1:]],
    "closed form",
    [round(float(x), 3) for x in rps_equilibrium(payoff)],
)

sis = mfglearn.solve(mfglearn.make("sis", horizon=30), "mirror_descent", iterations=200, learning_rate=0.5)
distancing = sis.policy[:, 0, 1]  # susceptible agents' probability of distancing over time
print(
    f"SIS: exploitability {sis.exploitability:.4f}; infected at t=0,10,20,30:",
    [round(float(sis.mean_field[t, 1]), 3) for t in (0, 10, 20, 30)],
    "distancing at t=0:",
    round(float(distancing[0]), 3),
)

lq = mfglearn.solve(mfglearn.make("lq_discrete", size=21, horizon=10), "fixed_point", iterations=20)
mean = (lq.mean_field * mfglearn.make("lq_discrete").mu0.new_tensor(range(21))).sum(-1)
print(f"LQ: exploitability {lq.exploitability:.2e}; population mean over time", [round(float(m), 2) for m in mean])
