"""The OSC wire format, pure: raw datagrams as constants, a malformed corpus, and fuzzing."""

from __future__ import annotations

import math
import signal
import struct
import time
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder

from ganshot.bridges.osc.validate import (
    IMMEDIATE, NTP_UNIX_OFFSET_S, Bundle, FastParser, Message, OscError, encode_message, flatten, ntp_to_unix, parse_datagram,
    peek_address, unix_to_ntp,
)
from tests.support.osc_corpus import ALL_TYPES, ALL_TYPES_ARGS, BUNDLE, MALFORMED, STATUS, TRIGGER, nested_bundles

PARSE_BOUND_S = 1.0  # generous on a loaded 2-core machine; a hang is what this guards against


@contextmanager
def deadline(seconds: float):
    """Raise TimeoutError in the main thread if the block runs longer than ``seconds`` (SIGALRM)."""
    def _expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_message_as_sent_by_oscsend():
    assert parse_datagram(TRIGGER) == Message("/pad/trigger", "if", (0, 1.0))
    assert parse_datagram(STATUS) == Message("/status", "", ())


def test_every_argument_type():
    message = parse_datagram(ALL_TYPES)
    assert message.tags == "ifsbhdtScrmTFNI" and message.args == ALL_TYPES_ARGS


def test_bundle_and_flatten():
    bundle = parse_datagram(BUNDLE)
    assert isinstance(bundle, Bundle) and bundle.timetag == IMMEDIATE
    assert flatten(bundle) == [(IMMEDIATE, parse_datagram(TRIGGER)), (IMMEDIATE, parse_datagram(STATUS))]


def test_nested_bundles_take_the_innermost_timetag():
    inner = b"#bundle\x00" + struct.pack(">Q", 5 << 32) + struct.pack(">i", len(TRIGGER)) + TRIGGER
    outer = b"#bundle\x00" + struct.pack(">Q", 3 << 32) + struct.pack(">i", len(STATUS)) + STATUS \
        + struct.pack(">i", len(inner)) + inner
    found = [(t, m.address) for t, m in flatten(parse_datagram(outer))]
    assert found == [(3 << 32, "/status"), (5 << 32, "/pad/trigger")]


def test_nesting_up_to_the_limit_is_fine():
    assert flatten(parse_datagram(nested_bundles(8)))[0][1].address == "/status"
    with pytest.raises(OscError, match="nested deeper than 8"):
        parse_datagram(nested_bundles(9))


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_corpus_is_refused_with_its_reason(name):
    data, reason = MALFORMED[name]
    with deadline(PARSE_BOUND_S), pytest.raises(OscError) as err:
        parse_datagram(data)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_message_count_is_bounded():
    element = struct.pack(">i", len(STATUS)) + STATUS
    many = b"#bundle\x00" + struct.pack(">Q", 1) + element * 1025
    with pytest.raises(OscError, match="more than 1024 messages"):
        parse_datagram(many)


def test_peek_address_for_fail_replies():
    assert peek_address(MALFORMED["truncated"][0]) == "/pad/trigger"
    assert peek_address(MALFORMED["negative bundle element size"][0]) == "#bundle"
    assert peek_address(MALFORMED["random bytes"][0]) == ""
    assert peek_address(b"/\xff\x00\x00") == ""


def test_ntp_timetags():
    assert ntp_to_unix(NTP_UNIX_OFFSET_S << 32) == 0.0
    assert ntp_to_unix(((NTP_UNIX_OFFSET_S + 10) << 32) | (1 << 31)) == 10.5
    now = time.time()
    assert abs(ntp_to_unix(unix_to_ntp(now)) - now) < 1e-6


def test_encode_round_trips_and_python_osc_reads_it():
    from pythonosc.osc_message import OscMessage

    data = encode_message("/status.reply", "iifsd", (3, -1, 2.5, "onnx-cpu", 0.25))
    assert parse_datagram(data) == Message("/status.reply", "iifsd", (3, -1, 2.5, "onnx-cpu", 0.25))
    assert OscMessage(data).params == [3, -1, 2.5, "onnx-cpu", 0.25]


# -- fuzzing --------------------------------------------------------------------------------
def _parse_or_refuse(data: bytes) -> None:
    started = time.perf_counter()
    with deadline(PARSE_BOUND_S):
        try:
            parse_datagram(data)
        except OscError:
            pass
    assert time.perf_counter() - started < PARSE_BOUND_S


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_only_ever_raise_osc_error(data):
    _parse_or_refuse(data)


_SEEDS = [TRIGGER, STATUS, BUNDLE, ALL_TYPES, nested_bundles(3)]
_SIZE_WORDS = st.sampled_from([b"\xff\xff\xff\xf0", b"\x80\x00\x00\x00", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x00",
                               b"\x00\x00\x00\x04", b"#bun", b",bbb", b"\x00\x00\x00\x01"])


