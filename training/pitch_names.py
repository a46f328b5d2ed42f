"""MIDI pitch from a sample's file name, and the pitch labelling of a pitched folder dataset.

The rule (:func:`pitch_from_name`), applied to the file name without its extension:

1. The whole name is a MIDI number 0..127: ``60.wav`` -> 60.
2. Otherwise the name is split into tokens at ``_`` ``-`` ``.`` ``,`` and spaces, and the
   *last* token that is a note name wins: a letter A-G (any case), an optional accidental
   (``#``, ``s`` or ``♯`` sharp; ``b`` or ``♭`` flat) and an octave digit 0-9 in
   scientific pitch notation (C4 = 60, A4 = 69): ``C4.wav`` -> 60, ``sax_A3_v100.wav`` -> 57,
   ``Db3`` -> 49, ``C#4`` / ``Cs4`` -> 61, ``Piano.ff.C4.aiff`` (University of Iowa
   naming) -> 60.
3. Otherwise a token ``midi<N>`` or ``note<N>`` (N = 0..127): ``flute_midi72.wav`` -> 72.
4. Otherwise the name carries no pitch (None). Bare numbers inside a name
   (``take_2``, ``v100``) are never pitches; negative octaves (``C-1``) are not read.

:class:`PitchLabeller` then labels each prepared note of ``ganshot dataset folder
--pitched``: the name's pitch when there is one (noting names whose pitch the estimator
hears more than a semitone away), else the YIN estimate rounded to the nearest MIDI
pitch when the note's pitch is stable (:class:`ganshot.training.pitch.NotePitch`), else no
pitch, which ``require_pitch`` turns into a refusal of the whole build.
"""

from __future__ import annotations

import re

import numpy as np

from ganshot.engine.errors import UserInputError
from ganshot.training.pitch import note_pitch

__all__ = ["pitch_from_name", "PitchLabeller", "NAME_DISAGREE_CENTS"]

NAME_DISAGREE_CENTS = 100.0
_PITCH_CLASSES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTALS = {"": 0, "#": 1, "s": 1, "♯": 1, "b": -1, "♭": -1}
_NOTE_TOKEN = re.compile(r"([A-Ga-g])(#|s|♯|b|♭)?([0-9])")
_NUMBER_TOKEN = re.compile(r"(?:midi|note)([0-9]{1,3})", re.IGNORECASE)
_SEPARATORS = re.compile(r"[_\-.,\s]+")


def pitch_from_name(stem: str) -> int | None:
    """MIDI pitch named by a file name without extension (the rule in the module docstring), else None."""
    stem = stem.strip()
    if stem.isdigit():
        value = int(stem)
        return value if value <= 127 else None
    tokens = [t for t in _SEPARATORS.split(stem) if t]
    for token in reversed(tokens):
        match = _NOTE_TOKEN.fullmatch(token)
        if match:
            letter, accidental, octave = match.groups()
            value = 12 * (int(octave) + 1) + _PITCH_CLASSES[letter.lower()] + _ACCIDENTALS[accidental or ""]
            if 0 <= value <= 127:
                return value
    for token in reversed(tokens):
        match = _NUMBER_TOKEN.fullmatch(token)
        if match and int(match.group(1)) <= 127:
            return int(match.group(1))
    return None


class PitchLabeller:
    """Labels prepared notes with a MIDI pitch and keeps the record of how (see the module docstring)."""

    def __init__(self, sample_rate: int, require_pitch: bool = False):
        self.sample_rate, self.require_pitch = sample_rate, require_pitch
        self.from_name = 0
        self.estimated: list[list] = []  # [path, midi]
        self.no_pitch: list[str] = []
        self.name_disagrees: list[list] = []  # [path, named midi, heard midi]

    def __call__(self, rel_path: str, stem: str, note: np.ndarray) -> int | None:
        """MIDI pitch of the prepared ``note`` found at ``rel_path`` (file name ``stem``), or None."""
        named = pitch_from_name(stem)
        heard = note_pitch(note, self.sample_rate)
        if named is not None:
            self.from_name += 1
            if heard.stable and abs(heard.midi - named) * 100.0 > NAME_DISAGREE_CENTS:
                self.name_disagrees.append([rel_path, named, round(heard.midi, 2)])
            return named
        if heard.stable and 0 <= round(heard.midi) <= 127:
            self.estimated.append([rel_path, int(round(heard.midi))])
            return int(round(heard.midi))
        self.no_pitch.append(rel_path)
        return None

    def check(self) -> None:
        """With ``require_pitch``, UserInputError naming the files without a stable pitch."""
        if self.require_pitch and self.no_pitch:
            shown = ", ".join(self.no_pitch[:3]) + (f" and {len(self.no_pitch) - 3} more" if len(self.no_pitch) > 3 else "")
            raise UserInputError(f"{len(self.no_pitch)} files have no pitch in their name and no stable pitch to "
                                 f"estimate ({shown}); name them like C4.wav or 60.wav, or drop --require-pitch")  # fmt: skip

    def record(self) -> dict:
        """The manifest's ``source.pitch``."""
        return {"from_name": self.from_name, "estimated": self.estimated, "no_pitch": self.no_pitch,
                "name_disagrees": self.name_disagrees}  # fmt: skip

    def summary(self) -> str:
        line = f"pitch: {self.from_name} from file names, {len(self.estimated)} estimated, {len(self.no_pitch)} without a stable pitch"
        if self.name_disagrees:
            line += f"; {len(self.name_disagrees)} sound more than a semitone from their name (source.pitch.name_disagrees)"
        return line
