"""The General MIDI percussion map as data: note 35..81 -> (GM name, class).

GM Level 1 defines percussion on MIDI channel 10 (index 9) for notes 35 (Acoustic
Bass Drum) to 81 (Open Triangle). ganshot folds the 47 sounds into the 16 coarse
classes of :data:`CLASSES`, the labels a dataset built from a SoundFont carries::

    from ganshot.engine.gm_drums import note_class, note_name, notes_of_class
    note_class(36)            # "kick"
    note_name(42)             # "Closed Hi-Hat"
    notes_of_class("snare")   # (38, 40)

Folding choices (why, where it is not obvious): toms go by register (floor toms
are ``low_tom``, 45/47 ``mid_tom``, 48/50 ``high_tom``); splash and china are
``other_cymbal``; bells, woodblocks, claves, bongos, congas, timbales and agogos
are ``hand_percussion``; cabasa and maracas join the tambourine in
``shaker_tambourine``; whistles, guiros, cuicas, vibraslap and triangles are
``other``.
"""

from __future__ import annotations

from .errors import UserInputError

__all__ = [
    "CLASSES",
    "MIN_NOTE",
    "MAX_NOTE",
    "GM_DRUMS",
    "DRUM_CHANNEL",
    "note_class",
    "note_name",
    "notes_of_class",
]

#: Class names, in label order.
CLASSES: tuple[str, ...] = (
    "kick",
    "snare",
    "clap",
    "rimshot",
    "closed_hat",
    "pedal_hat",
    "open_hat",
    "low_tom",
    "mid_tom",
    "high_tom",
    "crash",
    "ride",
    "other_cymbal",
    "shaker_tambourine",
    "hand_percussion",
    "other",
)

MIN_NOTE = 35
MAX_NOTE = 81
#: MIDI channel index (0-based) of GM percussion; "channel 10" to musicians.
DRUM_CHANNEL = 9

#: note -> (GM Level 1 name, class)
GM_DRUMS: dict[int, tuple[str, str]] = {
    35: ("Acoustic Bass Drum", "kick"),
    36: ("Bass Drum 1", "kick"),
    37: ("Side Stick", "rimshot"),
    38: ("Acoustic Snare", "snare"),
    39: ("Hand Clap", "clap"),
    40: ("Electric Snare", "snare"),
    41: ("Low Floor Tom", "low_tom"),
    42: ("Closed Hi-Hat", "closed_hat"),
    43: ("High Floor Tom", "low_tom"),
    44: ("Pedal Hi-Hat", "pedal_hat"),
    45: ("Low Tom", "mid_tom"),
    46: ("Open Hi-Hat", "open_hat"),
    47: ("Low-Mid Tom", "mid_tom"),
    48: ("Hi-Mid Tom", "high_tom"),
    49: ("Crash Cymbal 1", "crash"),
    50: ("High Tom", "high_tom"),
    51: ("Ride Cymbal 1", "ride"),
    52: ("Chinese Cymbal", "other_cymbal"),
    53: ("Ride Bell", "ride"),
    54: ("Tambourine", "shaker_tambourine"),
    55: ("Splash Cymbal", "other_cymbal"),
    56: ("Cowbell", "hand_percussion"),
    57: ("Crash Cymbal 2", "crash"),
    58: ("Vibraslap", "other"),
    59: ("Ride Cymbal 2", "ride"),
    60: ("Hi Bongo", "hand_percussion"),
    61: ("Low Bongo", "hand_percussion"),
    62: ("Mute Hi Conga", "hand_percussion"),
    63: ("Open Hi Conga", "hand_percussion"),
    64: ("Low Conga", "hand_percussion"),
    65: ("High Timbale", "hand_percussion"),
    66: ("Low Timbale", "hand_percussion"),
    67: ("High Agogo", "hand_percussion"),
    68: ("Low Agogo", "hand_percussion"),
    69: ("Cabasa", "shaker_tambourine"),
    70: ("Maracas", "shaker_tambourine"),
    71: ("Short Whistle", "other"),
    72: ("Long Whistle", "other"),
    73: ("Short Guiro", "other"),
    74: ("Long Guiro", "other"),
    75: ("Claves", "hand_percussion"),
    76: ("Hi Wood Block", "hand_percussion"),
    77: ("Low Wood Block", "hand_percussion"),
    78: ("Mute Cuica", "other"),
    79: ("Open Cuica", "other"),
    80: ("Mute Triangle", "other"),
    81: ("Open Triangle", "other"),
}


def _check_note(note) -> int:
    if isinstance(note, bool) or not isinstance(note, int):
        raise UserInputError(f"GM drum note must be an integer, got {note!r}")
    if not MIN_NOTE <= note <= MAX_NOTE:
        raise UserInputError(f"GM drum note {note} is outside {MIN_NOTE}..{MAX_NOTE}")
    return note


def note_class(note: int) -> str:
    """The class of GM percussion ``note`` (35..81); UserInputError outside."""
    return GM_DRUMS[_check_note(note)][1]


def note_name(note: int) -> str:
    """The GM Level 1 name of percussion ``note`` (35..81); UserInputError outside."""
    return GM_DRUMS[_check_note(note)][0]


def notes_of_class(label: str) -> tuple[int, ...]:
    """All GM notes folded into class ``label``, ascending; UserInputError if unknown."""
    if label not in CLASSES:
        raise UserInputError(f"unknown drum class {label!r} (known: {', '.join(CLASSES)})")
    return tuple(note for note, (_, cls) in sorted(GM_DRUMS.items()) if cls == label)
