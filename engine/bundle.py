"""Model bundles: the one place the on-disk model format is defined.

A bundle is a folder::

    BUNDLE/model.json             # the contract below, written last
    BUNDLE/generator.onnx         # z[B, latent_dim] (+ label int64[B]) (+ pitch int64[B]) -> audio[B, num_samples]
    BUNDLE/generator.safetensors  # the generator's state_dict (for torch users)
    BUNDLE/enhancer.onnx          # optional post-filter: audio[B, num_samples] -> enhanced[B, num_samples]
    BUNDLE/README.md, *.png       # optional

``model.json``::

    {"format": "ganshot-model", "version": 1, "name": "drums",
     "architecture": "wavegan", "hyperparameters": {...GeneratorSpec...},
     "sample_rate": 16000, "num_samples": 16384, "latent_dim": 100,
     "classes": ["kick", ...], "conditional": true, "latent_distribution": "normal",
     "onnx": {"input": "z", "label_input": "label", "output": "audio", "opset": 17},
     "pitch": null | {"input": "pitch", "low": 36, "high": 96},
     "dataset": {...summary...}, "training": {"step": 1000, "config": {...}},
     "directions": null, "created_utc": "...", "ganshot_version": "0.1.0",
     "enhancer": null | {"file": "enhancer.onnx", "sha256": "...", "input": "audio",
                         "output": "enhanced", "sample_rate": 16000, "num_samples": 16384, ...},
     "files": {"generator.onnx": {"sha256": "...", "bytes": 123}, ...}}

``pitch`` (absent or null: no pitch input, as in every older bundle): the graph's int64[B] MIDI-note
input ``input`` and the trained range ``low < high`` (:func:`~.limits.check_pitch_range`); runtimes refuse
notes outside it, :class:`~.onnx_runtime.OnnxGenerator` a graph whose inputs differ.

:func:`load_bundle` refuses, with one-line :class:`FormatError` /
:class:`IntegrityError` messages, anything it does not fully understand: unknown
format or version, missing or ill-typed fields, non-finite numbers, oversized
JSON, hash mismatches, missing files, path-like file names, links, and every
pickle-capable file (see :mod:`._filecheck`). :func:`~.bundle_write.write_bundle` builds the
bundle in a temporary sibling folder, validates it with the same loader, then
swaps it into place (the previous bundle is kept as ``BUNDLE.bak``).

The constants and :func:`~.bundle_schema.parse_model_json` (every field's check) live in
:mod:`.bundle_schema`; this module re-exports them. It imports neither torch nor onnx nor onnxruntime.
"""

from __future__ import annotations

import copy
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ._filecheck import check_file
from .atomic import sha256_file
from .bundle_schema import (
    ALLOWED_EXTENSIONS, ARCHITECTURES, BUNDLE_FORMAT, BUNDLE_VERSION, IMPORTED, LATENT_DISTRIBUTIONS,
    MAX_BUNDLE_ENTRIES, MAX_MODEL_JSON_BYTES, MODEL_JSON, ONNX_NAME, PITCH_KEYS, SAFETENSORS_NAME, parse_model_json,
)
from .errors import FormatError, IntegrityError
from .strict_json import read_json_file

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "MODEL_JSON",
    "ONNX_NAME",
    "SAFETENSORS_NAME",
    "IMPORTED",
    "ARCHITECTURES",
    "LATENT_DISTRIBUTIONS",
    "ALLOWED_EXTENSIONS",
    "PITCH_KEYS",
    "MAX_MODEL_JSON_BYTES",
    "ModelBundle",
    "load_bundle",
    "parse_model_json",
]


