"""Pattern datasets: a folder of MIDI files (or an offline corpus) -> piano-roll windows on disk.

Layout::

    DATA/manifest.json          {"format": "ganshot-patterns-dataset", "version": 1, "mode": "drums",
                                 "rows": [...], "bars": 2, "meter": [4, 4], "steps_per_bar": 16,
                                 "steps": 32, "hop_bars": 1, "windows": N, "train_windows": n,
                                 "files": [{"path", "sha256", "windows", "split"}],
                                 "skipped_files": [{"path", "reason"}], "dropped": {reason: count},
                                 "sources": [{"name", "what", "source", "licence", "files"}]}
    DATA/windows.safetensors    onset, hold, velocity uint8[N, steps, rows]; file_index, start_bar int32[N];
                                bpm float32[N]; test uint8[N] (1: a held-out file's window)
    DATA/midi/                  the corpus's MIDI files (when built from --corpus)

A file that cannot be read, is huge or has no window of the mode is skipped and listed with
the reason. About one file in ten (by the sha256 of its bytes, so stable) is held out as the
test split, which evaluation compares against.

Cheat sheet::

    build_dataset("data/grooves", corpus="gm-grooves", mode="drums")
    build_dataset("data/mine", midi_dir="~/midi", mode="melodic", bars=2)
    data = load_dataset("data/grooves")   # PatternData: .onset, .hold, .test, .mode, .manifest
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganshot.engine.atomic import atomic_write_bytes, atomic_write_text, sha256_file
from ganshot.engine.errors import FormatError, GanshotError, UserInputError
from ganshot.engine.limits import check_int
from ganshot.engine.strict_json import read_json_file

from .midi_windows import MODES, Mode, read_midi, row_labels, score_windows, steps_per_bar

__all__ = ["DATASET_FORMAT", "DATASET_VERSION", "MANIFEST", "WINDOWS_FILE", "PatternData", "build_dataset",
           "load_dataset", "parse_meter", "MAX_BARS"]

DATASET_FORMAT, DATASET_VERSION = "ganshot-patterns-dataset", 1
MANIFEST, WINDOWS_FILE = "manifest.json", "windows.safetensors"
MIDI_SUFFIXES = (".mid", ".midi", ".smf")
MAX_BARS = 16
MAX_FILES = 100_000
TEST_SHARE_PER_256 = 26  # ~10 % of files held out
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


def parse_meter(text: str) -> tuple[int, int]:
    """"4/4" -> (4, 4); UserInputError for anything else than N/D with D a power of two up to 32."""
    try:
        num, den = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise UserInputError(f"meter must look like 4/4 or 3/4, got {text!r:.40}") from None
    if not 1 <= num <= 32 or den not in (1, 2, 4, 8, 16, 32) or steps_per_bar(num, den) < 1:
        raise UserInputError(f"meter {text} is not one ganshot windows (numerator 1-32, denominator 1-32, a power of 2)")
    return num, den


@dataclass
class PatternData:
    """A loaded dataset: uint8 rolls [N, steps, rows], the held-out flags and the manifest."""

    path: Path
    onset: np.ndarray
    hold: np.ndarray
    velocity: np.ndarray
    test: np.ndarray
    mode: Mode
    manifest: dict

    @property
    def steps(self) -> int:
        return self.onset.shape[1]

    @property
    def train_rolls(self) -> np.ndarray:
        """float32[n, channels, steps, rows] of the train split (channels: onset, then hold when melodic)."""
        keep = self.test == 0
        planes = [self.onset[keep]] + ([] if self.mode.drums else [self.hold[keep]])
        return np.stack(planes, axis=1).astype(np.float32)


def _midi_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UserInputError(f"{folder}: no such folder of MIDI files")
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
    if not found:
        raise UserInputError(f"{folder}: no MIDI files ({', '.join(MIDI_SUFFIXES)}) in it")
    if len(found) > MAX_FILES:
        raise UserInputError(f"{folder}: {len(found):,} MIDI files; the limit is {MAX_FILES:,}")
    return found


def _is_test(digest: str) -> bool:
    return int(digest[:2], 16) < TEST_SHARE_PER_256


def build_dataset(out_dir, midi_dir=None, corpus: str | None = None, mode: str = "drums", bars: int = 2,
                  meter: str | tuple[int, int] = "4/4", hop_bars: int = 1, max_files: int | None = None,
                  say=None) -> Path:
    """Write a pattern dataset to ``out_dir`` from ``midi_dir`` or an offline ``corpus``; returns ``out_dir``."""
    if (midi_dir is None) == (corpus is None):
        raise UserInputError("give either --midi DIR (your own MIDI files) or --corpus NAME (bach, gm-grooves)")
    if mode not in MODES:
        raise UserInputError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    check_int(bars, "--bars", 1, MAX_BARS)
    check_int(hop_bars, "--hop-bars", 1, MAX_BARS)
    meter = parse_meter(meter) if isinstance(meter, str) else tuple(meter)
    out, sources = Path(out_dir), []
    if corpus is not None:
        from .corpus import write_corpus

        record = write_corpus(corpus, out / "midi", max_files=max_files, say=say)
        sources.append(record)
        midi_dir = out / "midi"
    else:
        sources.append({"name": "user", "what": f"MIDI files under {midi_dir}", "source": str(midi_dir),
                        "licence": "the user's own (not recorded)"})
    root = Path(midi_dir).expanduser()
    paths = _midi_files(root)[:max_files] if corpus is None else _midi_files(root)
    return _write(out, root, paths, MODES[mode], bars, meter, hop_bars, sources, say)


def _write(out: Path, root: Path, paths, mode: Mode, bars: int, meter, hop_bars: int, sources, say) -> Path:
    parts, files, skipped, dropped = [], [], [], {}
    for index, path in enumerate(paths):
        rel = path.relative_to(root).as_posix()
        try:
            windows = score_windows(read_midi(path), mode, bars=bars, meter=meter, hop_bars=hop_bars)
        except GanshotError as err:
            skipped.append({"path": rel, "reason": str(err).split(": ", 1)[-1]})
            continue
        for reason, count in windows.skipped.items():
            dropped[reason] = dropped.get(reason, 0) + count
        if not len(windows):
            skipped.append({"path": rel, "reason": f"no {bars}-bar window of {meter[0]}/{meter[1]} with {mode.name} notes"})
            continue
        digest = sha256_file(path)
        test = _is_test(digest)
        files.append({"path": rel, "sha256": digest, "windows": len(windows), "split": "test" if test else "train"})
        parts.append((len(files) - 1, test, windows))
        if say and (index + 1) % 100 == 0:
            say(f"{index + 1}/{len(paths)} MIDI files read")
    if not parts:
        raise FormatError(f"{root}: no usable windows in {len(paths)} MIDI files "
                          f"({len(skipped)} skipped, e.g. {skipped[0]['path']}: {skipped[0]['reason']})")
    flags = {test for _, test, _ in parts}
    if len(parts) > 1 and len(flags) == 1:  # tiny folders: still a train and a test split
        parts = [(i, k == len(parts) - 1, w) for k, (i, _, w) in enumerate(parts)]
    elif len(parts) == 1:
        parts = [(parts[0][0], False, parts[0][2])]  # one file: all of it trains (evaluation uses it too)
    for entry, (_, test, _) in zip(files, parts):
        entry["split"] = "test" if test else "train"
    tensors = {
        "onset": np.concatenate([w.onset for _, _, w in parts]),
        "hold": np.concatenate([w.hold for _, _, w in parts]),
        "velocity": np.concatenate([w.velocity for _, _, w in parts]),
        "file_index": np.concatenate([np.full(len(w), i, np.int32) for i, _, w in parts]),
        "start_bar": np.concatenate([w.start_bar for _, _, w in parts]),
        "bpm": np.concatenate([w.bpm for _, _, w in parts]),
        "test": np.concatenate([np.full(len(w), int(t), np.uint8) for _, t, w in parts]),
    }
    from safetensors.numpy import save

    num = len(tensors["onset"])
    atomic_write_bytes(out / WINDOWS_FILE, save(tensors, metadata={"format": DATASET_FORMAT, "version": "1"}))
    manifest = {
        "format": DATASET_FORMAT, "version": DATASET_VERSION, "mode": mode.name, "rows": row_labels(mode),
        "bars": bars, "meter": list(meter), "steps_per_bar": steps_per_bar(*meter), "steps": bars * steps_per_bar(*meter),
        "hop_bars": hop_bars, "windows": num, "train_windows": int((tensors["test"] == 0).sum()),
        "files": files, "skipped_files": skipped, "dropped": dropped, "sources": sources,
        "windows_sha256": hashlib.sha256((out / WINDOWS_FILE).read_bytes()).hexdigest(),
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1, allow_nan=False) + "\n")
    if say:
        say(f"{num} windows of {bars} bars from {len(files)} files ({len(skipped)} skipped) -> {out}")
    return out


def load_dataset(path: str | os.PathLike) -> PatternData:
    """Load a dataset folder; FormatError for another format or version, or files that disagree."""
    root = Path(path)
    manifest = read_json_file(root / MANIFEST, MAX_MANIFEST_BYTES, "not a pattern dataset? build one with "
                              "`ganshot patterns dataset`")
    if not isinstance(manifest, dict) or manifest.get("format") != DATASET_FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else None
        raise FormatError(f"{root / MANIFEST}: format is {got!r:.60}, expected {DATASET_FORMAT!r} "
                          "(build one with `ganshot patterns dataset`)")
    if manifest.get("version") != DATASET_VERSION:
        raise FormatError(f"{root / MANIFEST}: unknown version {manifest.get('version')!r:.40} "
                          f"(this ganshot reads version {DATASET_VERSION})")
    if manifest.get("mode") not in MODES:
        raise FormatError(f"{root / MANIFEST}: unknown mode {manifest.get('mode')!r:.40}")
    mode = MODES[manifest["mode"]]
    from safetensors.numpy import load

    try:
        raw = (root / WINDOWS_FILE).read_bytes()
        if hashlib.sha256(raw).hexdigest() != manifest.get("windows_sha256"):
            raise FormatError(f"{root / WINDOWS_FILE}: sha256 differs from the manifest's")
        tensors = load(raw)
    except FileNotFoundError:
        raise FormatError(f"{root / WINDOWS_FILE}: missing") from None
    except (ValueError, OSError) as err:  # safetensors raises on a torn or foreign file
        raise FormatError(f"{root / WINDOWS_FILE}: not a safetensors file ({err})") from None
    onset = tensors.get("onset")
    expected = (manifest.get("windows"), manifest.get("steps"), mode.num_rows)
    if onset is None or onset.shape != expected:
        raise FormatError(f"{root / WINDOWS_FILE}: onset has shape {getattr(onset, 'shape', None)}, "
                          f"the manifest says {expected}")
    return PatternData(root, onset, tensors["hold"], tensors["velocity"], tensors["test"], mode, manifest)
