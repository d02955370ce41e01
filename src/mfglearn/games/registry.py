"""Game registry: ids -> constructors, with parameter checking."""

from __future__ import annotations

import hashlib
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from mfglearn.errors import UnknownNameError, ValidationError
from mfglearn.games import classic, continuous, cooperative, crowd, lq, markets, meeting, population_grids, routing
from mfglearn.games.peers import benchmfg as benchmfg_envs
from mfglearn.games.peers import mfglib as mfglib_envs
from mfglearn.games.peers import openspiel
from mfglearn.games.presets import PRESETS, Preset


@dataclass(frozen=True)
class GameSpec:
    """A registered game: its id, constructor and one-line description."""

    id: str
    make: Callable
    description: str
    kind: str = "finite_horizon"
    populations: int = 1

    def parameters(self) -> dict[str, object]:
        """Constructor parameters and their defaults (``device`` excluded)."""
        sig = inspect.signature(self.make)
        return {
            n: (p.default if p.default is not inspect.Parameter.empty else None)
            for n, p in sig.parameters.items()
            if n != "device" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }


GAMES: dict[str, GameSpec] = {}


def register_game(
    id: str, make: Callable, description: str | None = None, kind: str = "finite_horizon", populations: int = 1
) -> GameSpec:
    """Register a game constructor under ``id`` with the kind of game it builds by default
    (``finite_horizon``, ``discounted``, ``continuous``, ``static``) and its number of populations
    with its default parameters; the description defaults to the docstring's first line."""
    desc = description or (inspect.getdoc(make) or "").split("\n")[0]
    spec = GameSpec(id, make, desc, kind, int(populations))
    GAMES[id] = spec
    return spec


# the kind each constructor builds with its default parameters (checked against the games in the tests)
_KINDS = {
    "four_rooms_crowd": "discounted",
    "grid_poi": "discounted",
    "ad_auction": "discounted",
    "equilibrium_price": "discounted",
    "congestion": "discounted",
    "ride_sharing": "discounted",
    "meeting": "static",
    "lq": "continuous",
    "four_rooms_exploration": "continuous",
    "beach_bar_continuous": "continuous",
}
for _id, _fn in [
    ("beach_bar", crowd.beach_bar),
    ("crowd_grid", crowd.crowd_grid),
    ("four_rooms", crowd.four_rooms),
    ("maze", crowd.maze),
    ("large_grid", crowd.large_grid),
    ("evacuation", crowd.evacuation),
    ("four_rooms_crowd", crowd.four_rooms_crowd),
    ("grid_poi", crowd.grid_poi),
    ("lq_discrete", classic.lq_discrete),
    ("left_right", classic.left_right),
    ("rock_paper_scissors", classic.rock_paper_scissors),
    ("sis", classic.sis),
    ("meeting", meeting.meeting),
    ("lq", lq.lq),
    ("four_rooms_exploration", continuous.four_rooms_exploration),
    ("beach_bar_continuous", continuous.beach_bar_continuous),
    ("ad_auction", markets.ad_auction),
    ("equilibrium_price", markets.equilibrium_price),
    ("congestion", cooperative.congestion),
    ("ride_sharing", cooperative.ride_sharing),
    ("random", classic.random_game),
    ("openspiel/crowd_modelling", openspiel.crowd_modelling),
    ("openspiel/linear_quadratic", openspiel.linear_quadratic),
]:
    register_game(_id, _fn, kind=_KINDS.get(_id, "finite_horizon"))
for _id, _fn, _pops in [
    ("predator_prey", population_grids.predator_prey, 3),
    ("crowd_avoidance", population_grids.crowd_avoidance, 2),
    ("openspiel/predator_prey_5x5x3", population_grids.openspiel_predator_prey_5x5x3, 3),
    ("openspiel/predator_prey_5x5x4", population_grids.openspiel_predator_prey_5x5x4, 4),
    ("openspiel/crowd_avoidance", population_grids.openspiel_crowd_avoidance, 2),
    ("routing", routing.routing, 1),
    ("openspiel/dynamic_routing_line", routing.line, 1),
    ("openspiel/dynamic_routing_braess", routing.braess, 1),
    ("openspiel/dynamic_routing_sioux_falls_dummy_demand", routing.sioux_falls_dummy_demand, 2),
    ("openspiel/dynamic_routing_sioux_falls", routing.sioux_falls, 24),
]:
    register_game(_id, _fn, populations=_pops)
for _id, _fn in mfglib_envs.ENVS.items():
    register_game(_id, _fn)
