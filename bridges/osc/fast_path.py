"""The flood path: the simple, frequent messages (triggers, knobs, notes) read and checked quickly.

Cheat sheet::

    FAST_COERCERS[("/pad/knob", "iif")](message)   # == coerce(ADDRESSES["/pad/knob"], message)
    FAST_PARSER.parse(data)                        # == parse_datagram(data) for those layouts, else None

A quick coercer takes a value that is plainly in range as it is; anything else (out of
range, NaN, a float where an int belongs that is not whole) goes through
:func:`~.addresses.coerce`, which refuses it with the reason (or takes it), so both give the
same values and the same refusals (tests/bridges/test_osc_addresses.py checks them at the edges).
The layouts with a quick coercer are the ones :class:`~.validate.FastParser` reads without the
full parser: ints as ``i`` or (Max) ``f``, floats as ``f``, optional trailing arguments left
out or not.
"""

from __future__ import annotations

from .addresses import ADDRESSES, Route, coerce
from .validate import FastParser, Message

__all__ = ["FAST_COERCERS", "FAST_PARSER"]


def _fast_coercer(spec: Route, tags: str):
    """``coerce(spec, m)`` for messages of ``spec`` typed ``tags`` (ints and floats), quicker: a value
    that is plainly in range is taken as it is; anything else goes through :func:`coerce`, which
    refuses it with the reason (or takes it). None when ``spec`` or ``tags`` do not fit."""
    if len(tags) > len(spec.args) or any(a.kind not in ("int", "float") or a.low is None for a in spec.args):
        return None
    slots, defaults = [], []
    for index, arg in enumerate(spec.args):
        if index < len(tags):
            tag = tags[index]
            if tag not in "if":
                return None
            slots.append((arg.kind == "float", tag == "f" and arg.kind == "int", arg.low, arg.high))
        elif arg.optional and not callable(arg.default):
            defaults.append(arg.default)
        else:
            return None
    slots, defaults = tuple(slots), tuple(defaults)

    def fast(message: Message) -> tuple:
        out = []
        for (to_float, whole, low, high), value in zip(slots, message.args):
            if to_float:
                value = float(value)
            elif whole:  # Max sends ints as floats: 3.0 -> 3 (NaN, inf and 3.5 take the slow path)
                if not (value == value and value - value == 0 and value.is_integer()):
                    return coerce(spec, message)
                value = int(value)
            if not low <= value <= high:  # the ranges are finite: NaN and inf fail here
                return coerce(spec, message)
            out.append(value)
        return (*out, *defaults)
    return fast


def _fast_layouts(spec: Route):
    """The type tag strings senders use for ``spec``: ints as ``i`` or (Max) ``f``, floats as ``f``,
    optional trailing arguments left out or not."""
    required = sum(not a.optional for a in spec.args)
    for count in range(required, len(spec.args) + 1):
        natural = "".join("i" if a.kind == "int" else "f" for a in spec.args[:count])
        yield from dict.fromkeys((natural, "f" * count))


#: (address, tags) -> a quick :func:`~.addresses.coerce` for the layouts senders use most.
FAST_COERCERS = {(spec.address, tags): coercer for spec in ADDRESSES.values() for tags in _fast_layouts(spec)
                 if all(a.kind in ("int", "float") for a in spec.args)
                 and (coercer := _fast_coercer(spec, tags)) is not None}
FAST_PARSER = FastParser(FAST_COERCERS)
