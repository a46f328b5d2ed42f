"""OSC 1.0 wire format, pure: bytes -> :class:`Message` | :class:`Bundle`, or :class:`OscError`.

Cheat sheet::

    packet = parse_datagram(data)              # raises OscError("reason") on anything malformed
    fast = FastParser([("/pad/trigger", "if")])
    fast.parse(data)                           # the same Message for that exact layout, else None
    for timetag, message in flatten(packet):   # messages in order, with their bundle's timetag
        message.address, message.tags, message.args
    ntp_to_unix(timetag)                       # NTP 32.32 fixed point -> time.time() seconds
    encode_message("/fail", "ss", ("/x", "why"))   # -> bytes (replies)

This is a complete OSC 1.0 parser of its own, not python-osc's: python-osc 1.10.2 loops
forever on a negative bundle element size, raises UnicodeDecodeError and RecursionError
on hostile input and sleeps until timetags (see FIELD_NOTES.md). Every datagram is
checked here, in one pass, before anything acts on it:

- length 1..``max_bytes`` (64 KiB) and a multiple of 4; at most :data:`MAX_MESSAGES` messages;
- strings (address, type tags, ``s``/``S`` arguments) NUL-terminated, UTF-8, padded with
  NUL bytes to a multiple of 4; addresses printable ASCII starting with ``/``;
- a type tag string starting with ``,`` (OSC 1.0's optional-type-tag fallback is refused);
  tags from :data:`ARG_TAGS` only (arrays ``[ ]`` are refused: no address takes them);
- blob sizes and bundle element sizes non-negative, multiples of 4 where required, and
  inside the datagram; no bytes left over after the last argument or element;
- bundles nested at most ``max_depth`` deep (recursion is bounded by that, never by input).

The parser never loops on a count taken from the input without consuming bytes, so its
run time is linear in the datagram's length. python-osc is not used at run time.

:class:`FastParser` is the flood path: it knows the exact bytes of a few simple messages
(address and type tags of ints and floats, e.g. ``/pad/knob ,iif``) and reads only a datagram
that is exactly that header followed by the arguments. Such a datagram passes every check
above by construction (the header is written by :func:`encode_message`'s padding, the
length is exact, 4- and 8-byte numbers always decode), so it gets the very Message
:func:`parse_datagram` would return; anything else, however close, goes to the full parser.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

__all__ = [
    "OscError", "Message", "Bundle", "parse_datagram", "FastParser", "flatten", "peek_address", "encode_message",
    "ntp_to_unix", "unix_to_ntp", "IMMEDIATE", "ARG_TAGS", "MAX_DATAGRAM_BYTES", "MAX_BUNDLE_DEPTH",
    "MAX_MESSAGES", "MAX_ADDRESS_CHARS", "NTP_UNIX_OFFSET_S",
]

MAX_DATAGRAM_BYTES = 64 * 1024
MAX_BUNDLE_DEPTH = 8  # a bundle inside a bundle inside ... at most this many levels
MAX_MESSAGES = 1024  # messages in one datagram, all bundles together
MAX_ADDRESS_CHARS = 256
NTP_UNIX_OFFSET_S = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
IMMEDIATE = 1  # the timetag meaning "now"
#: Argument type tags understood: OSC 1.0 required (ifsb) and its common extensions.
ARG_TAGS = "ifsbhdtScrmTFNI"
BUNDLE_HEADER = b"#bundle\x00"

_FIXED = {"i": (4, ">i"), "f": (4, ">f"), "h": (8, ">q"), "d": (8, ">d"), "t": (8, ">Q"), "r": (4, ">I"),
          "c": (4, ">i")}  # tag -> (bytes, struct format)
_NO_DATA = {"T": True, "F": False, "N": None, "I": math.inf}


class OscError(ValueError):
    """A datagram or message is refused; ``str(err)`` is the one-line reason sent in ``/fail``."""


@dataclass(frozen=True)
class Message:
    """One OSC message: ``address`` (e.g. ``/pad/trigger``), ``tags`` (e.g. ``"if"``, no comma), ``args``."""

    address: str
    tags: str
    args: tuple


@dataclass(frozen=True)
class Bundle:
    """A bundle: ``timetag`` (NTP 32.32, :data:`IMMEDIATE` = now) and its elements in order."""

    timetag: int
    elements: tuple


def _read_string(data: bytes, pos: int, end: int, what: str) -> tuple[str, int]:
    nul = data.find(b"\x00", pos, end)
    if nul < 0:
        raise OscError(f"{what} is not NUL-terminated")
    after = (nul + 4) & ~3
    if after > end:
        raise OscError(f"{what} padding runs past the end")
    if any(data[nul + 1:after]):
        raise OscError(f"{what} is padded with non-NUL bytes")
    try:
        return data[pos:nul].decode("utf-8"), after
    except UnicodeDecodeError:
        raise OscError(f"{what} is not valid UTF-8") from None


def _check_address(address: str) -> None:
    if not address.startswith("/"):
        raise OscError("address must start with '/'")
    if len(address) > MAX_ADDRESS_CHARS:
        raise OscError(f"address is longer than {MAX_ADDRESS_CHARS} characters")
    if not all("!" <= ch <= "~" for ch in address):
        raise OscError("address must be printable ASCII without spaces")


def _read_arg(data: bytes, pos: int, end: int, tag: str, index: int):
    if tag in _NO_DATA:
        return _NO_DATA[tag], pos
    if tag in _FIXED:
        size, fmt = _FIXED[tag]
        if pos + size > end:
            raise OscError(f"argument {index} ({tag}) is truncated")
        (value,) = struct.unpack_from(fmt, data, pos)
        if tag == "c":
            if not 0 <= value <= 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                raise OscError(f"argument {index} (c) is not a character code")
            value = chr(value)
        return value, pos + size
    if tag in "sS":
        return _read_string(data, pos, end, f"argument {index} ({tag})")
    if tag == "m":
        if pos + 4 > end:
            raise OscError(f"argument {index} (m) is truncated")
        return data[pos:pos + 4], pos + 4
    if tag == "b":
        if pos + 4 > end:
            raise OscError(f"argument {index} (b) size is truncated")
        (size,) = struct.unpack_from(">i", data, pos)
        if size < 0:
            raise OscError(f"argument {index} (b) has a negative blob size {size}")
        start, stop = pos + 4, pos + 4 + size
        after = (stop + 3) & ~3
        if after > end:
            raise OscError(f"argument {index} (b) blob size {size} runs past the end")
        if any(data[stop:after]):
            raise OscError(f"argument {index} (b) is padded with non-NUL bytes")
        return data[start:stop], after
    if tag in "[]":
        raise OscError("array type tags '[' ']' are not supported")
    raise OscError(f"unknown type tag {tag!r:.12}")


def _parse_message(data: bytes, start: int, end: int) -> Message:
    address, pos = _read_string(data, start, end, "address")
    _check_address(address)
    if pos >= end or data[pos] != ord(","):
        raise OscError("missing type tag string (no ',' after the address)")
    tags, pos = _read_string(data, pos, end, "type tag string")
    tags = tags[1:]
    args = []
    for index, tag in enumerate(tags):
        value, pos = _read_arg(data, pos, end, tag, index)
        args.append(value)
    if pos != end:
        raise OscError(f"{end - pos} bytes left after the last argument (type tags say {len(tags)} arguments)")
    return Message(address, tags, tuple(args))


def _parse_bundle(data: bytes, start: int, end: int, depth: int, max_depth: int, count: list) -> Bundle:
    if depth > max_depth:
        raise OscError(f"bundles nested deeper than {max_depth} levels")
    if data[start:start + 8] != BUNDLE_HEADER:
        raise OscError("starts with '#' but is not a '#bundle'")
    if end - start < 16:
        raise OscError("bundle is truncated (no timetag)")
    (timetag,) = struct.unpack_from(">Q", data, start + 8)
    elements, pos = [], start + 16
    while pos < end:
        if end - pos < 4:
            raise OscError("bundle element size is truncated")
        (size,) = struct.unpack_from(">i", data, pos)
        if size < 0:
            raise OscError(f"negative bundle element size {size}")
        if size == 0:
            raise OscError("empty bundle element (size 0)")
        if size % 4:
            raise OscError(f"bundle element size {size} is not a multiple of 4")
        if pos + 4 + size > end:
            raise OscError(f"bundle element size {size} runs past the end ({end - pos - 4} bytes left)")
        elements.append(_parse_packet(data, pos + 4, pos + 4 + size, depth + 1, max_depth, count))
        pos += 4 + size  # always advances: size >= 4
    return Bundle(timetag, tuple(elements))


def _parse_packet(data: bytes, start: int, end: int, depth: int, max_depth: int, count: list):
    first = data[start]
    if first == ord("/"):
        count[0] += 1
        if count[0] > MAX_MESSAGES:
            raise OscError(f"more than {MAX_MESSAGES} messages in one datagram")
        return _parse_message(data, start, end)
    if first == ord("#"):
        return _parse_bundle(data, start, end, depth, max_depth, count)
    raise OscError("neither a message (starts with '/') nor a bundle ('#bundle')")


def parse_datagram(data, max_bytes: int = MAX_DATAGRAM_BYTES, max_depth: int = MAX_BUNDLE_DEPTH):
    """Parse one UDP datagram (bytes-like) into a :class:`Message` or :class:`Bundle`.

    Raises :class:`OscError` with a one-line reason for anything malformed; never
    raises anything else for bytes input, and runs in time linear in ``len(data)``.
    """
    data = bytes(data)
    if not data:
        raise OscError("empty datagram")
    if len(data) > max_bytes:
        raise OscError(f"datagram of {len(data)} bytes is over the {max_bytes}-byte limit")
    if len(data) % 4:
        raise OscError(f"datagram length {len(data)} is not a multiple of 4 (misaligned)")
    return _parse_packet(data, 0, len(data), 1, max_depth, [0])


class FastParser:
    """Exact-layout reader for simple messages: ``parse(data)`` -> the :class:`Message` that
    :func:`parse_datagram` would return, or None (not one of the layouts: use the full parser).

    ``layouts``: (address, tags) pairs, tags from ``ifhd`` (fixed-size numbers only).
    """

    def __init__(self, layouts):
        self._by_size: dict[int, list] = {}
        for address, tags in layouts:
            _check_address(address)
            if any(tag not in "ifhd" for tag in tags):
                raise ValueError(f"FastParser reads fixed-size numbers only (ifhd), not {tags!r}")
            head = _pad_string(address) + _pad_string("," + tags)
            numbers = struct.Struct(">" + "".join(_FIXED[tag][1][1] for tag in tags))
            self._by_size.setdefault(len(head) + numbers.size, []).append((head, numbers, address, tags))

    def parse(self, data: bytes) -> Message | None:
        for head, numbers, address, tags in self._by_size.get(len(data), ()):
            if data.startswith(head):
                return Message(address, tags, numbers.unpack_from(data, len(head)))
        return None

    def __repr__(self) -> str:
        return f"FastParser({sum(len(v) for v in self._by_size.values())} layouts)"


def flatten(packet, timetag: int = IMMEDIATE) -> list[tuple[int, Message]]:
    """``[(timetag, message), ...]`` in datagram order; a message takes its innermost bundle's timetag."""
    if isinstance(packet, Message):
        return [(timetag, packet)]
    out = []
    for element in packet.elements:
        out.extend(flatten(element, packet.timetag))
    return out


