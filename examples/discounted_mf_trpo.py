"""MF-TRPO on the paper's discounted four-rooms crowd, exact and from samples, against fictitious play.

python examples/discounted_mf_trpo.py [--quick]
"""

import argparse

import mfglearn

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--quick", action="store_true", help="small budgets (the tests run this)")
quick = ap.parse_args().quick
mfglearn.set_threads(1)
game = mfglearn.make("four_rooms_crowd")  # r = -K log mu(s) + Gamma(a), gamma = 0.9, uniform start
start = mfglearn.exploitability(game, mfglearn.uniform_policy(game))
iterations = 10 if quick else 40
exact = mfglearn.solve(game, "mf_trpo", iterations=iterations, trust_region=1.0, inner_steps=10, beta=0.5)
quality = exact.history["quality"][-1]
print(f"exploitability exact MF-TRPO: {start:.4f} -> {exact.exploitability:.3e} (quality {quality:.3e})")
fp = mfglearn.solve(game, "fictitious_play", iterations=iterations)
print(f"exploitability fictitious play: {start:.4f} -> {fp.exploitability:.4f}")
# From samples: the first noisy population updates push the exploitability up before harmonic steps
# (beta_decay=1: beta_p = beta / (p + 1)) average the noise out; 16 trajectories of 20 000 agents per update.
sampled = mfglearn.solve(
    game, "mf_trpo_sampled", iterations=10 if quick else 30, n_samples=16, n_agents=20000, beta_decay=1.0, seed=0
)
print(f"exploitability sampled MF-TRPO: {start:.4f} -> {sampled.exploitability:.4f}")
mu = exact.mean_field  # (S,) stationary crowd: the equilibrium spreads it evenly over the 104 free cells
print(f"stationary crowd: min {float(mu.min()):.5f}, max {float(mu.max()):.5f}, 1 / S = {1 / game.S:.5f}")
