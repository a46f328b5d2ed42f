"""Instrument pads: a kit pad that spans a range of MIDI notes (a pitched instrument).

A drum pad answers one note and plays one buffer. A pad with an ``instrument`` field answers
every note of ``[low, high]`` and plays one buffer per note: a pitch-conditional model renders
each note at its own pitch (model.json ``pitch``); any other model renders the pad once and the
engine resamples it by ``note - root_note`` semitones. The pad's own ``note`` (what
``/pad/trigger`` and the kit's pad list play) must lie in the range. ``pitch_semitones`` and the
pitch bender still apply on top, by resampling.

Kit JSON (kit ``version`` 2; a kit without instruments is still written as version 1)::

    {"note": 60, "name": "Sax", "seed": 3, "class_name": "alto_sax",
     "instrument": {"low": 48, "high": 84, "root_note": null, "release_ms": 250.0,
                    "polyphony": 8, "channel": null, "sustain": true}}

* ``low``/``high``: the MIDI notes it plays (inclusive, at most :data:`MAX_INSTRUMENT_NOTES`).
* ``root_note``: for models without a pitch input, the note the rendered sound is heard at
  (null: the pad's ``note``); refused by pitch-conditional models, which render every note.
* ``release_ms``: the fade after a note-off (sample-exact in the C mixer); 0 cuts at once.
* ``polyphony``: voices of this pad that sound at once; a new note over the limit steals the
  oldest (fading it over :data:`STEAL_FADE_MS`).
* ``channel``: 0-based MIDI channel it listens on (null: any). An instrument bound to a channel
  may share notes with drum pads and with instruments on other channels; on its channel it wins.
* ``sustain``: the sustain pedal (CC 64) holds its notes' releases until the pedal goes up.

Drum pads (no ``instrument``) keep ignoring note-offs. Pure code: no torch, no engine state.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FormatError
from .limits import MAX_CHANNEL, MAX_NOTE, MIN_NOTE, check_float, check_int

__all__ = [
    "Instrument", "INSTRUMENT_KEYS", "MAX_INSTRUMENT_NOTES", "MAX_POLYPHONY", "MAX_RELEASE_MS",
    "DEFAULT_RELEASE_MS", "DEFAULT_POLYPHONY", "STEAL_FADE_MS", "SUSTAIN_CC", "parse_instrument",
    "instrument_to_json", "NoteIndex", "build_note_index", "MAX_RESAMPLE_SEMITONES", "MAX_RENDERED_NOTES",
    "root_note", "render_pitch", "check_instruments",
]

MAX_INSTRUMENT_NOTES = 88  # a piano's keyboard: what one pad renders ahead
MAX_POLYPHONY = 32
MAX_RELEASE_MS = 10_000.0
DEFAULT_RELEASE_MS = 250.0
DEFAULT_POLYPHONY = 8
STEAL_FADE_MS = 5.0  # a stolen voice fades this fast: no click, no audible overlap
SUSTAIN_CC = 64  # the sustain (damper) pedal; >= 64 is down
MAX_RESAMPLE_SEMITONES = 36  # a model without pitch input: notes at most 3 octaves from root_note
MAX_RENDERED_NOTES = 1024  # the notes of all a kit's instruments, rendered ahead (memory stays bounded)
INSTRUMENT_KEYS = ("low", "high", "root_note", "release_ms", "polyphony", "channel", "sustain")
_DEFAULTS = {"root_note": None, "release_ms": DEFAULT_RELEASE_MS, "polyphony": DEFAULT_POLYPHONY,
             "channel": None, "sustain": True}


@dataclass(frozen=True)
class Instrument:
    """The note range and voice rules of an instrument pad (see the module docstring)."""

    low: int
    high: int
    root_note: int | None = None
    release_ms: float = DEFAULT_RELEASE_MS
    polyphony: int = DEFAULT_POLYPHONY
    channel: int | None = None
    sustain: bool = True

    @property
    def notes(self) -> range:
        return range(self.low, self.high + 1)

    def __contains__(self, note) -> bool:
        return isinstance(note, int) and self.low <= note <= self.high

    def release_frames(self, sample_rate: int) -> int:
        return int(round(self.release_ms * sample_rate / 1000.0))


def _kind(value) -> str:
    return {bool: "true/false", type(None): "null", dict: "an object", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__)


def parse_instrument(data, path: str, where: str, error=FormatError) -> Instrument:
    """A pad's ``instrument`` object -> :class:`Instrument`; ``error`` naming the field otherwise."""
    if not isinstance(data, dict):
        raise error(f"{where}: {path} must be an object, got {_kind(data)}")
    for key in data:
        if key not in INSTRUMENT_KEYS:
            raise error(f"{where}: {path} has an unknown key {key!r:.60} (allowed: {', '.join(INSTRUMENT_KEYS)})")
    for key in ("low", "high"):
        if key not in data:
            raise error(f"{where}: {path} is missing field {key!r}")
    fields = {**_DEFAULTS, **data}
    low = check_int(fields["low"], f"{where}: {path}.low", MIN_NOTE, MAX_NOTE, error)
    high = check_int(fields["high"], f"{where}: {path}.high", low, MAX_NOTE, error)
    if high - low + 1 > MAX_INSTRUMENT_NOTES:
        raise error(f"{where}: {path} spans {high - low + 1} notes ({low}..{high}), at most {MAX_INSTRUMENT_NOTES}")
    root = fields["root_note"]
    if root is not None:
        root = check_int(root, f"{where}: {path}.root_note", MIN_NOTE, MAX_NOTE, error)
    channel = fields["channel"]
    if channel is not None:
        channel = check_int(channel, f"{where}: {path}.channel", 0, MAX_CHANNEL, error)
    if not isinstance(fields["sustain"], bool):
        raise error(f"{where}: {path}.sustain must be true or false, got {_kind(fields['sustain'])}")
    return Instrument(
        low=low, high=high, root_note=root,
        release_ms=check_float(fields["release_ms"], f"{where}: {path}.release_ms", 0.0, MAX_RELEASE_MS, error),
        polyphony=check_int(fields["polyphony"], f"{where}: {path}.polyphony", 1, MAX_POLYPHONY, error),
        channel=channel, sustain=fields["sustain"],
    )


