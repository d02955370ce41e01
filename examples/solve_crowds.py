"""Solve the crowd games with each exact solver and print final exploitabilities.

python examples/solve_crowds.py
"""

import torch

import mfglearn

mfglearn.set_threads(1)

# 1. A registered game, solved by name.
game = mfglearn.make("four_rooms", horizon=30, noise=0.1)
for solver, hp in [
    ("fictitious_play", {}),
    ("mirror_descent", {"learning_rate": 0.1}),
    ("boltzmann_policy_iteration", {"temperature": 2.0}),
    ("fixed_point", {"temperature": 0.5}),
]:
    res = mfglearn.solve(game, solver, iterations=100, **hp)
    print(f"{solver:28s} exploitability {res.exploitability:10.4f}  value {res.value:9.3f}")

# 2. Your own game from arrays and a vectorised reward: a beach bar on a ring of 12 spots.
S = 12
moves = torch.tensor([-1, 0, 1])
next_state = (torch.arange(S)[:, None] + moves) % S  # (S, A) deterministic moves
bar = 6
distance = torch.minimum((torch.arange(S) - bar).abs(), S - (torch.arange(S) - bar).abs()).double()
custom = mfglearn.FiniteMFG(
    n_states=S,
    n_actions=3,
    mu0=torch.full((S,), 1.0 / S),
    horizon=15,
    transition=next_state,
    reward=lambda t, mu: (-distance / S - torch.log(mu + 1e-9))[:, None] - 0.05 * moves.abs(),
)
res = mfglearn.solve(custom, "fictitious_play", iterations=200, target_exploitability=1e-2)
print(f"custom beach bar: exploitability {res.exploitability:.4f} after {res.iterations} iterations")
print("final crowd:", [round(float(x), 3) for x in res.mean_field[-1]])
