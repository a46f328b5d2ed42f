"""Build a one-shot dataset by rendering the GM drum kits of SoundFonts with FluidSynth.

Several SoundFonts may be given (default :data:`DEFAULT_SF2S`: FluidR3 GM and
MuseScore General); their kits are rendered one after the other into one
dataset, and one de-duplicator is shared by all of them, so a sample two
SoundFonts (or two kits) share is kept once.

For each drum-kit preset (bank 128) one MIDI file is written (mido) and rendered
by the real ``fluidsynth`` command, dry (reverb and chorus off), as float WAV::

    t = 0        program change (selects the kit), pitch-bend range = 2 semitones
    each slot    pitch bend (detune) + note on   -- the onset, known to the tick
                 note off + CC120 all-sound-off  -- num_samples + 100 ms later
                 50 ms of silence before the next slot

Each kit is rendered in two passes: first the plain hits (variation 0) of every
note and velocity, then the variations of the hits that were kept. Each slot is
sliced at its onset, passed through
:func:`ganshot.training.audio_prep.prepare_one_shot` (trim, crop/pad, peak
normalise) and written as 16-bit FLAC::

    out_dir/manifest.json
    out_dir/audio/<class>/<sf-slug>_<program>-<kit-slug>_n<note>_v<velocity>_<variation>.flac

(``sf-slug`` is the SoundFont's file stem as a slug, so names stay unique
across SoundFonts; each item's ``source`` is the SoundFont's file name, so that
kits of the same name in two SoundFonts stay apart.)

Variations: variation 0 is the plain hit; variations 1.. are detuned by up to
+-30 cents (pitch bend) and re-levelled by up to +-1.5 dB around a -2.5 dBFS
reference peak (so no file peaks above -1 dBFS). Each hit's variation is drawn
from a generator seeded by (seed, bank, program, note, velocity, variation), so a
seed gives identical files whatever subset of kits/notes is built.

Kits whose layout is not GM percussion (program 48 "Orchestra": timpani on the
tom/hat keys; 56 "SFX"; MuseScore's metronome and marching kits) are left out, since their notes would get wrong labels.
Hits the kit does not map come out silent and are skipped and counted, and so
are duplicates: a plain hit whose first 250 ms differ by less than -26 dB from a
hit already kept for the same note, in any kit of any SoundFont, at a lag of
up to +-2 samples (FluidR3's 30 GM kits share most samples with
"Standard", and its velocity layers mostly change only the level, which peak
normalisation removes). A duplicate's variations are not rendered.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import mido
import numpy as np
from tqdm import tqdm

from ganshot.engine import gm_drums
from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.training._dataset_out import print_summary, slug, staged_dataset, write_flac
from ganshot.training.fluidsynth_render import (
    DEFAULT_SF2,
    DEFAULT_SF2_PACKAGES,
    DEFAULT_SF2S,
    TICKS_PER_SECOND,
    check_render_args,
    fluidsynth_exe,
    is_int,
    plan_soundfonts,
    render_midi,
    soundfont_paths,
)
from ganshot.training.audio_prep import Rejected, prepare_one_shot
from ganshot.training.dedupe import HitFingerprints
from ganshot.training.manifest import Manifest, ManifestItem, save_manifest
from ganshot.training.sf2 import DRUM_BANK, Preset, drum_kits, read_presets

__all__ = ["DEFAULT_SF2", "DEFAULT_SF2S", "NON_GM_KIT_PROGRAMS", "build_soundfont_dataset", "kit_midi", "render_midi", "hit_variation"]

#: Drum-kit programs whose key layout is not GM percussion (GS Orchestra/SFX,
#: MuseScore General's metronome and marching kits).
NON_GM_KIT_PROGRAMS = {
    48: "Orchestra",
    55: "Metronome",
    56: "SFX / marching snare",
    57: "marching bass",
    58: "marching cymbals",
    59: "marching bass",
    95: "marching tenor",
    96: "marching tenor",
}
DETUNE_CENTS = 30.0
GAIN_DB = 1.5
REFERENCE_PEAK_DB = -2.5
BEND_RANGE_SEMITONES = 2
LEAD_IN_S = 0.1
TAIL_S = 0.1  # rendered after num_samples before the note is cut
GAP_S = 0.05  # silence after CC120, so the next slot starts clean
PRE_SLICE_S = 0.005  # slice a little before the nominal onset


def hit_variation(seed: int, kit: Preset, note: int, velocity: int, variation: int) -> tuple[float, float]:
    """(detune_cents, gain_db) of one hit; (0, 0) for variation 0."""
    if variation == 0:
        return 0.0, 0.0
    rng = np.random.default_rng([seed, kit.bank, kit.program, note, velocity, variation])
    return float(rng.uniform(-DETUNE_CENTS, DETUNE_CENTS)), float(rng.uniform(-GAIN_DB, GAIN_DB))


def _bend_value(detune_cents: float) -> int:
    value = int(round(detune_cents / (100.0 * BEND_RANGE_SEMITONES) * 8192))
    return max(-8192, min(8191, value))


def kit_midi(program: int, hits: list[tuple[int, int, float]], sample_rate: int, num_samples: int) -> tuple[mido.MidiFile, list[int]]:
    """A MIDI file playing ``hits`` = [(note, velocity, detune_cents)] on the drum channel.

    Returns the file and each hit's nominal onset in samples at ``sample_rate``.
    """
    ch = gm_drums.DRUM_CHANNEL
    hold_ticks = int(np.ceil((num_samples / sample_rate + TAIL_S) * TICKS_PER_SECOND))
    gap_ticks = int(round(GAP_S * TICKS_PER_SECOND))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    track.append(mido.Message("program_change", channel=ch, program=program, time=0))
    for control, value in ((101, 0), (100, 0), (6, BEND_RANGE_SEMITONES), (38, 0), (101, 127), (100, 127)):
        track.append(mido.Message("control_change", channel=ch, control=control, value=value, time=0))
    onsets = []
    tick = 0
    wait = int(round(LEAD_IN_S * TICKS_PER_SECOND))
    for note, velocity, detune_cents in hits:
        tick += wait
        onsets.append(int(tick * sample_rate // TICKS_PER_SECOND))
        track.append(mido.Message("pitchwheel", channel=ch, pitch=_bend_value(detune_cents), time=wait))
        track.append(mido.Message("note_on", channel=ch, note=note, velocity=velocity, time=0))
        track.append(mido.Message("note_off", channel=ch, note=note, velocity=0, time=hold_ticks))
        track.append(mido.Message("control_change", channel=ch, control=120, value=0, time=0))
        tick += hold_ticks
        wait = gap_ticks
    track.append(mido.MetaMessage("end_of_track", time=gap_ticks))
    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_SECOND // 2)
    midi.tracks.append(track)
    return midi, onsets


class _KitRenderer:
    """Renders a list of hits of one kit in one fluidsynth run and prepares each slot."""

    def __init__(self, sf2: Path, scratch: Path, sample_rate: int, num_samples: int):
        self.sf2, self.scratch, self.sample_rate, self.num_samples = sf2, scratch, sample_rate, num_samples

    def __call__(self, kit: Preset, hits: list[tuple[int, int, float, float]]) -> list:
        """hits = [(note, velocity, detune_cents, peak_db)] -> [(num_samples,) float32 or Rejected]."""
        sr, n = self.sample_rate, self.num_samples
        midi, onsets = kit_midi(kit.program, [(note, vel, cents) for note, vel, cents, _ in hits], sr, n)
        midi_path, wav_path = self.scratch / "kit.mid", self.scratch / "kit.wav"
        midi.save(midi_path)
        mono = render_midi(midi_path, self.sf2, wav_path, sr).mean(axis=1)
        wav_path.unlink()
        pre = int(round(PRE_SLICE_S * sr))
        span = n + int(TAIL_S * sr)
        mono = np.concatenate([mono, np.zeros(span, dtype=mono.dtype)])  # a short render never cuts a slice
        out = []
        for (_, _, _, peak_db), onset in zip(hits, onsets):
            try:
                out.append(prepare_one_shot(mono[max(0, onset - pre) : onset + span], sr, sr, n, peak_db=peak_db))
            except Rejected as err:
                out.append(err)
        return out


def _build_kit(kit: Preset, render: _KitRenderer, notes, velocities, variations: int, seed: int, seen, skipped: Counter,
               sf_slug: str = "sf", source: str | None = None):  # fmt: skip
    """Yield (relative path, (num_samples,) float32 hit, ManifestItem) for one kit; count skips."""
    kit_slug = f"{sf_slug}_{kit.program:03d}-{slug(kit.name, 'kit')}"

    def entry(note, velocity, variation, hit):
        label = gm_drums.note_class(note)
        rel = f"audio/{label}/{kit_slug}_n{note}_v{velocity}_{variation}.flac"
        return rel, hit, ManifestItem(path=rel, label=label, kit=kit.name, note=note, velocity=velocity, source=source)

    # pass 1: the plain hits, so that silent and duplicate ones are not rendered again
    plain = [(note, velocity, 0.0, REFERENCE_PEAK_DB) for note in notes for velocity in velocities]
    kept = []
    for (note, velocity, _, _), hit in zip(plain, render(kit, plain)):
        if isinstance(hit, Rejected):
            skipped[hit.reason] += variations
        elif seen is not None and seen.is_duplicate(note, hit):
            skipped["duplicate"] += variations
        else:
            kept.append((note, velocity))
            yield entry(note, velocity, 0, hit)
    # pass 2: the seeded detune/gain variations of the kept hits
    varied = []
    for note, velocity in kept:
        for variation in range(1, variations):
            detune_cents, gain_db = hit_variation(seed, kit, note, velocity, variation)
            varied.append((note, velocity, variation, detune_cents, REFERENCE_PEAK_DB + gain_db))
    hits = render(kit, [(n, v, cents, peak_db) for n, v, _, cents, peak_db in varied]) if varied else []
    for (note, velocity, variation, _, _), hit in zip(varied, hits):
        if isinstance(hit, Rejected):
            skipped[hit.reason] += 1
        else:
            yield entry(note, velocity, variation, hit)


def _check_args(sample_rate, num_samples, seed, velocities, variations, notes, max_kits):
    velocities = check_render_args(sample_rate, num_samples, velocities)
    if not is_int(seed) or seed < 0:
        raise UserInputError(f"seed must be a non-negative integer, got {seed!r}")
    if not is_int(variations) or not 1 <= variations <= 32:
        raise UserInputError(f"variations must be an integer in 1..32, got {variations!r}")
    if notes is None:
        notes = range(gm_drums.MIN_NOTE, gm_drums.MAX_NOTE + 1)
    notes = tuple(sorted(set(notes)))
    if not notes:
        raise UserInputError("notes is empty")
    for note in notes:
        gm_drums.note_class(note)  # raises for notes outside 35..81
    if max_kits is not None and (not is_int(max_kits) or max_kits < 1):
        raise UserInputError(f"max_kits must be a positive integer, got {max_kits!r}")
    return velocities, notes


def _soundfont_paths(sf2_path) -> list[Path]:
    """None -> this module's default set (looked up at call time); a path -> [it]; several -> them."""
    return soundfont_paths(sf2_path, DEFAULT_SF2S, DEFAULT_SF2_PACKAGES)


