"""The OSC server: one UDP socket, two threads, bounded buffers, counters, rate-limited /fail.

Cheat sheet::

    with OscServer(engine, host="127.0.0.1", port=9000) as server:   # binds, starts threads
        server.port                      # the bound port (useful with port=0)
        server.counters()                # received, accepted, rejected, dropped, late, ...

Threads and buffers (nothing here runs on, or waits for, the audio thread)::

    io thread:     waits for the socket (select, POLL_S), then drains it without blocking, up to
                   BATCH_MAX datagrams a pass -> allow-list -> the pass goes to the
                   :class:`~.dispatch.Dispatcher` (parse, timetag, coerce, knob edits coalesced
                   newest-wins per target, Engine command) -> reply, or RenderJob -> bounded
                   render queue (full: dropped, /fail).
    render thread: render z -> WAV in the RenderCache -> /rendered
    /model/load:   Engine.load_model (its own thread) -> /model/loaded, or /fail

Why one thread reads and dispatches: in CPython a receive thread gives the GIL away at every
``recvfrom`` and then waits up to the switch interval (5 ms) to get it back from a busy
dispatch thread, so it read one datagram per 5 ms under a flood. The bounded queue waiting
for dispatch is now the socket's own receive buffer (``buffer_kib``, SO_RCVBUF, 4 MiB by
default; Linux caps it at net.core.rmem_max and counts ~1 KiB per small datagram): a
flood the server cannot keep up with fills it and the kernel drops the rest, which the
server reads back from /proc/net/udp (``socket_drops``, Linux only) and counts in ``dropped``.

No handler ever sleeps: a bundle's future timetag becomes a stream frame, more than
``max_ahead_s`` ahead is refused, a past one plays at once and counts in ``late`` (see
:mod:`.dispatch`). Every refused datagram or message counts in ``rejected`` and is answered with
``/fail s:address s:reason`` (token bucket, ``fail_per_s``), and logged (``log_per_s``).
Senders outside the allow-list are counted in ``denied`` and get no reply.
Replies go to the sender's host at ``reply_port`` when set, else to its source port.

Counters: ``received`` counts datagrams read; ``accepted`` and ``rejected`` count messages
(a malformed datagram is one rejection); ``dropped`` counts datagrams the kernel dropped
for a full socket buffer (``socket_drops``; not answered: answering a flood would feed it)
and ``/render`` jobs refused by a full render queue (answered with ``/fail``). So a sender's
datagrams = ``received`` + ``socket_drops``. A ``/render`` that fails in the render
thread was accepted and is then counted in ``rejected`` too. ``socket_queue_bytes``: what
waits in the socket buffer now (kernel accounting, Linux); ``batch_max``: the most
datagrams one pass took.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import select
import socket
import threading
from pathlib import Path

from ganshot.bridges._counters import Counters
from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.engine.limits import check_int

from .addresses import MatchJob, ModelJob, RenderJob, Reply
from .dispatch import Dispatcher
from .net import RateLimiter, is_allowed, resolve, socket_stats
from .render_cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, RenderCache, default_render_dir
from .validate import MAX_BUNDLE_DEPTH, MAX_DATAGRAM_BYTES, encode_message

__all__ = ["OscServer", "RateLimiter", "is_allowed", "socket_stats", "DEFAULT_HOST", "DEFAULT_PORT",
           "DEFAULT_MAX_AHEAD_S", "DEFAULT_BUFFER_KIB", "MAX_BUFFER_KIB", "DEFAULT_RENDER_QUEUE_SIZE", "COUNTERS"]

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 9000
DEFAULT_MAX_AHEAD_S = 10.0
DEFAULT_BUFFER_KIB = 4096  # the socket receive buffer asked for: ~4,000 small datagrams (~0.4 s of 10k/s)
MAX_BUFFER_KIB = 1 << 20
DEFAULT_RENDER_QUEUE_SIZE = 4  # /render jobs waiting for the render thread
POLL_S = 0.1  # how often idle threads look at the stop flag
BATCH_MAX = 64  # datagrams the io thread reads and dispatches in one pass
COUNTERS = ("received", "accepted", "rejected", "dropped", "late", "denied", "fails_sent", "fails_suppressed",
            "replies", "renders", "send_errors", "models_loaded", "coalesced", "batch_max")

log = logging.getLogger(__name__)


class _LiveCounters:
    """What /status reads: the server's counters with the kernel's drops, at the moment asked."""

    def __init__(self, server: "OscServer"):
        self._server = server

    def snapshot(self) -> dict:
        return self._server.counters()

    def get(self, name: str, default=0):
        return self.snapshot().get(name, default)


#: job type -> (the address its /fail names, the verb of an internal error)
_JOB_NAMES = {RenderJob: ("/render", "render"), MatchJob: ("/pad/match", "match")}


class OscServer:
    """Serve the OSC address space (:data:`~.addresses.ADDRESSES`) for ``engine`` over UDP.

    Binding a non-loopback ``host`` needs ``allow_remote=True``; ``allow`` (CIDR strings or
    networks) then limits who may send (loopback always may; empty: anyone). ``buffer_kib``:
    the socket receive buffer to ask for (the bound on what waits for dispatch).
    """

    def __init__(self, engine, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_remote: bool = False,
                 allow=(), reply_port: int | None = None, max_ahead_s: float = DEFAULT_MAX_AHEAD_S,
                 buffer_kib: int = DEFAULT_BUFFER_KIB, render_queue_size: int = DEFAULT_RENDER_QUEUE_SIZE,
                 render_dir=None, render_max_files: int = DEFAULT_MAX_FILES,
                 render_max_bytes: int = DEFAULT_MAX_BYTES, kit_dir=None,
                 max_datagram_bytes: int = MAX_DATAGRAM_BYTES, max_depth: int = MAX_BUNDLE_DEPTH,
                 fail_per_s: float = 20.0, fail_burst: int = 64, log_per_s: float = 2.0, log_burst: int = 20):
        _check_int("port", port, 0, 65535)
        if reply_port is not None:
            _check_int("reply_port", reply_port, 1, 65535)
        _check_int("buffer_kib", buffer_kib, 1, MAX_BUFFER_KIB)
        _check_int("render_queue_size", render_queue_size, 1, 1024)
        _check_int("max_datagram_bytes", max_datagram_bytes, 16, MAX_DATAGRAM_BYTES)
        if not 0.0 < float(max_ahead_s) < float("inf"):
            raise UserInputError(f"max_ahead_s must be a positive number of seconds, got {max_ahead_s!r:.40}")
        try:
            self.allow = tuple(ipaddress.ip_network(net, strict=False) for net in allow)
        except ValueError as err:
            raise UserInputError(f"--osc-allow: {err}") from None
        family, address = resolve(host, port)
        self.remote = not ipaddress.ip_address(address[0].split("%")[0]).is_loopback
        if self.remote and not allow_remote:
            raise UserInputError(f"OSC host {host} is not a loopback address; binding it needs --osc-remote "
                                 "(and ideally --osc-allow CIDR)")
        self.engine, self.host, self.reply_port = engine, host, reply_port
        self.max_ahead_s, self.max_datagram_bytes, self.max_depth = float(max_ahead_s), max_datagram_bytes, max_depth
        self.kit_dir = None if kit_dir is None else Path(kit_dir)
        self.sample_rate = int(engine.status()["sample_rate"])
        self.cache = RenderCache(render_dir if render_dir is not None else default_render_dir(),
                                 render_max_files, render_max_bytes)
        self._counters = Counters(COUNTERS)
        self._live = _LiveCounters(self)
        self._dispatcher = Dispatcher(engine, self._live, self._counters, reject=self._reject, deliver=self._deliver,
                                      kit_dir=self.kit_dir, max_ahead_s=self.max_ahead_s,
                                      max_datagram_bytes=max_datagram_bytes, max_depth=max_depth)
        self._render_queue: queue.Queue = queue.Queue(render_queue_size)
        self._fail_limiter = RateLimiter(fail_per_s, fail_burst)
        self._log_limiter, self._logs_suppressed = RateLimiter(log_per_s, log_burst), 0
        self._allowed: dict = {}  # sender host -> is_allowed (bounded: cleared past 4096 hosts)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_kib * 1024)
            self._sock.bind(address)
        except OSError as err:
            self._sock.close()
            raise UserInputError(f"cannot listen for OSC on {host}:{port}: {err.strerror or err} "
                                 "(pick another --osc-port, or --no-osc)") from None
        self._sock.setblocking(False)
        self.buffer_bytes = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)  # what the kernel gave
        self.port = self._sock.getsockname()[1]

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> "OscServer":
        if self._threads:
            return self
        for name, target in (("io", self._io_loop), ("render", self._render_loop)):
            thread = threading.Thread(target=target, name=f"ganshot-osc-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self, timeout: float = 2.0) -> None:
        """Stop the threads (datagrams still in the socket are dropped) and close the socket. Idempotent."""
        self._stopping.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        self._threads = []
        self._sock.close()

    def __enter__(self) -> "OscServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def counters(self) -> dict:
        """A snapshot of :data:`COUNTERS`, with the kernel's socket drops in ``dropped``, plus
        ``socket_drops``, ``socket_queue_bytes``, ``socket_buffer_bytes`` and the render queue's depth."""
        snap = self._counters.snapshot()
        snap["accepted"], snap["coalesced"] = self._dispatcher.accepted, self._dispatcher.coalesced
        stats = None if self._sock.fileno() < 0 else socket_stats(self._sock)
        waiting, drops = stats if stats is not None else (0, 0)
        snap["dropped"] += drops
        snap.update(socket_drops=drops, socket_queue_bytes=waiting, socket_buffer_bytes=self.buffer_bytes,
                    render_queue=self._render_queue.qsize())
        return snap

    # -- the io thread ----------------------------------------------------------------------
    def _io_loop(self) -> None:
        while not self._stopping.is_set():
            batch = self._drain()
            if batch:
                self._dispatcher.handle_batch(batch)
                continue
            try:
                select.select([self._sock], [], [], POLL_S)
            except (OSError, ValueError):  # closed under us
                if self._stopping.is_set():
                    return

    def _drain(self) -> list:
        """Up to BATCH_MAX waiting datagrams from allowed senders, without blocking."""
        batch, size, recv = [], self.max_datagram_bytes + 1, self._sock.recvfrom  # one more byte shows an oversize
        received = 0
        while len(batch) < BATCH_MAX:
            try:
                data, sender = recv(size)
            except BlockingIOError:
                break
            except OSError:
                if self._stopping.is_set():
                    break
                continue  # e.g. a late ICMP error on some platforms; nothing to answer
            received += 1
            allowed = self._allowed.get(sender[0])
            if allowed is None:
                if len(self._allowed) >= 4096:
                    self._allowed.clear()
                allowed = self._allowed[sender[0]] = is_allowed(sender[0], self.allow)
            if allowed:
                batch.append((data, sender))
            else:
                self._counters.add("denied")
                self._log("OSC from %s refused: not in --osc-allow", sender[0])
        if received:
            self._counters.add("received", received)
            self._counters.maximum("batch_max", received)
        return batch

    def handle_batch(self, batch) -> None:
        """Dispatch ``[(datagram bytes, sender address), ...]`` in order as one pass: knob edits
        coalesce across it and the last ones are applied at its end. (The io thread's work; tests
        call it with datagrams of their own.)"""
        self._dispatcher.handle_batch(batch)

    def _deliver(self, spec, result, sender) -> None:
        """What a command returned: a reply sent, a model swap started, or a job queued for the render thread."""
        if isinstance(result, Reply):
            self._send(sender, result.address, result.tags, result.args)
        elif isinstance(result, ModelJob):
            self.engine.load_model(result.bundle, at_frame=result.at_frame,
                                   on_done=lambda swap, sender=sender: self._model_done(swap, sender))
        elif isinstance(result, (RenderJob, MatchJob)):
            try:
                self._render_queue.put_nowait((result, sender))
            except queue.Full:
                self._counters.add("dropped")
                self._reject(sender, spec.address, f"render queue full ({self._render_queue.maxsize} waiting)",
                             count=False)

    def _render_loop(self) -> None:
        """The render thread: /render and /pad/match jobs, one at a time; a reply each, or /fail."""
        while not self._stopping.is_set():
            try:
                job, sender = self._render_queue.get(timeout=POLL_S)
            except queue.Empty:
                continue
            address, verb = _JOB_NAMES[type(job)]
            try:
                reply = self._run_job(job)
            except GanshotError as err:
                self._reject(sender, address, str(err))
                continue
            except Exception as err:
                self._reject(sender, address, f"{verb} failed ({type(err).__name__})", err)
                continue
            self._send(sender, *reply)

    def _run_job(self, job) -> tuple:
        """-> (address, tags, args) of the reply: /rendered for a RenderJob, /matched for a MatchJob
        (the pad takes the latent closest to the sound file)."""
        if isinstance(job, MatchJob):
            return "/matched", "if", (job.pad, float(self.engine.match_pad(job.pad, job.path)))
        audio = self.engine.render(job.z)
        path = self.cache.write(job.request_id, audio, self.sample_rate)
        self._counters.add("renders")
        return "/rendered", "isii", (job.request_id, str(path), len(audio), self.sample_rate)

    def _model_done(self, swap, sender) -> None:
        """A model swap ended (its thread): /model/loaded s:name f:seconds, or /fail with the reason."""
        if swap.stage == "done":
            self._counters.add("models_loaded")
            self._send(sender, "/model/loaded", "sf", (str(swap.model_name), float(sum(swap.seconds.values()))))
        else:
            reason = swap.error if swap.stage == "failed" else "cancelled by a newer /model/load"
            self._reject(sender, "/model/load", f"{reason}; the model playing stays", count=False)

    # -- replies and logs --------------------------------------------------------------------
    def _target(self, sender):
        return (sender[0], self.reply_port) if self.reply_port is not None else sender[:2]

    def _send(self, sender, address: str, tags: str, args) -> bool:
        try:
            self._sock.sendto(encode_message(address, tags, args), self._target(sender))
        except OSError:
            self._counters.add("send_errors")
            return False
        self._counters.add("replies")
        return True

    def _reject(self, sender, address: str, reason: str, error: Exception | None = None, count: bool = True) -> None:
        if count:
            self._counters.add("rejected")
        if self._fail_limiter.allow():
            self._counters.add("fails_sent")
            self._send(sender, "/fail", "ss", (address, reason))
        else:
            self._counters.add("fails_suppressed")
        if error is not None:
            self._log("OSC %s from %s: %s", address or "datagram", sender[0], reason, exc_info=error)
        else:
            self._log("OSC %s from %s refused: %s", address or "datagram", sender[0], reason)

    def _log(self, fmt: str, *args, exc_info=None) -> None:
        if not self._log_limiter.allow():
            self._logs_suppressed += 1  # only the dispatch/receive/render threads write it; a lost count is harmless
            return
        suppressed, self._logs_suppressed = self._logs_suppressed, 0
        if suppressed:
            fmt += f" ({suppressed} similar lines suppressed)"
        log.warning(fmt, *args, exc_info=exc_info)

    def __repr__(self) -> str:
        return (f"OscServer(host={self.host!r}, port={self.port}, reply_port={self.reply_port}, "
                f"max_ahead_s={self.max_ahead_s:g}, buffer_bytes={self.buffer_bytes})")


def _check_int(name: str, value, low: int, high: int) -> None:
    check_int(value, f"OSC {name}", low, high)
