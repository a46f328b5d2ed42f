"""Kit files: which sound each MIDI note plays, and which knob drives what.

Cheat sheet::

    from ganshot.engine.kit import load_kit, save_kit
    from ganshot.engine.kit_model import check_model, resolve_model_path
    kit = load_kit("presets/kits/808ish.json")                # validated, nothing executed
    folder = resolve_model_path(kit, "presets/kits/808ish.json", "presets/models")
    bundle = load_bundle(folder); check_model(kit, bundle)    # IntegrityError on another model
    kit.pad_for_note(36)                                       # Pad | None, no allocation
    kit = kit.with_pad(0, gain_db=-6.0)                        # a new, re-validated Kit
    save_kit(kit, "presets/kits/808ish.json")                  # atomic, previous kept as .bak

A kit file (UTF-8 JSON, at most :data:`MAX_KIT_BYTES`)::

    {"format": "ganshot-kit", "version": 1, "name": "808ish",
     "model": {"name": "drums-v1", "path": "drums-v1", "sha256": "<64 hex of model.json>"},
     "pads": [{"note": 36, "name": "Kick", "seed": 7, "directions": [0.5],
               "gain_db": 0.0, "pan": 0.0, "pitch_semitones": 0.0, "choke_group": 0},
              {"note": 42, "name": "Hat", "z": [0.1, -1.2, ...latent_dim floats], "choke_group": 1}],
     "controllers": [{"type": "cc", "channel": null, "number": 74,
                      "target": "focused.direction.0", "min": -1.0, "max": 1.0, "curve": "linear"}],
     "master_gain_db": 0.0}

Field rules and the controller target table live in :mod:`.kit_schema`; every
refusal is one :class:`FormatError` line naming the field (``pads[3].gain_db must
be a number in [-60, 12], got 99``). ``pad.N`` in a target is the 0-based index
into ``pads``; ``direction.J`` the 0-based index into a pad's ``directions``.
``model.path`` is absolute, relative to the kit file's folder, or (a plain name)
a bundle under the models root; null means ``models_root/model.name``. Finding that
bundle and checking a loaded one against the kit live in :mod:`.kit_model`
(re-exported here: ``check_model``, ``check_latent_dim``, ``resolve_model_path``, ``pad_label``).

**Keeps-playing contract.** Loading is pure: :func:`load_kit` / :func:`parse_kit`
build a brand-new :class:`Kit` or raise, and touch no existing object. Kits are
frozen; :meth:`Kit.with_pad` returns a new kit. So the engine prepares a kit off
the audio thread and swaps one reference; a failed load or edit leaves the kit that
is playing exactly as it was. The dataclass constructors do not validate: build
kits with :func:`parse_kit` (``parse_kit(kit_to_json(kit))`` checks a hand-built
one); :meth:`Kit.with_pad` and :func:`save_kit` validate before they return.

This module imports neither torch nor onnxruntime, nor ``ganshot.training``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import atomic_write_bytes, atomic_write_text
from .errors import FormatError, UserInputError
from .field_checks import check_bool, check_field_number, check_keys, check_str
from .kit_schema import (  # noqa: F401 - PAD_KEYS for readers of kit.py
    PAD_KEYS, Controller, Pad, check_pad_fields, controller_to_json, pad_to_json, parse_controller, parse_pad,
    KIT_ENHANCE_DEFAULT,
)
from .instrument import NoteIndex, build_note_index
from .kit_model import check_latent_dim, check_model, pad_label, resolve_model_path
from .limits import MAX_CONTROLLERS, MAX_GAIN_DB, MAX_NOTE, MAX_PADS, MIN_GAIN_DB, check_float, check_int
from .strict_json import loads_strict, read_json_file

__all__ = [
    "KIT_FORMAT", "KIT_VERSION", "MAX_KIT_BYTES", "Kit", "ModelRef", "Pad", "Controller",
    "parse_kit", "parse_controllers", "load_kit", "save_kit", "kit_to_json",
    # re-exported from .kit_model, where they live (the engine and older callers import them from here)
    "check_latent_dim", "check_model", "resolve_model_path", "pad_label",
]

KIT_FORMAT = "ganshot-kit"
KIT_VERSION = 2  # what this ganshot reads (1 and 2); kits without instrument pads are written as 1
KIT_VERSION_DRUMS = 1
MAX_KIT_BYTES = 4 * 1024 * 1024
MAX_KIT_NAME = 200
MAX_MODEL_PATH = 4096
STALE_TEMP_S = 3600.0  # without a folder lock, only temp files this old are surely abandoned
KIT_KEYS = ("format", "version", "name", "model", "pads", "controllers", "master_gain_db", "enhance")
MODEL_KEYS = ("name", "path", "sha256")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NUMBER_ARRAY = re.compile(r"\[\n\s+([-+0-9.eE,\s]*?)\n\s*\]")  # indent only puts newlines outside strings


def _replaced(obj, **fields):
    """``dataclasses.replace(obj, **fields)`` for a frozen dataclass whose fields were checked and
    whose derived state stays right (no ``__init__``/``__post_init__`` run): a copy of its
    ``__dict__`` with ``fields`` over it, ~10x quicker (an OSC knob flood edits a pad per message)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(fields)
    return new


