"""MF-TRPO on a discounted (ergodic) crowd game, exact and from samples.

python examples/discounted_mf_trpo.py
"""

import mfglearn

mfglearn.set_threads(1)
game = mfglearn.make("grid_poi", size=5, gamma=0.9)  # crowd drawn to the bottom-right corner
exact = mfglearn.solve(game, "mf_trpo", iterations=40, trust_region=10.0, inner_steps=10, beta=0.3)
print(f"exact MF-TRPO : exploitability {exact.exploitability:.4f}, quality {exact.history['quality'][-1]:.4f}")
fp = mfglearn.solve(game, "fictitious_play", iterations=40)
print(f"fictitious play: exploitability {fp.exploitability:.4f}")
sampled = mfglearn.solve(
    game, "mf_trpo_sampled", iterations=10, trust_region=10.0, beta=0.3, n_samples=8, n_agents=5000
)
print(f"sampled MF-TRPO (10 its): exploitability {sampled.exploitability:.4f}")
print("stationary crowd (rows of the 5x5 grid):")
mu = exact.mean_field.reshape(5, 5)
for row in mu:
    print("  " + " ".join(f"{float(v):.3f}" for v in row))
