"""Strict JSON for ganshot's own files: finite numbers only, bounded size.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``1e999`` (→ inf) by default;
every ganshot format (model bundles, kits, manifests, run folders) refuses them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import FormatError

__all__ = ["loads_strict", "read_json_file"]


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {text} is not allowed")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"non-finite number {name} is not allowed")


def _unique_keys(pairs):
    data = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"duplicate key {key!r}")
        data[key] = value
    return data


def loads_strict(text: str | bytes):
    """``json.loads`` that raises ValueError on NaN/Infinity/overflowing numbers and duplicate keys."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)


def read_json_file(path: str | Path, max_bytes: int, what: str = "file", with_bytes: bool = False):
    """Read and strictly decode a JSON file; one-line FormatError naming ``path`` on any problem.

    With ``with_bytes`` returns ``(data, raw_bytes)`` so callers can hash exactly what they parsed.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FormatError(f"{path}: missing ({what})") from None
    if size > max_bytes:
        raise FormatError(f"{path}: larger than {max_bytes} bytes; refusing to parse it")
    raw = path.read_bytes()
    try:
        data = loads_strict(raw)
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not valid JSON (not UTF-8 text)") from None
    except RecursionError:
        raise FormatError(f"{path}: not valid JSON (nested too deeply)") from None
    except ValueError as err:
        raise FormatError(f"{path}: not valid JSON ({err})") from None
    return (data, raw) if with_bytes else data
