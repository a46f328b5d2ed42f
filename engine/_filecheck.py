"""Byte-level safety checks for files inside a model bundle (no torch, no onnx).

ganshot never unpickles anything, and these checks make sure a bundle cannot
smuggle a pickle past a later reader either:

- :func:`check_file` refuses pickle-capable extensions (``.pt``, ``.pkl``, ...),
  files whose bytes start with a pickle protocol 2–5 header (``0x80 0x02..0x05``)
  or a zip header (``torch.save`` archives, ``.npz``), and symlinks.
- ``.safetensors`` files get a structural check instead of the magic-byte one,
  because a valid safetensors header length can legitimately start with
  ``0x80 0x03`` (896 bytes): the 8-byte length, the JSON header and every
  tensor's dtype/shape/offsets must describe the file exactly. A pickle (or a
  zip) fails that check and is named as such.
- ``.onnx`` files are walked as protobuf, without importing ``onnx``, and refused
  when any tensor (initializer, Constant attribute, subgraph, function, sparse
  tensor) points at external data: ONNX external data is how the onnx path
  traversal / symlink CVEs reach the file system, and a bundle's ONNX file must be
  self-contained.

Pickle protocol 0/1 files have no magic number and are caught only by extension;
they are never loaded by ganshot in any case.
"""

from __future__ import annotations

import math
import mmap
import struct
from pathlib import Path

from .strict_json import loads_strict
from .errors import FormatError

__all__ = ["PICKLE_EXTENSIONS", "check_file", "check_safetensors", "check_onnx_self_contained", "check_onnx_bytes"]

#: Extensions of formats that can run code when loaded (pickle and its wrappers).
PICKLE_EXTENSIONS = frozenset({".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".npy", ".npz", ".joblib", ".dill"})

MAX_SAFETENSORS_HEADER_BYTES = 16 * 1024 * 1024
MAX_PROTOBUF_DEPTH = 64

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ST_ITEMSIZE = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}  # fmt: skip


def _magic_problem(head: bytes) -> str | None:
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return f"starts with a pickle protocol {head[1]} header"
    if head[:4] in _ZIP_MAGICS:
        return "starts with a zip header (a torch.save archive or .npz)"
    return None


def check_file(path: Path, where: str | None = None) -> None:
    """Refuse ``path`` (FormatError, one line) if it is, or may be, a pickle."""
    where = where or str(path)
    if path.is_symlink():
        raise FormatError(f"{where}: is a symbolic link; bundles may not contain links")
    suffix = path.suffix.lower()
    if suffix in PICKLE_EXTENSIONS:
        raise FormatError(f"{where}: {suffix} is a pickle-capable file type; ganshot never loads pickles")
    if suffix == ".safetensors":
        check_safetensors(path, where)
        return
    with open(path, "rb") as handle:
        problem = _magic_problem(handle.read(4))
    if problem:
        raise FormatError(f"{where}: {problem}; ganshot never loads pickles")
    if suffix == ".onnx":
        check_onnx_self_contained(path, where)


def check_safetensors(path: Path, where: str | None = None) -> None:
    """Check that ``path`` is structurally a safetensors file (header + exact offsets)."""
    where = where or str(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise FormatError(f"{where}: not a safetensors file (shorter than its 8-byte header length)")
        (header_bytes,) = struct.unpack("<Q", head)
        if header_bytes > min(size - 8, MAX_SAFETENSORS_HEADER_BYTES):
            problem = _magic_problem(head) or f"header length {header_bytes} does not fit the file"
            raise FormatError(f"{where}: not a safetensors file ({problem})")
        raw = handle.read(header_bytes)
    try:
        header = loads_strict(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        problem = _magic_problem(head) or f"header is not JSON: {err}"
        raise FormatError(f"{where}: not a safetensors file ({problem})") from None
    if not isinstance(header, dict):
        raise FormatError(f"{where}: not a safetensors file (header is not a JSON object)")
    data_bytes = size - 8 - header_bytes
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise FormatError(f"{where}: safetensors __metadata__ must map strings to strings")
            continue
        try:
            itemsize = _ST_ITEMSIZE[entry["dtype"]]
            shape = entry["shape"]
            begin, end = entry["data_offsets"]
            ok = (
                all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
                and all(isinstance(o, int) and not isinstance(o, bool) for o in (begin, end))
                and 0 <= begin <= end <= data_bytes
                and end - begin == math.prod(shape) * itemsize
            )
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            raise FormatError(f"{where}: safetensors entry {name!r} has a bad dtype, shape or data_offsets")
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):  # tensors must tile the data exactly: no gaps, no overlaps
        if begin != position:
            raise FormatError(f"{where}: safetensors tensors overlap or leave a gap at byte {position}")
        position = end
    if position != data_bytes:
        raise FormatError(f"{where}: safetensors tensors cover {position} of {data_bytes} data bytes")


# Protobuf field numbers (onnx.proto) of the messages that can hold a TensorProto.
_CHILDREN = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "function": {7: "node", 11: "attribute"},
    "training": {1: "graph", 2: "graph"},
    "tensor": {},
}
_TENSOR_EXTERNAL_DATA = 13  # repeated StringStringEntryProto
_TENSOR_DATA_LOCATION = 14  # enum; 1 = EXTERNAL


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _external_tensor(buf, start: int, end: int) -> str | None:
    """Walk the ONNX message tree; return a description of the first external tensor."""
    stack = [("model", start, end, 0)]
    saw_graph = False
    while stack:
        kind, pos, stop, depth = stack.pop()
        if depth > MAX_PROTOBUF_DEPTH:
            raise ValueError("messages nested too deeply")
        children = _CHILDREN[kind]
        while pos < stop:
            key, pos = _varint(buf, pos, stop)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = _varint(buf, pos, stop)
                if kind == "tensor" and field == _TENSOR_DATA_LOCATION and value == 1:
                    return "a tensor with data_location EXTERNAL"
            elif wire == 1 or wire == 5:
                pos += 8 if wire == 1 else 4
            elif wire == 2:
                length, pos = _varint(buf, pos, stop)
                if pos + length > stop:
                    raise ValueError("field runs past its message")
                if kind == "tensor" and field == _TENSOR_EXTERNAL_DATA:
                    return "a tensor with external_data entries"
                saw_graph = saw_graph or (kind == "model" and field == 7)
                if field in children:
                    stack.append((children[field], pos, pos + length, depth + 1))
                pos += length
            else:
                raise ValueError(f"unsupported protobuf wire type {wire}")
            if pos > stop:
                raise ValueError("field runs past its message")
    if not saw_graph:
        raise ValueError("no graph")
    return None


def check_onnx_bytes(data, where: str) -> None:
    """Refuse ONNX bytes that are not protobuf or that reference external data."""
    if len(data) == 0:
        raise FormatError(f"{where}: ONNX file is empty")
    try:
        found = _external_tensor(data, 0, len(data))
    except ValueError as err:
        raise FormatError(f"{where}: not a valid ONNX file ({err})") from None
    if found:
        raise FormatError(f"{where}: ONNX model references external data ({found}); bundles must be self-contained")


def check_onnx_self_contained(path: Path, where: str | None = None) -> None:
    """:func:`check_onnx_bytes` on a file, memory-mapped."""
    where = where or str(path)
    if path.stat().st_size == 0:
        raise FormatError(f"{where}: ONNX file is empty")
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        with memoryview(mapped) as view:
            check_onnx_bytes(view, where)