@FUZZ
@given(st.sampled_from(_SEEDS),
       st.lists(st.tuples(st.integers(0, 400), st.binary(min_size=1, max_size=4) | _SIZE_WORDS), max_size=4),
       st.integers(0, 16))
def test_mutated_datagrams_only_ever_raise_osc_error(seed, patches, cut):
    data = bytearray(seed)
    for position, chunk in patches:  # overwrite a few words, e.g. with negative or huge sizes
        position %= len(data)
        data[position:position + len(chunk)] = chunk
    _parse_or_refuse(bytes(data[:len(data) - cut] if cut < len(data) else data))


_ARG = st.one_of(
    st.integers(-2**31, 2**31 - 1).map(lambda v: ("i", v)),
    st.floats(width=32, allow_nan=False).map(lambda v: ("f", v)),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
    .map(lambda v: ("s", v)),
    st.binary(min_size=1, max_size=20).map(lambda v: ("b", v)),  # python-osc refuses empty blobs
    st.floats(allow_nan=False).map(lambda v: ("d", v)),
    st.integers(-2**63, 2**63 - 1).map(lambda v: ("h", v)),
)


@pytest.mark.slow
@FUZZ
@given(st.from_regex(r"/[a-z0-9_.]{1,20}(/[a-z0-9_.]{1,10}){0,3}", fullmatch=True), st.lists(_ARG, max_size=8))
def test_python_osc_messages_parse_to_what_was_sent(address, args):
    builder = OscMessageBuilder(address)
    for tag, value in args:
        builder.add_arg(value, tag)
    message = parse_datagram(builder.build().dgram)
    assert message.address == address and message.tags == "".join(t for t, _ in args)
    for (tag, sent), got in zip(args, message.args):
        assert got == sent or (isinstance(sent, float) and math.isclose(got, sent, rel_tol=1e-6))


# -- the fast path: exact layouts read without the full parser, always to the same Message --------------------

FAST_LAYOUTS = [("/pad/trigger", "if"), ("/pad/trigger", "i"), ("/pad/knob", "iif"), ("/status", ""),
                ("/x", "hd"), ("/pad/knob", "fff")]
FAST = FastParser(FAST_LAYOUTS)


def test_fast_parser_reads_the_raw_constants_like_the_full_parser():
    assert FAST.parse(TRIGGER) == parse_datagram(TRIGGER) == Message("/pad/trigger", "if", (0, 1.0))
    assert FAST.parse(STATUS) == parse_datagram(STATUS)
    assert FAST.parse(BUNDLE) is None  # bundles always take the full parser
    for name, (data, _) in MALFORMED.items():
        assert FAST.parse(data) is None, name


def test_fast_parser_refuses_to_build_a_layout_it_cannot_read_exactly():
    with pytest.raises(ValueError, match="fixed-size numbers only"):
        FastParser([("/x", "s")])
    with pytest.raises(OscError, match="must start with '/'"):
        FastParser([("x", "i")])


_NUMBER = {"i": st.integers(-2**31, 2**31 - 1), "h": st.integers(-2**63, 2**63 - 1),
           "f": st.floats(width=32, allow_nan=True, allow_infinity=True), "d": st.floats(allow_nan=True)}


@st.composite
def _fast_datagram(draw):
    """A datagram of one FAST layout, then maybe mutated: a byte changed, cut, grown or a tag swapped."""
    address, tags = draw(st.sampled_from(FAST_LAYOUTS))
    data = bytearray(encode_message(address, tags, [draw(_NUMBER[t]) for t in tags]))
    mutation = draw(st.sampled_from(["none", "byte", "cut", "grow"]))
    if mutation == "byte":
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif mutation == "cut":
        del data[draw(st.integers(0, len(data) - 1)):]
    elif mutation == "grow":
        data += bytes(draw(st.sampled_from([1, 4, 8])))
    return bytes(data)


def _same(a, b) -> bool:
    """Messages equal, NaN arguments included (NaN != NaN), argument types too."""
    if a is None or b is None or (a.address, a.tags) != (b.address, b.tags):
        return a == b
    return all(type(x) is type(y) and (x == y or (x != x and y != y)) for x, y in zip(a.args, b.args, strict=True))


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_fast_datagram())
def test_fast_parser_gives_what_the_full_parser_gives_or_leaves_it_to_the_full_parser(data):
    fast = FAST.parse(data)
    try:
        full = parse_datagram(data)
    except OscError:
        assert fast is None  # nothing the full parser refuses gets through the fast path
        return
    assert fast is None or _same(fast, full)
    if isinstance(full, Message) and (full.address, full.tags) in FAST_LAYOUTS:
        assert _same(fast, full)  # and every valid datagram of a fast layout does take the fast path
