"""The same numbers as OpenSpiel: exploitability of a policy and of solver iterates on its crowd games.

python examples/openspiel_parity.py      (pip install open-spiel==2.0.2 for the comparison)
"""

import mfglearn

mfglearn.set_threads(1)
game = mfglearn.make("openspiel/crowd_modelling_2d_four_rooms")
print("uniform policy exploitability:", mfglearn.exploitability(game, game.uniform_policy()))
res = mfglearn.solve(game, "mirror_descent", iterations=10, learning_rate=0.5)
print("mirror descent, 10 iterations:", res.exploitability)
try:
    from open_spiel.python.mfg.algorithms import munchausen_mirror_descent, nash_conv
    from open_spiel.python.mfg.games import factory

    # the factory setting of the same name (only the crowd term in the reward)
    osg = factory.create_game_with_setting("mfg_crowd_modelling_2d", "crowd_modelling_2d_four_rooms")
    md = munchausen_mirror_descent.MunchausenMirrorDescent(osg, lr=0.5)
    for _ in range(10):
        md.iteration()
    print("OpenSpiel, same run:          ", nash_conv.NashConv(osg, md.get_policy()).nash_conv())
except ImportError:
    print("(install open-spiel==2.0.2 to compare with OpenSpiel)")
