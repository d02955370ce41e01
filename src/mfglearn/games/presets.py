"""Named settings as data, kept apart from the game code: a preset is a family constructor plus values.

OpenSpiel 2.0.2 ships its 2-D crowd game with two factory settings (``FOUR_ROOMS`` and ``MAZE``
in ``games/mfg/crowd_modelling_2d.py``); they are listed here, not written as functions. A preset
has ``fixed`` values (what makes it that setting: the map, the start cell) and ``defaults`` the
user may override through :func:`mfglearn.make` (``make("openspiel/crowd_modelling_2d_maze", horizon=50)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    """A registered setting of a game family.

    Attributes:
        id: the registry id.
        family: the constructor's name in :data:`FAMILIES`.
        fixed: values that define the setting (not overridable).
        defaults: overridable values (the setting's defaults).
        description: one line for ``mfglearn games``.
    """

    id: str
    family: str
    fixed: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)
    description: str = ""


_OPENSPIEL_2D = dict(noise_intensity=1.0, crowd_aversion_coef=1.0, only_distribution_reward=True, with_congestion=False)

PRESETS: tuple[Preset, ...] = (
    Preset(
        "openspiel/crowd_modelling_2d_four_rooms",
        "openspiel.crowd_modelling_2d",
        fixed=dict(grid="four_rooms", init_xy=(1, 1)),
        defaults=dict(horizon=40, **_OPENSPIEL_2D),
        description="OpenSpiel's mfg_crowd_modelling_2d with its FOUR_ROOMS settings (13x13, H=40, start (1, 1))",
    ),
    Preset(
        "openspiel/crowd_modelling_2d_maze",
        "openspiel.crowd_modelling_2d",
        fixed=dict(grid="maze", init_xy=(1, 1)),
        defaults=dict(horizon=100, **_OPENSPIEL_2D),
        description="OpenSpiel's mfg_crowd_modelling_2d with its MAZE settings (22x22, H=100, start (1, 1))",
    ),
)