@dataclass(frozen=True)
class ModelRef:
    """The model bundle a kit was made for: its name, sha256 of its model.json, where to find it."""

    name: str
    sha256: str
    path: str | None = None

    @classmethod
    def of(cls, bundle, path: str | None = None) -> "ModelRef":
        """A reference to a loaded :class:`~.bundle.ModelBundle`."""
        return cls(name=bundle.name, sha256=bundle.sha256, path=path)


@dataclass(frozen=True, repr=False)
class Kit:
    """A validated kit: pads (one per MIDI note), controller mappings, master gain. Immutable."""

    name: str
    model: ModelRef
    pads: tuple[Pad, ...] = ()
    controllers: tuple[Controller, ...] = ()
    master_gain_db: float = 0.0
    enhance: bool = KIT_ENHANCE_DEFAULT  # false: play the raw generator even when the bundle has an enhancer
    _notes: NoteIndex = field(init=False, compare=False, repr=False)  # (channel, note) -> pad index | -1

    def __post_init__(self):
        object.__setattr__(self, "pads", tuple(self.pads))
        object.__setattr__(self, "controllers", tuple(self.controllers))
        object.__setattr__(self, "_notes", build_note_index(self.pads, "kit", strict=False))

    def __repr__(self) -> str:
        return (
            f"Kit(name={self.name!r}, model={self.model.name!r}, pads={len(self.pads)}, "
            f"controllers={len(self.controllers)}, master_gain_db={self.master_gain_db})"
        )

    @property
    def has_instruments(self) -> bool:
        return any(pad.instrument is not None for pad in self.pads)

    def index_for_note(self, note: int, channel: int | None = None) -> int:
        """Index into :attr:`pads` of the pad playing MIDI ``note`` (0..127) heard on ``channel``
        (0-based; None = any), or -1; never raises. An instrument pad answers every note of its
        range; one bound to a channel wins on that channel."""
        return self._notes.lookup(note, channel)

    def pad_for_note(self, note: int, channel: int | None = None) -> Pad | None:
        """The pad on MIDI ``note``, or None (also for notes outside 0..127); no allocation."""
        i = self.index_for_note(note, channel)
        return self.pads[i] if i >= 0 else None

    def with_pad(self, index: int, **changes) -> "Kit":
        """A new kit with ``pads[index]`` changed; UserInputError (kit unchanged) if invalid.

        Keys are :class:`Pad` fields; only the given ones are checked (a knob edit is one
        check, not a re-parse). Setting ``z`` drops ``seed`` and vice versa; numpy arrays
        and scalars are accepted.
        """
        index = check_int(index, f"pad index (the kit has {len(self.pads)} pads)", 0, len(self.pads) - 1)
        where, path = f"kit {self.name!r:.60}", f"pads[{index}]"
        fields = check_pad_fields(changes, path, where, UserInputError)
        for key, other in (("z", "seed"), ("seed", "z")):
            if fields.get(key) is not None:
                fields[other] = None
        pad = _replaced(self.pads[index], **fields)
        if (pad.z is None) == (pad.seed is None):
            which = "both z and seed" if pad.z is not None else "neither z nor seed"
            raise UserInputError(f"{where}: {path} has {which}; give exactly one")
        pads = self.pads[:index] + (pad,) + self.pads[index + 1 :]
        if "note" in fields or "instrument" in fields:
            build_note_index(pads, where, UserInputError, last=index)  # one pad per note and channel
            return dataclasses.replace(self, pads=pads)  # the note index is built again
        return _replaced(self, pads=pads)  # a knob edit: the same notes, the same index

    def with_master_gain(self, gain_db: float) -> "Kit":
        """A new kit with ``master_gain_db`` set; UserInputError if out of range."""
        gain_db = check_float(gain_db, "master_gain_db", MIN_GAIN_DB, MAX_GAIN_DB)
        return dataclasses.replace(self, master_gain_db=gain_db)

    def with_controllers(self, controllers) -> "Kit":
        """A new kit with this controller table (:class:`Controller` objects, re-validated)."""
        rows = [controller_to_json(c) for c in controllers]
        parsed = parse_controllers(rows, len(self.pads), f"kit {self.name!r:.60}", UserInputError)
        return dataclasses.replace(self, controllers=parsed)


