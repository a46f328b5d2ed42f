"""/pattern/play, /pattern/stop, /tempo and /pattern/status: raw datagrams parsed and routed onto
a real PatternPlayer (fake frame clock and trigger); refusals come back as one-line OscErrors."""

from __future__ import annotations

import json

import pytest

from ganshot.bridges.osc.addresses import Reply, route
from ganshot.bridges.osc.validate import OscError, parse_datagram
from ganshot.engine.pattern_player import PatternPlayer
from tests.support.patterns import write_midi

RATE = 48000

#: raw datagrams, as oscsend sends them
PLAY_KICK = b"/pattern/play\x00\x00\x00,isi\x00\x00\x00\x00\x00\x00\x00\x02kick.mid\x00\x00\x00\x00\x00\x00\x00\x07"
PLAY_NO_SEED = b"/pattern/play\x00\x00\x00,is\x00\x00\x00\x00\x01kick.mid\x00\x00\x00\x00"
STOP_SLOT = b"/pattern/stop\x00\x00\x00,i\x00\x00\x00\x00\x00\x02"
STOP_ALL = b"/pattern/stop\x00\x00\x00,\x00\x00\x00"
TEMPO_96 = b"/tempo\x00\x00,f\x00\x00B\xc0\x00\x00"
TEMPO_INT = b"/tempo\x00\x00,i\x00\x00\x00\x00\x00\x5a"
STATUS = b"/pattern/status\x00,\x00\x00\x00"


class FakeEngine:
    """What the routes touch: ``engine.patterns`` (a real player on a fake clock)."""

    def __init__(self, root):
        self.played = []
        self.frame = 0
        self.patterns = PatternPlayer(RATE, lambda note, vel, at_frame: self.played.append((at_frame, note)) or 1,
                                      lambda: self.frame, root=root)


@pytest.fixture
def engine(tmp_path):
    write_midi(tmp_path / "kick.mid", [[(0, "note_on", 9, 36, 100), (60, "note_off", 9, 36, 0),
                                        (1920, "note_off", 9, 0, 0)]])
    return FakeEngine(tmp_path)


def send(engine, datagram: bytes):
    return route(parse_datagram(datagram), engine)


def test_the_raw_datagrams_parse_as_oscsend_sends_them():
    assert parse_datagram(PLAY_KICK).args == (2, "kick.mid", 7) and parse_datagram(PLAY_KICK).tags == "isi"
    assert parse_datagram(TEMPO_96).args == (96.0,) and parse_datagram(STOP_ALL).args == ()


def test_play_tempo_and_stop_reach_the_player(engine):
    assert send(engine, PLAY_KICK) is None
    status = engine.patterns.status()
    assert status["running"] and status["slots"][2]["next"] == {"pattern": "kick.mid", "bar": 0}
    assert send(engine, TEMPO_96) is None and engine.patterns.status()["tempo_bpm"] == 96.0
    assert send(engine, TEMPO_INT) is None and engine.patterns.status()["tempo_bpm"] == 90.0  # Max sends ints too
    engine.patterns.tick(1)  # the first bar line is one look-ahead after the play
    assert engine.played == [(engine.patterns.lookahead_frames, 36)]
    send(engine, STOP_SLOT)
    assert engine.patterns.status()["slots"][2]["next"] == {"pattern": None, "bar": 1}
    send(engine, STOP_ALL)
    engine.patterns.tick(10 * RATE)
    assert not engine.patterns.status()["running"]


def test_a_seed_left_out_is_drawn_at_random(engine):
    send(engine, PLAY_NO_SEED)
    assert engine.patterns.status()["slots"][1]["next"]["pattern"] == "kick.mid"  # a MIDI loop has no seed


def test_status_replies_one_json_string(engine):
    send(engine, PLAY_KICK)
    reply = send(engine, STATUS)
    assert isinstance(reply, Reply) and reply.address == "/pattern/status.reply" and reply.tags == "s"
    body = json.loads(reply.args[0])
    assert body["tempo_bpm"] == 120.0 and len(body["slots"]) == 8 and body["running"]


@pytest.mark.parametrize("address, tags, args, reason", [
    ("/pattern/play", "isi", (8, "kick.mid", 0), r"slot must be in \[0, 7\], got 8"),
    ("/pattern/play", "is", (-1, "kick.mid"), r"slot must be in \[0, 7\]"),
    ("/pattern/play", "i", (0,), "takes 2 to 3 argument"),
    ("/pattern/play", "ii", (0, 3), "source must be a string"),
    ("/pattern/play", "isi", (0, "../etc/passwd.mid", 0), "must lie inside the patterns folder"),
    ("/pattern/play", "isi", (0, "nope", 0), "neither a patterns bundle folder"),
    ("/pattern/play", "isi", (0, "kick.mid", -3), r"seed must be in"),
    ("/pattern/stop", "i", (9,), r"slot must be in \[0, 7\]"),
    ("/tempo", "f", (0.0,), r"bpm must be in \[20, 400\], got 0"),
    ("/tempo", "f", (float("nan"),), "bpm must be finite"),
    ("/tempo", "s", ("fast",), "bpm must be a number"),
])
def test_refusals_name_the_problem(engine, address, tags, args, reason):
    from ganshot.bridges.osc.validate import Message

    with pytest.raises(OscError, match=reason) as refused:
        route(Message(address, tags, args), engine)
    assert "\n" not in str(refused.value)
    assert not engine.patterns.status()["running"]


def test_a_bad_midi_file_is_refused_at_once(engine, tmp_path):
    from ganshot.bridges.osc.validate import Message

    (tmp_path / "bad.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01")
    with pytest.raises(OscError, match=r"bad.mid: not a readable MIDI file"):
        route(Message("/pattern/play", "is", (0, "bad.mid")), engine)


def test_an_engine_without_a_player_says_so():
    from ganshot.bridges.osc.validate import Message

    class Bare:
        pass

    with pytest.raises(OscError, match="live patterns are off here"):
        route(Message("/tempo", "f", (100.0,)), Bare())
