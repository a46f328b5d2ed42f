"""Build a one-shot dataset from a folder of the user's own samples.

Layout read (subfolder names become classes)::

    in_dir/kick/808.wav          -> class "kick"
    in_dir/kick/acoustic/a.flac  -> class "kick" (deeper folders keep the first level)
    in_dir/loose.aiff            -> class "unlabelled"

Files ending in .wav .flac .aif .aiff .ogg .mp3 (any case) are read with
soundfile (libsndfile; mp3 with libsndfile >= 1.1) from a read-only handle, so
the originals are never modified; names starting with "." (AppleDouble "._x.wav",
hidden folders) are ignored. Each file goes through
:func:`ganshot.training.audio_prep.prepare_one_shot` and is written as::

    out_dir/audio/<class-slug>/<index>_<name-slug>.flac   (16-bit mono FLAC)
    out_dir/manifest.json                                 (written last)

Files that cannot be used (unreadable, truncated, empty, non-finite, silent,
too short) are skipped. A file is "truncated" when its header promises more
audio than the file holds: a WAV/AIFF whose data chunk (``data``/``SSND``)
declares more bytes than follow it (libsndfile would silently read the part
that is there, e.g. a 34 ms "hit" cut from a 1 s file), or any file from which
fewer frames can be read than its header states. Skips are counted by reason and
printed; the list of (relative path, reason) is printed, returned, and kept
in the manifest's ``source.skipped``. Only the first 60 s of a long file are read.
``out_dir`` follows the rule of :mod:`ganshot.training._dataset_out` (new, empty
or an earlier dataset, replaced whole) and may not lie inside ``in_dir`` (nor
``in_dir`` inside it).

Pitched folders (``pitched=True``, ``ganshot dataset folder --pitched``): subfolders are
still the classes (the instruments), and each item also gets a MIDI ``pitch``, read from
its file name (``C4.wav``, ``60.wav``, ``sax_A3_v100.wav``; the rule is in
:mod:`ganshot.training.pitch_names`) or else estimated from the sound (YIN) when it has a
stable pitch. How each pitch was found is counted, printed and kept in
``source.pitch``; notes without one keep ``pitch`` null, or, with ``require_pitch``, the
build is refused naming them.
"""

from __future__ import annotations

import os
import struct
from collections import Counter
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from ganshot.engine.errors import UserInputError
from ganshot.training._dataset_out import check_out_dir, slug, staged_dataset, write_flac
from ganshot.training.audio_prep import Rejected, prepare_one_shot
from ganshot.training.manifest import Manifest, ManifestItem, save_manifest
from ganshot.training.pitch_names import PitchLabeller

