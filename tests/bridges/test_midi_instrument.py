"""MIDI for instrument pads: the mapper's NoteOn / NoteOff / Sustain on each instrument's channel and
range (drum behaviour unchanged), the server playing them on a real offline Engine, and
``ganshot render`` of a melodic MIDI file honouring note-offs and the sustain pedal on exact frames."""

from __future__ import annotations

import dataclasses
from collections import Counter

import mido
import numpy as np
import pytest

from ganshot.bridges.midi.mapping import MidiMapper, NoteOff, NoteOn, SetParam, Sustain, Trigger
from ganshot.bridges.midi.server import MidiServer
from ganshot.engine.engine import Engine
from ganshot.engine.kit import Controller
from ganshot.engine.offline import midi_events, midi_note_events, render_midi_file
from tests.support import kit_for
from tests.support.instruments import held_note, instrument_kit

RATE = 48000
CENTRE = float(np.cos(np.pi / 4))
TPB, TEMPO = 480, 500_000  # one tick = 1/960 s = 50 frames at 48 kHz: every event on a whole frame


def test_notes_of_an_instrument_become_note_on_and_off(tiny_bundle):
    kit = instrument_kit(tiny_bundle)
    mapper = MidiMapper()
    assert mapper.handle(mido.Message("note_on", channel=4, note=50, velocity=127), kit) == (NoteOn(50, 1.0, 4),)
    assert mapper.handle(mido.Message("note_off", channel=4, note=50), kit) == (NoteOff(50, 4),)
    assert mapper.handle(mido.Message("note_on", channel=4, note=50, velocity=0), kit) == (NoteOff(50, 4),)
    assert mapper.handle(mido.Message("note_on", note=36, velocity=127), kit) == (Trigger(36, 1.0),)
    # a drum pad's note-off goes to the engine too, which has no voice of it to end: one-shots play out
    assert mapper.handle(mido.Message("note_off", note=36), kit) == (NoteOff(36, 0),)
    assert mapper.handle(mido.Message("note_on", note=80, velocity=64), kit) == ()  # outside every range
    assert mapper.counts == Counter(instrument_notes=1, instrument_note_offs=2, notes=1, note_offs=1,
                                    notes_unmapped=1)


def test_an_instrument_on_a_channel_listens_there_whatever_the_note_channel(tiny_bundle):
    kit = instrument_kit(tiny_bundle, low=30, high=50, note=40, channel=1)  # shares 36 with the drum, on ch 1
    mapper = MidiMapper(note_channel=9)
    assert mapper.handle(mido.Message("note_on", channel=1, note=36, velocity=127), kit) == (NoteOn(36, 1.0, 1),)
    assert mapper.handle(mido.Message("note_on", channel=9, note=36, velocity=127), kit) == (Trigger(36, 1.0),)
    assert mapper.handle(mido.Message("note_on", channel=2, note=40, velocity=127), kit) == ()  # not its channel
    anywhere = instrument_kit(tiny_bundle)
    assert mapper.handle(mido.Message("note_on", channel=2, note=60, velocity=127), anywhere) == ()
    assert mapper.handle(mido.Message("note_on", channel=9, note=60, velocity=127), anywhere) == (NoteOn(60, 1.0, 9),)


def test_cc_64_is_the_sustain_pedal_unless_the_kit_maps_it(tiny_bundle):
    kit = instrument_kit(tiny_bundle)
    mapper = MidiMapper()
    assert mapper.handle(mido.Message("control_change", channel=3, control=64, value=127), kit) == (Sustain(True, 3),)
    assert mapper.handle(mido.Message("control_change", channel=3, control=64, value=63), kit) == (Sustain(False, 3),)
    knob = Controller(type="cc", channel=None, number=64, target="pad.1.gain_db", min=-60.0, max=0.0)
    mapped = dataclasses.replace(kit, controllers=(knob,))
    (action,) = mapper.handle(mido.Message("control_change", control=64, value=127), mapped)
    assert isinstance(action, SetParam) and action.value == 0.0