@dataclass(frozen=True)
class ModelBundle:
    """A loaded, validated, hash-checked bundle (paths only; nothing is executed)."""

    path: Path
    name: str
    sample_rate: int
    num_samples: int
    latent_dim: int
    classes: tuple[str, ...]
    conditional: bool
    hyperparameters: dict = field(repr=False, compare=False)
    meta: dict = field(repr=False, compare=False)
    files: dict = field(repr=False, compare=False)  # file name -> absolute Path
    sha256: str = field(repr=False, default="")  # of model.json: a cache key for the whole bundle

    @property
    def onnx_path(self) -> Path:
        return self.files[ONNX_NAME]

    @property
    def safetensors_path(self) -> Path:
        return self.files[SAFETENSORS_NAME]

    @property
    def onnx_io(self) -> dict:
        """``{"input": "z", "label_input": "label" | None, "output": "audio", "opset": 17}``."""
        return dict(self.meta["onnx"])

    @property
    def pitch_range(self) -> tuple[int, int] | None:
        """``(low, high)`` MIDI notes of a pitch-conditional model (inclusive), or None without a pitch input."""
        pitch = self.meta.get("pitch")
        return (pitch["low"], pitch["high"]) if pitch is not None else None

    @property
    def pitch_input(self) -> str | None:
        """The ONNX graph's pitch input name, or None without a pitch input."""
        pitch = self.meta.get("pitch")
        return pitch["input"] if pitch is not None else None

    @property
    def enhancer(self) -> dict | None:
        """The enhancer entry of model.json (see :func:`~.bundle_schema.parse_model_json`), or None when the bundle has none."""
        return self.meta.get("enhancer")

    @property
    def directions(self):
        """The latent directions (see :func:`parse_model_json`), or ``None`` when the bundle has none."""
        return self.meta.get("directions")

    @property
    def latent_distribution(self) -> str:
        """How the model was trained to see ``z``: "normal" N(0, 1) or "uniform" U(-1, 1)."""
        return self.meta.get("latent_distribution", "normal")

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate


def _scan_tree(root: Path) -> None:
    """Refuse links, pickle-capable files and oversized trees anywhere in the bundle folder."""
    count = 0
    for folder, dirs, names in os.walk(root, followlinks=False):
        for entry in dirs + names:
            count += 1
            path = Path(folder) / entry
            rel = path.relative_to(root).as_posix()
            if count > MAX_BUNDLE_ENTRIES:
                raise FormatError(f"{root}: more than {MAX_BUNDLE_ENTRIES} entries; this is not a model bundle")
            if path.is_symlink():
                raise FormatError(f"{root}: {rel} is a symbolic link; bundles may not contain links")
        for entry in names:
            path = Path(folder) / entry
            if entry != MODEL_JSON or Path(folder) != root:
                check_file(path, where=f"{root}: {path.relative_to(root).as_posix()}")


def load_bundle(path: str | os.PathLike) -> ModelBundle:
    """Load and validate the bundle folder ``path`` (checks every listed file's sha256)."""
    root = Path(path)
    if not root.is_dir():
        raise FormatError(f"{root}: no model bundle folder here")
    root = root.resolve()
    meta_path = root / MODEL_JSON
    if meta_path.is_symlink():
        raise FormatError(f"{meta_path}: is a symbolic link; bundles may not contain links")
    if not meta_path.is_file():
        raise FormatError(f"{meta_path}: missing; {root} is not a model bundle (make one with `ganshot export`)")
    data, raw = read_json_file(meta_path, MAX_MODEL_JSON_BYTES, "model description", with_bytes=True)
    meta = parse_model_json(data, where=str(meta_path))
    files = {}
    for fname, entry in meta["files"].items():
        fpath = root / fname
        if fpath.is_symlink():
            raise FormatError(f"{fpath}: is a symbolic link; bundles may not contain links")
        if not fpath.is_file():
            raise IntegrityError(f"{fpath}: listed in {MODEL_JSON} but missing")
        size = fpath.stat().st_size
        if size != entry["bytes"]:
            raise IntegrityError(f"{fpath}: is {size} bytes, {MODEL_JSON} records {entry['bytes']}")
        digest = sha256_file(fpath)
        if digest != entry["sha256"]:
            recorded = entry["sha256"]
            raise IntegrityError(f"{fpath}: sha256 mismatch (file {digest[:12]}…, {MODEL_JSON} {recorded[:12]}…)")
        files[fname] = fpath
    _scan_tree(root)  # after the hashes, so tampering reads as IntegrityError
    return ModelBundle(
        path=root,
        name=meta["name"],
        sample_rate=meta["sample_rate"],
        num_samples=meta["num_samples"],
        latent_dim=meta["latent_dim"],
        classes=tuple(meta["classes"]),
        conditional=meta["conditional"],
        hyperparameters=copy.deepcopy(meta["hyperparameters"]),
        meta=meta,
        files=files,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
