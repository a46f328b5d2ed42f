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

Overlapping notes of one pitch and channel: a new note-on ends the sounding one there
(a retrigger), so a roll row never holds two notes; a note-off with nothing sounding is
ignored; a note still sounding at the end of the file ends there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganshot.engine.errors import FormatError
from ganshot.engine.gm_drums import CLASSES as DRUM_CLASSES
from ganshot.engine.gm_drums import DRUM_CHANNEL, GM_DRUMS

__all__ = [
    "STEPS_PER_BEAT", "MAX_MIDI_BYTES", "MAX_NOTES", "MAX_STEPS", "MELODIC_LOW", "MELODIC_HIGH",
    "DRUM_ROW_NOTES", "Mode", "MODES", "Note", "MidiScore", "Windows", "read_midi", "score_windows",
    "steps_per_bar", "roll_notes", "row_labels",
]

STEPS_PER_BEAT = 4  # 16th notes per quarter note
MAX_MIDI_BYTES = 4 * 1024 * 1024  # a larger "MIDI file" is skipped as huge
MAX_NOTES = 200_000
MAX_STEPS = 16 * 4096  # 4096 bars of 4/4
MELODIC_LOW, MELODIC_HIGH = 36, 84  # MIDI pitches [low, high): C2..B5, four octaves
#: The GM note each drum class plays when a pattern is written out (rows of the drum mode).
DRUM_ROW_NOTES: dict[str, int] = {
    "kick": 36, "snare": 38, "clap": 39, "rimshot": 37, "closed_hat": 42, "pedal_hat": 44, "open_hat": 46,
    "low_tom": 41, "mid_tom": 45, "high_tom": 48, "crash": 49, "ride": 51, "other_cymbal": 55,
    "shaker_tambourine": 54, "hand_percussion": 56, "other": 81,
}  # fmt: skip
_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@dataclass(frozen=True)
class Mode:
    """What a window's rows are. ``row_of(channel, note)`` -> row index or None (not this mode's)."""

    name: str
    num_rows: int
    drums: bool

    def row_of(self, channel: int, note: int) -> int | None:
        if self.drums:
            if channel != DRUM_CHANNEL or note not in GM_DRUMS:
                return None
            return DRUM_CLASSES.index(GM_DRUMS[note][1])
        if channel == DRUM_CHANNEL or not MELODIC_LOW <= note < MELODIC_HIGH:
            return None
        return note - MELODIC_LOW

    def row_note(self, row: int) -> int:
        """The MIDI note a row plays."""
        return DRUM_ROW_NOTES[DRUM_CLASSES[row]] if self.drums else MELODIC_LOW + row

    def __repr__(self) -> str:
        return f"Mode({self.name!r}, rows={self.num_rows})"


MODES: dict[str, Mode] = {
    "drums": Mode("drums", len(DRUM_CLASSES), True),
    "melodic": Mode("melodic", MELODIC_HIGH - MELODIC_LOW, False),
}


def row_labels(mode: Mode) -> list[str]:
    """A label per row: drum class names, or note names (C4 = MIDI 60)."""
    if mode.drums:
        return list(DRUM_CLASSES)
    return [f"{_NOTE_NAMES[n % 12]}{n // 12 - 1}" for n in range(MELODIC_LOW, MELODIC_HIGH)]


@dataclass(frozen=True)
class Note:
    start_tick: int
    end_tick: int
    channel: int
    note: int
    velocity: int


@dataclass
class MidiScore:
    """A parsed file: notes in ticks, ``meters`` [(tick, numerator, denominator)], ``tempos`` [(tick, bpm)]."""

    path: Path
    ticks_per_beat: int
    notes: list[Note]
    meters: list[tuple[int, int, int]]
    tempos: list[tuple[int, float]]
    end_tick: int
    dropped: dict = field(default_factory=dict)  # reason -> count, filled by score_windows