def peek_address(data) -> str:
    """The address a (possibly malformed) datagram starts with, for ``/fail``; ``""`` when unreadable."""
    data = bytes(data[:MAX_ADDRESS_CHARS + 4])
    if data.startswith(BUNDLE_HEADER):
        return "#bundle"
    nul = data.find(b"\x00")
    if not data.startswith(b"/") or nul < 0:
        return ""
    head = data[:nul]
    return head.decode("ascii") if all(0x21 <= b <= 0x7E for b in head) else ""


def ntp_to_unix(timetag: int) -> float:
    """An NTP 32.32 fixed-point timetag as Unix seconds (``time.time()`` scale)."""
    return (timetag >> 32) - NTP_UNIX_OFFSET_S + (timetag & 0xFFFFFFFF) / 2**32


def unix_to_ntp(unix_s: float) -> int:
    """Unix seconds as an NTP 32.32 timetag (the inverse of :func:`ntp_to_unix`, to 1/2**32 s)."""
    seconds = math.floor(unix_s)
    fraction = int(round((unix_s - seconds) * 2**32))
    return ((int(seconds) + NTP_UNIX_OFFSET_S) << 32) + fraction


def _pad_string(text: str) -> bytes:
    raw = text.encode("utf-8") + b"\x00"
    return raw + b"\x00" * (-len(raw) % 4)


def encode_message(address: str, tags: str, args) -> bytes:
    """Encode one message; ``tags`` from ``ifhdsS``, one per arg (replies use no other types)."""
    if len(tags) != len(args):
        raise ValueError(f"{len(tags)} type tags for {len(args)} arguments")
    parts = [_pad_string(address), _pad_string("," + tags)]
    for tag, value in zip(tags, args):
        if tag in "sS":
            parts.append(_pad_string(str(value)))
        elif tag in "ifhd":
            parts.append(struct.pack(_FIXED[tag][1], value))
        else:
            raise ValueError(f"encode_message does not write type tag {tag!r}")
    return b"".join(parts)
