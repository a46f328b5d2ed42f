"""The OSC server's dispatch (bridges/osc/dispatch.py): bundle timetags to stream frames, knob edits
coalescing newest-wins in a pass while triggers hear every move before them; over real UDP where the
timing needs the io thread, and straight through a Dispatcher where no socket is needed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ganshot.bridges._counters import Counters
from ganshot.bridges.osc.dispatch import Dispatcher
from ganshot.bridges.osc.server import COUNTERS, OscServer
from tests.support.osc_peer import OSC_FIXTURES, RATE, dgram, wait_for
from tests.support.osc_timed import FakeStream, bundle

SENDER = ("127.0.0.1", 9)


engine_fixture, make_server_fixture, peer_for_fixture = OSC_FIXTURES  # engine, make_server, peer_for


def onset(channel: np.ndarray) -> int:
    return int(np.argmax(np.abs(channel) > 1e-6))


def test_future_bundle_starts_at_the_exact_frame(engine, make_server, peer_for):
    engine.mixer.render(2 * RATE)
    engine.stream = stream = FakeStream(engine.mixer.frame)
    server = make_server(engine)
    peer = peer_for(server)
    peer.send_raw(bundle(time.time() + 0.3, "/pad/trigger", 1, 1.0))
    assert wait_for(lambda: engine.status()["triggers"] == 1)
    (frame,) = stream.given
    assert abs(frame - (stream.frame0 + 0.3 * RATE)) < 0.1 * RATE  # about 0.3 s ahead of "now"
    start = engine.mixer.frame
    out = engine.mixer.render(frame - start + 8192)
    first = onset(engine.pad_buffer(1))
    assert onset(out[:, 0]) == frame - start + first  # the sample the timetag named
    assert server.counters()["late"] == 0 and engine.status()["late"] == 0


def test_bundle_too_far_ahead_is_refused_and_a_past_one_is_late(engine, make_server, peer_for):
    engine.mixer.render(2 * RATE)
    engine.stream = FakeStream(engine.mixer.frame)
    server = make_server(engine, max_ahead_s=5.0)
    peer = peer_for(server)
    peer.send_raw(bundle(time.time() + 3600, "/pad/trigger", 0))
    assert "ahead; the limit is 5 s" in peer.expect("/fail").params[1]
    peer.send_raw(bundle(time.time() - 1.0, "/pad/trigger", 0))
    assert wait_for(lambda: server.counters()["late"] == 1)
    assert engine.status()["triggers"] == 1  # only the past one played
    engine.mixer.render(1024)
    assert engine.status()["late"] == 1  # at once: the mixer counts the start frame it missed
    assert server.counters()["rejected"] == 1


# -- batches: knob edits coalesce newest-wins, triggers hear every move before them -----------------

class RecordingEngine:
    """Records the commands the server runs, in order (no sound)."""

    def __init__(self, engine):
        self._engine, self.calls = engine, []

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def apply(self, target, value):
        self.calls.append((str(target), round(value, 6)))
        return self._engine.apply(target, value)

    def trigger(self, index, velocity=1.0, at_frame=None):
        self.calls.append(("trigger", index))
        return 0


def test_a_batch_coalesces_knob_edits_per_target_and_keeps_order_around_triggers(engine, tmp_path):
    recorder = RecordingEngine(engine)
    server = OscServer(recorder, port=0, render_dir=tmp_path / "renders", kit_dir=tmp_path)  # not started
    try:
        batch = [dgram("/pad/gain", 0, -1.0), dgram("/pad/gain", 1, -2.0), dgram("/pad/gain", 0, -3.0),
                 dgram("/pad/gain", 0, -99.0),  # out of range: refused at once, not coalesced
                 dgram("/pad/trigger", 0, 1.0),  # hears pad 0 at -3
                 dgram("/pad/knob", 2, 0, 0.1), dgram("/pad/knob", 2, 1, 0.2), dgram("/pad/knob", 2, 0, 0.3)]
        server.handle_batch([(data, SENDER) for data in batch])
    finally:
        server.close()
    # the trigger of pad 0 flushes pad 0's edit only; pad 1's waits for the end of the batch
    assert recorder.calls == [("pad.0.gain_db", -3.0), ("trigger", 0), ("pad.1.gain_db", -2.0),
                              ("pad.2.direction.1", 0.2), ("pad.2.direction.0", 0.3)]
    counters = server.counters()
    assert counters["coalesced"] == 2 and counters["rejected"] == 1
    assert counters["accepted"] == 7  # every valid message, coalesced ones included
    assert engine.kit.pads[0].gain_db == -3.0
    assert engine.kit.pads[2].directions[:2] == pytest.approx((0.3, 0.2))


def test_a_dispatcher_needs_no_socket(engine):
    recorder, rejected, delivered = RecordingEngine(engine), [], []
    counters = Counters(COUNTERS)
    dispatcher = Dispatcher(recorder, counters, counters, max_ahead_s=10.0,
                            reject=lambda sender, address, reason, error=None: rejected.append((address, reason)),
                            deliver=lambda spec, result, sender: delivered.append((spec.address, result)))
    dispatcher.handle_batch([(dgram("/pad/gain", 0, -1.0), SENDER), (dgram("/nowhere", 1), SENDER),
                             (dgram("/pad/gain", 0, -2.0), SENDER)])
    assert recorder.calls == [("pad.0.gain_db", -2.0)] and delivered == []
    assert rejected == [("/nowhere", "unknown address /nowhere")]
    assert dispatcher.accepted == 2 and dispatcher.coalesced == 1
