"""The kit format's tables and field rules: ranges, controller targets, pad/controller parsing.

Everything a kit file may hold is spelled out here as data (named MIN/MAX
constants, the :data:`TARGETS` table of controller destinations, the
:data:`CURVES` a controller maps through), so the kit loader, the MIDI bridge
and the docs read the same rules. :mod:`.kit` builds the :class:`~.kit.Kit` on
top of these parsers and owns the file I/O.

Parsers are pure: they read plain JSON-like values, return frozen dataclasses,
and raise ``error(...)`` (:class:`FormatError` for files, :class:`UserInputError`
for live edits) with one line that names the field, e.g.
``kits/a.json: pads[3].gain_db must be a number in [-60, 12], got 99``. The generic
field checkers they use (``check_keys``, ``check_int``, ``check_str``, ...) live in
:mod:`.field_checks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import FormatError
from .field_checks import MISSING, check_field_number, check_int, check_keys, check_numbers, check_str, get_field
from .instrument import Instrument, instrument_to_json, parse_instrument
from .limits import (
    MAX_ABS_Z, MAX_CC_NUMBER, MAX_CHANNEL, MAX_CHOKE_GROUP, MAX_DIRECTION, MAX_DIRECTIONS, MAX_GAIN_DB,
    MAX_LATENT_DIM, MAX_NOTE, MAX_PAD_NAME, MAX_PADS, MAX_PAN, MAX_PITCH_SEMITONES, MAX_SEED, MIN_DIRECTION,
    MIN_GAIN_DB, MIN_NOTE, MIN_PAN, MIN_PITCH_SEMITONES,
)

__all__ = [
    "CONTROLLER_TYPES", "CURVES", "TargetSpec", "Target", "TARGETS", "parse_target", "target_for",
    "Pad", "Controller", "parse_pad", "parse_controller", "pad_to_json", "controller_to_json",
    "check_pad_fields", "KIT_ENHANCE_DEFAULT",
]
# The limits live in :mod:`.limits`: import them from there.

#: Controller message kinds a kit may map: ``cc`` (``number`` is the CC number; 0-31 pair with
#: their LSB at number + 32 for 14 bits) and ``pitchbend`` (one per channel; ``number`` is 0).
CONTROLLER_TYPES: tuple[str, ...] = ("cc", "pitchbend")
#: How a controller's 0..1 position bends before it is scaled to [min, max].
CURVES: tuple[str, ...] = ("linear", "exp", "log")
_CURVE_K = 4.0  # exp/log steepness: exp(0.5) ~ 0.12, log(0.5) ~ 0.88


@dataclass(frozen=True)
class TargetSpec:
    """One row of the target table: a dotted pattern, the value it sets and its range.

    ``{pad}`` is a 0-based index into the kit's pads, ``{direction}`` a 0-based index into
    a pad's direction coefficients. ``param`` names what changes: a :class:`Pad` field
    (``gain_db``, ``pan``, ``pitch_semitones``), one of its ``direction`` coefficients, or
    ``master_gain_db`` and ``focus`` for the whole kit;
    :meth:`ganshot.engine.engine.Engine.apply` dispatches on it.
    """

    pattern: str
    param: str
    low: float
    high: float
    doc: str

    @property
    def scope(self) -> str:
        """``"pad"`` (an explicit pad index), ``"focused"`` (the focused pad) or ``"kit"``."""
        head = self.pattern.split(".", 1)[0]
        return head if head in ("pad", "focused") else "kit"


MIN_TRUNCATION, MAX_TRUNCATION = 0.05, 1.0  # pad truncation psi: z is scaled by it

#: What a pad target sets: (pattern suffix, param, low, high, what it is).
_PAD_PARAMS = (
    ("gain_db", "gain_db", MIN_GAIN_DB, MAX_GAIN_DB, "gain"),
    ("pan", "pan", MIN_PAN, MAX_PAN, "pan"),
    ("pitch_semitones", "pitch_semitones", MIN_PITCH_SEMITONES, MAX_PITCH_SEMITONES, "pitch"),
    ("direction.{direction}", "direction", MIN_DIRECTION, MAX_DIRECTION, "a latent direction"),
    ("truncation", "truncation", MIN_TRUNCATION, MAX_TRUNCATION, "truncation psi (z scaled towards the typical sound)"),
)
#: Every destination a controller (or an OSC knob) may drive: the kit's own two, then each pad
#: parameter on the focused pad (the one last played or selected) and on an explicit pad.
TARGETS: tuple[TargetSpec, ...] = (
    TargetSpec("master.gain_db", "master_gain_db", MIN_GAIN_DB, MAX_GAIN_DB, "the kit's master gain"),
    TargetSpec("focus", "focus", 0, MAX_PADS - 1, "select the focused pad: the value (rounded) is its index"),
    *(TargetSpec(f"focused.{suffix}", param, low, high, f"{what} of the focused pad")
      for suffix, param, low, high, what in _PAD_PARAMS),
    *(TargetSpec(f"pad.{{pad}}.{suffix}", param, low, high, f"{what} of pads[pad]")
      for suffix, param, low, high, what in _PAD_PARAMS),
)
#: Placeholder -> inclusive index range.
_PLACEHOLDERS = {"{pad}": (0, MAX_PADS - 1), "{direction}": (0, MAX_DIRECTIONS - 1)}


@dataclass(frozen=True)
class Target:
    """A parsed controller target: its table row and the indices filled in (or None)."""

    spec: TargetSpec
    pad: int | None = None
    direction: int | None = None

    def __str__(self) -> str:
        return self.spec.pattern.replace("{pad}", str(self.pad)).replace("{direction}", str(self.direction))


def target_for(param: str, pad: int | None = None, direction: int | None = None) -> Target:
    """The :class:`Target` that sets ``param`` on ``pads[pad]`` (or on the kit, ``pad`` None),
    e.g. ``target_for("gain_db", pad=3)`` is ``pad.3.gain_db``. Indices are not range-checked
    here: the Engine checks them against the kit and model it has."""
    scope = "kit" if pad is None else "pad"
    for spec in TARGETS:
        if spec.param == param and spec.scope == scope:
            return Target(spec, pad, direction)
    raise ValueError(f"no {scope} target sets {param!r}")


def parse_target(text) -> Target | None:
    """Match ``text`` (e.g. ``"pad.3.direction.0"``) against :data:`TARGETS`; None if nothing fits.

    Indices are plain decimals without leading zeros, inside the placeholder's range.
    """
    if not isinstance(text, str) or len(text) > 200:
        return None
    parts = text.split(".")
    for spec in TARGETS:
        tokens = spec.pattern.split(".")
        if len(tokens) != len(parts):
            continue
        found = {}
        for token, part in zip(tokens, parts):
            if token in _PLACEHOLDERS:
                low, high = _PLACEHOLDERS[token]
                if not (part.isascii() and part.isdigit()) or (len(part) > 1 and part[0] == "0"):
                    break
                if not low <= int(part) <= high:
                    break
                found[token[1:-1]] = int(part)
            elif token != part:
                break
        else:
            return Target(spec, **found)
    return None


@dataclass(frozen=True, repr=False)
class Pad:
    """One pad: the MIDI note it answers, what it plays (``z`` or ``seed``) and how.

    ``z`` is a tuple of ``latent_dim`` floats, or None when the engine draws z
    from ``seed`` (with :func:`ganshot.engine.latent.seeded_latent`, using the
    bundle's latent distribution); exactly one of the two is set. ``directions``
    are coefficients (each -1..1) for the model's latent directions, in order.
    ``class_name`` is the class a conditional model renders for this pad (one of the
    bundle's ``classes``; required by conditional models, refused by unconditional ones).
    ``truncation`` (psi, 0.05..1) scales z before the directions: lower is more typical.
    """

    note: int
    name: str = ""
    z: tuple[float, ...] | None = None
    seed: int | None = None
    directions: tuple[float, ...] = ()
    gain_db: float = 0.0
    pan: float = 0.0
    pitch_semitones: float = 0.0
    choke_group: int = 0
    class_name: str | None = None
    truncation: float = 1.0
    instrument: Instrument | None = None  # a pitched instrument over a note range (see .instrument)

    def __repr__(self) -> str:
        source = f"z=<{len(self.z)} floats>" if self.z is not None else f"seed={self.seed}"
        if self.class_name is not None:
            source += f", class_name={self.class_name!r}"
        if self.truncation != 1.0:
            source += f", truncation={self.truncation}"
        if self.instrument is not None:
            source += f", instrument={self.instrument.low}..{self.instrument.high}"
        return (
            f"Pad(note={self.note}, name={self.name!r}, {source}, directions={self.directions}, "
            f"gain_db={self.gain_db}, pan={self.pan}, pitch_semitones={self.pitch_semitones}, "
            f"choke_group={self.choke_group})"
        )


@dataclass(frozen=True)
class Controller:
    """A MIDI controller mapped onto a target: CC ``number`` (or the pitch bender, ``type``
    ``"pitchbend"``) on ``channel`` (0-based; None = any)."""

    number: int
    target: str
    min: float
    max: float
    channel: int | None = None
    curve: str = "linear"
    type: str = "cc"

    @property
    def parsed_target(self) -> Target | None:
        """The :class:`Target` this controller drives (None only for an unvalidated object)."""
        return parse_target(self.target)

    def value_for(self, position: float) -> float:
        """Map a controller position (0..1; a CC value is ``cc / 127``) through the curve to [min, max]."""
        x = min(1.0, max(0.0, float(position)))
        if self.curve == "exp":
            x = math.expm1(_CURVE_K * x) / math.expm1(_CURVE_K)
        elif self.curve == "log":
            x = math.log1p(math.expm1(_CURVE_K) * x) / _CURVE_K
        return self.min + (self.max - self.min) * x


# -- pads and controllers -------------------------------------------------------------------

#: kit-level ``enhance``: run the bundle's enhancement post-filter (when it carries one) on every pad.
KIT_ENHANCE_DEFAULT = True
PAD_KEYS = ("note", "name", "z", "seed", "directions", "gain_db", "pan", "pitch_semitones", "choke_group",
            "class_name", "truncation", "instrument")
MAX_CLASS_NAME = 100  # characters, as bundles' class names
CONTROLLER_KEYS = ("type", "channel", "number", "target", "min", "max", "curve")


#: Pad field -> its rule, ``rule(obj, path, where, error)`` reading ``obj[field]``: one rule for
#: kit files (:func:`parse_pad`) and live edits (:func:`check_pad_fields`).
_PAD_RULES = {
    "note": lambda d, p, w, e: check_int(d, "note", p, w, MIN_NOTE, MAX_NOTE, error=e),
    "name": lambda d, p, w, e: check_str(d, "name", p, w, MAX_PAD_NAME, error=e),
    "z": lambda d, p, w, e: None if d["z"] is None else check_numbers(
        d["z"], f"{p}.z", w, -MAX_ABS_Z, MAX_ABS_Z, MAX_LATENT_DIM, e, min_len=1),
    "seed": lambda d, p, w, e: None if d["seed"] is None else check_int(d, "seed", p, w, 0, MAX_SEED, error=e),
    "directions": lambda d, p, w, e: check_numbers(
        d["directions"], f"{p}.directions", w, MIN_DIRECTION, MAX_DIRECTION, MAX_DIRECTIONS, e),
    "gain_db": lambda d, p, w, e: check_field_number(d, "gain_db", p, w, MIN_GAIN_DB, MAX_GAIN_DB, error=e),
    "pan": lambda d, p, w, e: check_field_number(d, "pan", p, w, MIN_PAN, MAX_PAN, error=e),
    "pitch_semitones": lambda d, p, w, e: check_field_number(
        d, "pitch_semitones", p, w, MIN_PITCH_SEMITONES, MAX_PITCH_SEMITONES, error=e),
    "choke_group": lambda d, p, w, e: check_int(d, "choke_group", p, w, 0, MAX_CHOKE_GROUP, error=e),
    "class_name": lambda d, p, w, e: None if d["class_name"] is None else _class_name(d, p, w, e),
    "truncation": lambda d, p, w, e: check_field_number(d, "truncation", p, w, MIN_TRUNCATION, MAX_TRUNCATION, error=e),
    "instrument": lambda d, p, w, e: _instrument(d["instrument"], f"{p}.instrument", w, e),
}


def _instrument(value, path, where, error) -> Instrument | None:
    if value is None or isinstance(value, Instrument):
        return value
    return parse_instrument(value, path, where, error)


def _class_name(d, p, w, e) -> str:
    return check_str(d, "class_name", p, w, MAX_CLASS_NAME, error=e, nonempty=True)
_PAD_DEFAULTS = {"name": "", "z": None, "seed": None, "directions": [], "gain_db": 0.0, "pan": 0.0,
                 "pitch_semitones": 0.0, "choke_group": 0, "class_name": None, "truncation": 1.0,
                 "instrument": None}


def check_pad_fields(changes: dict, path: str, where: str, error=FormatError) -> dict:
    """Each given :class:`Pad` field checked by the rule a kit file's pad meets (numpy values
    and tuples accepted); returns the checked values. Checks only what is given: a live edit
    of one knob costs one check, not a re-parse of the pad."""
    out = {}
    for key, value in changes.items():
        rule = _PAD_RULES.get(key)
        if rule is None:
            raise error(f"{where}: {path} has no field {key!r:.60} (fields: {', '.join(PAD_KEYS)})")
        value = value.tolist() if hasattr(value, "tolist") else value  # numpy -> Python
        out[key] = rule({key: value}, path, where, error)
    return out


def parse_pad(data, path: str, where: str, error=FormatError) -> Pad:
    """One entry of ``pads``; ``path`` is its place in the file, e.g. ``pads[3]``."""
    check_keys(data, PAD_KEYS, path, where, error)
    get_field(data, "note", path, where, MISSING, error)
    has_z, has_seed = data.get("z") is not None, data.get("seed") is not None
    if has_z == has_seed:
        which = "both z and seed" if has_z else "neither z nor seed"
        raise error(f"{where}: {path} has {which}; give exactly one")
    fields = {key: data.get(key, _PAD_DEFAULTS.get(key)) for key in PAD_KEYS}
    return Pad(**check_pad_fields(fields, path, where, error))


def parse_controller(data, path: str, where: str, error=FormatError) -> Controller:
    """One entry of ``controllers``; ``min``/``max`` default to the target's full range."""
    check_keys(data, CONTROLLER_KEYS, path, where, error)
    kind = get_field(data, "type", path, where, "cc", error)
    if not isinstance(kind, str) or kind not in CONTROLLER_TYPES:
        raise error(f"{where}: {path}.type must be one of {', '.join(CONTROLLER_TYPES)}, got {kind!r:.60}")
    channel = data.get("channel")
    if channel is not None:
        channel = check_int(data, "channel", path, where, 0, MAX_CHANNEL, error=error)
    if kind == "pitchbend":  # one bender per channel: no number to choose
        number = check_int(data, "number", path, where, 0, 0, 0, error=error)
    else:
        number = check_int(data, "number", path, where, 0, MAX_CC_NUMBER, error=error)
    text = check_str(data, "target", path, where, 200, error=error, nonempty=True)
    target = parse_target(text)
    if target is None:
        known = ", ".join(spec.pattern for spec in TARGETS)
        raise error(f"{where}: {path}.target {text!r:.60} is not a known target ({known})")
    low, high = target.spec.low, target.spec.high
    curve = get_field(data, "curve", path, where, "linear", error)
    if not isinstance(curve, str) or curve not in CURVES:
        raise error(f"{where}: {path}.curve must be one of {', '.join(CURVES)}, got {curve!r:.60}")
    return Controller(
        type=kind,
        channel=channel,
        number=number,
        target=text,
        min=check_field_number(data, "min", path, where, low, high, low, error),
        max=check_field_number(data, "max", path, where, low, high, high, error),
        curve=curve,
    )


def pad_to_json(pad: Pad) -> dict:
    """The JSON object for ``pad`` (every field written out; ``z`` or ``seed``, not both)."""
    out = {"note": pad.note, "name": pad.name}
    if pad.z is not None:
        out["z"] = list(pad.z)
    else:
        out["seed"] = pad.seed
    out.update(
        directions=list(pad.directions),
        gain_db=pad.gain_db,
        pan=pad.pan,
        pitch_semitones=pad.pitch_semitones,
        choke_group=pad.choke_group,
    )
    if pad.class_name is not None:  # written only when set, so kits of unconditional models stay as they were
        out["class_name"] = pad.class_name
    if pad.truncation != 1.0:
        out["truncation"] = pad.truncation
    if pad.instrument is not None:
        out["instrument"] = instrument_to_json(pad.instrument)
    return out


def controller_to_json(ctl: Controller) -> dict:
    return {key: getattr(ctl, key) for key in CONTROLLER_KEYS}
