"""MIDI clock: the tempo estimate from tick times with jitter and dropped ticks, Start/Stop driving
the pattern transport, and the clock sent from the transport's frames (fake clocks throughout)."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.bridges.midi.clock import CLOCK, CONTINUE, START, STOP, ClockFollower, ClockSender, TempoEstimator
from ganshot.engine.pattern_player import PatternPlayer
from tests.support.patterns import write_midi

RATE = 48000


def ticks(bpm: float, count: int, start_s: float = 10.0, jitter_s: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    period = 60.0 / (24 * bpm)
    return [start_s + k * period + rng.uniform(-jitter_s, jitter_s) for k in range(count)]


@pytest.mark.parametrize("bpm", [60.0, 120.0, 174.0])
def test_the_estimate_follows_a_steady_clock_through_jitter(bpm):
    estimator = TempoEstimator()
    estimates = [estimator.add(t) for t in ticks(bpm, 200, jitter_s=0.001)]
    assert estimates[:11] == [None] * 11  # half a beat before the first estimate
    assert all(abs(e - bpm) < 0.005 * bpm for e in estimates[48:])
    assert abs(estimates[-1] - bpm) < 0.2


def test_dropped_ticks_do_not_slow_the_estimate():
    estimator = TempoEstimator()
    times = ticks(128.0, 240, jitter_s=0.0005)
    kept = [t for k, t in enumerate(times) if k % 7 != 3 and not 100 <= k < 103]  # one in seven, and three in a row
    for t in kept:
        bpm = estimator.add(t)
    assert abs(bpm - 128.0) < 0.2 and estimator.dropped == len(times) - len(kept)


def test_a_tempo_change_is_followed_within_two_beats_and_a_pause_starts_again():
    estimator = TempoEstimator()
    for t in ticks(100.0, 96):
        estimator.add(t)
    later = ticks(140.0, 48, start_s=ticks(100.0, 97)[-1])
    for t in later:
        bpm = estimator.add(t)
    assert abs(bpm - 140.0) < 0.1
    assert estimator.add(later[-1] + 5.0) is None  # five silent seconds: a new clock


class FakePlayer:
    def __init__(self):
        self.calls = []

    def follow_external(self, on):
        self.calls.append(("follow", on))

    def set_tempo(self, bpm):
        self.calls.append(("tempo", bpm))

    def transport_start(self):
        self.calls.append(("start",))

    def transport_stop(self):
        self.calls.append(("stop",))


def test_the_follower_sets_tempo_past_the_deadband_and_drives_the_transport():
    player = FakePlayer()
    follower = ClockFollower(player)
    follower.feed([START], 9.99)
    for t in ticks(90.0, 100, jitter_s=0.0005):
        follower.feed([CLOCK], t)
    follower.feed([STOP], 20.0)
    follower.feed([CONTINUE], 21.0)
    follower.feed([0x90, 36, 100], 21.0)  # a note: not the clock's
    follower.feed([], 21.0)  # nothing at all: counted, never raised
    tempos = [c[1] for c in player.calls if c[0] == "tempo"]
    assert player.calls[0] == ("follow", True) and ("start",) in player.calls and ("stop",) in player.calls
    assert 1 <= len(tempos) <= 5 and abs(tempos[-1] - 90.0) < 0.2  # jitter does not move it on every tick
    assert follower.counts["ticks"] == 100 and follower.counts["ignored"] == 2 and follower.counts["errors"] == 0


def test_clock_start_restarts_every_loop_on_a_fresh_bar_zero(tmp_path):
    write_midi(tmp_path / "k.mid", [[(0, "note_on", 9, 36, 100), (60, "note_off", 9, 36, 0), (1920, "note_off", 9, 0, 0)]])
    played, now = [], [0]
    player = PatternPlayer(RATE, lambda n, v, at_frame: played.append(at_frame) or 1, lambda: now[0], root=tmp_path)
    follower = ClockFollower(player)
    player.play(0, "k.mid")
    assert not player.status()["running"]  # following a DAW: the loop waits for its Start
    follower.feed([START])  # bar 0 one look-ahead later
    player.tick(1)
    assert played == [player.lookahead_frames]
    follower.feed([STOP])
    now[0] = 10 * RATE
    player.tick()
    assert not player.status()["running"] and player.status()["slots"][0]["playing"] == "k.mid"


def test_the_sender_ticks_24_times_a_beat_on_the_transports_frames_and_follows_a_tempo_change(tmp_path):
    write_midi(tmp_path / "k.mid", [[(0, "note_on", 9, 36, 100), (60, "note_off", 9, 36, 0), (1920, "note_off", 9, 0, 0)]])
    now = [0]
    player = PatternPlayer(RATE, lambda n, v, at_frame: 1, lambda: now[0], root=tmp_path)
    sent = []
    sender = ClockSender(player, lambda: now[0], lambda message: sent.append((now[0], message[0])))
    player.play(0, "k.mid")
    origin = player.lookahead_frames
    last = 3 * 96000
    for frame in range(0, last, 128):  # one mixer block at a time
        now[0] = frame
        if frame == 20096:
            player.set_tempo(60.0)  # from bar 1's line on
        player.tick()
        sender.poll()
    starts = [f for f, m in sent if m == START]
    clock = [f for f, m in sent if m == CLOCK]
    assert len(starts) == 1 and 0 <= starts[0] - origin < 128
    bar1 = origin + 96000  # 96 ticks of 1000 frames (120 bpm), then ticks of 2000 frames (60 bpm)
    wanted = [origin + k * 1000 for k in range(96)] + list(range(bar1, last - 128 + 1, 2000))
    assert len(clock) == len(wanted)
    assert all(0 <= f - w < 128 for f, w in zip(clock, wanted))  # each sent within a block of its frame


def test_the_sender_stops_at_the_bar_line_the_transport_stopped_at(tmp_path):
    write_midi(tmp_path / "k.mid", [[(0, "note_on", 9, 36, 100), (60, "note_off", 9, 36, 0), (1920, "note_off", 9, 0, 0)]])
    now = [0]
    player = PatternPlayer(RATE, lambda n, v, at_frame: 1, lambda: now[0], root=tmp_path)
    sent = []
    sender = ClockSender(player, lambda: now[0], lambda message: sent.append((now[0], message[0])))
    player.play(0, "k.mid")
    origin = player.lookahead_frames
    for frame in range(0, 3 * 96000, 128):
        now[0] = frame
        if frame == 20096:
            player.stop()  # at bar 1's line
        player.tick()
        sender.poll()
    clock = [f for f, m in sent if m == CLOCK]
    stops = [f for f, m in sent if m == STOP]
    assert len(clock) == 96 and len(stops) == 1  # exactly one bar of ticks, then Stop at the bar line
    assert 0 <= stops[0] - (origin + 96000) < 128
