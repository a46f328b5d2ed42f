"""The OSC address table's types and argument coercion: :class:`Arg`, :class:`Route`, :func:`coerce`,
and bundle timetags resolved by :func:`schedule`. Pure code (no sockets, no Engine); the table itself
and the routing onto the Engine live in :mod:`.addresses`, which re-exports these names.

Coercion: an ``int`` slot takes ``i``/``h``, or ``f``/``d`` holding a whole number
(Max sends floats for everything: 3.0 -> 3, 3.5 refused). A ``float`` slot takes
``f``/``d``/``i``/``h``. A ``str`` slot takes ``s``/``S`` of at most :data:`MAX_PATH_CHARS`
characters. Floats must be finite. Every refusal is an :class:`~.validate.OscError` with one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .validate import IMMEDIATE, Message, OscError, ntp_to_unix

__all__ = ["Arg", "Route", "When", "coerce", "schedule", "MAX_PATH_CHARS"]

MAX_PATH_CHARS = 4096
_INT_TAGS, _FLOAT_TAGS, _STR_TAGS = "ih", "fdih", "sS"


@dataclass(frozen=True)
class Arg:
    """One argument slot: ``kind`` is "int", "float", "str" or "floats" (1.. floats, last slot only).
    An ``optional`` slot left out takes ``default`` (called first when it is a function)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    optional: bool = False
    default: object = None


@dataclass(frozen=True)
class Route:
    """One row of the address table. ``command``: the Engine method the arguments go to, in
    order (a timed route adds ``at_frame``), or a command of this module (``_COMMANDS``).
    ``param``: for a knob, the controller-target parameter (:data:`~ganshot.engine.kit_schema.TARGETS`)
    its last argument sets through ``Engine.apply``, the vocabulary MIDI speaks too.
    ``timed``: a bundle's timetag schedules it at the exact frame."""

    address: str
    args: tuple[Arg, ...]
    command: str
    timed: bool = False
    doc: str = ""
    param: str | None = None


@dataclass(frozen=True)
class When:
    """A bundle timetag resolved: ``unix_s`` (None: now) and whether it was already past."""

    unix_s: float | None
    late: bool = False


def schedule(timetag: int, now_unix_s: float, max_ahead_s: float) -> When:
    """Resolve a bundle timetag against ``now_unix_s``; OscError when more than ``max_ahead_s`` ahead."""
    if timetag == IMMEDIATE:
        return When(None)
    unix_s = ntp_to_unix(timetag)
    ahead = unix_s - now_unix_s
    if ahead > max_ahead_s:
        raise OscError(f"timetag is {ahead:.3g} s ahead; the limit is {max_ahead_s:g} s (--osc-max-ahead)")
    return When(unix_s, late=ahead < 0)


def _number(tag: str, value, arg: Arg):
    if arg.kind == "int":
        if tag in _INT_TAGS:
            number = int(value)
        elif tag in "fd" and math.isfinite(value) and float(value).is_integer():
            number = int(value)
        else:
            raise OscError(f"{arg.name} must be an integer, got {tag}:{value!r:.24}")
    else:
        if tag not in _FLOAT_TAGS:
            raise OscError(f"{arg.name} must be a number, got type {tag!r}")
        number = float(value)
        if not math.isfinite(number):
            raise OscError(f"{arg.name} must be finite, got {number}")
    if arg.low is not None and not arg.low <= number <= arg.high:
        raise OscError(f"{arg.name} must be in [{arg.low:g}, {arg.high:g}], got {number:.6g}")
    return number


def _floats(tags: str, args: tuple, arg: Arg) -> tuple:
    values = []
    for i, (tag, value) in enumerate(zip(tags, args)):
        if tag not in _FLOAT_TAGS or not arg.low <= float(value) <= arg.high:  # NaN fails the range test too
            _number(tag, value, Arg(f"{arg.name}[{i}]", "float", arg.low, arg.high))  # raises with the reason
        values.append(float(value))
    return tuple(values)


def coerce(spec: Route, message: Message) -> tuple:
    """The message's arguments as Python values per ``spec`` (floats slot -> one tuple), or OscError."""
    args, tags = message.args, message.tags
    required = sum(not a.optional for a in spec.args)
    variadic = bool(spec.args) and spec.args[-1].kind == "floats"
    if variadic:
        fixed = len(spec.args) - 1
        if len(args) < fixed + 1:
            name = spec.args[-1].name
            raise OscError(f"{spec.address} takes {fixed} argument(s) then {name} floats, got {len(args)}")
    elif not required <= len(args) <= len(spec.args):
        want = str(required) if required == len(spec.args) else f"{required} to {len(spec.args)}"
        raise OscError(f"{spec.address} takes {want} argument(s), got {len(args)}")
    out = []
    for index, arg in enumerate(spec.args):
        if arg.kind == "floats":
            out.append(_floats(tags[index:], args[index:], arg))
        elif index < len(args):
            tag, value = tags[index], args[index]
            if arg.kind == "str":
                if tag not in _STR_TAGS:
                    raise OscError(f"{arg.name} must be a string, got type {tag!r}")
                if len(value) > MAX_PATH_CHARS:
                    raise OscError(f"{arg.name} is longer than {MAX_PATH_CHARS} characters")
                out.append(value)
            else:
                out.append(_number(tag, value, arg))
        else:  # an optional slot left out
            out.append(arg.default() if callable(arg.default) else arg.default)
    return tuple(out)