def _plan_soundfonts(paths: list[Path], max_kits):
    """[(path, sha256, slug, kits, excluded)] with unique slugs; identical files refused."""
    plans = []
    for path, digest, sf_slug in plan_soundfonts(paths):
        all_kits = drum_kits(read_presets(path))
        kits = [k for k in all_kits if k.program not in NON_GM_KIT_PROGRAMS]
        excluded = [k for k in all_kits if k.program in NON_GM_KIT_PROGRAMS]
        if max_kits is not None:
            kits = kits[:max_kits]
        if not kits:
            raise GanshotError(f"{path}: no GM drum kits (presets in bank {DRUM_BANK})")
        plans.append((path, digest, sf_slug, kits, excluded))
    return plans


def _source_records(plans, per_sf: dict) -> list[dict]:
    """The manifest's ``source.soundfonts``: one record per SoundFont with its kits and counts."""
    records = []
    for path, digest, sf_slug, kits, excluded in plans:
        n, c = per_sf[path]
        records.append({
            "file": path.name,
            "sha256": digest,
            "slug": sf_slug,
            "kits": [{"program": k.program, "name": k.name} for k in kits],
            "excluded_kits": [{"program": k.program, "name": k.name, "why": "not a GM layout"} for k in excluded],
            "items": n,
            "skipped": dict(sorted(c.items())),
        })  # fmt: skip
    return records


