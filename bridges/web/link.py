"""The web bridge's two pipes: UDP to the engine's OSC server, and events out to the pages.

Cheat sheet::

    hub = EventHub(); queue = hub.subscribe(); hub.publish("status", {...}); hub.unsubscribe(queue)
    link = OscLink(("127.0.0.1", 9000), on_reply=lambda name, data: hub.publish(name, data))
    link.start(); link.send(parse_command(body)); link.close()

:class:`OscLink` is one OSC peer like any patch: it sends each command as a datagram to the
OSC server (so validation, knob coalescing, timed triggers and ``/fail`` are OSC's own) and a
thread reads what the server answers to it (``/fail``, ``/matched``, ``/model/loaded``,
``/rendered``, ...) through the project's OSC parser and hands it on as an SSE event. Sending
never blocks: the socket is non-blocking, and a datagram the kernel will not take now is
counted in ``send_dropped`` (a flood of clicks is the flood's loss, not the page's stall).

:class:`EventHub` fans events out to the open pages: each has a bounded queue; a page that
does not read falls behind alone (its events past :data:`QUEUE_SIZE` are dropped and counted),
and nothing that publishes ever waits for a page.
"""

from __future__ import annotations

import queue
import select
import socket
import threading

from ganshot.bridges._counters import Counters
from ganshot.bridges.osc.validate import OscError, flatten, parse_datagram

from .protocol import encode_command, reply_event

__all__ = ["OscLink", "EventHub", "QUEUE_SIZE", "MAX_SUBSCRIBERS", "LINK_COUNTERS", "POLL_S"]

QUEUE_SIZE = 256  # events waiting for one page
MAX_SUBSCRIBERS = 8  # open pages (event streams) at once
POLL_S = 0.2  # how often idle threads look at the stop flag
LINK_COUNTERS = ("sent", "send_dropped", "replies", "fails", "bad_replies", "events_dropped")


class EventHub:
    """Events for every subscriber, each through its own bounded queue."""

    def __init__(self, counters: Counters, queue_size: int = QUEUE_SIZE, max_subscribers: int = MAX_SUBSCRIBERS):
        self._counters, self.queue_size, self.max_subscribers = counters, queue_size, max_subscribers
        self._lock = threading.Lock()
        self._queues: list[queue.Queue] = []

    def subscribe(self) -> queue.Queue | None:
        """A new subscriber's queue of ``(event, data)``; None when :data:`MAX_SUBSCRIBERS` are open."""
        with self._lock:
            if len(self._queues) >= self.max_subscribers:
                return None
            q: queue.Queue = queue.Queue(self.queue_size)
            self._queues.append(q)
            return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            if q in self._queues:
                self._queues.remove(q)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._queues)

    def publish(self, event: str, data) -> None:
        """Offer ``(event, data)`` to every subscriber; a full queue drops it (counted)."""
        with self._lock:
            queues = list(self._queues)
        for q in queues:
            try:
                q.put_nowait((event, data))
            except queue.Full:
                self._counters.add("events_dropped")


class OscLink:
    """A UDP peer of the OSC server at ``target`` (family, address): send commands, hear replies."""

    def __init__(self, family: int, target, counters: Counters, on_reply=None):
        self.target, self._counters, self.on_reply = target, counters, on_reply
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.bind(("::1", 0) if family == socket.AF_INET6 else ("127.0.0.1", 0))
        self._sock.setblocking(False)
        self.port = self._sock.getsockname()[1]  # the OSC server answers here (its sender's source port)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "OscLink":
        if self._thread is None:
            self._thread = threading.Thread(target=self._receive_loop, name="ganshot-web-osc", daemon=True)
            self._thread.start()
        return self

    def send(self, message) -> bool:
        """Send one checked command (a :class:`~ganshot.bridges.osc.validate.Message`); False when
        the kernel would not take it now (counted in ``send_dropped``)."""
        try:
            self._sock.sendto(encode_command(message), self.target)
        except (BlockingIOError, OSError):
            self._counters.add("send_dropped")
            return False
        self._counters.add("sent")
        return True

    def _receive_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                readable, _, _ = select.select([self._sock], [], [], POLL_S)
            except (OSError, ValueError):  # closed under us
                return
            if not readable:
                continue
            try:
                data, _ = self._sock.recvfrom(65536)
            except (BlockingIOError, OSError):
                continue
            self._handle(data)

    def _handle(self, data: bytes) -> None:
        try:
            messages = [m for _, m in flatten(parse_datagram(data))]
        except OscError:
            self._counters.add("bad_replies")
            return
        for message in messages:
            name, payload = reply_event(message)
            self._counters.add("fails" if name == "fail" else "replies")
            if self.on_reply is not None:
                self.on_reply(name, payload)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the reply thread and close the socket. Idempotent."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
        self._sock.close()

    def __repr__(self) -> str:
        return f"OscLink(target={self.target!r}, port={self.port})"