def instrument_to_json(instrument: Instrument) -> dict:
    return {key: getattr(instrument, key) for key in INSTRUMENT_KEYS}


@dataclass(frozen=True)
class NoteIndex:
    """Note -> pad index tables of a kit: ``any_channel[note]`` (drum pads and instruments without
    a channel) and ``by_channel[channel][note]`` (instruments bound to a channel); -1 = none."""

    any_channel: tuple[int, ...]
    by_channel: tuple[tuple[int, ...] | None, ...]

    def lookup(self, note: int, channel: int | None = None) -> int:
        """The pad index for ``note`` heard on ``channel`` (None: any), or -1; never raises."""
        if not (isinstance(note, int) and MIN_NOTE <= note <= MAX_NOTE):
            return -1
        if isinstance(channel, int) and 0 <= channel <= MAX_CHANNEL:
            table = self.by_channel[channel]
            if table is not None and table[note] >= 0:
                return table[note]
        return self.any_channel[note]


def _claim(table: list, notes, index: int, field: str, where: str, error, channel: str) -> None:
    for note in notes:
        if table[note] >= 0:
            raise error(f"{where}: {field} {note}{channel} is already used by pads[{table[note]}]")
        table[note] = index


def build_note_index(pads, where: str, error=FormatError, strict: bool = True, last: int | None = None) -> NoteIndex:
    """The kit's :class:`NoteIndex`. With ``strict``, ``error`` on a pad whose note lies outside
    its own instrument range, or on two pads that claim one note on one channel (the kit loader);
    without it the first claim wins silently (a kit built by hand, checked elsewhere). ``last``:
    the pad that claims its notes after all others (an edited pad is the one refused)."""
    any_channel = [-1] * (MAX_NOTE + 1)
    by_channel: list[list[int] | None] = [None] * (MAX_CHANNEL + 1)
    order = [i for i in range(len(pads)) if i != last] + ([] if last is None else [last])
    for i in order:
        pad = pads[i]
        instrument = getattr(pad, "instrument", None)
        path = f"pads[{i}]"
        if instrument is not None and strict and pad.note not in instrument:
            raise error(f"{where}: {path}.note {pad.note} lies outside its instrument range "
                        f"{instrument.low}..{instrument.high}")
        notes = instrument.notes if instrument is not None else (pad.note,)
        channel = instrument.channel if instrument is not None else None
        if channel is None:
            table, label = any_channel, ""
        else:
            if by_channel[channel] is None:
                by_channel[channel] = [-1] * (MAX_NOTE + 1)
            table, label = by_channel[channel], f" on channel {channel}"
        if strict:
            field = f"{path}.note" if instrument is None else f"{path}.instrument note"
            _claim(table, notes, i, field, where, error, label)
        else:
            for note in notes:
                if isinstance(note, int) and MIN_NOTE <= note <= MAX_NOTE and table[note] < 0:
                    table[note] = i
    return NoteIndex(tuple(any_channel), tuple(None if t is None else tuple(t) for t in by_channel))


