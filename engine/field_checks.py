"""Field checkers for JSON-like files: each one reads a field, and refuses it in one line naming it.

Cheat sheet::

    from ganshot.engine.field_checks import check_keys, check_int, check_field_number, check_str
    data = check_keys(data, ("name", "gain_db"), "pads[3]", "kits/a.json")          # unknown keys refused
    gain = check_field_number(data, "gain_db", "pads[3]", "kits/a.json", -60, 12, 0.0)
    # FormatError: kits/a.json: pads[3].gain_db must be a number in [-60, 12], got 99
    name = check_str(data, "name", "pads[3]", "kits/a.json", 64, default="")        # one line of text
    note = check_int(data, "note", "pads[3]", "kits/a.json", 0, 127)               # required: no default
    z = check_numbers(data["z"], "pads[3].z", "kits/a.json", -1000, 1000, 512, min_len=1)

Every checker takes ``where`` (the file, or what is being edited) and ``path`` (the field's
place in it, ``""`` at the top level) and raises ``error`` (:class:`FormatError` for files,
:class:`UserInputError` for live edits) with one line: ``{where}: {path}.{key} must be ...``.
A ``default`` of :data:`MISSING` makes the field required. bool is never a number, NaN and
infinities are refused (the one range check is :mod:`.limits`'s ``check_int``/``check_float``).
The kit format (:mod:`.kit_schema`, :mod:`.kit`) and the MIDI kit sets read their files with
these, so every file names a bad field the same way.
"""

from __future__ import annotations

from .errors import FormatError
from .limits import check_float
from .limits import check_int as _check_int

__all__ = [
    "MISSING", "get_field", "check_keys", "check_int", "check_number", "check_field_number", "check_bool",
    "check_str", "check_numbers",
]

#: The ``default`` that makes a field required.
MISSING = object()


def check_keys(obj, allowed, path: str, where: str, error=FormatError) -> dict:
    """``obj`` must be a JSON object whose keys are all in ``allowed``."""
    if not isinstance(obj, dict):
        raise error(f"{where}: {path} must be an object, got {_type_name(obj)}")
    for key in obj:
        if key not in allowed:
            raise error(f"{where}: {path} has an unknown key {key!r:.60} (allowed: {', '.join(allowed)})")
    return obj


def _type_name(value) -> str:
    return {bool: "true/false", type(None): "null", dict: "an object", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


def get_field(obj: dict, key: str, path: str, where: str, default, error):
    """``obj[key]``, else ``default``; ``error`` naming the field if it is missing and required."""
    if key in obj:
        return obj[key]
    if default is MISSING:
        raise error(f"{where}: {path} is missing field {key!r}")
    return default


def check_int(obj, key, path, where, low, high, default=MISSING, error=FormatError) -> int:
    """``obj[key]``: an integer (bool is not one) in [low, high]."""
    value = get_field(obj, key, path, where, default, error)
    return _check_int(value, f"{where}: {path}.{key}" if path else f"{where}: {key}", low, high, error)


def check_number(value, field, where, low, high, error=FormatError) -> float:
    """A finite int or float (bool is not one) in [low, high], returned as float."""
    return check_float(value, f"{where}: {field}", low, high, error)


def check_field_number(obj, key, path, where, low, high, default=MISSING, error=FormatError) -> float:
    """``obj[key]``: a number in [low, high] (as :func:`check_number`), returned as float."""
    value = get_field(obj, key, path, where, default, error)
    return check_number(value, f"{path}.{key}" if path else key, where, low, high, error)


def check_bool(obj, key, path, where, default=MISSING, error=FormatError) -> bool:
    """``obj[key]``: true or false (not 0/1, not a string)."""
    value = get_field(obj, key, path, where, default, error)
    if not isinstance(value, bool):
        field = f"{path}.{key}" if path else key
        raise error(f"{where}: {field} must be true or false, got {_type_name(value)}")
    return value


def check_str(obj, key, path, where, max_len, default=MISSING, error=FormatError, nonempty=False) -> str:
    """One line of text: no control characters, at most ``max_len`` characters."""
    value = get_field(obj, key, path, where, default, error)
    field = f"{path}.{key}" if path else key
    if not isinstance(value, str):
        raise error(f"{where}: {field} must be a string, got {_type_name(value)}")
    if len(value) > max_len or (nonempty and not value.strip()):
        size = f"1 to {max_len}" if nonempty else f"at most {max_len}"
        raise error(f"{where}: {field} must be {size} characters, got {len(value)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise error(f"{where}: {field} must be one line without control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a "\ud800" escape
        raise error(f"{where}: {field} is not valid Unicode text (lone surrogate)") from None
    return value


def check_numbers(value, field, where, low, high, max_len, error=FormatError, min_len=0) -> tuple[float, ...]:
    """A list of ``min_len..max_len`` numbers, each checked with :func:`check_number`."""
    if not isinstance(value, (list, tuple)):
        raise error(f"{where}: {field} must be a list of numbers, got {_type_name(value)}")
    if not min_len <= len(value) <= max_len:
        raise error(f"{where}: {field} must hold {min_len} to {max_len} values, got {len(value)}")
    return tuple(check_number(v, f"{field}[{i}]", where, low, high, error) for i, v in enumerate(value))
