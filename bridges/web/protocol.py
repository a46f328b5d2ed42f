"""The web page's wire format, pure: JSON command -> OSC message, OSC reply -> SSE event, request checks.

Cheat sheet::

    message = parse_command(b'{"address": "/pad/trigger", "args": [3, 1.0]}')
    message.address, message.tags, message.args      # "/pad/trigger", "if", (3, 1.0)
    datagram = encode_command(message)               # the bytes the OSC server reads
    check_host("127.0.0.1:8080", allowed_hosts("127.0.0.1", 8080))   # WebError(403, why) when not
    check_origin("http://127.0.0.1:8080", "127.0.0.1:8080")
    name, data = reply_event(parse_datagram(reply))  # ("fail", {...}) for /fail, ("reply", {...}) else
    sse_message("status", {"voices": 2})              # b"event: status\\ndata: {...}\\n\\n"

A command is one JSON object ``{"address": "/pad/knob", "args": [0, 2, 0.5]}`` (``args`` may be
left out when the address takes none). JSON values become OSC arguments the way a patch would
send them: an integer -> ``i`` (``h`` past 32 bits), a number with a point or exponent -> ``f``
(``d`` past float32's range, which the range check then refuses), a string -> ``s``. ``true``,
``false``, ``null``, lists and objects are refused: no address takes them. The message is then
checked against the OSC address table itself (:func:`~ganshot.bridges.osc.addresses.coerce`: the
count, types and ranges, with OSC's own one-line reasons), so the page hears at once what a
patch would get back as ``/fail``; what only the engine can judge (a pad past the kit's last)
comes back later, as the OSC server's ``/fail``.

Every refusal raises :class:`WebError` (an HTTP status and a one-line reason).
"""

from __future__ import annotations

import json
import math
import struct

from ganshot.bridges.osc.addresses import ADDRESSES, MAX_INT32, coerce
from ganshot.bridges.osc.validate import MAX_DATAGRAM_BYTES, Message, OscError, encode_message
from ganshot.engine.strict_json import loads_strict

__all__ = ["WebError", "parse_command", "encode_command", "reply_event", "sse_message", "allowed_hosts",
           "check_host", "check_origin", "MAX_BODY_BYTES", "MAX_INT64", "FLOAT32_MAX", "JSON_TYPE"]

