"""The corpora that ship offline, written out as MIDI files for the dataset builder.

* ``bach`` (melodic): the J. S. Bach scores bundled with music21 (``music21.corpus.getComposer
  ("bach")``, about 410 MusicXML files, almost all four-part chorales). The compositions are in
  the public domain; music21 is BSD-3-Clause and distributes its corpus encodings with the
  encoders' permission (music21/corpus/license.txt: some encodings may restrict commercial use).
  Needs the ``patterns`` extra (``pip install ganshot[patterns]``, music21 >= 9).
  Parsing never uses music21's pickle cache (``forceSource=True, storePickle=False``).
* ``gm-grooves`` (drums): :mod:`.grooves`, ganshot's own table of textbook GM grooves
  (24 grooves x 4 variants = 96 files of 8 bars, 768 bars), MIT.

Cheat sheet::

    sources = write_corpus("bach", "data/bach-midi", max_files=50)   # -> [{"name", "licence", ...}]
    sources = write_corpus("gm-grooves", "data/grooves-midi")

Each music21 score becomes one type-1 MIDI file (a track per part, channels 1.., tempo 100 bpm,
the score's first time signature), its pickup bar padded so that bar lines fall where the
score has them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from ganshot.engine.atomic import atomic_write_bytes
from ganshot.engine.errors import FormatError, UserInputError

from . import grooves

__all__ = ["CORPORA", "write_corpus", "score_midi_bytes"]

CHORALE_BPM = 100.0
TICKS_PER_BEAT = 480
DEFAULT_VELOCITY = 90
_BACH_LICENCE = ("J. S. Bach: public domain compositions; encodings distributed with music21 (BSD-3-Clause "
                 "software) with the encoders' permission, see music21/corpus/license.txt")


def _music21():
    try:
        import music21
    except ImportError:
        raise UserInputError("the bach corpus needs music21: pip install 'ganshot[patterns]' "
                             "(or pip install 'music21>=9')") from None
    return music21


def score_midi_bytes(score, bpm: float = CHORALE_BPM) -> bytes:
    """A music21 score as type-1 MIDI bytes (ties merged, pickup padded, grace notes left out)."""
    import mido

    score = score.stripTies()
    meters = list(score.recurse().getElementsByClass("TimeSignature"))
    num, den = (meters[0].numerator, meters[0].denominator) if meters else (4, 4)
    pad = 0.0
    first_part = score.parts[0] if score.parts else score
    measures = list(first_part.getElementsByClass("Measure"))
    if measures:
        pad = float(measures[0].paddingLeft or 0.0)
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    head = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=num, denominator=den, time=0),
                           mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)])
    midi.tracks.append(head)
    for index, part in enumerate(score.parts[:15]):
        channel = index if index < 9 else index + 1  # never channel 10 (drums)
        events = []
        for note in part.flatten().notes:
            length = float(note.quarterLength)
            if length <= 0:
                continue
            start = int(round((float(note.offset) + pad) * TICKS_PER_BEAT))
            end = start + max(1, int(round(length * TICKS_PER_BEAT)))
            vel = note.volume.velocity or DEFAULT_VELOCITY
            for pitch in note.pitches:
                events.append((start, 1, pitch.midi, vel))
                events.append((end, 0, pitch.midi, 0))
        track, now = mido.MidiTrack(), 0
        for tick, on, pitch, vel in sorted(events):
            kind = "note_on" if on else "note_off"
            track.append(mido.Message(kind, channel=channel, note=int(pitch), velocity=int(vel), time=tick - now))
            now = tick
        midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _write_bach(out_dir: Path, max_files: int | None, say) -> dict:
    music21 = _music21()
    paths = sorted(p for p in music21.corpus.getComposer("bach") if Path(p).suffix in (".mxl", ".xml"))
    if max_files is not None:
        paths = paths[:max_files]
    written, failed = 0, {}
    for index, src in enumerate(paths):
        try:
            score = music21.converter.parse(src, forceSource=True, storePickle=False)
            data = score_midi_bytes(score)
        except Exception as err:  # music21 raises many types on odd encodings; list it and go on
            failed[Path(src).name] = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
            continue
        atomic_write_bytes(out_dir / "bach" / (Path(src).stem.replace(".", "_") + ".mid"), data)
        written += 1
        if say and (index + 1) % 50 == 0:
            say(f"bach: {index + 1}/{len(paths)} scores converted")
    return {"name": "bach", "what": "J. S. Bach scores of the music21 corpus (mostly four-part chorales), "
            f"converted to MIDI at {CHORALE_BPM:g} bpm", "source": f"music21 {music21.__version__} corpus/bach",
            "licence": _BACH_LICENCE, "files": written, "failed": failed, "mode": "melodic"}


def _write_grooves(out_dir: Path, max_files: int | None, say) -> dict:
    paths = grooves.write_groove_corpus(out_dir)
    if max_files is not None:
        for extra in paths[max_files:]:
            os.unlink(extra)
        paths = paths[:max_files]
    return {"name": "gm-grooves", "what": f"{len(grooves.GROOVES)} textbook GM grooves x {len(grooves.VARIANTS)} "
            f"variants, {grooves.BARS_PER_FILE} bars each (groove, fills, variant), channel 10",
            "source": "ganshot training/patterns/grooves.py", "licence": grooves.LICENCE, "files": len(paths),
            "failed": {}, "mode": "drums"}


#: corpus name -> writer(out_dir, max_files, say) -> source record
CORPORA = {"bach": _write_bach, "gm-grooves": _write_grooves}


def write_corpus(name: str, out_dir: str | os.PathLike, max_files: int | None = None, say=None) -> dict:
    """Write corpus ``name`` as MIDI files under ``out_dir``; returns its source record (what, licence, size)."""
    if name not in CORPORA:
        raise UserInputError(f"unknown corpus {name!r} (known: {', '.join(CORPORA)})")
    record = CORPORA[name](Path(out_dir), max_files, say)
    if not record["files"]:
        raise FormatError(f"corpus {name}: no file could be converted")
    return record
