"""MIDI file -> notes -> bar-aligned piano-roll windows over 16th-note steps.

The grid is musical time, not seconds: a step is a 16th note (:data:`STEPS_PER_BEAT` per
quarter note) counted in the file's ticks, so tempo changes move no step; bars follow the
file's time signatures (a 4/4 bar is 16 steps, 3/4 and 6/8 are 12). A window is ``bars``
consecutive bars of one meter; the tempo at its first step is kept for reference.

Cheat sheet::

    score = read_midi("song.mid")                       # notes in ticks, meters, tempi; FormatError if bad
    rolls = score_windows(score, MODES["melodic"], bars=2, meter=(4, 4))
    rolls.onset.shape                                   # uint8[N, bars * 16, 48]; .hold, .velocity alike
    notes = roll_notes(onset, hold, velocity)           # [(step, row, duration_steps, velocity), ...]

Rows are a mode's table (:data:`MODES`): ``drums`` keeps MIDI channel 10 and folds the 47
GM percussion notes into ganshot's 16 drum classes (engine.gm_drums); ``melodic`` keeps
every other channel, MIDI pitches 36..83 (notes outside are dropped and counted).

The file reader, the mode tables and :func:`roll_notes` live in :mod:`ganshot.engine.pattern_midi`
(the live pattern player reads MIDI files too, and the engine never imports training); they are
re-exported here unchanged.

Overlapping notes of one pitch and channel: a new note-on ends the sounding one there
(a retrigger), so a roll row never holds two notes; a note-off with nothing sounding is
ignored; a note still sounding at the end of the file ends there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganshot.engine.gm_drums import DRUM_CHANNEL
from ganshot.engine.pattern_midi import (
    DRUM_ROW_NOTES, MAX_MIDI_BYTES, MAX_NOTES, MAX_STEPS, MELODIC_HIGH, MELODIC_LOW, MODES, STEPS_PER_BEAT, MidiScore,
    Mode, Note, read_midi, roll_notes, row_labels, steps_per_bar,
)

__all__ = [
    "STEPS_PER_BEAT", "MAX_MIDI_BYTES", "MAX_NOTES", "MAX_STEPS", "MELODIC_LOW", "MELODIC_HIGH",
    "DRUM_ROW_NOTES", "Mode", "MODES", "Note", "MidiScore", "Windows", "read_midi", "score_windows",
    "steps_per_bar", "roll_notes", "row_labels",
]


def _step(score: MidiScore, tick: int) -> int:
    return int(round(tick * STEPS_PER_BEAT / score.ticks_per_beat))


def _bars(score: MidiScore) -> list[tuple[int, int, tuple[int, int]]]:
    """``[(first step, steps, (numerator, denominator)), ...]`` of every bar up to the end of the file."""
    bars, end = [], _step(score, score.end_tick)
    for index, (tick, num, den) in enumerate(score.meters):
        start = _step(score, tick)
        stop = _step(score, score.meters[index + 1][0]) if index + 1 < len(score.meters) else end
        length = steps_per_bar(num, den)
        if length < 1:
            continue
        while start + length <= stop or (start < stop and index + 1 == len(score.meters)):
            bars.append((start, length, (num, den)))
            start += length
    return bars


def _tempo_at(score: MidiScore, step: int) -> float:
    bpm = score.tempos[0][1]
    for tick, value in score.tempos:
        if _step(score, tick) <= step:
            bpm = value
    return bpm


@dataclass
class Windows:
    """``onset``/``hold``/``velocity`` uint8[N, steps, rows] (0/1, 0/1, 1..127 at onsets); ``start_bar``
    int[N] (0-based bar of the file), ``bpm`` float[N] (tempo at each window's first step)."""

    onset: np.ndarray
    hold: np.ndarray
    velocity: np.ndarray
    start_bar: np.ndarray
    bpm: np.ndarray
    skipped: dict  # reason -> count (windows or notes left out)

    def __len__(self) -> int:
        return len(self.onset)


def _rolls(score: MidiScore, mode: Mode, total: int, dropped: dict):
    onset = np.zeros((total, mode.num_rows), np.uint8)
    hold, velocity = np.zeros_like(onset), np.zeros_like(onset)
    for note in score.notes:
        row = mode.row_of(note.channel, note.note)
        if row is None:
            if mode.drums == (note.channel == DRUM_CHANNEL):
                dropped["notes outside the mode's rows"] = dropped.get("notes outside the mode's rows", 0) + 1
            continue
        start = _step(score, note.start_tick)
        if start >= total:
            continue
        length = 1 if mode.drums else max(1, _step(score, note.end_tick) - start)
        onset[start, row] = 1
        velocity[start, row] = max(velocity[start, row], note.velocity)
        hold[start:start + length, row] = 1
    return onset, hold, velocity


def score_windows(score: MidiScore, mode: Mode, bars: int = 2, meter: tuple[int, int] = (4, 4),
                  hop_bars: int = 1) -> Windows:
    """Every ``bars``-bar window of ``meter`` (hop ``hop_bars``) that has a note of ``mode``."""
    all_bars = _bars(score)
    total = all_bars[-1][0] + all_bars[-1][1] if all_bars else 0
    dropped: dict = {}
    onset, hold, velocity = _rolls(score, mode, total, dropped)
    length = steps_per_bar(*meter)
    picked = []
    for first in range(0, max(0, len(all_bars) - bars + 1), hop_bars):
        group = all_bars[first:first + bars]
        if any(m != tuple(meter) or n != length for _, n, m in group):
            dropped[f"windows not in {meter[0]}/{meter[1]}"] = dropped.get(f"windows not in {meter[0]}/{meter[1]}", 0) + 1
            continue
        start = group[0][0]
        if not onset[start:start + bars * length].any():
            dropped["empty windows"] = dropped.get("empty windows", 0) + 1
            continue
        picked.append((first, start))
    shape = (len(picked), bars * length, mode.num_rows)
    out = [np.zeros(shape, np.uint8) for _ in range(3)]
    for index, (_, start) in enumerate(picked):
        for dst, src in zip(out, (onset, hold, velocity)):
            dst[index] = src[start:start + bars * length]
    score.dropped = dropped
    return Windows(*out, start_bar=np.array([f for f, _ in picked], np.int32),
                   bpm=np.array([_tempo_at(score, s) for _, s in picked], np.float32), skipped=dropped)