def root_note(pad) -> int:
    """The note a model without pitch input is heard at on an instrument pad: ``root_note``, else ``pad.note``."""
    root = pad.instrument.root_note
    return pad.note if root is None else root


def render_pitch(pad, pitch_range) -> int | None:
    """The MIDI pitch a pitch-conditional model (``pitch_range`` ``(low, high)``) renders for ``pad``'s
    own buffer: its note, moved into the range (a drum pad's note may lie outside); None without one."""
    if pitch_range is None:
        return None
    return min(max(pad.note, pitch_range[0]), pitch_range[1])


def check_instruments(pads, bundle, where: str, error=FormatError) -> None:
    """``error`` (one line naming the pad) unless every instrument pad of ``pads`` fits ``bundle``:
    a pitch-conditional model renders every note of the range, so the range must lie in its pitch
    range and root_note must be null; any other model resamples one render, so every note must lie
    within :data:`MAX_RESAMPLE_SEMITONES` of the root. All instruments span at most
    :data:`MAX_RENDERED_NOTES` notes together."""
    pitch_range = getattr(bundle, "pitch_range", None)
    name = getattr(bundle, "name", "loaded")
    total = 0
    for index, pad in enumerate(pads):
        instrument = pad.instrument
        if instrument is None:
            continue
        path = f"{where}: pads[{index}].instrument"
        total += len(instrument.notes)
        if pitch_range is not None:
            low, high = pitch_range
            if instrument.root_note is not None:
                raise error(f"{path}.root_note must be null: the model {name} is pitch-conditional "
                            f"(MIDI {low}-{high}) and renders every note itself")
            if instrument.low < low or instrument.high > high:
                raise error(f"{path} range {instrument.low}..{instrument.high} lies outside the pitch range "
                            f"{low}..{high} of the model {name}")
            continue
        root = root_note(pad)
        far = max(root - instrument.low, instrument.high - root)
        if far > MAX_RESAMPLE_SEMITONES:
            raise error(f"{path} range {instrument.low}..{instrument.high} reaches {far} semitones from its root "
                        f"note {root}; the model {name} has no pitch input, so notes are resampled from one "
                        f"render, at most {MAX_RESAMPLE_SEMITONES} semitones")
    if total > MAX_RENDERED_NOTES:
        raise error(f"{where}: the instruments span {total} notes together; at most {MAX_RENDERED_NOTES} are "
                    f"rendered ahead")
