"""JackNotes without JACK (the C input's fake): the note table follows the engine, played notes
count and focus, everything else reaches the Python server."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.bridges.midi import MidiMapper, MidiServer
from ganshot.bridges.midi.jack_notes import JackNotes
from ganshot.engine.engine import Engine
from tests.support import kit_for

RATE, PERIOD = 48000, 128


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=RATE, backend="onnx") as eng:
        yield eng


def test_the_table_follows_kit_edits_renders_and_kit_switches(engine):
    server = MidiServer(engine, MidiMapper())
    notes = JackNotes(engine, server, fake=True)
    try:
        assert notes.published == 1 and not notes.refresh()  # nothing changed
        engine.set_pan(0, -1.0)  # a kit edit without a render
        assert notes.refresh() and notes.published == 2
        engine.set_direction(0, 0, 0.5)  # a render: the pad's buffer changes when it lands
        assert engine.wait_ready(10)
        assert notes.refresh() and notes.published == 3
        engine.set_kit(engine.kit.with_pad(1, gain_db=-6.0), wait=True)  # a kit switch
        assert notes.refresh()
        pad = engine.kit.pads[0]
        notes.input.inject(bytes([0x90, pad.note, 127]), 0, 3, PERIOD)
        out = np.concatenate([notes.input.mixer.render(PERIOD) for _ in range(3)])
        first = int(np.flatnonzero(np.any(out != 0, axis=1))[0])
        assert first >= PERIOD + 3 and not out[first:, 1].any()  # hard left: the edited pan plays
    finally:
        notes.close()
        server.close()


def test_played_notes_focus_and_count_the_rest_reach_the_server(engine):
    server = MidiServer(engine, MidiMapper()).start()
    notes = JackNotes(engine, server, fake=True)
    try:
        engine.set_focus(0)
        triggers = engine.triggers
        pad2 = engine.kit.pads[2]
        notes.input.inject(bytes([0x90, pad2.note, 100]), 0, 0, PERIOD)
        notes.input.inject(bytes([0xB0, 7, 0]), 0, 1, PERIOD)  # CC 7: master gain -> the Python server
        assert notes.drain() == 2
        assert server.wait_idle(5)
        assert engine.focus == 2 and engine.triggers == triggers + 1
        assert server.counters()["received"] == 1 and server.counters()["knob_applied"] == 1
        assert engine.kit.master_gain_db == -60.0
        counters = notes.counters()
        assert counters["c_notes_played"] == 1 and counters["c_notes_forwarded"] == 1
    finally:
        notes.close()
        server.close()