__all__ = [
    "AUDIO_EXTENSIONS",
    "UNLABELLED",
    "MAX_READ_S",
    "find_audio_files",
    "declared_data_shortfall",
    "read_audio",
    "build_folder_dataset",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3")
UNLABELLED = "unlabelled"
MAX_READ_S = 60.0


def find_audio_files(in_dir: Path) -> list[Path]:
    """Audio files under ``in_dir`` (recursive, sorted, dot-names skipped), as paths relative to it."""
    found = []
    for folder, subdirs, files in os.walk(in_dir):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name.lower().endswith(AUDIO_EXTENSIONS):
                found.append((Path(folder) / name).relative_to(in_dir))
    return found


#: RIFF-style containers: (magic, form types, byte order, audio-data chunk id, bytes before the samples in it).
_CONTAINERS = (
    (b"RIFF", (b"WAVE",), "<", b"data", 0),
    (b"RIFX", (b"WAVE",), ">", b"data", 0),
    (b"FORM", (b"AIFF", b"AIFC"), ">", b"SSND", 8),
)
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave the size open


def declared_data_shortfall(handle) -> tuple[int, int] | None:
    """(declared, present) audio-data bytes of a WAV/AIFF whose data chunk runs past the file end, else None.

    ``handle`` is a seekable binary file; other formats, and open-ended sizes
    (0 or 0xFFFFFFFF, written by streaming tools), give None.
    """
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    head = handle.read(12)
    for magic, forms, order, data_id, skip in _CONTAINERS:
        if len(head) < 12 or head[:4] != magic or head[8:12] not in forms:
            continue
        pos = 12
        while pos + 8 <= size:
            handle.seek(pos)
            chunk_id, length = struct.unpack(order + "4sI", handle.read(8))
            if chunk_id == data_id:
                if length in _UNKNOWN_SIZES:
                    return None
                present = max(0, size - pos - 8)
                return (length - skip, present - skip) if length > present else None
            pos += 8 + length + (length & 1)
        return None
    return None


def read_audio(path: Path, max_seconds: float = MAX_READ_S):
    """Read up to ``max_seconds`` of ``path`` -> ((frames, channels) float32, sample_rate).

    The file is opened read-only; raises Rejected("empty") for a 0-byte file,
    Rejected("truncated") when the header promises more audio than the file
    holds (see the module docstring), and soundfile/OS errors for unreadable ones.
    """
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise Rejected("empty", "0-byte file")
        short = declared_data_shortfall(handle)
        if short is not None:
            raise Rejected("truncated", f"header declares {short[0]} bytes of audio, the file holds {max(0, short[1])}")
        handle.seek(0)
        with sf.SoundFile(handle) as snd:
            frames = min(snd.frames, int(max_seconds * snd.samplerate)) if snd.frames > 0 else -1
            audio = snd.read(frames, dtype="float32", always_2d=True)
            if frames > 0 and audio.shape[0] < frames:
                raise Rejected("truncated", f"header declares {snd.frames} frames, only {audio.shape[0]} could be read")
            return audio, snd.samplerate


def _label_of(rel: Path) -> str:
    return rel.parts[0] if len(rel.parts) > 1 else UNLABELLED


def _check_paths(in_dir, out_dir) -> tuple[Path, Path]:
    src = Path(in_dir).expanduser().resolve()
    if not src.is_dir():
        raise UserInputError(f"{src}: input folder not found")
    out = Path(out_dir).expanduser().resolve()
    if out == src or out.is_relative_to(src):
        raise UserInputError(f"{out}: the output folder may not be inside the input folder {src}")
    if src.is_relative_to(out):
        raise UserInputError(f"{src}: the input folder may not be inside the output folder {out}")
    return src, check_out_dir(out)


def build_folder_dataset(
    in_dir, out_dir, sample_rate: int = 16000, num_samples: int = 16384, progress: bool = True,
    pitched: bool = False, require_pitch: bool = False,
) -> tuple[Manifest, list[tuple[str, str]]]:
    """Prepare every audio file under ``in_dir`` into a dataset folder ``out_dir``.

    sample_rate (Hz) and num_samples: the one-shot contract (each file becomes
    a (num_samples,) hit at sample_rate). progress: show a bar and print the
    per-class counts and the skipped files at the end.
    pitched: label each item with a MIDI pitch (file name, else estimated; module docstring).
    require_pitch: with pitched, refuse the build when a usable file has no pitch.
    Returns (manifest, skipped) with skipped = [(path relative to in_dir, reason)].
    Raises UserInputError when in_dir is missing, holds no audio files, or none
    of them can be used.
    """
    src, out = _check_paths(in_dir, out_dir)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or not 1000 <= sample_rate <= 384000:
        raise UserInputError(f"sample_rate must be an integer number of Hz in 1000..384000, got {sample_rate!r}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or not 16 <= num_samples <= 1 << 22:
        raise UserInputError(f"num_samples must be an integer in 16..{1 << 22}, got {num_samples!r}")
    if require_pitch and not pitched:
        raise UserInputError("require_pitch needs pitched (--require-pitch goes with --pitched)")
    files = find_audio_files(src)
    if not files:
        raise UserInputError(f"{src}: no audio files ({' '.join(AUDIO_EXTENSIONS)}) found")
    labeller = PitchLabeller(sample_rate, require_pitch) if pitched else None

    items: list[ManifestItem] = []
    skipped: list[tuple[str, str]] = []
    with staged_dataset(out) as stage:
        for index, rel in enumerate(tqdm(files, desc="files", unit="file", disable=not progress)):
            label = _label_of(rel)
            try:
                audio, rate = read_audio(src / rel)
                hit = prepare_one_shot(audio, rate, sample_rate, num_samples, measure_floor=True)
            except Rejected as err:
                skipped.append((rel.as_posix(), str(err)))
                continue
            except UserInputError as err:  # e.g. more channels than a one-shot can be made of
                skipped.append((rel.as_posix(), f"unusable ({err})"))
                continue
            except (sf.LibsndfileError, RuntimeError, OSError, ValueError, TypeError) as err:
                detail = " ".join(str(err).split()).split(">: ", 1)[-1] or type(err).__name__  # drop the handle repr
                skipped.append((rel.as_posix(), f"unreadable ({detail})"))
                continue
            out_rel = f"audio/{slug(label, 'class')}/{index:05d}_{slug(rel.stem, 'sample')}.flac"
            pitch = labeller(rel.as_posix(), rel.stem, hit) if labeller is not None else None
            write_flac(stage / out_rel, hit, sample_rate)
            items.append(ManifestItem(path=out_rel, label=label, pitch=pitch))
        if not items:
            reasons = Counter(reason.split(" (")[0] for _, reason in skipped)
            raise UserInputError(f"{src}: none of the {len(files)} audio files could be used ({dict(reasons)})")
        source = {"kind": "folder", "input": str(src), "num_files": len(files), "skipped": [list(s) for s in skipped]}
        if labeller is not None:
            labeller.check()
            source["pitch"] = labeller.record()
        manifest = Manifest(
            sample_rate=sample_rate,
            num_samples=num_samples,
            classes=sorted({item.label for item in items}),
            items=items,
            source=source,
        )
        save_manifest(stage, manifest)
    if progress:
        _print_summary(manifest, skipped)
        if labeller is not None:
            print(labeller.summary())
    return manifest, skipped


def _print_summary(manifest: Manifest, skipped: list[tuple[str, str]]) -> None:
    counts = manifest.class_counts()
    width = max(len(label) for label in counts)
    for label, count in counts.items():
        print(f"  {label:<{width}}  {count}")
    reasons = Counter(reason.split(" (")[0] for _, reason in skipped)
    detail = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
    print(f"{len(manifest.items)} one-shots, {len(skipped)} files skipped" + (f" ({detail})" if detail else ""))
    for rel, reason in skipped:
        print(f"  skipped {rel}: {reason}")
