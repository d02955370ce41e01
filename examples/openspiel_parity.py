"""The same numbers as OpenSpiel: exploitability of a policy and of solver iterates on its crowd games.

python examples/openspiel_parity.py [--quick]      (pip install open-spiel==2.0.2 for the comparison)
"""

import argparse

import mfglearn

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--quick", action="store_true", help="small budgets (the tests run this)")
iterations = 3 if ap.parse_args().quick else 10
mfglearn.set_threads(1)
game = mfglearn.make("openspiel/crowd_modelling_2d_four_rooms")  # OpenSpiel's factory setting of that name
start = mfglearn.exploitability(game, game.uniform_policy())
res = mfglearn.solve(game, "mirror_descent", iterations=iterations, learning_rate=0.5)
print(f"exploitability mirror descent, {iterations} iterations: {start:.6f} -> {res.exploitability:.6f}")
try:
    from open_spiel.python.mfg.algorithms import munchausen_mirror_descent, nash_conv
    from open_spiel.python.mfg.games import factory

    osg = factory.create_game_with_setting("mfg_crowd_modelling_2d", "crowd_modelling_2d_four_rooms")
    md = munchausen_mirror_descent.MunchausenMirrorDescent(osg, lr=0.5)
    for _ in range(iterations):
        md.iteration()
    print(f"OpenSpiel, same run:                          {nash_conv.NashConv(osg, md.get_policy()).nash_conv():.6f}")
except ImportError:
    print("(install open-spiel==2.0.2 to compare with OpenSpiel)")
