"""MIDI -> bar-aligned piano-roll windows, on tiny hand-made files: tempo changes, time signatures,
overlapping notes, the drum channel, and files that must be refused with one clear line."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import FormatError
from ganshot.training.patterns.midi_windows import (
    MAX_MIDI_BYTES, MELODIC_LOW, MODES, read_midi, roll_notes, score_windows, steps_per_bar,
)
from tests.support.patterns import write_midi

BEAT = 480  # ticks per quarter note
STEP = BEAT // 4
KICK, SNARE = MODES["drums"].row_of(9, 36), MODES["drums"].row_of(9, 38)


def note(tick, length, pitch, channel=0, velocity=100):
    return [(tick, "note_on", channel, pitch, velocity), (tick + length, "note_off", channel, pitch, 0)]


@pytest.mark.parametrize("numerator, denominator, steps", [(4, 4, 16), (3, 4, 12), (6, 8, 12), (7, 8, 14), (2, 2, 16)])
def test_steps_per_bar_follow_the_meter(numerator, denominator, steps):
    assert steps_per_bar(numerator, denominator) == steps


def test_a_tempo_change_moves_no_step_and_each_window_keeps_its_tempo(tmp_path):
    events = [e for bar in range(4) for e in note(bar * 4 * BEAT, STEP, 36, channel=9)]
    path = write_midi(tmp_path / "tempo.mid", [events], meta=[(0, "tempo", 120), (2 * 4 * BEAT, "tempo", 90)])
    windows = score_windows(read_midi(path), MODES["drums"], bars=1)
    assert len(windows) == 4
    assert windows.onset[:, 0, KICK].tolist() == [1, 1, 1, 1]  # every kick on its bar's first step
    assert windows.onset.sum() == 4
    assert windows.bpm.tolist() == pytest.approx([120, 120, 90, 90])


def test_windows_follow_time_signature_changes(tmp_path):
    # two bars of 4/4 (32 steps), then three bars of 3/4 (12 steps each); a note on every bar's one
    starts = [0, 4 * BEAT, 8 * BEAT, 11 * BEAT, 14 * BEAT]
    events = [e for tick in starts for e in note(tick, STEP, 60)]
    path = write_midi(tmp_path / "meters.mid", [events], meta=[(0, "meter", (4, 4)), (8 * BEAT, "meter", (3, 4))])
    score = read_midi(path)
    four = score_windows(score, MODES["melodic"], bars=1, meter=(4, 4))
    three = score_windows(score, MODES["melodic"], bars=1, meter=(3, 4))
    assert len(four) == 2 and four.onset.shape[1] == 16
    assert len(three) == 3 and three.onset.shape[1] == 12
    assert three.onset[:, 0, 60 - MELODIC_LOW].tolist() == [1, 1, 1]
    assert three.skipped["windows not in 3/4"] == 2
    assert len(score_windows(score, MODES["melodic"], bars=2, meter=(4, 4))) == 1  # no window straddles meters


def test_overlapping_notes_of_one_pitch_retrigger_and_hold_their_steps(tmp_path):
    row = 62 - MELODIC_LOW
    events = [(0, "note_on", 0, 62, 80), (4 * STEP, "note_on", 0, 62, 90),  # a second note-on while sounding
              (6 * STEP, "note_off", 0, 62, 0), (8 * STEP, "note_off", 0, 62, 0),  # the second note-off has nothing
              *note(0, 16 * STEP, 50, velocity=70)]  # a chord partner held the whole bar
    windows = score_windows(read_midi(write_midi(tmp_path / "overlap.mid", [events])), MODES["melodic"], bars=1)
    onset, hold, velocity = windows.onset[0], windows.hold[0], windows.velocity[0]
    assert onset[:, row].nonzero()[0].tolist() == [0, 4]
    assert hold[:, row].nonzero()[0].tolist() == [0, 1, 2, 3, 4, 5]
    assert velocity[0, row] == 80 and velocity[4, row] == 90
    notes = roll_notes(onset, hold, velocity)
    assert (0, row, 4, 80) in notes and (4, row, 2, 90) in notes and (0, 50 - MELODIC_LOW, 16, 70) in notes


def test_the_drum_mode_keeps_channel_10_and_folds_gm_notes_the_melodic_mode_the_rest(tmp_path):
    drums = note(0, STEP, 35, channel=9) + note(4 * STEP, STEP, 40, channel=9) + note(8 * STEP, STEP, 20, channel=9)
    piano = note(0, 8 * STEP, 64, channel=0) + note(0, STEP, 36, channel=3)
    score = read_midi(write_midi(tmp_path / "mixed.mid", [drums, piano]))
    d = score_windows(score, MODES["drums"], bars=1)
    assert d.onset[0, 0, KICK] == 1 and d.onset[0, 4, SNARE] == 1  # 35 -> kick, 40 -> snare
    assert d.onset.sum() == 2 and d.skipped["notes outside the mode's rows"] == 1  # note 20 is not GM percussion
    m = score_windows(score, MODES["melodic"], bars=1)
    assert m.onset.sum() == 2 and m.onset[0, 0, 64 - MELODIC_LOW] == 1 and m.onset[0, 0, 36 - MELODIC_LOW] == 1


def test_empty_windows_are_left_out_and_counted(tmp_path):
    events = note(0, STEP, 36, channel=9) + note(3 * 4 * BEAT, STEP, 36, channel=9)  # bars 1 and 4
    windows = score_windows(read_midi(write_midi(tmp_path / "gaps.mid", [events])), MODES["drums"], bars=1)
    assert windows.start_bar.tolist() == [0, 3] and windows.skipped["empty windows"] == 2


@pytest.mark.parametrize("content, needle", [
    (b"not a midi file at all", "not a readable MIDI file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x10\x00\x90", "not a readable MIDI file"),
    (b"", "not a readable MIDI file"),
])
def test_bad_midi_is_refused_with_one_line(tmp_path, content, needle):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(FormatError) as err:
        read_midi(path)
    assert needle in str(err.value) and "\n" not in str(err.value) and str(path) in str(err.value)


def test_huge_and_type_2_files_are_refused(tmp_path):
    huge = tmp_path / "huge.mid"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_MIDI_BYTES + 1)
    with pytest.raises(FormatError, match="huge"):
        read_midi(huge)
    type2 = write_midi(tmp_path / "t2.mid", [note(0, STEP, 60)], midi_type=2)
    with pytest.raises(FormatError, match="type 2"):
        read_midi(type2)


def test_roll_notes_without_hold_are_one_step_long():
    onset = np.zeros((8, 3), np.uint8)
    onset[[0, 3], 1] = 1
    assert roll_notes(onset) == [(0, 1, 1, 100), (3, 1, 1, 100)]
