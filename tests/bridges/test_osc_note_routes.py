"""/note/on, /note/off, /sustain (and /note velocity 0) on a real offline Engine with an instrument kit:
parsing of raw datagrams, coercion and one-line refusals, and bundles whose timetags place the
note and its release on exact frames (the same path as /pad/trigger)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ganshot.bridges.osc.addresses import ADDRESSES, RouteContext, coerce, route
from ganshot.bridges.osc.fast_path import FAST_PARSER
from ganshot.bridges.osc.validate import Message, OscError, parse_datagram
from ganshot.engine.engine import Engine
from tests.support.instruments import held_note, instrument_kit
from tests.support.osc_timed import FakeStream, bundle

RATE = 48000
CENTRE = float(np.cos(np.pi / 4))
# raw datagrams, as python-osc / liblo write them
NOTE_ON_60_HALF_CH2 = b"/note/on\x00\x00\x00\x00,ifi\x00\x00\x00\x00\x00\x00\x00<?\x00\x00\x00\x00\x00\x00\x02"
NOTE_OFF_60 = b"/note/off\x00\x00\x00,i\x00\x00\x00\x00\x00<"
SUSTAIN_DOWN_CH0 = b"/sustain\x00\x00\x00\x00,ii\x00\x00\x00\x00\x01\x00\x00\x00\x00"


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, instrument_kit(tiny_bundle, release_ms=5.0), sample_rate=RATE, backend="onnx") as eng:
        assert eng.wait_ready(60)
        yield eng
        eng.stream = None


def msg(address: str, tags: str = "", *args) -> Message:
    return Message(address, tags, tuple(args))


@pytest.mark.parametrize("data, values", [
    (NOTE_ON_60_HALF_CH2, ("/note/on", (60, 0.5, 2))),
    (NOTE_OFF_60, ("/note/off", (60, None))),
    (SUSTAIN_DOWN_CH0, ("/sustain", (1, 0))),
])
def test_raw_datagrams_parse_and_coerce_alike_on_both_paths(data, values):
    slow = parse_datagram(data)
    fast = FAST_PARSER.parse(data)
    assert fast == slow and slow.address == values[0]
    assert coerce(ADDRESSES[slow.address], slow) == values[1]


def test_note_on_off_and_sustain_drive_the_instrument(engine):
    assert route(msg("/note/on", "if", 60, 0.5), engine) is None
    assert route(msg("/note/on", "ifi", 64, 1.0, 3), engine) is None
    assert [(v.note, v.channel) for v in engine.instrument_voices.sounding()] == [(60, 0), (64, 3)]
    route(msg("/sustain", "ii", 1, 3), engine)
    route(msg("/note/off", "ii", 64, 3), engine)  # held by channel 3's pedal
    route(msg("/note/off", "i", 60), engine)
    assert [(v.note, v.held) for v in engine.instrument_voices.sounding()] == [(64, True)]
    route(msg("/sustain", "i", 0), engine)
    assert not engine.instrument_voices.sounding()
    route(msg("/note", "ii", 62, 100), engine)  # /note speaks MIDI: velocity 0 is the note-off
    assert [v.note for v in engine.instrument_voices.sounding()] == [62]
    route(msg("/note", "ii", 62, 0), engine)
    assert not engine.instrument_voices.sounding()
    status = engine.status()
    assert status["notes_on"] == 3 and status["notes_released"] == 3 and status["notes_held"] == 1


def test_a_drum_note_on_plays_the_pad_and_its_note_off_is_ignored(engine):
    before = engine.status()["triggers"]
    route(msg("/note/on", "if", 36, 1.0), engine)
    route(msg("/note/off", "i", 36), engine)
    status = engine.status()
    assert status["triggers"] == before + 1 and status["note_offs_ignored"] == 1


@pytest.mark.parametrize("message, reason", [
    (msg("/note/on", "if", 60, 1.5), "velocity must be in [0, 1], got 1.5"),
    (msg("/note/on", "i", 60), "/note/on takes 2 to 3 argument(s), got 1"),
    (msg("/note/on", "ifi", 60, 1.0, 16), "channel must be in [0, 15], got 16"),
    (msg("/note/off", "i", 128), "note must be in [0, 127], got 128"),
    (msg("/note/off", "s", "C4"), "note must be an integer, got s:'C4'"),
    (msg("/sustain", "i", 2), "down must be in [0, 1], got 2"),
    (msg("/sustain", "f", 0.5), "down must be an integer, got f:0.5"),
])
def test_bad_messages_are_refused_in_one_line(engine, message, reason):
    with pytest.raises(OscError) as refused:
        route(message, engine)
    assert str(refused.value) == reason
    assert not engine.instrument_voices.sounding()


def test_timed_routes_take_the_frame_of_their_context(engine):
    frame = engine.mixer.frame + 1234
    route(msg("/note/on", "if", 60, 1.0), engine, RouteContext(at_frame=frame))
    assert engine.instrument_voices.sounding()[0].start_frame == frame
    assert all(ADDRESSES[a].timed for a in ("/note/on", "/note/off", "/sustain"))




def test_bundles_place_the_note_and_its_release_on_their_frames(engine, tmp_path):
    from ganshot.bridges.osc.server import OscServer

    engine.stream = stream = FakeStream(engine.mixer.frame)
    server = OscServer(engine, port=0, render_dir=tmp_path / "renders", kit_dir=tmp_path)  # not started
    now = time.time()
    try:
        server.handle_batch([(bundle(now + 0.2, "/note/on", 53, 1.0), ("127.0.0.1", 9)),
                             (bundle(now + 0.3, "/note/off", 53), ("127.0.0.1", 9))])
    finally:
        server.close()
    on, off = stream.given
    assert server.counters()["rejected"] == 0 and 0 < off - on < 0.2 * RATE
    buffer = engine.instrument_note_buffer(1, 53)
    base = engine.mixer.frame
    out = engine.mixer.render(on - base + len(buffer) + 100)
    np.testing.assert_allclose(out[:, 0], held_note(buffer, CENTRE, on - base, off - base, 240, len(out)), atol=2e-7)
