"""ganshot.bridges.osc — play and shape the engine over Open Sound Control (UDP).

Cheat sheet::

    from ganshot.bridges.osc import OscServer, parse_datagram, route, ADDRESSES

    with OscServer(engine, port=9000) as server:          # 127.0.0.1 unless allow_remote=True
        ...                                               # oscsend localhost 9000 /pad/trigger if 0 1.0
        server.counters()                                 # received, accepted, rejected, dropped, late, ...

    packet = parse_datagram(data)       # pure: bytes -> Message | Bundle, or OscError("reason")
    route(message, engine)              # pure: table look-up, coercion, one Engine command
    print(address_table_markdown())     # the README table, from the same ADDRESSES table

Modules: :mod:`.validate` (the OSC 1.0 wire format, checked in full before anything
acts; python-osc's parser is not used, see its docstring), :mod:`.addresses` (the
address table, coercion rules, ``route``, bundle timetags), :mod:`.fast_path` (the
flood's simple messages read and checked quickly, to the same result), :mod:`.dispatch`
(one pass over received datagrams: parse, timetags, knob coalescing, engine commands), :mod:`.server`
(socket, io and render threads, bounded buffers, counters, rate-limited ``/fail``),
:mod:`.net` (address resolution, allow-list, token bucket, the kernel's socket figures), :mod:`.render_cache` (the
bounded ``/render`` folder), :mod:`.cli` (the ``ganshot serve`` flags).
"""

from .addresses import (
    ADDRESSES, STATUS_FIELDS, RenderJob, Reply, RouteContext, address_table_markdown, route, schedule,
    status_json_reply, status_reply,
)
from .cli import add_osc_arguments, start_osc
from .render_cache import RenderCache
from .server import OscServer
from .validate import (
    IMMEDIATE, Bundle, Message, OscError, encode_message, flatten, ntp_to_unix, parse_datagram, unix_to_ntp,
)

__all__ = [
    "OscServer", "OscError", "Message", "Bundle", "parse_datagram", "flatten", "encode_message", "ntp_to_unix",
    "unix_to_ntp", "IMMEDIATE", "ADDRESSES", "STATUS_FIELDS", "Reply", "RenderJob", "RouteContext", "route",
    "schedule", "status_reply", "status_json_reply", "address_table_markdown", "RenderCache", "add_osc_arguments",
    "start_osc",
]