def steps_per_bar(numerator: int, denominator: int) -> int:
    """16th-note steps in a bar of ``numerator/denominator`` (4/4 -> 16, 3/4 -> 12, 6/8 -> 12)."""
    return numerator * STEPS_PER_BEAT * 4 // denominator


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise FormatError(f"{path}: no such MIDI file")
    size = path.stat().st_size
    if size > MAX_MIDI_BYTES:
        raise FormatError(f"{path}: huge ({size:,} bytes, the limit is {MAX_MIDI_BYTES:,})")


def read_midi(path: str | os.PathLike) -> MidiScore:
    """Parse a standard MIDI file (type 0 or 1); FormatError with one line naming the problem."""
    import mido

    path = Path(path)
    _check_file(path)
    try:
        midi = mido.MidiFile(path, clip=True)
    except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError) as err:
        raise FormatError(f"{path}: not a readable MIDI file ({str(err).strip() or type(err).__name__})") from None
    if midi.type == 2:
        raise FormatError(f"{path}: MIDI type 2 (independent sequences) is not supported")
    tpb = midi.ticks_per_beat
    if not isinstance(tpb, int) or tpb < 1:
        raise FormatError(f"{path}: SMPTE time division is not supported (needs ticks per beat)")
    notes, meters, tempos, end_tick = [], [], [], 0
    for track in midi.tracks:
        tick, sounding = 0, {}
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                key = (msg.channel, msg.note)
                if key in sounding:  # retrigger: the sounding note ends here
                    start, vel = sounding.pop(key)
                    notes.append(Note(start, tick, msg.channel, msg.note, vel))
                sounding[key] = (tick, msg.velocity)
            elif msg.type in ("note_off", "note_on"):
                started = sounding.pop((msg.channel, msg.note), None)
                if started is not None:
                    notes.append(Note(started[0], tick, msg.channel, msg.note, started[1]))
            elif msg.type == "time_signature":
                meters.append((tick, msg.numerator, msg.denominator))
            elif msg.type == "set_tempo":
                tempos.append((tick, float(mido.tempo2bpm(msg.tempo))))
            if len(notes) > MAX_NOTES:
                raise FormatError(f"{path}: huge (more than {MAX_NOTES:,} notes)")
        notes += [Note(start, tick, ch, nt, vel) for (ch, nt), (start, vel) in sounding.items()]
        end_tick = max(end_tick, tick)
    if end_tick * STEPS_PER_BEAT // tpb > MAX_STEPS:
        raise FormatError(f"{path}: huge (longer than {MAX_STEPS // 16:,} bars of 4/4)")
    meters = sorted(set(meters)) or [(0, 4, 4)]  # MIDI's default meter and tempo
    if meters[0][0] > 0:
        meters.insert(0, (0, 4, 4))
    tempos = sorted(tempos) or [(0, 120.0)]
    return MidiScore(path, tpb, sorted(notes, key=lambda n: (n.start_tick, n.note)), meters, tempos, end_tick)


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


def roll_notes(onset: np.ndarray, hold: np.ndarray | None = None, velocity: np.ndarray | None = None,
               default_velocity: int = 100) -> list[tuple[int, int, int, int]]:
    """Notes of one roll [steps, rows] as ``(step, row, duration_steps, velocity)``, sorted by step then row.

    A note starts at an onset (or where ``hold`` begins without one) and lasts while ``hold`` stays on
    and no new onset comes; without ``hold`` every note lasts one step.
    """
    onset = np.asarray(onset) > 0
    held = onset if hold is None else (np.asarray(hold) > 0) | onset
    steps, rows = onset.shape
    notes = []
    for row in range(rows):
        step = 0
        while step < steps:
            if not held[step, row]:
                step += 1
                continue
            end = step + 1
            while end < steps and held[end, row] and not onset[end, row]:
                end += 1
            vel = default_velocity if velocity is None else int(velocity[step, row]) or default_velocity
            notes.append((step, row, end - step, max(1, min(127, vel))))
            step = end
    return sorted(notes)