def parse_controllers(entries, pad_count: int, where: str, error) -> tuple[Controller, ...]:
    """The ``controllers`` list of a kit with ``pad_count`` pads (targets may name only those)."""
    if not isinstance(entries, (list, tuple)):
        raise error(f"{where}: controllers must be a list, got {type(entries).__name__}")
    if len(entries) > MAX_CONTROLLERS:
        raise error(f"{where}: controllers holds {len(entries)} entries, at most {MAX_CONTROLLERS} allowed")
    controllers = []
    for i, entry in enumerate(entries):
        ctl = parse_controller(entry, f"controllers[{i}]", where, error)
        pad_index = ctl.parsed_target.pad
        if pad_index is not None and pad_index >= pad_count:
            raise error(
                f"{where}: controllers[{i}].target {ctl.target!r} names pads[{pad_index}] "
                f"but the kit has {pad_count} pads"
            )
        controllers.append(ctl)
    return tuple(controllers)


def _sequence(data: dict, key: str, where: str, max_len: int, error) -> list:
    value = data.get(key, [])
    if not isinstance(value, (list, tuple)):
        raise error(f"{where}: {key} must be a list, got {type(value).__name__}")
    if len(value) > max_len:
        raise error(f"{where}: {key} holds {len(value)} entries, at most {max_len} allowed")
    return value


def _parse_model(data: dict, where: str, error) -> ModelRef:
    if "model" not in data:
        raise error(f"{where}: missing field 'model'")
    model = check_keys(data["model"], MODEL_KEYS, "model", where, error)
    name = check_str(model, "name", "model", where, MAX_KIT_NAME, error=error, nonempty=True)
    path = model.get("path")
    if path is not None:
        path = check_str(model, "path", "model", where, MAX_MODEL_PATH, error=error, nonempty=True)
    digest = model.get("sha256")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise error(f"{where}: model.sha256 must be 64 lowercase hex digits, got {digest!r:.80}")
    return ModelRef(name=name, sha256=digest, path=path)


def parse_kit(data, where: str = "kit", error: type[Exception] = FormatError) -> Kit:
    """Validate decoded kit JSON and build a new :class:`Kit`; raises ``error`` naming the field."""
    if not isinstance(data, dict):
        raise error(f"{where}: top level must be a JSON object, got {type(data).__name__}")
    if data.get("format") != KIT_FORMAT:
        raise error(f"{where}: format is {data.get('format')!r:.60}, expected {KIT_FORMAT!r}")
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > KIT_VERSION:
        raise error(f"{where}: version {version} is newer than this ganshot reads ({KIT_VERSION}); upgrade ganshot")
    if version not in (KIT_VERSION_DRUMS, KIT_VERSION) or isinstance(version, bool):
        raise error(f"{where}: unknown version {version!r:.40} (this ganshot reads versions 1 and {KIT_VERSION})")
    check_keys(data, KIT_KEYS, "top level", where, error)
    name = check_str(data, "name", "", where, MAX_KIT_NAME, error=error, nonempty=True)
    model = _parse_model(data, where, error)
    if "pads" not in data:
        raise error(f"{where}: missing field 'pads'")
    pads = []
    for i, entry in enumerate(_sequence(data, "pads", where, MAX_PADS, error)):
        pad = parse_pad(entry, f"pads[{i}]", where, error)
        if pad.instrument is not None and version < KIT_VERSION:
            raise error(f"{where}: pads[{i}].instrument needs kit version {KIT_VERSION} (the file says {version})")
        pads.append(pad)
    build_note_index(pads, where, error)  # one pad per note (and channel)
    controllers = parse_controllers(data.get("controllers", []), len(pads), where, error)
    master = check_field_number(data, "master_gain_db", "", where, MIN_GAIN_DB, MAX_GAIN_DB, 0.0, error)
    enhance = check_bool(data, "enhance", "", where, KIT_ENHANCE_DEFAULT, error)
    return Kit(name=name, model=model, pads=tuple(pads), controllers=controllers, master_gain_db=master,
               enhance=enhance)


