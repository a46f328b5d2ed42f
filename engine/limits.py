"""Every limit ganshot enforces, defined once, and the one range check that enforces it.

Cheat sheet::

    from ganshot.engine.limits import MAX_DIRECTIONS, check_int, check_float
    check_int(pad, "pad", 0, len(kit.pads) - 1)             # -> int, or UserInputError
    check_float(value, "pads[3].gain_db", MIN_GAIN_DB, MAX_GAIN_DB, error=FormatError)
    check_float(rate, "--knob-rate", 0.0, 1e4, low_open=True)  # (0, 10000]

Kits, model bundles, the OSC and MIDI bridges and the command line read their bounds
here, so a bundle's 64th direction is reachable from a kit, OSC and MIDI alike, and a
pitch a kit accepts is a pitch the renderer accepts. Values are checked once, at the edge
where they enter (a file, a socket, the command line, the Engine's command API); the
layers behind trust what the edge let through.

The checks name the value and the rule in one line: ``pad must be an integer in [0, 15],
got 36``. ``bool`` is never a number; numpy integers and floats are.
"""

from __future__ import annotations

import math
import numbers

from .errors import UserInputError

__all__ = [
    "MIN_NOTE", "MAX_NOTE", "MAX_CHANNEL", "MAX_CC_NUMBER", "MIN_VELOCITY", "MAX_VELOCITY",
    "MAX_PADS", "MAX_PAD_NAME", "MAX_CONTROLLERS", "MAX_CHOKE_GROUP",
    "MIN_GAIN_DB", "MAX_GAIN_DB", "MIN_PAN", "MAX_PAN", "MIN_PITCH_SEMITONES", "MAX_PITCH_SEMITONES",
    "MIN_DIRECTION", "MAX_DIRECTION", "MAX_DIRECTIONS", "MAX_LATENT_DIM", "MAX_ABS_Z", "MAX_SEED",
    "MIN_SAMPLE_RATE", "MAX_SAMPLE_RATE", "MAX_INT32", "MIN_TEMPO_BPM", "MAX_TEMPO_BPM", "MAX_PATTERN_SLOTS",
    "check_int", "check_float", "check_pitch_range", "describe",
]

# -- MIDI ------------------------------------------------------------------------------------
MIN_NOTE, MAX_NOTE = 0, 127
MAX_CHANNEL = 15  # 0-based MIDI channel (the user's channel 1..16)
MAX_CC_NUMBER = 127
MIN_VELOCITY, MAX_VELOCITY = 0.0, 1.0  # a trigger's velocity (MIDI velocity / 127)

# -- kits and pads ---------------------------------------------------------------------------
MAX_PADS = 128  # one per MIDI note
MAX_PAD_NAME = 64
MAX_CONTROLLERS = 512
MAX_CHOKE_GROUP = 16  # 0 = no choke group
MIN_GAIN_DB, MAX_GAIN_DB = -60.0, 12.0
MIN_PAN, MAX_PAN = -1.0, 1.0  # left .. right
MIN_PITCH_SEMITONES, MAX_PITCH_SEMITONES = -24.0, 24.0  # kits, OSC, MIDI and the renderer alike
MIN_DIRECTION, MAX_DIRECTION = -1.0, 1.0  # a direction knob's coefficient

# -- models ------------------------------------------------------------------------------------
MAX_DIRECTIONS = 64  # latent directions a bundle may carry; kits, OSC and MIDI reach them all
MAX_LATENT_DIM = 4096  # the generator's latent size ceiling (bundle, kit and generator)
MAX_ABS_Z = 1000.0  # generators see N(0, 1) or U(-1, 1); anything past this is a typo
MAX_SEED = 2**63 - 1
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 384000  # Hz, models, the mixer and the renderer

MAX_INT32 = 2**31 - 1  # OSC's i tag

# -- patterns (offline and live) ---------------------------------------------------------------
MIN_TEMPO_BPM, MAX_TEMPO_BPM = 20.0, 400.0
MAX_PATTERN_SLOTS = 8  # live loops playing at once (OSC /pattern/play slots 0..7)


def describe(value) -> str:
    """What a refused value is, for an error line: its kind (``a string``, ``null``, ...)."""
    names = {bool: "true/false", type(None): "null", dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _interval(low, high, low_open: bool, fmt: str) -> str:
    return f"{'(' if low_open else '['}{low:{fmt}}, {high:{fmt}}]"


def check_int(value, name: str, low: int, high: int, error: type[Exception] = UserInputError) -> int:
    """``value`` as an int in [low, high] (Python or numpy integer, not bool); else ``error``."""
    if type(value) is int and low <= value <= high:  # the common case, without the ABC checks
        return value
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or not low <= value <= high):
        raise error(f"{name} must be an integer in [{low}, {high}], got {value!r:.60}")
    return int(value)


def check_float(value, name: str, low: float, high: float, error: type[Exception] = UserInputError,
                low_open: bool = False) -> float:
    """``value`` as a finite float in [low, high] (``(low, high]`` with ``low_open``); ints count,
    bool does not. Huge ints are compared exactly, before a float() could overflow."""
    if type(value) is float and value - value == 0.0 and (low < value <= high if low_open else low <= value <= high):
        return value  # the common case, without the ABC checks (NaN fails the comparison)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(f"{name} must be a number, got {describe(value)}")
    if isinstance(value, float) or not isinstance(value, numbers.Integral):
        if not math.isfinite(value):
            raise error(f"{name} must be a finite number, got {value!r}")
    inside = low < value <= high if low_open else low <= value <= high
    if not inside:
        raise error(f"{name} must be a number in {_interval(low, high, low_open, 'g')}, got {value!r:.60}")
    return float(value)


def check_pitch_range(low, high, name: str, error: type[Exception] = UserInputError) -> tuple[int, int]:
    """A model's MIDI pitch range: ints with ``MIN_NOTE <= low < high <= MAX_NOTE``; else ``error``
    (specs, training configs and model.json ``pitch`` all check it here)."""
    ok = all(not isinstance(v, bool) and isinstance(v, numbers.Integral) and MIN_NOTE <= v <= MAX_NOTE
             for v in (low, high))
    if not ok or not low < high:
        raise error(f"{name} must be two MIDI notes low < high in [{MIN_NOTE}, {MAX_NOTE}], "
                    f"got {low!r:.20}, {high!r:.20}")
    return int(low), int(high)