MAX_BODY_BYTES = 128 * 1024  # a /pad/z of MAX_LATENT_DIM floats written out in JSON fits
MAX_INT64 = 2**63 - 1
FLOAT32_MAX = float(struct.unpack(">f", b"\x7f\x7f\xff\xff")[0])
JSON_TYPE = "application/json"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class WebError(ValueError):
    """A refused request: ``status`` (HTTP) and ``str(err)``, the one-line reason sent back."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def _tag(value, index: int) -> str:
    """The OSC type tag of one JSON argument, or WebError naming it."""
    if isinstance(value, bool) or value is None:  # bool is an int to Python; no address takes one
        raise WebError(400, f"args[{index}] must be a number or a string, got {json.dumps(value)}")
    if isinstance(value, int):
        if -MAX_INT32 - 1 <= value <= MAX_INT32:
            return "i"
        if -MAX_INT64 - 1 <= value <= MAX_INT64:
            return "h"
        raise WebError(400, f"args[{index}] is outside 64-bit integers")
    if isinstance(value, float):
        return "f" if abs(value) <= FLOAT32_MAX else "d"
    if isinstance(value, str):
        return "s"
    raise WebError(400, f"args[{index}] must be a number or a string, got a {type(value).__name__}")


def parse_command(body: bytes, max_bytes: int = MAX_BODY_BYTES) -> Message:
    """One JSON command (bytes) -> a checked OSC :class:`Message`; WebError (400 or 413) with the reason."""
    if len(body) > max_bytes:
        raise WebError(413, f"request body is larger than {max_bytes} bytes")
    try:
        data = loads_strict(body)
    except UnicodeDecodeError:
        raise WebError(400, "request body is not UTF-8") from None
    except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
        raise WebError(400, f"malformed JSON: {str(err)[:120]}") from None
    if not isinstance(data, dict):
        raise WebError(400, 'a command is a JSON object {"address": "/...", "args": [...]}')
    unknown = sorted(set(data) - {"address", "args"})
    if unknown:
        raise WebError(400, f"unknown key {unknown[0]!r:.40} (a command has address and args)")
    address, args = data.get("address"), data.get("args", [])
    if not isinstance(address, str):
        raise WebError(400, "address must be a string such as /pad/trigger")
    spec = ADDRESSES.get(address)
    if spec is None:
        raise WebError(400, f"unknown address {address!r:.80}")
    if not isinstance(args, list):
        raise WebError(400, "args must be a list")
    tags = "".join(_tag(value, i) for i, value in enumerate(args))
    message = Message(address, tags, tuple(args))
    try:
        coerce(spec, message)  # the OSC table's own count, type and range checks, and reasons
    except OscError as err:
        raise WebError(400, str(err)) from None
    if len(encode_command(message)) > MAX_DATAGRAM_BYTES:
        raise WebError(413, f"the command is larger than one OSC datagram ({MAX_DATAGRAM_BYTES} bytes)")
    return message


def encode_command(message: Message) -> bytes:
    """The OSC datagram of a :func:`parse_command` result."""
    return encode_message(message.address, message.tags, message.args)


def _plain(value):
    """An OSC argument as JSON can carry it (non-finite floats as null, bytes as their length)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def reply_event(message: Message) -> tuple[str, dict]:
    """An OSC reply from the server as ``(SSE event name, JSON-able data)``: ``/fail`` ->
    ``("fail", {"address", "reason"})``, anything else (``/matched``, ``/model/loaded``,
    ``/rendered``, ...) -> ``("reply", {"address", "args"})``."""
    args = [_plain(a) for a in message.args]
    if message.address == "/fail" and len(args) == 2:
        return "fail", {"address": str(args[0]), "reason": str(args[1])}
    return "reply", {"address": message.address, "args": args}


def sse_message(event: str, data) -> bytes:
    """One Server-Sent Events message: ``event:`` and one ``data:`` line of compact JSON."""
    if not event or any(c in event for c in "\r\n:"):
        raise ValueError(f"bad SSE event name {event!r:.40}")
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)  # no newline inside: one data line
    return f"event: {event}\ndata: {text}\n\n".encode()


def allowed_hosts(host: str, port: int) -> frozenset | None:
    """The ``Host`` header values the server answers: the bound host (and, on loopback, its usual
    names) with the port; None for a wildcard bind (0.0.0.0, ::), whose names are unknown."""
    host = host.strip().lower()
    if host in ("0.0.0.0", "::", ""):
        return None
    names = {f"[{host}]" if ":" in host and not host.startswith("[") else host}
    if host in ("127.0.0.1", "localhost", "::1"):
        names.update(_LOOPBACK_NAMES)
    return frozenset({f"{name}:{port}" for name in names} | (names if port == 80 else set()))


def check_host(host_header: str | None, allowed: frozenset | None) -> None:
    """Refuse a ``Host`` header that is not this server's (a DNS-rebinding page names its own
    host); ``allowed`` None (a wildcard bind) accepts any."""
    if allowed is None:
        return
    if not host_header or host_header.strip().lower() not in allowed:
        raise WebError(403, f"Host {str(host_header)!r:.80} is not this server's; open the address serve printed")


def check_origin(origin: str | None, host_header: str | None) -> None:
    """Refuse a request another site's page made (its ``Origin`` is not this server): a page the
    user visits elsewhere must not play or save kits through the browser. No Origin: not a browser
    page's cross-site request (curl, the same page's GET)."""
    if origin is None:
        return
    if origin.strip().lower() != f"http://{str(host_header).strip().lower()}":
        raise WebError(403, f"Origin {origin!r:.80} is not this page; commands come from the page serve prints")