def load_kit(path: str | os.PathLike, latent_dim: int | None = None) -> Kit:
    """Read, strictly decode and validate the kit file ``path``; a new Kit or one-line FormatError.

    With ``latent_dim``, every ``z`` must have that length. Files over
    :data:`MAX_KIT_BYTES` are refused before they are read.
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a folder, FIFO or device: never read it
        raise FormatError(f"{path}: not a regular file (kit)")
    try:
        data = read_json_file(path, MAX_KIT_BYTES, "kit file")
    except OSError as err:
        raise FormatError(f"{path}: cannot read the kit ({err.strerror or err})") from None
    kit = parse_kit(data, where=str(path))
    if latent_dim is not None:
        check_latent_dim(kit, latent_dim, where=str(path))
    return kit


def kit_to_json(kit: Kit) -> dict:
    """The kit as a JSON-ready dict, every field written out (what :func:`save_kit` writes)."""
    return {
        "format": KIT_FORMAT,
        "version": KIT_VERSION if kit.has_instruments else KIT_VERSION_DRUMS,
        "name": kit.name,
        "model": {"name": kit.model.name, "path": kit.model.path, "sha256": kit.model.sha256},
        "pads": [pad_to_json(pad) for pad in kit.pads],
        "controllers": [controller_to_json(ctl) for ctl in kit.controllers],
        "master_gain_db": kit.master_gain_db,
        **({} if kit.enhance == KIT_ENHANCE_DEFAULT else {"enhance": kit.enhance}),  # default kits stay as they were
    }


def _kit_text(kit: Kit, where: str) -> str:
    """Indented JSON with number lists on one line; validated by parsing it back."""
    try:
        text = json.dumps(kit_to_json(kit), indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as err:  # a non-finite or non-JSON value in a hand-built kit
        raise UserInputError(f"{where}: cannot write the kit ({err})") from None
    text = _NUMBER_ARRAY.sub(lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text) + "\n"
    parse_kit(loads_strict(text), where=where, error=UserInputError)
    return text


@contextlib.contextmanager
def _folder_lock(folder: Path):
    """Exclusive flock on the folder while saving; yields whether it is held (POSIX only)."""
    try:
        import fcntl
        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = True
        except OSError:  # e.g. a file system without flock
            held = False
        yield held
    finally:
        os.close(fd)  # releases the lock; the kernel also releases it if this process is killed


def _remove_stale_temps(path: Path, locked: bool) -> int:
    """Delete temp files earlier saves of ``path`` left when killed; returns how many.

    Under the folder lock no other save is running, so every match is abandoned.
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(bak\.)?[a-z0-9_]{{8}}\.tmp")
    removed = 0
    with os.scandir(path.parent) as entries:
        for entry in entries:
            if not pattern.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if locked or time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_S:
                    os.unlink(entry.path)
                    removed += 1
    return removed


def save_kit(kit: Kit, path: str | os.PathLike) -> Path:
    """Validate ``kit`` and write it to ``path`` atomically; returns the path written.

    The previous file is kept as ``PATH.bak`` (itself written atomically). A process
    killed at any moment leaves ``path`` as the old or the new kit, never torn; the
    temp file it may leave (``.NAME.xxxxxxxx.tmp``) is deleted by the next save.
    Symbolic links are followed, so a linked kit stays linked.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.is_dir():
        raise UserInputError(f"{path}: is a folder; give a kit file name")
    text = _kit_text(kit, where=f"{path} (being written)")
    if len(text.encode("utf-8")) > MAX_KIT_BYTES:
        raise UserInputError(f"{path}: the kit would be larger than {MAX_KIT_BYTES} bytes; it could not be loaded")
    if path.is_file() and path.stat().st_size > MAX_KIT_BYTES:
        raise UserInputError(f"{path}: exists and is larger than any kit; refusing to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(path.parent) as locked:
        _remove_stale_temps(path, locked)
        if path.is_file():
            atomic_write_bytes(path.with_name(path.name + ".bak"), path.read_bytes())
        atomic_write_text(path, text)
    return path
