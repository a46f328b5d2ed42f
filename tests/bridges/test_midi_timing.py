"""MIDI notes at a constant latency: each note plays at the frame heard ``lead`` after it arrived
(its driver time), not when the dispatch thread got to it. A fake stream clock stands in for
the AudioStream (frame = (t - t0) * rate); the engine and its C mixer are real, rendered offline."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ganshot.bridges.midi.mapping import MidiMapper
from ganshot.bridges.midi.ports import FakeBackend, PortWatcher
from ganshot.bridges.midi.server import MidiServer
from ganshot.engine.engine import Engine
from tests.support import kit_for

RATE = 48000
NOTE_ON = 0x90


class FakeStream:
    """The clock part of an AudioStream: the frame heard at monotonic time t is (t - t0) * RATE."""

    active = True
    sample_rate = RATE
    lead_frames = 256  # the DAC's lead over the callback (128) + 2 blocks
    block_size = 64

    def __init__(self, t0: float):
        self.t0 = t0

    def frame_at_monotonic(self, t: float) -> int:
        return int(round((t - self.t0) * RATE))

    def close(self) -> None:
        pass


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=RATE, backend="onnx") as eng:
        yield eng


def test_notes_land_at_arrival_plus_lead_whenever_they_are_handled(engine):
    t0 = time.monotonic()
    engine.stream = FakeStream(t0)
    server = MidiServer(engine, MidiMapper(), lead_ms=10.0)
    lead = FakeStream.lead_frames - FakeStream.block_size + 480  # one block being mixed, and 10 ms
    # arrivals 1 ms apart, handled in one go (a late poll): they keep their spacing
    for i, arrival in enumerate((t0 + 0.100, t0 + 0.101, t0 + 0.1025)):
        server.handle(bytes([NOTE_ON, 36, 127]), arrival)
    assert server.counters()["timed"] == 3 and server.counters()["late"] == 0
    out = engine.mixer.render(RATE)
    voice = engine.pad_buffer(0)
    first = int(np.flatnonzero(voice)[0])
    expected = [4800 + lead, 4848 + lead, 4920 + lead]
    assert np.abs(out[expected[0] + first - 1, 0]) == 0 and np.abs(out[expected[0] + first, 0]) > 0
    # three copies of the same hit: the sum equals the buffer placed at each expected frame
    want = np.zeros(RATE, np.float32)
    for frame in expected:
        want[frame:frame + len(voice)] += voice
    np.testing.assert_allclose(out[:, 0] + out[:, 1], want * (out[:, 0] + out[:, 1]).max() / want.max(), atol=1e-5)
    assert engine.mixer.counters()["late_starts"] == 0


def test_a_note_later_than_the_lead_plays_at_once_and_is_counted(engine):
    t0 = time.monotonic()
    engine.stream = FakeStream(t0)
    engine.mixer.render(RATE)  # the mixer is one second in
    server = MidiServer(engine, MidiMapper(), lead_ms=5.0)
    server.handle(bytes([NOTE_ON, 36, 127]), t0 + 0.1)  # arrived 0.9 s ago
    counters = server.counters()
    assert counters["timed"] == 1 and counters["late"] == 1
    engine.mixer.render(128)
    assert engine.mixer.counters()["late_starts"] == 1


def test_offline_or_without_an_arrival_time_notes_play_at_the_next_block(engine):
    server = MidiServer(engine, MidiMapper())
    server.handle(bytes([NOTE_ON, 36, 127]), time.monotonic())  # no stream: offline
    engine.stream = FakeStream(time.monotonic())
    server.handle(bytes([NOTE_ON, 37, 127]))  # no arrival time
    assert server.counters()["timed"] == 0
    out = engine.mixer.render(4096)
    assert np.abs(out[:8]).max() > 0 and engine.mixer.counters()["late_starts"] == 0


def test_the_ports_stamp_and_the_dispatch_thread_keeps_the_stamp(engine):
    t0 = time.monotonic()
    engine.stream = FakeStream(t0)
    backend = FakeBackend(["Pads"])
    with MidiServer(engine, MidiMapper(), lead_ms=10.0) as server:
        watcher = PortWatcher(backend, ["all"], server.feed, virtual_name=None).start()
        try:
            backend.send("Pads", [NOTE_ON, 36, 127], arrival_s=t0 + 0.2)
            assert server.wait_idle(5)
        finally:
            watcher.close()
    out = engine.mixer.render(RATE)
    first = int(np.flatnonzero(engine.pad_buffer(0))[0])
    assert int(np.flatnonzero(out[:, 0])[0]) == 9600 + FakeStream.lead_frames - FakeStream.block_size + 480 + first


@pytest.mark.parametrize("lead_ms", [-1.0, 501.0, float("nan"), True])
def test_bad_leads_are_refused(engine, lead_ms):
    with pytest.raises(ValueError, match="lead_ms"):
        MidiServer(engine, MidiMapper(), lead_ms=lead_ms)
