"""ganshot.bridges.web — a control page in the browser for ``ganshot serve --web``.

Cheat sheet::

    from ganshot.bridges.web import WebServer, parse_command

    with WebServer(engine, osc_server, port=8080) as web:    # 127.0.0.1 unless allow_remote=True
        print(web.url)                                       # http://127.0.0.1:8080/
        web.counters()                                       # requests, commands, refused, sent, fails, ...

    message = parse_command(b'{"address": "/pad/trigger", "args": [3, 1.0]}')   # pure: JSON -> OSC Message

One page (``page.html``: inline HTML, CSS and JS, no build step, nothing fetched from elsewhere):
16 pads (click, or keys 1-4 Q-R A-F Z-V), the focused pad's 8 direction knobs, its gain, pan and
pitch, morph, the timbre map on a canvas (drag a pad's pin: ``/pad/xy``), a spectrogram
thumbnail of each pad's current buffer, and the live status. The page POSTs JSON commands;
the server checks them against the OSC address table and sends them as OSC datagrams to the
engine's own OSC server, so the page is one more OSC peer; the OSC server's answers and the
engine's counters come back over Server-Sent Events.

Modules: :mod:`.protocol` (pure: JSON -> OSC message, replies -> events, Host/Origin checks),
:mod:`.link` (the UDP peer of the OSC server, the event fan-out), :mod:`.state` (what the page
shows, from the engine's snapshots), :mod:`.thumbs` (spectrogram PNGs), :mod:`.routes` (the route
table, the request handler, the bounded HTTP server), :mod:`.server` (the threads, start and
stop), :mod:`.cli` (the ``ganshot serve`` flags). ``WebServer`` is imported on
first use: building the ``ganshot`` parser does not load numpy.
"""

from .cli import add_web_arguments, start_web
from .protocol import WebError, encode_command, parse_command, reply_event, sse_message

__all__ = ["WebServer", "WebError", "parse_command", "encode_command", "reply_event", "sse_message",
           "add_web_arguments", "start_web"]


def __getattr__(name: str):
    if name == "WebServer":
        from .server import WebServer

        return WebServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
