"""Kit sets: a list of kits that MIDI program changes switch between.

Cheat sheet::

    kitset = load_kitset("sets/live.json", bundle=engine.bundle)   # every kit loaded and checked now
    switcher = KitSwitcher(kitset)
    switcher.select(engine, 2)        # program change 2 (shown as 3 in most DAWs) -> kitset.kits[2]

A kit set file (UTF-8 JSON, at most :data:`MAX_KITSET_BYTES`)::

    {"format": "ganshot-kitset", "version": 1, "name": "live",
     "kits": ["kits/808ish.json", "kits/acoustic.json", "/abs/path/lofi.json"]}

Paths are relative to the kit set file's folder (or absolute). ``name`` is optional; ``kits``
holds 1 to :data:`MAX_KITS` paths ending in ``.json``. Every kit is loaded and validated when
the set is loaded (and checked against the running model when ``bundle`` is given), so a
program change never reads a kit file or fails halfway: it swaps a prepared kit into the Engine.
A kit made for another model names a bundle that must exist when the set loads; its program
change is a hot model swap (:meth:`Engine.load_model` with that kit): the kit playing goes on
until the new model has loaded, warmed up and rendered every pad.
Edits made live (knobs, MIDI learn) stay with their kit while another one plays, until exit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganshot.engine.field_checks import check_keys, check_str
from ganshot.engine.strict_json import read_json_file
from ganshot.engine.errors import FormatError, GanshotError
from ganshot.engine.kit import Kit, load_kit
from ganshot.engine.kit_model import check_model, resolve_model_path

__all__ = ["KITSET_FORMAT", "KITSET_VERSION", "MAX_KITS", "MAX_KITSET_BYTES", "KitSet", "KitSwitcher",
           "parse_kitset", "load_kitset", "first_kit_path"]

KITSET_FORMAT = "ganshot-kitset"
KITSET_VERSION = 1
MAX_KITS = 128  # one per MIDI program
MAX_KITSET_BYTES = 1024 * 1024
MAX_PATH_CHARS = 4096
KITSET_KEYS = ("format", "version", "name", "kits")


@dataclass(frozen=True)
class KitSet:
    """A loaded kit set: its file, the kit paths (resolved) and the validated kits, in program order."""

    path: Path
    name: str
    kit_paths: tuple[Path, ...]
    kits: tuple[Kit, ...]
    model_paths: tuple = ()  # per kit: its model's bundle folder (None when loaded without a bundle)

    def __repr__(self) -> str:
        return f"KitSet(name={self.name!r}, kits={[k.name for k in self.kits]})"


def parse_kitset(data, base_dir, where: str = "kit set", error: type[Exception] = FormatError) -> tuple[str, tuple[Path, ...]]:
    """Validate decoded kit-set JSON; -> (name, kit paths resolved against ``base_dir``)."""
    if not isinstance(data, dict):
        raise error(f"{where}: top level must be a JSON object, got {type(data).__name__}")
    if data.get("format") != KITSET_FORMAT:
        raise error(f"{where}: format is {data.get('format')!r:.60}, expected {KITSET_FORMAT!r}")
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > KITSET_VERSION:
        raise error(f"{where}: version {version} is newer than this ganshot reads ({KITSET_VERSION}); upgrade ganshot")
    if version != KITSET_VERSION or isinstance(version, bool):
        raise error(f"{where}: unknown version {version!r:.40} (this ganshot reads version {KITSET_VERSION})")
    check_keys(data, KITSET_KEYS, "top level", where, error)
    name = check_str(data, "name", "", where, 200, default="", error=error)
    if "kits" not in data:
        raise error(f"{where}: missing field 'kits'")
    kits = data["kits"]
    if not isinstance(kits, list) or not 1 <= len(kits) <= MAX_KITS:
        count = len(kits) if isinstance(kits, list) else type(kits).__name__
        raise error(f"{where}: kits must be a list of 1 to {MAX_KITS} kit paths, got {count}")
    paths = []
    for i, entry in enumerate(kits):
        if not isinstance(entry, str):
            raise error(f"{where}: kits[{i}] must be a string (a kit path), got {type(entry).__name__}")
        field = f"kits[{i}]"
        text = check_str({field: entry}, field, "", where, MAX_PATH_CHARS, error=error, nonempty=True)
        if not text.endswith(".json"):
            raise error(f"{where}: kits[{i}] must be a kit file ending in .json, got {text!r:.80}")
        paths.append(Path(base_dir) / text)
    return name, tuple(paths)


def _read(path: Path):
    if path.exists() and not path.is_file():
        raise FormatError(f"{path}: not a regular file (kit set)")
    try:
        return read_json_file(path, MAX_KITSET_BYTES, "kit set file")
    except OSError as err:
        raise FormatError(f"{path}: cannot read the kit set ({err.strerror or err})") from None


def first_kit_path(path) -> Path:
    """The kit a set starts on (``serve --kit-set`` without ``--kit`` loads the model from it)."""
    path = Path(path)
    return parse_kitset(_read(path), path.parent, where=str(path))[1][0]


def load_kitset(path, bundle=None) -> KitSet:
    """Read and validate the kit set at ``path`` and every kit in it; one-line FormatError naming
    the file and entry. With ``bundle``, every kit must be made for that model."""
    from ganshot.engine.presets import models_root

    path = Path(path)
    name, paths = parse_kitset(_read(path), path.parent, where=str(path))
    kits, model_paths = [], []
    for i, kit_path in enumerate(paths):
        try:
            kit = load_kit(kit_path)
            other = bundle is not None and kit.model.sha256 != bundle.sha256
            if bundle is not None and not other:
                check_model(kit, bundle)
            # where each kit's model is: a program change may come while another model plays
            model_paths.append(resolve_model_path(kit, kit_path, models_root()) if other
                               else getattr(bundle, "path", None))
        except GanshotError as err:
            raise FormatError(f"{path}: kits[{i}]: {err}") from None
        kits.append(kit)
    return KitSet(path=path, name=name or path.stem, kit_paths=paths, kits=tuple(kits),
                  model_paths=tuple(model_paths))


class KitSwitcher:
    """Program change -> kit. Remembers each kit's live edits while another one plays."""

    def __init__(self, kitset: KitSet, current: int | None = None):
        self.kitset = kitset
        self.kits = list(kitset.kits)  # replaced by the Engine's edited kit when switching away
        self.current = current

    def index_of(self, kit_path) -> int | None:
        """The program of the kit file ``kit_path`` in this set, or None."""
        target = Path(kit_path).resolve()
        return next((i for i, p in enumerate(self.kitset.kit_paths) if p.resolve() == target), None)

    def select(self, engine, program: int) -> bool:
        """Swap in kit ``program`` (0-based); False (nothing changes) when the set has no such kit."""
        if isinstance(program, bool) or not isinstance(program, int) or not 0 <= program < len(self.kits):
            return False
        if program == self.current:
            return True
        if self.current is not None and engine.kit.model.sha256 == self.kits[self.current].model.sha256:
            self.kits[self.current] = engine.kit  # keep knob and learn edits for when it comes back
        kit = self.kits[program]
        pending = getattr(engine, "model_swap", None)
        if pending is not None and not pending.finished:
            pending.cancel()  # a swap to the kit selected before this one
        if kit.model.sha256 == engine.bundle.sha256:
            engine.set_kit(kit)
        else:  # another model: swapped in the background, the kit playing goes on meanwhile
            models = self.kitset.model_paths
            engine.load_model(models[program] if program < len(models) and models[program] else kit.model.name, kit=kit)
        self.current = program
        return True

    def __repr__(self) -> str:
        return f"KitSwitcher({self.kitset!r}, current={self.current})"

