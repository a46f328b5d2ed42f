"""The flood path: quick coercers and the exact-layout parser give what coerce() and parse_datagram() give."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganshot.bridges.osc.addresses import ADDRESSES, coerce
from ganshot.bridges.osc.fast_path import FAST_COERCERS, FAST_PARSER
from ganshot.bridges.osc.validate import Message, OscError, encode_message, parse_datagram

F32 = lambda v: float(np.float32(v))  # noqa: E731 - what an OSC 'f' argument carries


def _edge_values(arg) -> list:
    """Numbers at and around a slot's range, whole and not, NaN and infinities."""
    low, high = float(arg.low), float(arg.high)
    near = [low, high, low - 1, high + 1, (low + high) / 2, low + 0.5, 3.0, -0.0, 2.5]
    return near + [math.nan, math.inf, -math.inf, 1e300]


def _coerced(function, spec, message):
    try:
        return "ok", function(message)
    except OscError as err:
        return "refused", str(err)


@pytest.mark.parametrize("key", sorted(FAST_COERCERS), ids="{0[0]} ,{0[1]}".format)
def test_fast_coercers_agree_with_coerce(key):
    address, tags = key
    spec, fast = ADDRESSES[address], FAST_COERCERS[key]
    rng = np.random.default_rng(len(address) + len(tags))
    for _ in range(400):
        args = []
        for arg, tag in zip(spec.args, tags):
            value = rng.choice(_edge_values(arg))
            if tag == "i":
                args.append(int(value) if math.isfinite(value) and abs(value) < 2**31 else 0)
            else:
                with np.errstate(over="ignore"):  # 1e300 as float32 is inf, as a sender's would be
                    args.append(F32(value))
        message = Message(address, tags, tuple(args))
        got, want = _coerced(fast, spec, message), _coerced(lambda m: coerce(spec, m), spec, message)
        assert got == want, message
        if got[0] == "ok":
            assert [type(v) for v in got[1]] == [type(v) for v in want[1]], message


def test_fast_coercers_cover_the_flood_layouts():
    for key in [("/pad/trigger", "if"), ("/pad/trigger", "i"), ("/pad/knob", "iif"), ("/pad/knob", "fff"),
                ("/pad/gain", "if"), ("/pad/pan", "if"), ("/note", "ii"), ("/master/gain", "f")]:
        assert key in FAST_COERCERS
    assert ("/pad/random", "i") not in FAST_COERCERS  # a random default seed: always coerce()


@pytest.mark.parametrize("key", sorted(FAST_COERCERS), ids="{0[0]} ,{0[1]}".format)
def test_the_fast_parser_reads_every_fast_layout_as_the_full_parser_does(key):
    address, tags = key
    data = encode_message(address, tags, [3 if tag == "i" else 0.5 for tag in tags])
    assert FAST_PARSER.parse(data) == parse_datagram(data) == Message(address, tags, tuple(
        3 if tag == "i" else 0.5 for tag in tags))
