"""The C JACK MIDI input without JACK: its fake (engine/jack_midi.py, ``fake=True``) runs the same
note table, rings and mixer drain; ``inject`` plays the process callback, ``fake_cycle`` tells the
mixer which JACK cycle its next block starts. All offline (Mixer.render), in frames."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import numpy as np
import pytest

from ganshot.engine.engine import Engine
from ganshot.engine.errors import UserInputError
from ganshot.engine.jack_midi import (
    JackMidiInput, JackMidiUnavailable, NoteSpec, jack_midi_unavailable, note_table_for,
)
from ganshot.engine.mixer import Mixer
from tests.support import kit_for

SR, PERIOD = 48000, 128
ONES = np.ones(128, np.float32)


def click(frames=32, value=0.5) -> np.ndarray:
    buf = np.full(frames, value, np.float32)
    buf.flags.writeable = False
    return buf


def fake(notes=None, channel=None, max_voices=64):
    mixer = Mixer(SR, max_voices=max_voices)
    midi = JackMidiInput(mixer, fake=True)
    midi.publish({36: NoteSpec(click(), 1.0, 0.5, 0, 2)} if notes is None else notes, ONES, channel)
    return mixer, midi


def run_cycles(mixer, midi, first_cycle, count):
    """Mix ``count`` periods, block k being the first of JACK cycle first_cycle + k * PERIOD."""
    out = []
    for k in range(count):
        midi.fake_cycle(first_cycle + k * PERIOD)
        out.append(mixer.render(PERIOD))
    return np.concatenate(out)


@pytest.mark.parametrize("offset", [0, 1, 64, 127])
@pytest.mark.parametrize("mixer_first", [True, False], ids=["mixer-first", "midi-first"])
def test_a_note_starts_exactly_one_period_after_its_frame(offset, mixer_first):
    mixer, midi = fake()
    mixer.render(1000)  # the mixer's frames and JACK's differ by an arbitrary amount
    cycle = 50_000
    if mixer_first:  # JACK ran the mixer's block of this cycle before the MIDI client's
        head = run_cycles(mixer, midi, cycle, 1)
        midi.inject(b"\x90\x24\x7f", cycle, offset, PERIOD)
        tail = run_cycles(mixer, midi, cycle + PERIOD, 2)
    else:
        midi.inject(b"\x90\x24\x7f", cycle, offset, PERIOD)
        head = run_cycles(mixer, midi, cycle, 1)
        tail = run_cycles(mixer, midi, cycle + PERIOD, 2)
    out = np.concatenate([head, tail])
    assert np.flatnonzero(out[:, 0])[0] == PERIOD + offset  # one period after the note, whatever the order
    np.testing.assert_array_equal(out[PERIOD + offset, :], [0.5, 0.25])
    assert midi.counters()["notes_late"] == 0 and mixer.counters()["late_starts"] == 0


def test_jack_frames_wrap_at_32_bits():
    mixer, midi = fake()
    cycle = 2**32 - PERIOD  # the note's frame wraps past 0
    midi.inject(b"\x90\x24\x7f", cycle, 100, PERIOD)
    out = run_cycles(mixer, midi, cycle, 3)
    assert np.flatnonzero(out[:, 0])[0] == PERIOD + 100


def test_a_note_the_mixer_sees_late_starts_at_once_and_counts():
    mixer, midi = fake()
    midi.inject(b"\x90\x24\x7f", 10_000, 5, PERIOD)
    out = run_cycles(mixer, midi, 10_000 + 5 * PERIOD, 1)  # the mixer missed four cycles
    assert np.flatnonzero(out[:, 0])[0] == 0
    c = midi.counters()
    assert c["notes_late"] == 1 and c["max_late_frames"] == 5 * PERIOD - PERIOD - 5
    assert mixer.counters()["late_starts"] == 1


def test_c_notes_sound_like_engine_trigger(tiny_bundle):
    """The note table reproduces Engine.trigger: velocity curve, gain_db, pan, choke group."""
    kit = kit_for(tiny_bundle).with_pad(1, pan=-0.5, gain_db=-3.0, choke_group=1).with_pad(2, choke_group=1)
    with Engine(tiny_bundle, kit, sample_rate=SR, backend="onnx") as engine:
        kit, buffers = engine.pads_snapshot()
        notes, gains = note_table_for(kit, buffers, engine.velocity_curve)
        plays = [(kit.pads[1].note, 100, 0), (kit.pads[2].note, 30, 300), (kit.pads[0].note, 127, 301)]
        for note, velocity, frame in plays:  # mixer frame 0 = JACK frame 0
            engine.trigger_note(note, velocity / 127.0, at_frame=frame + PERIOD)
        expected = engine.mixer.render(4 * PERIOD + 4096)

    mixer = Mixer(SR)
    midi = JackMidiInput(mixer, fake=True)
    midi.publish(notes, gains)
    for note, velocity, frame in plays:
        midi.inject(bytes([0x99, note, velocity]), (frame // PERIOD) * PERIOD, frame % PERIOD, PERIOD)
    got = run_cycles(mixer, midi, 0, 4 + 4096 // PERIOD)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert mixer.counters()["finished_choked"] == 1  # pad 2 choked pad 1 (group 1), as in the engine
    assert [m.pad for m in midi.pop()] == [1, 2, 0]


def test_messages_the_table_does_not_play_go_to_python():
    mixer, midi = fake(channel=9)
    cases = [b"\x99\x24\x40",  # played (channel 10)
             b"\x90\x24\x40",  # another channel: forwarded
             b"\x99\x25\x40",  # no pad on 37: forwarded
             b"\x99\x24\x00",  # velocity 0 is a note-off: forwarded
             b"\x89\x24\x40",  # note-off
             b"\xb0\x15\x40",  # CC
             b"\x99\xc8\x40",  # a data byte with its top bit set: forwarded (Python calls it garbage)
             b"\xf0\x7e\x7f\x06\x01\xf7",  # sysex: first bytes and its size
             b"\xfe"]  # active sensing
    for i, data in enumerate(cases):
        midi.inject(data, 1000, i, PERIOD)
    midi.inject(b"", 1000, 20, PERIOD)  # an empty event: garbage, not forwarded
    got = midi.pop()
    assert [(m.data, m.size, m.jack_frame, m.pad) for m in got] == [
        (b"\x99\x24\x40", 3, 1000, 2), (b"\x90\x24\x40", 3, 1001, None), (b"\x99\x25\x40", 3, 1002, None),
        (b"\x99\x24\x00", 3, 1003, None), (b"\x89\x24\x40", 3, 1004, None), (b"\xb0\x15\x40", 3, 1005, None),
        (b"\x99\xc8\x40", 3, 1006, None), (b"\xf0\x7e\x7f", 6, 1007, None), (b"\xfe", 1, 1008, None)]
    c = midi.counters()
    assert (c["events"], c["notes_played"], c["notes_forwarded"], c["garbage"]) == (10, 1, 8, 1)


def test_a_flood_is_bounded_dropped_and_counted():
    mixer, midi = fake(max_voices=8)
    for i in range(4000):
        midi.inject(b"\x90\x24\x7f", 0, i % PERIOD, PERIOD)
        midi.inject(b"\xb0\x15\x40", 0, i % PERIOD, PERIOD)
    c = midi.counters()
    assert c["notes_played"] == 1024 and c["note_ring_drops"] == 4000 - 1024
    # each played note also queues its "played" message: the other ring (4096) fills with both kinds
    assert c["other_ring_drops"] == 4000 + 1024 - 4096
    run_cycles(mixer, midi, 0, 40)
    assert mixer.counters()["voices_stolen"] > 0 and midi.counters()["notes_scheduled"] == 1024
    assert len(midi.pop()) == 4096


def test_old_tables_live_until_their_voices_come_back():
    mixer, midi = fake(notes={})
    old = click(frames=2000)
    alive = weakref.ref(old)
    midi.publish({36: NoteSpec(old, 1.0, 1.0, 0, 0)}, ONES)
    midi.inject(b"\x90\x24\x7f", 0, 0, PERIOD)
    run_cycles(mixer, midi, 0, 2)  # the voice sounds (2000 frames)
    del old
    midi.publish({36: NoteSpec(click(), 1.0, 1.0, 0, 0)}, ONES)  # a re-render: the old table retires
    for k in range(2):
        midi.inject(b"\xfe", (2 + k) * PERIOD, 0, PERIOD)  # the JACK thread completes two cycles
    assert midi.collect() == 1  # its voice still reads the old buffer
    gc.collect()
    assert alive() is not None
    run_cycles(mixer, midi, 2 * PERIOD, 20)  # the voice ends
    assert midi.collect() == 0
    gc.collect()
    assert alive() is None
    midi.close()


def test_bad_tables_are_refused():
    mixer, midi = fake()
    with pytest.raises(UserInputError, match="velocity_gains"):
        midi.publish({}, np.ones(12, np.float32))
    with pytest.raises(UserInputError, match="float32"):
        midi.publish({36: NoteSpec(np.ones(8), 1.0, 1.0, 0, 0)}, ONES)
    with pytest.raises(UserInputError, match="MIDI note"):
        midi.publish({128: NoteSpec(click(), 1.0, 1.0, 0, 0)}, ONES)
    midi.close()
    with pytest.raises(UserInputError, match="closed"):
        midi.pop()
    midi.close()  # idempotent


def test_without_a_server_the_reason_is_one_line():
    assert jack_midi_unavailable() is None  # libjack loads on this machine
    code = ("from ganshot.engine.mixer import Mixer\n"
            "from ganshot.engine.jack_midi import JackMidiInput, JackMidiUnavailable\n"
            "try:\n    JackMidiInput(Mixer(48000))\nexcept JackMidiUnavailable as err:\n    print(err)\n")
    env = dict(os.environ, JACK_DEFAULT_SERVER="ganshot-no-such-server", JACK_NO_START_SERVER="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "no JACK server to join" in out.stdout and "ganshot-no-such-server" in out.stdout
    assert JackMidiUnavailable.__mro__[1] is UserInputError
