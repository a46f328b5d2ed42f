"""The Max for Live device file (.amxd): a small chunked container around the patcher JSON.

Cheat sheet::

    from ganshot.bridges.max.amxd import pack, unpack, load, check
    data = pack(doc, "mmmm")          # {"patcher": {...}} -> bytes (the same bytes for the same doc)
    device = unpack(data)             # Amxd(device_type, meta, doc), or AmxdError("one line")
    report = check(load(path))        # also ganshot's device checks (device.check_device)

    python -m ganshot.bridges.max.amxd bridges/max/ganshot.amxd     # "...: ok (MIDI effect, ...)" or one error line

Layout (all integers little-endian uint32)::

    "ampf"  4 (container version)  device type ("aaaa" audio effect, "mmmm" MIDI effect, "iiii" instrument)
    "meta"  length  payload (4 zero bytes as Max writes it)
    "ptch"  length  the patcher JSON, UTF-8, ending in one NUL byte

A device Max saved "frozen" (its ptch chunk starting ``mx@c``, a collective with the files it
uses) is refused: ganshot's device uses no files, so unfreeze it in Max to check it.
The reader refuses anything else it does not know (another magic or version, an unknown
device type or chunk, a chunk longer than the file, NaN in the JSON) with one line.
"""

from __future__ import annotations

import json
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from ganshot.engine.errors import FormatError

from .device import DeviceReport, check_device

__all__ = ["Amxd", "AmxdError", "pack", "unpack", "load", "check", "patch_json", "main", "MAGIC",
           "CONTAINER_VERSION", "DEVICE_TYPES", "MAX_PATCH_BYTES"]

MAGIC = b"ampf"
CONTAINER_VERSION = 4
#: device type tag -> what Live calls it
DEVICE_TYPES = {"aaaa": "audio effect", "mmmm": "MIDI effect", "iiii": "instrument"}
CHUNKS = (b"meta", b"ptch")  # in this order, once each
META_PAYLOAD = bytes(4)
FROZEN = b"mx@c"
MAX_PATCH_BYTES = 64 << 20  # a device patch is kilobytes; a length past this is corruption
_HEADER = struct.Struct("<4sI4s")
_CHUNK = struct.Struct("<4sI")


class AmxdError(FormatError):
    """A file that is not an .amxd this reader knows; ``str(err)`` is one line."""


@dataclass(frozen=True)
class Amxd:
    """A device: its type tag (a key of :data:`DEVICE_TYPES`), meta payload and patcher JSON document."""

    device_type: str
    meta: bytes
    doc: dict

    def __repr__(self) -> str:
        boxes = len(self.doc.get("patcher", {}).get("boxes", []))
        return f"Amxd(device_type={self.device_type!r}, meta={self.meta!r}, boxes={boxes})"


def patch_json(doc: dict) -> bytes:
    """The patcher JSON as Max writes it (tab indents), in the dicts' own key order: the same
    document always gives the same bytes. Refuses NaN and infinities (not JSON)."""
    try:
        text = json.dumps(doc, indent="\t", separators=(",", " : "), ensure_ascii=False, allow_nan=False)
    except ValueError as err:
        raise AmxdError(f"the patch cannot be written as JSON: {err}") from None
    return text.encode("utf-8") + b"\n"


def pack(doc: dict, device_type: str, meta: bytes = META_PAYLOAD) -> bytes:
    """An .amxd's bytes for patcher document ``doc`` as a device of ``device_type``."""
    if device_type not in DEVICE_TYPES:
        raise AmxdError(f"device type must be one of {', '.join(DEVICE_TYPES)}, got {device_type!r}")
    patch = patch_json(doc) + b"\0"
    out = [_HEADER.pack(MAGIC, CONTAINER_VERSION, device_type.encode("ascii"))]
    for tag, payload in zip(CHUNKS, (meta, patch)):
        out += [_CHUNK.pack(tag, len(payload)), payload]
    return b"".join(out)