def test_the_server_plays_held_notes_and_releases_them(tiny_bundle):
    with Engine(tiny_bundle, instrument_kit(tiny_bundle, release_ms=5.0), sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(60)
        server = MidiServer(engine)
        for data in (b"\x90\x3c\x64", b"\x91\x40\x64", b"\xb1\x40\x7f", b"\x81\x40\x00", b"\x80\x3c\x00"):
            server.handle(data)
        voices = engine.instrument_voices.sounding()
        assert [(v.note, v.channel, v.held) for v in voices] == [(64, 1, True)]  # 60 released, 64 held
        server.handle(b"\xb1\x40\x00")  # pedal up
        assert not engine.instrument_voices.sounding()
        assert server.counters()["accepted"] == 6 and engine.status()["notes_released"] == 2


def test_a_note_held_across_a_kit_switch_still_ends_on_its_note_off(tiny_bundle):
    """A performer holds a note, switches to a kit without that instrument (program change), lets go:
    the note releases then, not when its buffer runs out."""
    with Engine(tiny_bundle, instrument_kit(tiny_bundle, release_ms=5.0), sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(60)
        server = MidiServer(engine)
        server.handle(b"\x90\x3c\x64")  # note 60 on the instrument pad
        assert [v.note for v in engine.instrument_voices.sounding()] == [60]
        engine.set_kit(kit_for(tiny_bundle, num_pads=2), wait=True)  # drums only: nothing claims note 60
        server.handle(b"\x80\x3c\x00")
        assert not engine.instrument_voices.sounding()
        assert engine.status()["notes_released"] == 1


def _melody(path, channel: int = 0) -> list[tuple[int, str, int, int]]:
    """A tiny melodic file: (tick, kind, note or CC, value) events, written with mido."""
    events = [(0, "note_on", 55, 100), (96, "note_off", 55, 0),  # 96 ticks = 4800 frames later
              (200, "note_on", 60, 127), (200, "control_change", 64, 127), (260, "note_off", 60, 0),
              (300, "note_on", 36, 127), (301, "note_off", 36, 0),  # a drum: its note-off changes nothing
              (390, "control_change", 64, 0)]
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=TEMPO, time=0)])
    last = 0
    for tick, kind, number, value in events:
        fields = {"control": number, "value": value} if kind == "control_change" else {"note": number,
                                                                                      "velocity": value}
        track.append(mido.Message(kind, channel=channel, time=tick - last, **fields))
        last = tick
    midi = mido.MidiFile(ticks_per_beat=TPB)
    midi.tracks.append(track)
    midi.save(path)
    return events


def test_render_honours_note_offs_and_sustain_on_exact_frames(tiny_bundle, tmp_path):
    import soundfile as sf

    _melody(tmp_path / "tune.mid")
    ons = midi_events(tmp_path / "tune.mid")  # note-ons only, as before
    assert [(round(t * RATE), note, velocity) for t, note, velocity in ons] == [(0, 55, 100), (10000, 60, 127),
                                                                              (15000, 36, 127)]
    kinds = [(kind, number) for _, kind, number, _, _ in midi_note_events(tmp_path / "tune.mid")]
    assert kinds == [("on", 55), ("off", 55), ("on", 60), ("sustain", 64), ("off", 60), ("on", 36), ("off", 36),
                     ("sustain", 64)]
    kit = instrument_kit(tiny_bundle, release_ms=2.0)
    with Engine(tiny_bundle, kit, sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(60)
        out_path = render_midi_file(engine, tmp_path / "tune.mid", tmp_path / "tune.wav", block_size=65)
        a, b = engine.instrument_note_buffer(1, 55), engine.instrument_note_buffer(1, 60)
        drum = engine.pad_buffer(0)
    audio, rate = sf.read(out_path, dtype="float32")
    assert rate == RATE
    gain_a = float(np.float32(100 / 127)) ** 2 * CENTRE
    expected = held_note(a, gain_a, 0, 96 * 50, 96, len(audio))  # released at tick 96 = frame 4800
    expected += held_note(b, CENTRE, 200 * 50, 390 * 50, 96, len(audio))  # held by the pedal until tick 390
    expected += held_note(drum, CENTRE, 300 * 50, None, 96, len(audio))  # plays to its end
    np.testing.assert_allclose(audio[:, 0], expected, atol=2e-6)