for _id, _fn in benchmfg_envs.ENVS.items():
    register_game(_id, _fn, kind="discounted")


FAMILIES: dict[str, Callable] = {"openspiel.crowd_modelling_2d": openspiel.crowd_modelling_2d}


def register_preset(preset: Preset, kind: str = "finite_horizon") -> GameSpec:
    """Register a :class:`~mfglearn.games.presets.Preset`: its family constructor with the preset's values."""
    family = FAMILIES[preset.family]
    fixed, defaults = dict(preset.fixed), dict(preset.defaults)

    def make(**params):  # make() has checked the names against the signature below
        return family(**fixed, **{**defaults, **params}, name=preset.id)

    params = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in defaults.items()]
    params.append(inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default=None))
    make.__signature__ = inspect.Signature(params)
    make.__doc__ = preset.description
    return register_game(preset.id, make, preset.description, kind)


for _preset in PRESETS:
    register_preset(_preset)


def list_games() -> list[str]:
    """Registered game ids, sorted."""
    return sorted(GAMES)


def resolve_game_id(game_id: str) -> str:
    """``game_id`` in the form to store in a run directory: a user game ``path/to/file.py:factory``
    gets an absolute path (so runs resume and plot from anywhere); other ids are unchanged."""
    if isinstance(game_id, str) and game_id not in GAMES and ":" in game_id:
        target, _, attr = game_id.rpartition(":")
        if _is_file_ref(target):
            return f"{Path(target).expanduser().resolve()}:{attr}"
    return game_id


