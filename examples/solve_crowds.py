"""Solve a crowd game with each exact solver, and a game of your own; print how far each got.

python examples/solve_crowds.py [--quick]

Every line "exploitability LABEL: START -> END" starts from the uniform policy (the solvers' initial
policy). The solvers do not all reach the Nash equilibrium, and the script says why.
"""

import argparse
import warnings

import torch

import mfglearn

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--quick", action="store_true", help="small budgets (the tests run this)")
iterations = 20 if ap.parse_args().quick else 100
mfglearn.set_threads(1)

# 1. A registered game, solved by name.
game = mfglearn.make("four_rooms", horizon=30, noise=0.1)
start = mfglearn.exploitability(game, mfglearn.uniform_policy(game))
for solver, hp, note in [
    ("fictitious_play", {}, "converges like 1/k, no step size"),
    ("mirror_descent", {"learning_rate": 0.1}, "converges; 0.3 and above oscillate on this game"),
    # A softmax fixed point converges, to the equilibrium of the entropy-regularised game: what is left is the
    # temperature's bias. Lower temperatures cycle (the best response to a crowd is the empty cell, which fills).
    ("fixed_point", {"temperature": 2.0, "damping": 0.1}, "converges to the regularised equilibrium (bias)"),
    # Boltzmann policy iteration keeps only the latest Q-function: it cycles below temperature ~50 here, and
    # above it settles on a nearly uniform regularised equilibrium, far from the Nash one.
    ("boltzmann_policy_iteration", {"temperature": 50.0}, "settles only at high temperature: large bias"),
]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = mfglearn.solve(game, solver, iterations=iterations, **hp)
    print(f"exploitability {solver}: {start:.4f} -> {res.exploitability:.4f}   ({note})")

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
start = mfglearn.exploitability(custom, mfglearn.uniform_policy(custom))
res = mfglearn.solve(custom, "fictitious_play", iterations=2 * iterations, target_exploitability=1e-2)
print(f"exploitability custom beach bar: {start:.4f} -> {res.exploitability:.4f} ({res.iterations} iterations)")
print("final crowd:", [round(float(x), 3) for x in res.mean_field[-1]])
