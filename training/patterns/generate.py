"""Patterns from a bundle -> MIDI files, switching event lists and a PNG sheet.

No torch here (ONNX Runtime, numpy, mido), so ``ganshot render --pattern`` stays light. The sampler
(:class:`PatternSampler`, :func:`pattern_events`) lives in :mod:`ganshot.engine.pattern_sampler`,
shared with the live pattern player; it is re-exported here. A pattern
of ``bars`` bars is made of ``ceil(bars / bundle.bars)`` windows whose latents walk from the seed's
``z`` (``z_k = cos(a) z_(k-1) + sin(a) e_k``, a = :data:`WALK_RADIANS`), so consecutive windows
stay related; notes are cut at the last bar. Times are musical: step ``s`` of a pattern sounds at
``s * 60 / (4 * tempo_bpm)`` s, so every bar starts at an exact multiple of the bar length.

Cheat sheet::

    sampler = PatternSampler(load_pattern_bundle("models/grooves"))
    pattern = sampler.pattern(seed=3, bars=4)                  # Pattern: onset[64, 16], hold None, notes
    events = pattern_events(sampler.bundle, pattern.notes, tempo_bpm=120, start_bar=0)
    write_pattern_midi("groove.mid", sampler.bundle, pattern.notes, tempo_bpm=120)
    generate_patterns("models/grooves", "out/", n=8, bars=4, tempo_bpm=120, seed=0)
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from ganshot.engine.atomic import atomic_write_bytes, atomic_write_text
from ganshot.engine.gm_drums import DRUM_CHANNEL
from ganshot.engine.limits import MAX_SEED, check_int
from ganshot.engine.pattern_sampler import (
    MAX_PATTERN_BARS, MAX_TEMPO_BPM, MIN_TEMPO_BPM, Pattern, PatternSampler, check_tempo, pattern_events,
)

from .bundle import PatternBundle, load_pattern_bundle

__all__ = ["PatternSampler", "Pattern", "pattern_events", "write_pattern_midi", "generate_patterns",
           "switching_events", "MIN_TEMPO_BPM", "MAX_TEMPO_BPM", "MAX_PATTERN_BARS", "MAX_PATTERNS"]

MAX_PATTERNS = 1000
TICKS_PER_BEAT = 480


def switching_events(sampler: PatternSampler, seeds, bars_each: int, tempo_bpm: float):
    """Patterns of ``seeds`` one after the other, each ``bars_each`` bars, switched at bar lines.

    Returns ``(events, switch_times_s)``: the note-ons and the start time of each pattern (an exact
    multiple of the bar length)."""
    events, starts = [], []
    bar_s = sampler.bundle.steps_per_bar * 60.0 / (4 * check_tempo(tempo_bpm))
    for index, seed in enumerate(seeds):
        pattern = sampler.pattern(seed, bars_each)
        events += pattern_events(sampler.bundle, pattern.notes, tempo_bpm, start_bar=index * bars_each)
        starts.append(index * bars_each * bar_s)
    return sorted(events), starts


def write_pattern_midi(path, bundle: PatternBundle, notes, tempo_bpm: float, program: int = 0) -> Path:
    """A type-1 MIDI file of ``notes`` (channel 10 for drums, channel 1 with ``program`` otherwise), atomically."""
    import mido

    tempo_bpm = check_tempo(tempo_bpm)
    step_ticks = TICKS_PER_BEAT // 4
    channel = DRUM_CHANNEL if bundle.drums else 0
    meter = bundle.meta["meter"]
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    track = mido.MidiTrack([
        mido.MetaMessage("track_name", name=bundle.name[:60], time=0),
        mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1], time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0),
    ])
    if not bundle.drums:
        track.append(mido.Message("program_change", channel=channel, program=check_int(program, "--program", 0, 127)))
    events = []
    for step, row, length, vel in notes:
        note = bundle.row_notes[row]
        off = (step + length) * step_ticks - (step_ticks // 2 if bundle.drums else 0)
        events += [(step * step_ticks, 1, note, vel), (off, 0, note, 0)]
    now = 0
    for tick, on, note, vel in sorted(events):
        track.append(mido.Message("note_on" if on else "note_off", channel=channel, note=note, velocity=vel,
                                  time=tick - now))
        now = tick
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def generate_patterns(bundle_path, out_dir, n: int, bars: int, tempo_bpm: float, seed: int = 0,
                      program: int = 0) -> list[Path]:
    """Write ``n`` MIDI files (seeds ``seed..seed+n-1``), ``pianoroll.png`` and ``patterns.json``; returns the MIDI paths."""
    from ganshot.engine.spectrogram import write_png

    from .pianoroll_png import pianoroll_sheet

    check_int(n, "-n", 1, MAX_PATTERNS)
    check_int(seed, "--seed", 0, MAX_SEED - MAX_PATTERNS)
    tempo_bpm = check_tempo(tempo_bpm)
    bundle = load_pattern_bundle(bundle_path)
    sampler, out = PatternSampler(bundle), Path(out_dir)
    paths, listed, rolls = [], [], []
    for s in range(seed, seed + n):
        pattern = sampler.pattern(s, bars)
        path = write_pattern_midi(out / f"pattern_{s:04d}.mid", bundle, pattern.notes, tempo_bpm, program)
        paths.append(path)
        listed.append({"file": path.name, "seed": s, "notes": len(pattern.notes)})
        rolls.append((pattern.onset, pattern.hold))
    shown = rolls[:16]  # a sheet a person can read
    title = f"{bundle.name}: {bars} bars at {tempo_bpm:g} bpm, seeds {seed}-{seed + len(shown) - 1}"
    y_name = "GM drum class (channel 10)" if bundle.drums else "MIDI pitch (note names)"
    image = pianoroll_sheet(shown, list(bundle.rows), title, [f"seed {s}" for s in range(seed, seed + len(shown))],
                            bundle.steps_per_bar, y_name)
    write_png(out / "pianoroll.png", image)
    atomic_write_text(out / "patterns.json", json.dumps({
        "format": "ganshot-patterns-generated", "version": 1, "bundle": str(bundle.path), "bars": bars,
        "tempo_bpm": tempo_bpm, "mode": bundle.mode, "files": listed}, indent=1) + "\n")
    return paths
