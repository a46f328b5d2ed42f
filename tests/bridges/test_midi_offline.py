"""A multi-track GM drum MIDI file, offline, through the same note map the live bridge uses.

The kit puts its pads on its own notes (60, 62, 64, 65: not the GM map). The file has a tempo
change, a drum track on MIDI channel 10, a piano track on channel 1 playing some of the same
note numbers, and a drum note no pad has. With the channel filter the offline renderer
(``engine.offline``) and the live mapper pick the same pads; every hit lands on its frame.
"""

from __future__ import annotations

import mido
import numpy as np
import pytest

from ganshot.bridges.midi.mapping import MidiMapper, NoteOff, Trigger
from ganshot.engine.engine import Engine
from ganshot.engine.latent import constant_power_pan, velocity_gain
from ganshot.engine.offline import midi_events, render_events
from tests.support import kit_for

RATE = 48000
TPB = 480
KIT_NOTES = (60, 62, 64, 65)
DRUMS = 9  # MIDI channel 10, 0-based
#: (beat, note, velocity) on the drum track; 70 has no pad. 120 bpm until beat 4, then 90 bpm.
DRUM_HITS = [(0, 60, 127), (1, 62, 100), (2, 64, 80), (3, 70, 90), (4, 65, 110), (5, 60, 60)]
PIANO_HITS = [(0.5, 60, 90), (2.5, 64, 70)]  # channel 1: same note numbers as two pads


def beat_seconds(beat: float) -> float:
    return beat * 0.5 if beat <= 4 else 2.0 + (beat - 4) * 60 / 90


def track(channel, hits, name):
    messages = [mido.MetaMessage("track_name", name=name, time=0)]
    now = 0
    for beat, note, velocity in hits:
        tick = int(round(beat * TPB))
        messages.append(mido.Message("note_on", channel=channel, note=note, velocity=velocity, time=tick - now))
        messages.append(mido.Message("note_off", channel=channel, note=note, velocity=0, time=TPB // 8))
        now = tick + TPB // 8
    return mido.MidiTrack(messages)


@pytest.fixture
def midi_path(tmp_path):
    midi = mido.MidiFile(type=1, ticks_per_beat=TPB)
    tempo = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0),
                            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90), time=4 * TPB)])
    midi.tracks += [tempo, track(DRUMS, DRUM_HITS, "drums"), track(0, PIANO_HITS, "piano")]
    path = tmp_path / "groove.mid"
    midi.save(path)
    return path


@pytest.fixture
def engine(tiny_bundle):
    kit = kit_for(tiny_bundle)
    for index, note in enumerate(KIT_NOTES):
        kit = kit.with_pad(index, note=note, choke_group=0)
    kit = kit.with_pad(1, pan=-0.5, gain_db=-3.0)
    with Engine(tiny_bundle, kit, sample_rate=RATE, backend="onnx") as eng:
        yield eng


def test_file_events_and_live_mapper_agree(engine, midi_path):
    events = midi_events(midi_path, channel=DRUMS)
    assert [(n, v) for _, n, v in events] == [(n, v) for _, n, v in DRUM_HITS]
    assert [t for t, _, _ in events] == pytest.approx([beat_seconds(b) for b, _, _ in DRUM_HITS])
    mapper = MidiMapper(note_channel=DRUMS)
    live = [a for m in mido.MidiFile(midi_path) if not m.is_meta for a in mapper.handle(m, engine.kit)]
    kit = engine.kit
    assert [a for a in live if not isinstance(a, NoteOff)] == [Trigger(n, v / 127) for _, n, v in events
                                                              if kit.index_for_note(n) >= 0]
    assert all(isinstance(a, (Trigger, NoteOff)) for a in live)  # note-offs end held notes, start nothing
    assert mapper.counts["notes_filtered"] == len(PIANO_HITS) and mapper.counts["notes_unmapped"] == 1
    assert len(midi_events(midi_path)) == len(DRUM_HITS) + len(PIANO_HITS)  # no filter: the piano too


def test_offline_render_plays_each_mapped_drum_hit_on_its_frame(engine, midi_path):
    events = midi_events(midi_path, channel=DRUMS)
    audio = render_events(engine, events, block_size=1000)
    kit, expected = engine.kit, 0
    for time_s, note, velocity in events:
        index = kit.index_for_note(note)
        if index < 0:
            continue
        expected += 1
        pad, buffer = kit.pads[index], engine.pad_buffer(index)
        gain = velocity_gain(velocity / 127) * 10 ** (pad.gain_db / 20)
        left, right = constant_power_pan(pad.pan)
        start = int(round(time_s * RATE))
        np.testing.assert_allclose(audio[start:start + len(buffer), 0], buffer * gain * left, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(audio[start:start + len(buffer), 1], buffer * gain * right, rtol=1e-5, atol=1e-7)
    assert expected == 5 and engine.triggers_unmapped == 1
    # nothing else sounds: the piano notes and the unmapped drum note leave silence
    allowed = np.zeros(len(audio), dtype=bool)
    for time_s, note, _ in events:
        if kit.index_for_note(note) >= 0:
            start = int(round(time_s * RATE))
            allowed[start:start + engine.longest_buffer_frames()] = True
    assert not np.any(audio[~allowed] != 0)
