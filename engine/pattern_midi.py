"""MIDI files and note rows for patterns: read a standard MIDI file (bounded), the row tables of
the pattern modes, and piano-roll -> notes. The ground floor of both the offline pattern tools
(ganshot.training.patterns) and the live pattern player (engine.pattern_player).

The grid is musical time, not seconds: a step is a 16th note (:data:`STEPS_PER_BEAT` per
quarter note) counted in the file's ticks, so tempo changes move no step; bars follow the
file's time signatures (a 4/4 bar is 16 steps, 3/4 and 6/8 are 12).

Cheat sheet::

    score = read_midi("song.mid")                       # notes in ticks, meters, tempi; FormatError if bad
    MODES["drums"].row_of(9, 36)                        # -> 0 (kick): GM drum notes fold into 16 rows
    notes = roll_notes(onset, hold, velocity)           # [(step, row, duration_steps, velocity), ...]

Rows are a mode's table (:data:`MODES`): ``drums`` keeps MIDI channel 10 and folds the 47
GM percussion notes into ganshot's 16 drum classes (engine.gm_drums); ``melodic`` keeps
every other channel, MIDI pitches 36..83.

Overlapping notes of one pitch and channel: a new note-on ends the sounding one there
(a retrigger), so a roll row never holds two notes; a note-off with nothing sounding is
ignored; a note still sounding at the end of the file ends there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FormatError
from .gm_drums import CLASSES as DRUM_CLASSES
from .gm_drums import DRUM_CHANNEL, GM_DRUMS

__all__ = [
    "STEPS_PER_BEAT", "MAX_MIDI_BYTES", "MAX_NOTES", "MAX_STEPS", "MELODIC_LOW", "MELODIC_HIGH",
    "DRUM_ROW_NOTES", "Mode", "MODES", "Note", "MidiScore", "read_midi", "steps_per_bar", "roll_notes", "row_labels",
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
    dropped: dict = field(default_factory=dict)  # reason -> count (training's score_windows fills it)


def steps_per_bar(numerator: int, denominator: int) -> int:
    """16th-note steps in a bar of ``numerator/denominator`` (4/4 -> 16, 3/4 -> 12, 6/8 -> 12)."""
    return numerator * STEPS_PER_BEAT * 4 // denominator


def _check_file(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise FormatError(f"{path}: no such MIDI file")
    size = path.stat().st_size
    if size > max_bytes:
        raise FormatError(f"{path}: huge ({size:,} bytes, the limit is {max_bytes:,})")


def read_midi(path: str | os.PathLike, max_bytes: int = MAX_MIDI_BYTES, max_notes: int = MAX_NOTES) -> MidiScore:
    """Parse a standard MIDI file (type 0 or 1) of at most ``max_bytes`` bytes and ``max_notes``
    notes; FormatError with one line naming the problem."""
    import mido

    path = Path(path)
    _check_file(path, max_bytes)
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
            if len(notes) > max_notes:
                raise FormatError(f"{path}: huge (more than {max_notes:,} notes)")
        notes += [Note(start, tick, ch, nt, vel) for (ch, nt), (start, vel) in sounding.items()]
        end_tick = max(end_tick, tick)
    if end_tick * STEPS_PER_BEAT // tpb > MAX_STEPS:
        raise FormatError(f"{path}: huge (longer than {MAX_STEPS // 16:,} bars of 4/4)")
    meters = sorted(set(meters)) or [(0, 4, 4)]  # MIDI's default meter and tempo
    if meters[0][0] > 0:
        meters.insert(0, (0, 4, 4))
    tempos = sorted(tempos) or [(0, 120.0)]
    return MidiScore(path, tpb, sorted(notes, key=lambda n: (n.start_tick, n.note)), meters, tempos, end_tick)



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
