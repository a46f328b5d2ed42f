"""Build a pitched-instrument dataset: sustained notes of GM melodic programs rendered with FluidSynth.

For each SoundFont (the same ones the drum builder accepts; default FluidR3 GM +
MuseScore General) and each requested GM program (:mod:`ganshot.training.gm_programs`),
the bank-0 preset of that program plays every pitch of ``pitch_range`` that lies in the
program's playable range, at each velocity, on MIDI channel 1, dry::

    t = 0          bank select 0, program change
    each slot      note on                      -- the onset, known to the tick
                   note off  hold_s later       -- so the release is in the sample
                   CC120 all-sound-off          -- num_samples + 100 ms after the onset
                   50 ms of silence before the next slot

Each slot is sliced at its onset, passed through
:func:`ganshot.training.audio_prep.prepare_one_shot` (trim, crop/pad, tail gate, peak
-1 dBFS) and written as 16-bit FLAC::

    out_dir/manifest.json
    out_dir/audio/<program label>/<sf-slug>_p<program>_m<pitch>_v<velocity>.flac

Labels: the class is the program's label (``alto_sax``); each item also carries
``program`` (GM 0..127), ``pitch`` and ``note`` (the MIDI key played, sounding pitch),
``velocity``, ``kit`` (the preset's name in the SoundFont) and ``source`` (the
SoundFont's file name). ``hold_s`` defaults to three quarters of the one-shot's length
(3.0 s of 4.0 s at the default 64,000 samples at 16 kHz), at most its length less
:data:`MIN_RELEASE_S`, and must leave that much for the release.

Skipped and counted (``source.skipped``, and per SoundFont): pitches outside a program's
playable range ("out of range"), programs a SoundFont lacks ("no preset", per note),
silent renders, and duplicates: a note whose first 250 ms match a note already kept for
the same program and pitch (any SoundFont, any velocity) within -26 dB after peak
normalisation (velocity layers that only change the level; shared samples).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import mido
import numpy as np
from tqdm import tqdm

from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.training._dataset_out import print_summary, staged_dataset, write_flac
from ganshot.training.audio_prep import Rejected, prepare_one_shot
from ganshot.training.dedupe import HitFingerprints
from ganshot.training.fluidsynth_render import (TICKS_PER_SECOND, check_render_args, fluidsynth_exe, plan_soundfonts,
                                                render_midi, soundfont_paths)  # fmt: skip
from ganshot.training.gm_programs import playable_range, program_name, resolve_programs
from ganshot.training.manifest import Manifest, ManifestItem, save_manifest
from ganshot.training.sf2 import read_presets

__all__ = ["DEFAULT_PITCH_RANGE", "DEFAULT_NUM_SAMPLES", "DEFAULT_VELOCITIES", "MELODIC_BANK", "CHANNEL",
           "note_midi", "build_pitched_dataset", "parse_pitch_range"]  # fmt: skip

DEFAULT_PITCH_RANGE = (36, 96)  # MIDI C2..C7
DEFAULT_NUM_SAMPLES = 64000  # 4.0 s at 16 kHz
DEFAULT_VELOCITIES = (50, 90, 127)
HOLD_SHARE = 0.75  # default hold_s: this share of the one-shot's length
MIN_RELEASE_S = 0.1  # hold_s must end at least this long before the one-shot does
MELODIC_BANK = 0
CHANNEL = 0  # MIDI channel 1
PEAK_DB = -1.0
LEAD_IN_S = 0.1
TAIL_S = 0.1  # rendered after num_samples before the note is cut
GAP_S = 0.05
PRE_SLICE_S = 0.005
SLOTS_PER_RENDER = 64  # bounds one fluidsynth run's WAV (~64 x 4.2 s)


def note_midi(program: int, notes: list[tuple[int, int]], sample_rate: int, num_samples: int, hold_s: float):
    """A MIDI file playing ``notes`` = [(pitch, velocity)] one after the other on :data:`CHANNEL`.

    Returns (mido.MidiFile, each note's onset in samples at ``sample_rate``).
    """
    hold_ticks = max(1, int(round(hold_s * TICKS_PER_SECOND)))
    slot_ticks = int(np.ceil((num_samples / sample_rate + TAIL_S) * TICKS_PER_SECOND))
    gap_ticks = int(round(GAP_S * TICKS_PER_SECOND))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    track.append(mido.Message("control_change", channel=CHANNEL, control=0, value=MELODIC_BANK, time=0))
    track.append(mido.Message("program_change", channel=CHANNEL, program=program, time=0))
    onsets, tick, wait = [], 0, int(round(LEAD_IN_S * TICKS_PER_SECOND))
    for pitch, velocity in notes:
        tick += wait
        onsets.append(int(tick * sample_rate // TICKS_PER_SECOND))
        track.append(mido.Message("note_on", channel=CHANNEL, note=pitch, velocity=velocity, time=wait))
        track.append(mido.Message("note_off", channel=CHANNEL, note=pitch, velocity=0, time=hold_ticks))
        track.append(mido.Message("control_change", channel=CHANNEL, control=120, value=0, time=slot_ticks - hold_ticks))
        tick += slot_ticks
        wait = gap_ticks
    track.append(mido.MetaMessage("end_of_track", time=gap_ticks))
    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_SECOND // 2)
    midi.tracks.append(track)
    return midi, onsets


def _render_notes(sf2: Path, scratch: Path, program: int, notes, sample_rate: int, num_samples: int, hold_s: float):
    """[(pitch, velocity)] -> [(num_samples,) float32 one-shot or Rejected], in SLOTS_PER_RENDER chunks."""
    out = []
    pre, span = int(round(PRE_SLICE_S * sample_rate)), num_samples + int(TAIL_S * sample_rate)
    for start in range(0, len(notes), SLOTS_PER_RENDER):
        chunk = notes[start : start + SLOTS_PER_RENDER]
        midi, onsets = note_midi(program, chunk, sample_rate, num_samples, hold_s)
        midi_path, wav_path = scratch / "notes.mid", scratch / "notes.wav"
        midi.save(midi_path)
        mono = render_midi(midi_path, sf2, wav_path, sample_rate).mean(axis=1)
        wav_path.unlink()
        mono = np.concatenate([mono, np.zeros(span, dtype=mono.dtype)])  # a short render never cuts a slice
        for onset in onsets:
            try:
                out.append(prepare_one_shot(mono[max(0, onset - pre) : onset + span], sample_rate, sample_rate,
                                            num_samples, peak_db=PEAK_DB))  # fmt: skip
            except Rejected as err:
                out.append(err)
    return out


def parse_pitch_range(text) -> tuple[int, int]:
    """``"36-96"`` (or a (low, high) pair) -> (36, 96); MIDI 0..127, low <= high; else UserInputError."""
    if isinstance(text, str):
        parts = text.replace(" ", "").split("-")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise UserInputError(f"pitch range must look like 36-96 (MIDI low-high), got {text!r}")
        low, high = int(parts[0]), int(parts[1])
    else:
        low, high = text
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (low, high)) or not 0 <= low <= high <= 127:
        raise UserInputError(f"pitch range must be MIDI pitches 0 <= low <= high <= 127, got {low!r}-{high!r}")
    return low, high


def _check_args(sample_rate, num_samples, velocities, hold_s):
    velocities = check_render_args(sample_rate, num_samples, velocities)
    length_s = num_samples / sample_rate
    if hold_s is None:
        hold_s = min(HOLD_SHARE * length_s, length_s - MIN_RELEASE_S)
    if isinstance(hold_s, bool) or not isinstance(hold_s, (int, float)) or not 0 < hold_s <= length_s - MIN_RELEASE_S:
        raise UserInputError(f"hold_s must be > 0 and leave {MIN_RELEASE_S:g} s of the {length_s:g} s one-shot for the "
                             f"release (at most {length_s - MIN_RELEASE_S:g} s), got {hold_s!r}")  # fmt: skip
    return velocities, float(hold_s)


def _plan_notes(programs, pitch_range, velocities) -> tuple[dict, dict]:
    """({program: [(pitch, velocity)]} within each program's playable range, {program: notes out of range})."""
    low, high = pitch_range
    plan, outside = {}, {}
    for program in programs:
        lo, hi = playable_range(program)
        pitches = [p for p in range(low, high + 1) if lo <= p <= hi]
        outside[program] = (high - low + 1 - len(pitches)) * len(velocities)
        plan[program] = [(p, v) for p in pitches for v in velocities]
    return plan, outside


def build_pitched_dataset(
    out_dir,
    programs,
    sf2_path=None,
    sample_rate: int = 16000,
    num_samples: int = DEFAULT_NUM_SAMPLES,
    pitch_range=DEFAULT_PITCH_RANGE,
    velocities=DEFAULT_VELOCITIES,
    hold_s: float | None = None,
    dedupe: bool = True,
    progress: bool = True,
) -> Manifest:
    """Render sustained notes of GM ``programs`` from the SoundFont(s) ``sf2_path`` into ``out_dir``.

    programs: "sax,violin,41" or a list of names/numbers (:func:`gm_programs.resolve_programs`).
    pitch_range: (low, high) MIDI pitches or "36-96", cut to each program's playable range.
    velocities: MIDI velocities 1..127. hold_s: seconds from note on to note off
        (default 3/4 of num_samples / sample_rate, leaving >= 0.1 s); the release after it is kept.
    ``out_dir`` follows the drum builder's rule (new, empty or an earlier dataset, replaced
    whole; nothing left behind on failure). Returns the manifest written there.
    """
    program_list = resolve_programs(programs)
    pitch_range = parse_pitch_range(pitch_range)
    velocities, hold_s = _check_args(sample_rate, num_samples, velocities, hold_s)
    plan, outside = _plan_notes(program_list, pitch_range, velocities)
    if not any(plan.values()):
        ranges = ", ".join(f"{program_name(p)} {'-'.join(map(str, playable_range(p)))}" for p in program_list)
        raise UserInputError(f"pitch range {pitch_range[0]}-{pitch_range[1]} misses every program's playable range ({ranges})")
    paths = soundfont_paths(sf2_path)
    fluidsynth_exe()
    soundfonts = plan_soundfonts(paths)

    items: list[ManifestItem] = []
    skipped: Counter = Counter()
    seen = HitFingerprints(sample_rate, num_samples) if dedupe else None
    records = []
    jobs = [(sf, program) for sf in soundfonts for program in program_list]
    with staged_dataset(out_dir) as stage, tempfile.TemporaryDirectory(prefix="ganshot-render-") as scratch:
        presets = {path: {p.program: p.name for p in read_presets(path) if p.bank == MELODIC_BANK} for path, _, _ in soundfonts}
        per_sf = {path: (0, Counter()) for path, _, _ in soundfonts}
        for (path, _, sf_slug), program in tqdm(jobs, desc="programs", unit="program", disable=not progress):
            notes, label, counts = plan[program], program_name(program), Counter()
            count = 0
            if outside[program]:
                counts["out of range"] += outside[program]
            if notes and program not in presets[path]:
                counts["no preset"] += len(notes)
            elif notes:
                rendered = _render_notes(path, Path(scratch), program, notes, sample_rate, num_samples, hold_s)
                for (pitch, velocity), note in zip(notes, rendered):
                    if isinstance(note, Rejected):
                        counts[note.reason] += 1
                    elif seen is not None and seen.is_duplicate(program * 128 + pitch, note):
                        counts["duplicate"] += 1
                    else:
                        rel = f"audio/{label}/{sf_slug}_p{program:03d}_m{pitch:03d}_v{velocity:03d}.flac"
                        write_flac(stage / rel, note, sample_rate)
                        items.append(ManifestItem(path=rel, label=label, kit=presets[path][program], note=pitch,
                                                  velocity=velocity, source=path.name, pitch=pitch, program=program))
                        count += 1
            skipped.update(counts)
            n, c = per_sf[path]
            per_sf[path] = (n + count, c + counts)
        if not items:
            raise GanshotError(f"{', '.join(str(p) for p in paths)}: every rendered note was skipped ({dict(skipped)})")
        for path, digest, sf_slug in soundfonts:
            n, c = per_sf[path]
            records.append({"file": path.name, "sha256": digest, "slug": sf_slug, "items": n, "skipped": dict(sorted(c.items())),
                            "presets": [{"program": p, "name": presets[path][p]} for p in program_list if p in presets[path]]})  # fmt: skip
        source = {
            "kind": "soundfont-pitched", "soundfonts": records,
            "programs": [{"program": p, "label": program_name(p), "playable_range": list(playable_range(p))} for p in program_list],
            "pitch_range": list(pitch_range), "velocities": list(velocities), "hold_s": hold_s, "peak_db": PEAK_DB,
            "dedupe": dedupe, "skipped": dict(sorted(skipped.items())),
        }  # fmt: skip
        present = {item.label for item in items}
        classes = [program_name(p) for p in sorted(program_list) if program_name(p) in present]
        manifest = Manifest(sample_rate=sample_rate, num_samples=num_samples, classes=classes, items=items, source=source)
        save_manifest(stage, manifest)
    if progress:
        _print_summary(manifest, skipped)
    return manifest


def _print_summary(manifest: Manifest, skipped: Counter) -> None:
    def pitches(label: str) -> str:
        found = sorted({item.pitch for item in manifest.items if item.label == label})
        return f" notes, MIDI {found[0]}-{found[-1]}"

    print_summary(manifest, skipped, "notes", "skipped", pitches)
