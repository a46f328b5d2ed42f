"""The web control surface's server: one page, a small JSON API and an event stream, on the stdlib.

Cheat sheet::

    with WebServer(engine, osc_server, host="127.0.0.1", port=8080) as web:   # binds, starts threads
        web.url                          # http://127.0.0.1:8080/
        web.counters()                   # requests, commands, refused, sent, fails, events_dropped, ...

Routes (:data:`~.routes.ROUTES`, in :mod:`.routes` with the handler; anything else is 404, a known
path with another method 405)::

    GET  /                     the page (page.html: inline HTML, CSS and JS, nothing fetched elsewhere)
    GET  /api/state            pads (names, knobs, buffer digests), focus, ranges, map?, pins
    GET  /api/map              the timbre map's points (404 without one)
    GET  /api/status           the live status (engine, OSC and web counters)
    GET  /api/thumb/N.png      pad N's spectrogram thumbnail (?v=DIGEST: cached by the browser)
    GET  /events               Server-Sent Events: status (every tick), state (when it changed),
                               fail and reply (what the OSC server answered the page's commands)
    POST /api/command          {"address": "/pad/trigger", "args": [3, 1.0]} -> 202 {"sent": true},
                               or 400/403/411/413/415 {"error": "one line"}

Commands go out as OSC datagrams to the engine's own OSC server (:class:`~.link.OscLink`), so
what the page does is exactly what a patch does; the page's reads come from the engine's
thread-safe snapshots (:mod:`.state`). Threads: the HTTP accept loop, one thread per connection
(at most ``max_connections``; past that a connection gets 503 and is closed, so a flood cannot
grow threads), the OSC reply reader, and a ticker that publishes status and state changes every
``tick_s``. Each connection's socket has a timeout (:data:`SOCKET_TIMEOUT_S`), so a stalled
client frees its thread; an event stream ends within :data:`HEARTBEAT_S` of ``close()``.
Nothing here touches the audio thread or waits for a render.

Requests must name this server in ``Host`` (a DNS-rebinding page names its own) and a POST
must come from this page (``Origin``) with ``Content-Type: application/json`` (another site's
form cannot send that without the browser asking first, and this server never says yes).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from pathlib import Path

from ganshot.bridges._counters import Counters
from ganshot.bridges.osc.net import RateLimiter
from ganshot.engine.errors import UserInputError
from ganshot.engine.limits import check_int

from .link import LINK_COUNTERS, EventHub, OscLink
from .protocol import WebError, allowed_hosts, parse_command
from .routes import HEARTBEAT_S, ROUTES, SOCKET_TIMEOUT_S, HttpServer
from .state import DigestMemo, map_points, page_state, status_event
from .thumbs import ThumbCache

__all__ = ["WebServer", "ROUTES", "DEFAULT_HOST", "DEFAULT_PORT", "TICK_S", "HEARTBEAT_S", "SOCKET_TIMEOUT_S",
           "MAX_CONNECTIONS", "WEB_COUNTERS", "PAGE_PATH", "UNPINS"]

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
TICK_S = 0.5  # status and state-change events
MAX_CONNECTIONS = 32
WEB_COUNTERS = ("requests", "commands", "refused", "connections_refused", "errors") + LINK_COUNTERS
PAGE_PATH = Path(__file__).with_name("page.html")
#: a command -> whose pin it lifts (the pad's sound no longer comes from its map position):
#: "pad" its own pad's (args[0]), "all" every pad's
UNPINS = {"/pad/z": "pad", "/pad/dim": "pad", "/pad/random": "pad", "/pad/morph": "pad", "/pad/match": "pad",
          "/pad/class": "pad", "/kit/load": "all", "/model/load": "all", "/map/load": "all"}

log = logging.getLogger(__name__)


class WebServer:
    """Serve the control page for ``engine`` on ``host``:``port``, sending commands to ``osc``
    (a started :class:`~ganshot.bridges.osc.server.OscServer`) over UDP.

    A non-loopback ``host`` needs ``allow_remote=True``; ``allow`` (CIDR strings) then limits
    who may connect (loopback always may; empty: anyone), as OSC's ``--osc-allow``.
    """

    def __init__(self, engine, osc, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 allow_remote: bool = False, allow=(), tick_s: float = TICK_S,
                 max_connections: int = MAX_CONNECTIONS):
        check_int(port, "web port", 0, 65535)
        check_int(max_connections, "web max_connections", 1, 4096)
        try:
            self.allow = tuple(ipaddress.ip_network(net, strict=False) for net in allow)
        except ValueError as err:
            raise UserInputError(f"--web-allow: {err}") from None
        family, address = _resolve(host, port, socket.SOCK_STREAM, "web")
        self.remote = not ipaddress.ip_address(address[0].split("%")[0]).is_loopback
        if self.remote and not allow_remote:
            raise UserInputError(f"web host {host} is not a loopback address; binding it needs --web-remote "
                                 "(and ideally --web-allow CIDR)")
        self.engine, self.osc, self.host, self.tick_s = engine, osc, host, float(tick_s)
        self._counters = Counters(WEB_COUNTERS)
        self.hub = EventHub(self._counters)
        osc_family, osc_target = _resolve(_loopback_for(osc.host), osc.port, socket.SOCK_DGRAM, "OSC")
        self.link = OscLink(osc_family, osc_target, self._counters, on_reply=self.hub.publish)
        self.thumbs = ThumbCache(engine.sample_rate)
        self.page = PAGE_PATH.read_bytes()
        self._state_lock = threading.Lock()  # the digest memo and the pins
        self._memo, self._pins = DigestMemo(), {}
        self._stopping = threading.Event()
        self._ticker: threading.Thread | None = None
        self._serving: threading.Thread | None = None
        self._log_limiter = RateLimiter(2.0, 20)
        try:
            self.httpd = HttpServer(family, address, self, max_connections)
        except OSError as err:
            self.link.close()
            raise UserInputError(f"cannot serve the web page on {host}:{port}: {err.strerror or err} "
                                 "(pick another --web-port)") from None
        self.port = self.httpd.server_address[1]
        self.hosts = allowed_hosts(host, self.port)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}/"

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> "WebServer":
        if self._serving is not None:
            return self
        self.link.start()
        self._ticker = threading.Thread(target=self._tick_loop, name="ganshot-web-tick", daemon=True)
        self._serving = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                         name="ganshot-web-http", daemon=True)
        self._ticker.start()
        self._serving.start()
        return self

    def close(self, timeout: float = 3.0) -> None:
        """Stop serving (open event streams end within HEARTBEAT_S), close the sockets. Idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._serving is not None:
            self.httpd.shutdown()
            self._serving.join(timeout)
        self.httpd.server_close()
        if self._ticker is not None:
            self._ticker.join(timeout)
        self.link.close()

    def __enter__(self) -> "WebServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def counters(self) -> dict:
        return self._counters.snapshot()

    def count(self, name: str) -> None:
        self._counters.add(name)

    # -- what the routes do ----------------------------------------------------------------
    def state(self) -> dict:
        with self._state_lock:
            return page_state(self.engine, self._memo, self._pins)

    def status(self) -> dict:
        return status_event(self.engine.status(), self.osc.counters(), self.counters())

    def command(self, body: bytes) -> None:
        """Check one JSON command and send it to the OSC server; WebError when refused."""
        message = parse_command(body)
        if not self.link.send(message):
            raise WebError(503, "the OSC socket is full; the command was dropped")
        self._counters.add("commands")
        self._pin(message)

    def _pin(self, message) -> None:
        """Keep where the page put each pad on the timbre map (the pins it draws)."""
        with self._state_lock:
            if message.address == "/pad/xy" and self.engine.timbre_map is not None:
                self._pins[int(message.args[0])] = (float(message.args[1]), float(message.args[2]))
            elif UNPINS.get(message.address) == "pad" and message.args:
                self._pins.pop(int(message.args[0]), None)
            elif UNPINS.get(message.address) == "all":
                self._pins.clear()

    def thumbnail(self, pad: int) -> tuple[str, bytes]:
        kit, buffers = self.engine.pads_snapshot()
        if not 0 <= pad < len(buffers):
            raise WebError(404, f"no pad {pad} in the kit ({len(buffers)} pads)")
        return self.thumbs.png(buffers[pad])

    def map_points(self) -> dict | None:
        return map_points(self.engine.timbre_map, self.engine.bundle.classes)

    def _tick_loop(self) -> None:
        last_state = None
        while not self._stopping.wait(self.tick_s):
            if not self.hub.subscribers:
                last_state = None  # the next page to open gets the state at once
                continue
            try:
                self.hub.publish("status", self.status())
                state = self.state()
                if state != last_state:
                    self.hub.publish("state", state)
                    last_state = state
            except Exception as err:  # e.g. a model swap mid-snapshot: the next tick tries again
                self.log_error("web status", err)

    def log_error(self, what: str, err: Exception) -> None:
        self._counters.add("errors")
        if self._log_limiter.allow():
            log.warning("%s: %s", what, f"{type(err).__name__}: {err}", exc_info=err)

    def __repr__(self) -> str:
        return f"WebServer(url={self.url!r}, osc={self.link.target!r})"


def _loopback_for(host: str) -> str:
    """Where this machine reaches a server bound to ``host`` (a wildcard bind: loopback)."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def _resolve(host: str, port: int, kind: int, what: str):
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=kind)[0]
    except (socket.gaierror, UnicodeError) as err:
        raise UserInputError(f"{what} host {host!r:.80}: {err}") from None
    return family, address
