"""The web page's HTTP layer: the route table, the request handler, the bounded threading server.

Cheat sheet::

    httpd = HttpServer(socket.AF_INET, ("127.0.0.1", 0), app, max_connections=32)   # app: a WebServer
    ROUTES[("POST", "/api/command")]          # route(handler, app); /api/thumb/N.png matched by THUMB

Every route is a function of the handler (which writes the answer) and the app (the
:class:`~.server.WebServer`, which does the work), listed in :data:`ROUTES`. A refusal is a
:class:`~.protocol.WebError` raised anywhere below a route, answered with its status and
``{"error": "one line"}``; anything else is a 500 with the exception's type, logged (rate-limited),
and the server answers on. A POST refused before its body was read closes its connection (the
body would otherwise be read as the next request).
"""

from __future__ import annotations

import json
import queue
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ganshot.bridges.osc.net import is_allowed

from .protocol import JSON_TYPE, MAX_BODY_BYTES, WebError, check_host, check_origin, sse_message

__all__ = ["HttpServer", "ROUTES", "THUMB", "PAGE_POLICY", "HEARTBEAT_S", "SOCKET_TIMEOUT_S"]

HEARTBEAT_S = 1.0  # an idle event stream writes a comment this often (a closed page is noticed)
SOCKET_TIMEOUT_S = 15.0
#: the page may load nothing from elsewhere: its own inline script and style, images from this server
PAGE_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'")
THUMB = re.compile(r"/api/thumb/(\d{1,3})\.png")


class HttpServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a bound on connection threads and the sender allow-list."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, family: int, address, app, max_connections: int):
        self.address_family, self.app = family, app
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, _Handler)

    def verify_request(self, request, client_address) -> bool:
        if is_allowed(client_address[0], self.app.allow):
            return True
        self.app.count("connections_refused")
        return False

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):  # every thread busy: refuse now, never queue
            self.app.count("connections_refused")
            try:
                request.settimeout(0.5)
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


# -- the routes ------------------------------------------------------------------------------

def _page(handler, app) -> None:
    handler.send_body(200, app.page, "text/html; charset=utf-8", cache="no-cache",
                      extra={"Content-Security-Policy": PAGE_POLICY})


def _no_icon(handler, app) -> None:
    handler.send_body(204, b"", "image/x-icon", cache="max-age=86400")  # the browser asks; not a refusal


def _state(handler, app) -> None:
    handler.send_json(200, app.state())


def _status(handler, app) -> None:
    handler.send_json(200, app.status())


def _map(handler, app) -> None:
    points = app.map_points()
    if points is None:
        raise WebError(404, "no timbre map loaded (serve --map DIR, or /map/load)")
    handler.send_json(200, points)


def _thumb(handler, app, pad: int) -> None:
    digest, png = app.thumbnail(pad)
    asked = parse_qs(urlsplit(handler.path).query).get("v", [None])[0]
    handler.send_body(200, png, "image/png", cache="max-age=3600" if asked == digest else "no-store",
                      extra={"X-Buffer-Digest": digest})


def _command(handler, app) -> None:
    check_origin(handler.headers.get("Origin"), handler.headers.get("Host"))
    kind = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if kind != JSON_TYPE:
        raise WebError(415, f"a command is sent as {JSON_TYPE}")
    length = handler.headers.get("Content-Length")
    if length is None or not length.strip().isdigit():
        raise WebError(411, "a command needs a Content-Length")
    if int(length) > MAX_BODY_BYTES:
        handler.close_connection = True  # the body is not read
        raise WebError(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    body = handler.rfile.read(int(length))
    handler.body_read = True
    app.command(body)
    handler.send_json(202, {"sent": True})


def _events(handler, app) -> None:
    subscription = app.hub.subscribe()
    if subscription is None:
        raise WebError(503, f"{app.hub.max_subscribers} pages are open already")
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        handler.close_connection = True
        handler.wfile.write(b"retry: 1000\n\n" + sse_message("state", app.state()) + sse_message("status", app.status()))
        handler.wfile.flush()
        while not app.stopping:
            try:
                event, data = subscription.get(timeout=HEARTBEAT_S)
                chunk = sse_message(event, data)
            except queue.Empty:
                chunk = b": tick\n\n"
            handler.wfile.write(chunk)
            handler.wfile.flush()
    except OSError:
        pass  # the page went away
    finally:
        app.hub.unsubscribe(subscription)


#: (method, path) -> route; /api/thumb/N.png is matched by THUMB
ROUTES = {("GET", "/"): _page, ("GET", "/index.html"): _page, ("GET", "/favicon.ico"): _no_icon,
          ("GET", "/api/state"): _state,
          ("GET", "/api/status"): _status, ("GET", "/api/map"): _map, ("GET", "/events"): _events,
          ("POST", "/api/command"): _command}
_PATHS = {path for _, path in ROUTES}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ganshot-web"
    timeout = SOCKET_TIMEOUT_S  # a client that stops sending or reading frees its thread

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        app = self.server.app
        self.body_read = False
        app.count("requests")
        path = urlsplit(self.path).path
        try:
            check_host(self.headers.get("Host"), app.hosts)
            route, thumb = ROUTES.get((method, path)), THUMB.fullmatch(path)
            if route is not None:
                route(self, app)
            elif thumb is not None and method == "GET":
                _thumb(self, app, int(thumb.group(1)))
            elif path in _PATHS or thumb is not None:
                raise WebError(405, f"{method} is not how {path} is used")
            else:
                raise WebError(404, f"no such page {path[:80]!r}")
        except WebError as err:
            app.count("refused")
            if method == "POST" and not self.body_read:
                self.close_connection = True  # its body is still in the socket: no next request on it
            self.send_json(err.status, {"error": str(err)})
        except OSError:
            self.close_connection = True  # the client went away mid-answer
        except Exception as err:  # never let one request take the server down
            app.log_error(f"web {method} {path[:80]}", err)
            self.send_json(500, {"error": f"internal error ({type(err).__name__})"})

    def send_json(self, status: int, data) -> None:
        body = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
        self.send_body(status, body, "application/json", cache="no-store")

    def send_body(self, status: int, body: bytes, kind: str, cache: str, extra=None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the counters say what happened; a request line per knob move would flood the terminal