def _chunks(data: bytes, offset: int) -> dict[bytes, bytes]:
    found = {}
    for tag in CHUNKS:
        if offset + _CHUNK.size > len(data):
            raise AmxdError(f"truncated: the {tag.decode()} chunk header at byte {offset} is cut off "
                            f"({len(data)} bytes in all)")
        got, length = _CHUNK.unpack_from(data, offset)
        if got != tag:
            raise AmxdError(f"expected the {tag.decode()} chunk at byte {offset}, found {got!r}")
        start = offset + _CHUNK.size
        if length > MAX_PATCH_BYTES:
            raise AmxdError(f"the {tag.decode()} chunk says {length} bytes, more than the {MAX_PATCH_BYTES} allowed")
        if start + length > len(data):
            raise AmxdError(f"truncated: the {tag.decode()} chunk says {length} bytes, {len(data) - start} follow")
        found[tag], offset = data[start:start + length], start + length
    if offset != len(data):
        raise AmxdError(f"{len(data) - offset} unknown byte(s) after the ptch chunk, at byte {offset}")
    return found


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _no_duplicates(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key appears twice in one object: {sorted(k for k in keys if keys.count(k) > 1)[0]!r}")
    return dict(pairs)


def _patch(payload: bytes) -> dict:
    if payload.startswith(FROZEN):
        raise AmxdError("a frozen device (mx@c): unfreeze it in Max (the snowflake button) and save it again")
    if not payload.endswith(b"\0"):
        raise AmxdError("the ptch chunk does not end in a NUL byte (truncated or not a patch)")
    try:
        text = payload[:-1].decode("utf-8")
    except UnicodeDecodeError as err:
        raise AmxdError(f"the patch is not UTF-8 text: byte {err.start} is {payload[err.start]:#04x}") from None
    try:
        doc = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise AmxdError(f"the patch is not valid JSON: {first}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("patcher"), dict):
        raise AmxdError('the patch JSON has no "patcher" object')
    return doc


def unpack(data: bytes) -> Amxd:
    """Parse an .amxd's bytes; :class:`AmxdError` with one line for anything it does not know."""
    if len(data) < _HEADER.size:
        raise AmxdError(f"truncated: {len(data)} bytes, shorter than the {_HEADER.size}-byte .amxd header")
    magic, version, kind = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise AmxdError(f"not an .amxd: it starts with {magic!r}, not {MAGIC!r}")
    if version != CONTAINER_VERSION:
        raise AmxdError(f".amxd container version {version} is not known (this reader knows {CONTAINER_VERSION})")
    device_type = kind.decode("latin-1")
    if device_type not in DEVICE_TYPES:
        raise AmxdError(f"unknown device type {kind!r} (known: {', '.join(DEVICE_TYPES)})")
    chunks = _chunks(data, _HEADER.size)
    return Amxd(device_type, chunks[b"meta"], _patch(chunks[b"ptch"]))


def load(path: str | Path) -> Amxd:
    """Read and parse an .amxd file."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise AmxdError(f"cannot read {path}: {err.strerror or err}") from None
    return unpack(data)


def check(device: Amxd) -> DeviceReport:
    """ganshot's device checks (:func:`~.device.check_device`) on a parsed .amxd."""
    return check_device(device.doc, device.device_type)


def main(argv: list[str] | None = None) -> int:
    """Check .amxd files: one line each, exit 1 when any is refused."""
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m ganshot.bridges.max.amxd DEVICE.amxd [...]", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        try:
            device = load(path)
            report = check(device)
        except FormatError as err:
            print(f"{path}: error: {err}", file=sys.stderr)
            status = 1
            continue
        print(f"{path}: ok ({DEVICE_TYPES[device.device_type]}; {report.pads} pads, {report.dials} dials, "
              f"{len(report.status_fields)} status fields; sends {' '.join(report.addresses)})")
    return status


if __name__ == "__main__":
    sys.exit(main())