def build_soundfont_dataset(
    out_dir,
    sf2_path=None,
    sample_rate: int = 16000,
    num_samples: int = 16384,
    seed: int = 0,
    velocities=(50, 90, 127),
    variations: int = 2,
    notes=None,
    max_kits: int | None = None,
    progress: bool = True,
    dedupe: bool = True,
) -> Manifest:
    """Render every GM drum kit of the SoundFont(s) ``sf2_path`` into a dataset folder ``out_dir``.

    sf2_path: one SoundFont path or a list of them (.sf2 or .sf3); default
        :data:`DEFAULT_SF2S` (FluidR3 GM + MuseScore General, Debian packages
        fluid-soundfont-gm and musescore-general-soundfont). notes: GM notes
        35..81 (default all). velocities: MIDI velocities 1..127 (duplicates
        dropped, ascending). variations: hits per (kit, note, velocity), the
        first plain. max_kits: only the first N GM kits by program number, per SoundFont.
    progress: show a progress bar and print the per-class counts at the end.
    dedupe: skip plain hits that sound the same as one already kept for the
        same note in any kit of any SoundFont (shared samples, level-only velocity layers).

    ``out_dir`` must be new, empty, or an existing ganshot dataset, which is then
    replaced as a whole once the build succeeded; nothing is left behind on failure.
    Returns the manifest written to ``out_dir/manifest.json`` (classes: those with
    at least one hit, in :data:`gm_drums.CLASSES` order; ``source.soundfonts``
    lists every SoundFont with its file name, sha256, kits and skip counts).
    """
    velocities, notes = _check_args(sample_rate, num_samples, seed, velocities, variations, notes, max_kits)
    paths = _soundfont_paths(sf2_path)
    fluidsynth_exe()
    plans = _plan_soundfonts(paths, max_kits)

    items: list[ManifestItem] = []
    skipped: Counter = Counter()
    seen = HitFingerprints(sample_rate, num_samples) if dedupe else None
    jobs = [(plan, kit) for plan in plans for kit in plan[3]]
    with staged_dataset(out_dir) as stage, tempfile.TemporaryDirectory(prefix="ganshot-render-") as scratch:
        per_sf: dict[Path, tuple[int, Counter]] = {plan[0]: (0, Counter()) for plan in plans}
        for (path, _, sf_slug, _, _), kit in tqdm(jobs, desc="drum kits", unit="kit", disable=not progress):
            render = _KitRenderer(path, Path(scratch), sample_rate, num_samples)
            kit_skipped: Counter = Counter()
            count = 0
            for rel, hit, item in _build_kit(
                kit, render, notes, velocities, variations, seed, seen, kit_skipped, sf_slug, path.name
            ):
                write_flac(stage / rel, hit, sample_rate)
                items.append(item)
                count += 1
            skipped.update(kit_skipped)
            n, c = per_sf[path]
            per_sf[path] = (n + count, c + kit_skipped)
        if not items:
            raise GanshotError(f"{', '.join(str(p) for p in paths)}: every rendered hit was rejected ({dict(skipped)}); nothing to build")
        source = {
            "kind": "soundfont", "soundfonts": _source_records(plans, per_sf), "seed": seed,
            "velocities": list(velocities), "variations": variations, "notes": list(notes),
            "detune_cents": DETUNE_CENTS, "gain_db": GAIN_DB, "reference_peak_db": REFERENCE_PEAK_DB,
            "dedupe": dedupe, "skipped": dict(sorted(skipped.items())),
        }  # fmt: skip
        present = {item.label for item in items}
        manifest = Manifest(sample_rate=sample_rate, num_samples=num_samples,
                            classes=[c for c in gm_drums.CLASSES if c in present], items=items, source=source)
        save_manifest(stage, manifest)
    if progress:
        _print_summary(manifest, skipped)
    return manifest


def _print_summary(manifest: Manifest, skipped: Counter) -> None:
    print_summary(manifest, skipped, "one-shots", "hits skipped")