def _is_file_ref(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target


def _user_factory(ref: str) -> Callable:
    """Import the factory of a user game ``"package.module:factory"`` or ``"path/to/file.py:factory"``."""
    import importlib
    import importlib.util
    import sys

    target, _, attr = ref.rpartition(":")
    if not target or not attr:
        raise UnknownNameError(f"a user game is 'module:factory' or 'file.py:factory', got {ref!r}")
    try:
        if _is_file_ref(target):
            path = Path(target).expanduser().resolve()
            if not path.is_file():
                raise UnknownNameError(f"game file {target!r} does not exist (in {ref!r})")
            name = "mfglearn_user_game_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
            module = sys.modules.get(name)
            if module is None:
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]
                    raise
        else:
            module = importlib.import_module(target)
    except UnknownNameError:
        raise
    except Exception as exc:  # the user's module failed to import: say where, not a deep traceback
        raise ValidationError(f"importing the game {ref!r} failed: {type(exc).__name__}: {exc}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise UnknownNameError(f"{target!r} has no callable {attr!r} (from the game {ref!r})")
    return factory


def get_game_spec(game_id: str) -> GameSpec:
    """The :class:`GameSpec` for ``game_id`` (clear error listing the ids if unknown).

    Besides the registered ids, ``"package.module:factory"`` and ``"path/to/file.py:factory"``
    name a user's own game: ``factory(**params)`` returns it.
    """
    if not isinstance(game_id, str):
        raise UnknownNameError(
            f"a game id is a string such as 'four_rooms', got {game_id!r}; see mfglearn.list_games()"
        )
    if game_id not in GAMES and ":" in game_id:
        factory = _user_factory(resolve_game_id(game_id))
        desc = (inspect.getdoc(factory) or f"user game {game_id}").split("\n")[0]
        return GameSpec(game_id, factory, desc, "custom")
    try:
        return GAMES[game_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(game_id, GAMES, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(f"unknown game {game_id!r}.{hint} Available: {', '.join(list_games())}") from None


def make(game_id: str, **params):
    """Build the registered game ``game_id`` with keyword ``params`` (e.g. ``make("four_rooms", horizon=40)``).

    Every discounted finite game also takes ``stationary={...}``: options of its stationary mean fields
    (:class:`~mfglearn.model.stationary_options.StationaryOptions`, e.g. ``{"max_iter": 50, "tol": 1e-8}``).
    """
    spec = get_game_spec(game_id)
    stationary = params.pop("stationary", None)
    if stationary is not None:
        game = make(game_id, **params)
        if not hasattr(game, "with_stationary") or game.is_finite_horizon:
            raise ValidationError(f"game {game_id!r} is not a discounted finite game: it takes no stationary options")
        if not isinstance(stationary, dict):
            raise ValidationError(f"stationary must be a dict of options, e.g. {{'tol': 1e-8}}; got {stationary!r}")
        return game.with_stationary(**stationary)
    sig = inspect.signature(spec.make)
    accepts_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    if not accepts_kw:
        unknown = [k for k in params if k not in sig.parameters]
        if unknown:
            raise UnknownNameError(
                f"game {game_id!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are: {', '.join(spec.parameters())}"
            )
    _check_kinds(game_id, spec, params)
    try:
        game = spec.make(**params)
    except TypeError as exc:
        raise ValidationError(f"bad parameters for game {game_id!r}: {exc}") from None
    except (ValueError, IndexError, ZeroDivisionError, RuntimeError) as exc:
        if not params or isinstance(exc, ValidationError):  # the defaults failing is mfglearn's bug: show it
            raise
        # a value of the right kind that the constructor's arithmetic cannot use (a matrix of the wrong
        # shape, text where numbers go): name the game and what was given, not a frame deep inside torch
        given = ", ".join(f"{k}={v!r}" for k, v in params.items())
        raise ValidationError(f"bad parameters for game {game_id!r} ({given}): {exc}") from None
    if spec.kind == "custom" and not hasattr(game, "kind"):
        raise ValidationError(
            f"the game factory {game_id!r} returned a {type(game).__name__}; it must return a game "
            "(e.g. mfglearn.FiniteMFG(...) or multi_population_game(...))"
        )
    return game


# integer parameters that count or size something, so that 0 means an empty game (every registered game's
# integer parameters are counts, sizes, indices or seeds: none is negative)
_AT_LEAST_ONE = frozenset(
    {
        "T", "horizon", "n", "rows", "cols", "size", "torus_l", "torus_w", "floor_l", "floor_w", "n_floor",
        "n_states", "n_actions", "n_bidders", "dim", "zones", "quantize", "branching_factor", "n_noises",
        "loc_change_freq", "window",
    }
)  # fmt: skip


def _check_kinds(game_id: str, spec: GameSpec, params: dict) -> None:
    """A parameter whose default is a number, a boolean or a string takes a value of that kind; in place,
    an integral float for an integer parameter becomes an int.

    On mfglearn's own games integer parameters are non-negative (at least 1 for the sizes in
    ``_AT_LEAST_ONE``) and number parameters finite. No parameter takes ``None`` unless the signature says
    so. (Games check their values' ranges themselves; this catches ``horizon="abc"``, ``gamma=True``,
    ``rows=0.0`` or ``c=nan`` before they reach arithmetic deep inside a constructor.)
    """
    defaults = spec.parameters()
    annotations = {n: str(p.annotation) for n, p in inspect.signature(spec.make).parameters.items()}
    # the ranges below hold for mfglearn's own games; a user's factory may give its integers and numbers
    # other meanings (a negative offset, an infinite bound): it gets the kind checks only
    own = getattr(spec.make, "__module__", "").startswith("mfglearn.")
    for name, value in params.items():
        d = defaults.get(name)
        ann = annotations.get(name, "")
        if d is None or (value is None and ("None" in ann or ann == str(inspect.Parameter.empty))):
            continue  # None where the signature allows it (quantize=None: exact probabilities) or says nothing
        if isinstance(d, bool):
            ok, what = isinstance(value, bool), "true or false"
        elif isinstance(d, int):
            ok = not isinstance(value, (bool, str)) and isinstance(value, (int, float)) and math.isfinite(value)
            ok = ok and float(value).is_integer()
            least = (1 if name in _AT_LEAST_ONE else 0) if own else -math.inf
            what = {0: "a non-negative integer", 1: "a positive integer"}.get(least, "an integer")
            if ok and value < least:
                ok = False
            elif ok:
                params[name] = int(value)  # 20.0 reached torch.arange and meshgrid as a float
        elif isinstance(d, float):  # a number, or for some games an array of them (lq's matrices)
            ok, what = value is not None and not isinstance(value, (bool, str, bytes, dict)), "a finite number"
            if ok and own and isinstance(value, (int, float)) and not math.isfinite(value):
                ok = False
        elif isinstance(d, torch.dtype):  # a floating dtype; the command line gives its name ("float32")
            if isinstance(value, str):
                value = params[name] = getattr(torch, value.removeprefix("torch."), value)
            ok = isinstance(value, torch.dtype) and value.is_floating_point
            what = "a floating torch dtype (torch.float32 or torch.float64)"
        elif isinstance(d, str):  # a name, or for some games the data it names (a map's rows)
            rows = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
            ok, what = isinstance(value, str) or rows, "a string"
        else:
            continue
        if not ok:
            raise ValidationError(f"game {game_id!r}: {name} must be {what} (default {d!r}), got {value!r}")
