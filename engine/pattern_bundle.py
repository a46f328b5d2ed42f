"""Pattern bundles: the on-disk format of a trained pattern generator, and its loader.

A bundle is a folder::

    BUNDLE/model.json              the contract below, written last
    BUNDLE/generator.onnx          z float32[B, latent_dim] -> probs float32[B, channels, steps, rows]
    BUNDLE/generator.safetensors   the generator's state_dict (rebuild with model.PatternGenerator)
    BUNDLE/README.md               how it was made
    BUNDLE/evaluation/             report.json, report.md, pianoroll.png (`ganshot patterns evaluate`; not hashed)

``model.json``::

    {"format": "ganshot-patterns", "version": 1, "kind": "patterns", "name": "grooves",
     "architecture": "pattern-conv1d", "hyperparameters": {...PatternSpec...},
     "mode": "drums", "rows": ["kick", ...], "row_notes": [36, ...], "channels": ["onset"],
     "bars": 2, "meter": [4, 4], "steps_per_bar": 16, "steps_per_beat": 4, "steps": 32,
     "latent_dim": 64, "threshold": 0.5, "onnx": {"input": "z", "output": "probs", "opset": 17},
     "dataset": {...}, "training": {...}, "export": {...}, "created_utc": "...", "ganshot_version": "...",
     "files": {"generator.onnx": {"sha256": "...", "bytes": 123}, ...}}

The format name differs from the audio bundles' (``ganshot-model``) on purpose: every audio
loader, old or new, refuses a pattern bundle at its first check ("format is 'ganshot-patterns',
expected 'ganshot-model'"), and :func:`load_pattern_bundle` refuses an audio bundle by name.
This module reads (no torch, no onnx): both the live pattern player (engine.pattern_player) and
the offline tools load bundles here. Writing is training's (ganshot.training.patterns.bundle):
it builds the bundle in a temporary sibling folder, validates it with this loader, then swaps it
in (the previous bundle kept as ``BUNDLE.bak``).
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ._filecheck import check_file
from .atomic import sha256_file
from .errors import FormatError, IntegrityError, UserInputError
from .pattern_midi import MODES, STEPS_PER_BEAT
from .strict_json import read_json_file

__all__ = ["PATTERN_FORMAT", "PATTERN_VERSION", "KIND", "ARCHITECTURE", "MODEL_JSON", "ONNX_NAME", "SAFETENSORS_NAME",
           "MAX_MODEL_JSON_BYTES", "PatternBundle", "load_pattern_bundle", "parse_pattern_json", "is_pattern_bundle"]

PATTERN_FORMAT, PATTERN_VERSION, KIND = "ganshot-patterns", 1, "patterns"
AUDIO_FORMAT = "ganshot-model"  # engine.bundle's; named here only to refuse it clearly
ARCHITECTURE = "pattern-conv1d"
MODEL_JSON, ONNX_NAME, SAFETENSORS_NAME = "model.json", "generator.onnx", "generator.safetensors"
ALLOWED_EXTENSIONS = (".onnx", ".safetensors", ".md", ".png")
MAX_MODEL_JSON_BYTES = 4 * 1024 * 1024
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PatternBundle:
    """A loaded, validated, hash-checked pattern bundle (paths only; nothing is run)."""

    path: Path
    name: str
    mode: str
    rows: tuple[str, ...]
    row_notes: tuple[int, ...]
    channels: tuple[str, ...]
    bars: int
    steps_per_bar: int
    latent_dim: int
    meta: dict = field(repr=False, compare=False)
    files: dict = field(repr=False, compare=False)

    @property
    def steps(self) -> int:
        return self.bars * self.steps_per_bar

    @property
    def onnx_path(self) -> Path:
        return self.files[ONNX_NAME]

    @property
    def drums(self) -> bool:
        return self.mode == "drums"


def _int(data: dict, key: str, where: str, low: int, high: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FormatError(f"{where}: {key} must be an integer in [{low}, {high}], got {value!r:.40}")
    return value


def _check_head(data, where: str) -> None:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: top level must be a JSON object")
    if data.get("format") == AUDIO_FORMAT:
        raise FormatError(f"{where}: this is an audio model bundle (format {AUDIO_FORMAT!r}), not a patterns "
                          "bundle; play it with `ganshot render`/`serve`, or export a pattern run with "
                          "`ganshot patterns export RUN -o BUNDLE`")
    if data.get("format") != PATTERN_FORMAT or data.get("kind") != KIND:
        raise FormatError(f"{where}: format {data.get('format')!r:.60} kind {data.get('kind')!r:.30} is not a "
                          f"patterns bundle (expected {PATTERN_FORMAT!r}, kind {KIND!r})")
    version = data.get("version")
    if version != PATTERN_VERSION or isinstance(version, bool):
        if isinstance(version, int) and not isinstance(version, bool) and version > PATTERN_VERSION:
            raise FormatError(f"{where}: version {version} is newer than this ganshot reads ({PATTERN_VERSION}); "
                              "upgrade ganshot")
        raise FormatError(f"{where}: unknown version {version!r:.40} (this ganshot reads patterns bundles of "
                          f"version {PATTERN_VERSION})")


def parse_pattern_json(data, where: str = MODEL_JSON) -> dict:
    """Validate a decoded pattern model.json; returns it, or raises FormatError naming the problem."""
    _check_head(data, where)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or any(c in name for c in "\r\n\0"):
        raise FormatError(f"{where}: name must be one non-empty line of at most 200 characters")
    if data.get("architecture") != ARCHITECTURE:
        raise FormatError(f"{where}: architecture {data.get('architecture')!r:.40} is not {ARCHITECTURE!r}")
    if data.get("mode") not in MODES:
        raise FormatError(f"{where}: mode must be one of {', '.join(MODES)}")
    mode = MODES[data["mode"]]
    rows, notes = data.get("rows"), data.get("row_notes")
    if not isinstance(rows, list) or len(rows) != mode.num_rows or not all(isinstance(r, str) and r for r in rows):
        raise FormatError(f"{where}: rows must list the mode's {mode.num_rows} row names")
    if not isinstance(notes, list) or len(notes) != len(rows) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 127 for n in notes):
        raise FormatError(f"{where}: row_notes must be {len(rows)} MIDI notes 0..127")
    expected_channels = ["onset"] if mode.drums else ["onset", "hold"]
    if data.get("channels") != expected_channels:
        raise FormatError(f"{where}: channels must be {expected_channels} for mode {mode.name}")
    bars = _int(data, "bars", where, 1, 16)
    per_bar = _int(data, "steps_per_bar", where, 1, 128)
    if _int(data, "steps", where, 8, 256) != bars * per_bar or data.get("steps_per_beat") != STEPS_PER_BEAT:
        raise FormatError(f"{where}: steps must be bars x steps_per_bar, and steps_per_beat {STEPS_PER_BEAT}")
    meter = data.get("meter")
    if not isinstance(meter, list) or len(meter) != 2 or not all(isinstance(v, int) and v > 0 for v in meter):
        raise FormatError(f"{where}: meter must be [numerator, denominator]")
    latent = _int(data, "latent_dim", where, 1, 1024)
    hyper = data.get("hyperparameters")
    want = {"rows": len(rows), "channels": len(expected_channels), "steps": data["steps"], "latent_dim": latent}
    if not isinstance(hyper, dict) or any(hyper.get(k) != v for k, v in want.items()):
        raise FormatError(f"{where}: hyperparameters must agree with rows, channels, steps and latent_dim")
    threshold = data.get("threshold")
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 < threshold < 1:
        raise FormatError(f"{where}: threshold must be a number in (0, 1)")
    onnx = data.get("onnx")
    if not isinstance(onnx, dict) or not all(isinstance(onnx.get(k), str) and onnx[k] for k in ("input", "output")):
        raise FormatError(f"{where}: onnx must name its input and output")
    _check_files(data, where)
    return data


def _check_files(data: dict, where: str) -> None:
    files = data.get("files")
    if not isinstance(files, dict):
        raise FormatError(f"{where}: files must be an object")
    for fname, entry in files.items():
        if not isinstance(fname, str) or not _PLAIN_NAME.fullmatch(fname) or ".." in fname \
                or os.path.splitext(fname)[1].lower() not in ALLOWED_EXTENSIONS:
            raise FormatError(f"{where}: file name {fname!r:.80} is not a plain name with an allowed extension "
                              f"({', '.join(ALLOWED_EXTENSIONS)})")
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) \
                or not _SHA256.fullmatch(entry["sha256"]):
            raise FormatError(f"{where}: files[{fname!r}].sha256 must be 64 lowercase hex digits")
        _int(entry, "bytes", f"{where}: files[{fname!r}]", 0, 1 << 40)
    for required in (ONNX_NAME, SAFETENSORS_NAME):
        if required not in files:
            raise FormatError(f"{where}: files does not list {required}")


def load_pattern_bundle(path: str | os.PathLike) -> PatternBundle:
    """Load and validate a pattern bundle folder (checks every listed file's size and sha256)."""
    root = Path(path)
    if not root.is_dir():
        raise UserInputError(f"{root}: no pattern bundle folder here")
    root = root.resolve()
    meta_path = root / MODEL_JSON
    if meta_path.is_symlink() or not meta_path.is_file():
        raise FormatError(f"{meta_path}: missing (or a link); {root} is not a patterns bundle")
    data = read_json_file(meta_path, MAX_MODEL_JSON_BYTES, "model description")
    meta = parse_pattern_json(data, where=str(meta_path))
    files = {}
    for fname, entry in meta["files"].items():
        fpath = root / fname
        if fpath.is_symlink() or not fpath.is_file():
            raise IntegrityError(f"{fpath}: listed in {MODEL_JSON} but missing (or a link)")
        if fpath.stat().st_size != entry["bytes"] or sha256_file(fpath) != entry["sha256"]:
            raise IntegrityError(f"{fpath}: size or sha256 differs from {MODEL_JSON}")
        check_file(fpath, where=f"{root}: {fname}")
        files[fname] = fpath
    return PatternBundle(root, meta["name"], meta["mode"], tuple(meta["rows"]), tuple(meta["row_notes"]),
                         tuple(meta["channels"]), meta["bars"], meta["steps_per_bar"], meta["latent_dim"],
                         meta=meta, files=files)


def is_pattern_bundle(folder) -> bool:
    """Does ``folder`` hold a valid pattern model.json? (no hashing; a cheap look before a load)"""
    folder = Path(folder)
    try:
        parse_pattern_json(read_json_file(folder / MODEL_JSON, MAX_MODEL_JSON_BYTES), str(folder / MODEL_JSON))
    except (FormatError, UserInputError, OSError):
        return False
    return True
