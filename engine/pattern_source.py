"""Where a live loop comes from: a patterns bundle and a seed, or a MIDI file -> one :class:`LoopPattern`.

A loop is musical time only: hits at beats (quarter notes) from its start, a whole number of
bars of its own meter. The pattern player (engine.pattern_player) lays it on the transport's bar
grid at the transport's tempo, so a MIDI file's own tempo is ignored (one tempo keeps every slot
in step) and a bundle's pattern sounds as ``ganshot render --pattern`` renders it.

Cheat sheet::

    kind, path = resolve_source("models", "grooves")          # ("bundle", models/grooves), inside the root
    loop = loop_from_midi("models/beat.mid")                  # FormatError naming the problem if bad
    loop = LoopLoader().load("bundle", path, seed=3)          # runs the generator (ONNX Runtime)
    loop.hits                                                 # ((beat, MIDI note, velocity 0..1), ...)

A hit of velocity 0 is a note-off (MIDI's own convention): melodic notes (a melodic bundle's,
a MIDI file's on any channel but 10) end with one, released by the instrument pad that plays
them; drum hits (channel 10, a drum bundle's) have none. The kit maps each note to its pad or
instrument, as a MIDI controller's notes. A MIDI file's loop lasts through the bar of its last note-on, or to the file's
end rounded to the nearest bar when that is later (a loop with a quiet last bar); one meter
(the file's first time signature, 4/4 when it has none). Files over :data:`MAX_LOOP_MIDI_BYTES`,
with more than :data:`MAX_LOOP_HITS` notes or :data:`MAX_LOOP_BARS` bars, with a change of meter or
no notes are refused with one line naming the problem.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from .errors import FormatError, UserInputError
from .gm_drums import DRUM_CHANNEL
from .limits import MAX_SEED, check_int
from .pattern_bundle import MODEL_JSON, load_pattern_bundle
from .pattern_midi import STEPS_PER_BEAT, read_midi

__all__ = ["LoopPattern", "LoopLoader", "resolve_source", "loop_from_midi", "loop_from_pattern", "with_note_offs",
           "MAX_LOOP_BARS",
           "MAX_LOOP_HITS", "MAX_LOOP_MIDI_BYTES", "MIDI_SUFFIXES", "SOURCE_KINDS"]

MAX_LOOP_BARS = 64
MAX_LOOP_HITS = 8192
MAX_LOOP_MIDI_BYTES = 64 * 1024  # a drum loop is a few kB; the cap keeps a parse on the OSC thread short
MIDI_SUFFIXES = (".mid", ".midi")
SOURCE_KINDS = ("bundle", "midi")
SAMPLER_CACHE = 4  # bundles whose ONNX session stays loaded


@dataclass(frozen=True)
class LoopPattern:
    """A loop: ``bars`` bars of ``beats_per_bar`` quarter notes (4/4: 4.0, 6/8: 3.0); ``hits``
    ``((beat from the loop's start, MIDI note 0..127, velocity 0..1), ...)`` sorted by beat."""

    name: str
    seed: int | None
    bars: int
    beats_per_bar: float
    hits: tuple

    @property
    def loop_beats(self) -> float:
        return self.bars * self.beats_per_bar

    def __repr__(self) -> str:
        seed = "" if self.seed is None else f", seed={self.seed}"
        return f"LoopPattern({self.name!r}{seed}, bars={self.bars}, beats_per_bar={self.beats_per_bar:g}, hits={len(self.hits)})"


def resolve_source(root, text: str) -> tuple[str, Path]:
    """``(kind, path)`` of a pattern source named by ``text`` relative to ``root`` (the patterns
    folder): a ``.mid``/``.midi`` file, or a bundle folder (one with a model.json). Cheap (no
    parsing, no hashing); UserInputError naming the problem for anything else."""
    if not isinstance(text, str) or not text.strip() or "\0" in text:
        raise UserInputError("pattern source must be a patterns bundle folder or a .mid file")
    base = Path(root).resolve()
    path = (base / text).resolve()
    if path != base and base not in path.parents:
        raise UserInputError(f"pattern source {text!r:.80} must lie inside the patterns folder {base} (--patterns-root)")
    if path.suffix.lower() in MIDI_SUFFIXES:
        if not path.is_file():
            raise UserInputError(f"{path}: no such MIDI file")
        return "midi", path
    if path.is_dir() and (path / MODEL_JSON).is_file():
        return "bundle", path
    raise UserInputError(f"{path}: neither a patterns bundle folder (with {MODEL_JSON}) nor a .mid/.midi file")


def _loop_bars(path, last_beat: float, end_beat: float, beats_per_bar: float) -> int:
    bars = max(int(math.floor(last_beat / beats_per_bar + 1e-9)) + 1, int(round(end_beat / beats_per_bar)))
    if bars > MAX_LOOP_BARS:
        raise FormatError(f"{path}: {bars} bars long; a live loop has at most {MAX_LOOP_BARS}")
    return bars


def loop_from_midi(path) -> LoopPattern:
    """The channel-10 notes of a MIDI file as a loop; FormatError with one line for a bad file."""
    score = read_midi(path, max_bytes=MAX_LOOP_MIDI_BYTES, max_notes=MAX_LOOP_HITS)
    path = Path(path)
    meters = {(num, den) for _, num, den in score.meters}
    if len(meters) > 1:
        listed = ", ".join(f"{n}/{d}" for n, d in sorted(meters))
        raise FormatError(f"{path}: changes meter ({listed}); a loop has one meter")
    (numerator, denominator), = meters
    beats_per_bar = numerator * 4 / denominator
    if not 0 < beats_per_bar <= 64:
        raise FormatError(f"{path}: meter {numerator}/{denominator} is not one a loop can play")
    if not score.notes:
        raise FormatError(f"{path}: no notes (a live loop plays the kit's pads and instruments by MIDI note)")
    tpb = score.ticks_per_beat
    onsets = [(n.start_tick / tpb, n.note, n.velocity / 127.0) for n in score.notes]
    bars = _loop_bars(path, max(beat for beat, _, _ in onsets), score.end_tick / tpb, beats_per_bar)
    held = [(n.start_tick / tpb, n.note, (n.end_tick - n.start_tick) / tpb)
            for n in score.notes if n.channel != DRUM_CHANNEL]
    return LoopPattern(path.name, None, bars, beats_per_bar, with_note_offs(onsets, held, bars * beats_per_bar))


def with_note_offs(onsets, held, loop_beats: float) -> tuple:
    """``onsets`` ``[(beat, note, velocity > 0)]`` plus a note-off ``(beat, note, 0.0)`` for each
    ``(start beat, note, length in beats)`` of ``held`` (melodic notes: drum hits have none),
    wrapped into the loop and kept shorter than it, sorted (a note-off before a note-on on one beat)."""
    offs = [(round((start + min(length, 0.999 * loop_beats)) % loop_beats, 9), note, 0.0)
            for start, note, length in held]
    return tuple(sorted([*onsets, *offs]))


def loop_from_pattern(bundle, pattern) -> LoopPattern:
    """A generated :class:`~.pattern_sampler.Pattern` of ``bundle`` as a loop (its note-ons)."""
    bars = max(1, len(pattern.onset) // bundle.steps_per_bar)
    beats_per_bar = bundle.steps_per_bar / STEPS_PER_BEAT
    onsets = [(step / STEPS_PER_BEAT, bundle.row_notes[row], vel / 127.0) for step, row, _, vel in pattern.notes]
    held = [] if bundle.drums else [(step / STEPS_PER_BEAT, bundle.row_notes[row], length / STEPS_PER_BEAT)
                                    for step, row, length, _ in pattern.notes]
    return LoopPattern(bundle.name, pattern.seed, bars, beats_per_bar, with_note_offs(onsets, held, bars * beats_per_bar))


class LoopLoader:
    """Builds loops from sources; keeps the last :data:`SAMPLER_CACHE` bundles' samplers (ONNX
    sessions) loaded. For one thread (the player's generation thread): no lock."""

    def __init__(self, cache_size: int = SAMPLER_CACHE):
        self.cache_size = int(cache_size)
        self._samplers: OrderedDict = OrderedDict()  # (path, model.json mtime_ns) -> PatternSampler

    def _sampler(self, path: Path):
        from .pattern_sampler import PatternSampler  # onnxruntime: only when a bundle plays

        key = (str(path), os.stat(path / MODEL_JSON).st_mtime_ns)  # a re-exported bundle loads again
        sampler = self._samplers.pop(key, None)
        if sampler is None:
            sampler = PatternSampler(load_pattern_bundle(path))  # hash-checked
        self._samplers[key] = sampler
        while len(self._samplers) > self.cache_size:
            self._samplers.popitem(last=False)
        return sampler

    def load(self, kind: str, path, seed: int = 0) -> LoopPattern:
        """The loop of source ``(kind, path)`` (as :func:`resolve_source` returns) for ``seed``."""
        if kind == "midi":
            return loop_from_midi(path)
        if kind != "bundle":
            raise UserInputError(f"pattern source kind must be one of {', '.join(SOURCE_KINDS)}, got {kind!r:.40}")
        check_int(seed, "seed", 0, MAX_SEED)
        sampler = self._sampler(Path(path))
        return loop_from_pattern(sampler.bundle, sampler.pattern(seed, sampler.bundle.bars))

    def __repr__(self) -> str:
        return f"LoopLoader(cache_size={self.cache_size}, loaded={len(self._samplers)})"
