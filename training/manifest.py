"""Dataset manifest: the versioned index of a one-shot dataset folder.

``DIR/manifest.json``::

    {"format": "ganshot-dataset", "version": 2,
     "sample_rate": 16000, "num_samples": 16384,
     "classes": ["kick", "snare", ...],          # index order used for labels
     "source": {...},                             # how it was built (free-form)
     "items": [{"path": "audio/kick/00001.flac", "class": "kick",
                "kit": "Standard", "note": 36, "velocity": 100,
                "source": "FluidR3_GM.sf2"}, ...]}        # "source": optional (v2)

Pitched-instrument items (``ganshot dataset soundfont --programs``, ``dataset folder
--pitched``) add ``"pitch": 60`` (MIDI, sounding, C4 = 60) and, when rendered from a GM
program, ``"program": 65``; their class is the instrument (``"alto_sax"``). Both keys are
optional and written only when set, so drum manifests are unchanged; they arrived within
version 2 because a reader that does not know them still reads a pitched dataset
correctly, as an instrument-labelled one (it only loses the pitch), and the keys are
range-checked (0..127) by this loader.

Paths are relative to DIR and may not leave it. ``note``/``velocity``/``kit``
may be null for a user's own files. An item's ``source`` names the SoundFont file
it was rendered from (written only when set), so same-named kits of two
SoundFonts stay apart.

Versions: 1 (SoundFont builds name one source as ``source.sf2`` +
``source.sf2_sha256``) and 2 (``source.soundfonts`` = [{"file", "sha256", ...}],
one per SoundFont). Both load; :func:`source_soundfonts` reads either form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.strict_json import read_json_file
from ganshot.engine.errors import FormatError

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_VERSION",
    "MANIFEST_NAME",
    "ManifestItem",
    "Manifest",
    "load_manifest",
    "source_soundfonts",
    "save_manifest",
]

MANIFEST_FORMAT = "ganshot-dataset"
MANIFEST_VERSION = 2
READABLE_VERSIONS = (1, 2)
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_OPTIONAL_ITEM_KEYS = ("source", "pitch", "program")


@dataclass
class ManifestItem:
    path: str
    label: str  # stored as "class" in the file
    kit: str | None = None
    note: int | None = None
    velocity: int | None = None
    source: str | None = None  # the SoundFont file name of a multi-source build
    pitch: int | None = None  # MIDI pitch of a pitched note (C4 = 60); None for drums / unknown
    program: int | None = None  # GM program 0..127 a pitched note was rendered with

    def to_json(self) -> dict:
        out = {"path": self.path, "class": self.label, "kit": self.kit, "note": self.note, "velocity": self.velocity}
        for key in _OPTIONAL_ITEM_KEYS:  # written only when set, so drum manifests stay as they were
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass
class Manifest:
    sample_rate: int
    num_samples: int
    classes: list[str]
    items: list[ManifestItem] = field(default_factory=list)
    source: dict = field(default_factory=dict)

    @property
    def pitched(self) -> bool:
        """True when any item carries a MIDI ``pitch`` (a pitched-instrument dataset)."""
        return any(item.pitch is not None for item in self.items)

    def class_counts(self) -> dict[str, int]:
        counts = {name: 0 for name in self.classes}
        for item in self.items:
            counts[item.label] = counts.get(item.label, 0) + 1
        return counts

    def summary(self) -> dict:
        """A small dict for model bundles: sizes and per-class counts."""
        return {
            "sample_rate": self.sample_rate,
            "num_samples": self.num_samples,
            "num_items": len(self.items),
            "class_counts": self.class_counts(),
            "source": self.source,
        }

    def to_json(self) -> dict:
        return {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "sample_rate": self.sample_rate,
            "num_samples": self.num_samples,
            "classes": list(self.classes),
            "source": self.source,
            "items": [item.to_json() for item in self.items],
        }


def _check_int(value, name: str, where: str, low: int, high: int, optional: bool = False):
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FormatError(f"{where}: {name} must be an integer in [{low}, {high}], got {value!r}")
    return value


def _check_rel_path(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise FormatError(f"{where}: path must be a non-empty string")
    pure = PurePosixPath(value)
    if pure.is_absolute() or ".." in pure.parts or "\\" in value:
        raise FormatError(f"{where}: path {value!r} must be relative and stay inside the dataset folder")
    return value


def parse_manifest(data: dict, where: str = "manifest") -> Manifest:
    """Validate a decoded manifest dict; raises FormatError naming the problem."""
    if not isinstance(data, dict):
        raise FormatError(f"{where}: top level must be a JSON object")
    if data.get("format") != MANIFEST_FORMAT:
        raise FormatError(f"{where}: format is {data.get('format')!r}, expected {MANIFEST_FORMAT!r}")
    if data.get("version") not in READABLE_VERSIONS:
        raise FormatError(f"{where}: unknown version {data.get('version')!r} (this ganshot reads versions {READABLE_VERSIONS})")
    sample_rate = _check_int(data.get("sample_rate"), "sample_rate", where, 1000, 384000)
    num_samples = _check_int(data.get("num_samples"), "num_samples", where, 16, 1 << 22)
    classes = data.get("classes")
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        raise FormatError(f"{where}: classes must be a list of non-empty strings")
    if len(set(classes)) != len(classes):
        raise FormatError(f"{where}: classes has duplicates")
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise FormatError(f"{where}: items must be a list")
    known = set(classes)
    items = []
    for index, raw in enumerate(raw_items):
        at = f"{where}: items[{index}]"
        if not isinstance(raw, dict):
            raise FormatError(f"{at} must be an object")
        label = raw.get("class")
        if label not in known:
            raise FormatError(f"{at}: class {label!r} is not in classes")
        kit = raw.get("kit")
        if kit is not None and not isinstance(kit, str):
            raise FormatError(f"{at}: kit must be a string or null")
        item_source = raw.get("source")
        if item_source is not None and not isinstance(item_source, str):
            raise FormatError(f"{at}: source must be a string or null")
        items.append(
            ManifestItem(
                path=_check_rel_path(raw.get("path"), at),
                label=label,
                kit=kit,
                note=_check_int(raw.get("note"), "note", at, 0, 127, optional=True),
                velocity=_check_int(raw.get("velocity"), "velocity", at, 0, 127, optional=True),
                source=item_source,
                pitch=_check_int(raw.get("pitch"), "pitch", at, 0, 127, optional=True),
                program=_check_int(raw.get("program"), "program", at, 0, 127, optional=True),
            )
        )
    source = data.get("source", {})
    if not isinstance(source, dict):
        raise FormatError(f"{where}: source must be an object")
    if "soundfonts" in source:
        sfs = source["soundfonts"]
        if not isinstance(sfs, list) or not all(
            isinstance(e, dict) and isinstance(e.get("file"), str) and isinstance(e.get("sha256"), str) for e in sfs
        ):
            raise FormatError(f"{where}: source.soundfonts must be a list of objects with string file and sha256")
    return Manifest(sample_rate, num_samples, list(classes), items, source)


def source_soundfonts(source: dict) -> list[dict]:
    """[{"file": name, "sha256": hex}] of a SoundFont build, from the v2 list or the v1 single ``sf2`` form."""
    if isinstance(source.get("soundfonts"), list):
        return [{"file": e["file"], "sha256": e["sha256"]} for e in source["soundfonts"]]
    if isinstance(source.get("sf2"), str):
        return [{"file": source["sf2"], "sha256": source.get("sf2_sha256")}]
    return []


def load_manifest(root: str | Path) -> Manifest:
    """Load and validate ``root/manifest.json``."""
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        raise FormatError(f"{path}: no dataset manifest here (build one with `ganshot dataset ...`)")
    data = read_json_file(path, MAX_MANIFEST_BYTES, "dataset manifest")
    return parse_manifest(data, where=str(path))


def save_manifest(root: str | Path, manifest: Manifest) -> Path:
    """Write ``root/manifest.json`` atomically."""
    text = json.dumps(manifest.to_json(), indent=1, allow_nan=False)
    return atomic_write_text(Path(root) / MANIFEST_NAME, text + "\n")


