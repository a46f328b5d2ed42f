"""The OSC server: one UDP socket, three threads, bounded queues, counters, rate-limited /fail.

Cheat sheet::

    with OscServer(engine, host="127.0.0.1", port=9000) as server:   # binds, starts threads
        server.port                      # the bound port (useful with port=0)
        server.counters()                # received, accepted, rejected, dropped, late, ...

Threads and queues (nothing here runs on, or waits for, the audio thread)::

    receive thread: recvfrom -> allow-list -> bounded queue (full: dropped += 1)
    dispatch thread: takes up to BATCH_MAX waiting datagrams at once; parse_datagram -> per
                     message: timetag -> route() -> Engine command -> reply, or RenderJob ->
                     bounded render queue (full: dropped, /fail). Knob edits (the routes that
                     call Engine.apply) are checked at once but applied newest-wins per target
                     (address, pad, direction) when a message of another kind comes (a
                     /pad/trigger: only that pad's and master's), or at the end of the batch: a
                     flood of knob moves costs one edit per knob and batch (``coalesced``
                     counts the others), and a trigger still hears every move sent before it.
    render thread:   render z -> WAV in the RenderCache -> /rendered
    /model/load:     Engine.load_model (its own thread) -> /model/loaded, or /fail

No handler ever sleeps: a bundle's future timetag becomes a stream frame
(``Engine.frame_for_time``) for the mixer to start the voice at; more than
``max_ahead_s`` ahead is refused; a past one plays at once and counts in ``late``.
Messages without a sample-exact meaning (knobs, kits, ...) in a future bundle apply on
arrival. Every refused datagram or message counts in ``rejected`` and is answered with
``/fail s:address s:reason`` (token bucket, ``fail_per_s``), and logged (``log_per_s``).
Senders outside the allow-list are counted in ``denied`` and get no reply.
Replies go to the sender's host at ``reply_port`` when set, else to its source port.

Counters: ``received`` counts datagrams; ``accepted`` and ``rejected`` count messages (a
malformed datagram is one rejection); ``dropped`` counts datagrams refused by a full
queue (not answered: answering a flood would feed it) and ``/render`` jobs refused by a
full render queue (answered with ``/fail``). A ``/render`` that fails in the render
thread was accepted and is then counted in ``rejected`` too. Datagrams the kernel drops
before ``recvfrom`` (socket buffer full) are not seen, so not counted.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import socket
import threading
import time
from pathlib import Path

from ganshot.bridges._counters import Counters
from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.engine.limits import check_int

from .addresses import ADDRESSES, ModelJob, RenderJob, Reply, RouteContext, coerce, route, schedule
from .render_cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, RenderCache, default_render_dir
from .validate import (
    MAX_BUNDLE_DEPTH, MAX_DATAGRAM_BYTES, OscError, encode_message, flatten, parse_datagram, peek_address,
)

__all__ = ["OscServer", "RateLimiter", "is_allowed", "DEFAULT_HOST", "DEFAULT_PORT", "DEFAULT_MAX_AHEAD_S",
           "DEFAULT_QUEUE_SIZE", "DEFAULT_RENDER_QUEUE_SIZE", "COUNTERS"]

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 9000
DEFAULT_MAX_AHEAD_S = 10.0
DEFAULT_QUEUE_SIZE = 256  # datagrams waiting for the dispatch thread
DEFAULT_RENDER_QUEUE_SIZE = 4  # /render jobs waiting for the render thread
POLL_S = 0.1  # how often idle threads look at the stop flag
BATCH_MAX = 64  # datagrams the dispatch thread takes from the queue in one pass
COUNTERS = ("received", "accepted", "rejected", "dropped", "late", "denied", "fails_sent", "fails_suppressed",
            "replies", "renders", "send_errors", "queue_max", "models_loaded", "coalesced", "batch_max")

log = logging.getLogger(__name__)


class RateLimiter:
    """Token bucket: ``allow()`` is True at most ``burst`` times at once, refilled at ``per_s``."""

    def __init__(self, per_s: float, burst: int, clock=time.monotonic):
        self.per_s, self.burst, self._clock = float(per_s), float(burst), clock
        self._tokens, self._last = float(burst), clock()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_s)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


def _resolve(host: str, port: int):
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as err:
        raise UserInputError(f"OSC host {host!r:.80}: {err}") from None
    family, _, _, _, address = info[0]
    return family, address


def is_allowed(host: str, allow) -> bool:
    """May ``host`` (a sender's IP string) send? Empty ``allow``: anyone; else loopback or a listed network."""
    if not allow:
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback or any(ip in net for net in allow if net.version == ip.version)


class OscServer:
    """Serve the OSC address space (:data:`~.addresses.ADDRESSES`) for ``engine`` over UDP.

    Binding a non-loopback ``host`` needs ``allow_remote=True``; ``allow`` (CIDR strings or
    networks) then limits who may send (loopback always may; empty: anyone).
    """

    def __init__(self, engine, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, allow_remote: bool = False,
                 allow=(), reply_port: int | None = None, max_ahead_s: float = DEFAULT_MAX_AHEAD_S,
                 queue_size: int = DEFAULT_QUEUE_SIZE, render_queue_size: int = DEFAULT_RENDER_QUEUE_SIZE,
                 render_dir=None, render_max_files: int = DEFAULT_MAX_FILES,
                 render_max_bytes: int = DEFAULT_MAX_BYTES, kit_dir=None,
                 max_datagram_bytes: int = MAX_DATAGRAM_BYTES, max_depth: int = MAX_BUNDLE_DEPTH,
                 fail_per_s: float = 20.0, fail_burst: int = 64, log_per_s: float = 2.0, log_burst: int = 20):
        _check_int("port", port, 0, 65535)
        if reply_port is not None:
            _check_int("reply_port", reply_port, 1, 65535)
        _check_int("queue_size", queue_size, 1, 1 << 20)
        _check_int("render_queue_size", render_queue_size, 1, 1024)
        _check_int("max_datagram_bytes", max_datagram_bytes, 16, MAX_DATAGRAM_BYTES)
        if not 0.0 < float(max_ahead_s) < float("inf"):
            raise UserInputError(f"max_ahead_s must be a positive number of seconds, got {max_ahead_s!r:.40}")
        try:
            self.allow = tuple(ipaddress.ip_network(net, strict=False) for net in allow)
        except ValueError as err:
            raise UserInputError(f"--osc-allow: {err}") from None
        family, address = _resolve(host, port)
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
        self._queue: queue.Queue = queue.Queue(queue_size)
        self._render_queue: queue.Queue = queue.Queue(render_queue_size)
        self._fail_limiter = RateLimiter(fail_per_s, fail_burst)
        self._log_limiter, self._logs_suppressed = RateLimiter(log_per_s, log_burst), 0
        self._stopping = threading.Event()
        self._edits: dict = {}  # knob edits of the batch being dispatched (dispatch thread only)
        self._threads: list[threading.Thread] = []
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.bind(address)
        except OSError as err:
            self._sock.close()
            raise UserInputError(f"cannot listen for OSC on {host}:{port}: {err.strerror or err} "
                                 "(pick another --osc-port, or --no-osc)") from None
        self._sock.settimeout(POLL_S)
        self.port = self._sock.getsockname()[1]

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> "OscServer":
        if self._threads:
            return self
        for name, target in (("recv", self._receive_loop), ("dispatch", self._dispatch_loop),
                             ("render", self._render_loop)):
            thread = threading.Thread(target=target, name=f"ganshot-osc-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self, timeout: float = 2.0) -> None:
        """Stop the threads (waiting datagrams are dropped) and close the socket. Idempotent."""
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
        """A snapshot of :data:`COUNTERS` plus the queue depths now."""
        snap = self._counters.snapshot()
        snap.update(queue=self._queue.qsize(), render_queue=self._render_queue.qsize())
        return snap

    # -- threads ------------------------------------------------------------------------
    def _receive_loop(self) -> None:
        size = self.max_datagram_bytes + 1  # one more byte shows an oversized datagram
        while not self._stopping.is_set():
            try:
                data, sender = self._sock.recvfrom(size)
            except socket.timeout:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                continue  # e.g. a late ICMP error on some platforms; nothing to answer
            self._counters.add("received")
            if not is_allowed(sender[0], self.allow):
                self._counters.add("denied")
                self._log("OSC from %s refused: not in --osc-allow", sender[0])
                continue
            try:
                self._queue.put_nowait((data, sender))
            except queue.Full:
                self._counters.add("dropped")
                self._log("OSC queue full (%d): datagram from %s dropped", self._queue.maxsize, sender[0])
                continue
            self._counters.maximum("queue_max", self._queue.qsize())

    def _dispatch_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                batch = [self._queue.get(timeout=POLL_S)]
            except queue.Empty:
                continue
            while len(batch) < BATCH_MAX:  # what else waits: one pass, knob edits coalesced across it
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._counters.maximum("batch_max", len(batch))
            for data, sender in batch:
                try:
                    self._handle_datagram(data, sender)
                except Exception as err:  # never let one datagram stop the server
                    self._reject(sender, peek_address(data), f"internal error ({type(err).__name__})", err)
            self._flush_edits()

    def _handle_datagram(self, data: bytes, sender) -> None:
        """Parse one datagram and handle its messages; knob edits wait in ``_edits`` (newest wins
        per target) until a message of another kind, or the end of the batch, flushes them."""
        try:
            packet = parse_datagram(data, self.max_datagram_bytes, self.max_depth)
        except OscError as err:
            self._reject(sender, peek_address(data), str(err))
            return
        now = time.time()
        for timetag, message in flatten(packet):
            spec = ADDRESSES.get(message.address)
            if spec is not None and spec.command == "apply":  # a knob: checked now, applied at the flush
                try:
                    values = coerce(spec, message)
                except OscError as err:
                    self._reject(sender, message.address, str(err))
                    continue
                key = (message.address, values[:-1])
                if self._edits.pop(key, None) is not None:  # valid, and replaced by a newer value
                    self._counters.add("accepted")
                    self._counters.add("coalesced")
                self._edits[key] = (message, timetag, now, sender)
                continue
            # a trigger after a knob move hears the move: a pad's trigger flushes that pad's edits
            # (and master's), anything else flushes them all
            pad = message.args[0] if message.address == "/pad/trigger" and message.args else None
            self._flush_edits(pad if isinstance(pad, int) and not isinstance(pad, bool) else None)
            self._handle_one(message, timetag, now, sender)

    def _flush_edits(self, pad: int | None = None) -> None:
        """Apply the waiting knob edits (all, or those of ``pad`` and of no pad), oldest first."""
        if pad is None:
            edits, self._edits = self._edits, {}
        else:
            keys = [k for k in self._edits if not k[1] or k[1][0] == pad]
            edits = {k: self._edits.pop(k) for k in keys}
        for message, timetag, now, sender in edits.values():
            self._handle_one(message, timetag, now, sender)

    def _handle_one(self, message, timetag: int, now: float, sender) -> None:
        try:
            result = self._handle_message(message, timetag, now)
        except OscError as err:
            self._reject(sender, message.address, str(err))
            return
        except Exception as err:
            self._reject(sender, message.address, f"internal error ({type(err).__name__})", err)
            return
        if isinstance(result, Reply):
            self._send(sender, result.address, result.tags, result.args)
        elif isinstance(result, ModelJob):
            self.engine.load_model(result.bundle, at_frame=result.at_frame,
                                   on_done=lambda swap, sender=sender: self._model_done(swap, sender))
        elif isinstance(result, RenderJob):
            try:
                self._render_queue.put_nowait((result, sender))
            except queue.Full:
                self._counters.add("dropped")
                self._reject(sender, "/render", f"render queue full ({self._render_queue.maxsize} waiting)",
                             count=False)

    def _handle_message(self, message, timetag: int, now: float):
        when = schedule(timetag, now, self.max_ahead_s)
        spec = ADDRESSES.get(message.address)
        timed = when.unix_s is not None and spec is not None and spec.timed
        at_frame = self._frame_for(when.unix_s) if timed else None
        result = route(message, self.engine, RouteContext(at_frame, self._counters, self.kit_dir))
        self._counters.add("accepted")
        if timed and when.late:
            self._counters.add("late")
        return result

    def _frame_for(self, unix_s: float):
        try:
            return self.engine.frame_for_time(unix_s)  # None without a live stream: play at once
        except Exception:  # a stream that has not run a callback yet cannot place a frame
            return None

    def _render_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                job, sender = self._render_queue.get(timeout=POLL_S)
            except queue.Empty:
                continue
            try:
                audio = self.engine.render(job.z)
                path = self.cache.write(job.request_id, audio, self.sample_rate)
            except GanshotError as err:
                self._reject(sender, "/render", str(err))
                continue
            except Exception as err:
                self._reject(sender, "/render", f"render failed ({type(err).__name__})", err)
                continue
            self._counters.add("renders")
            self._send(sender, "/rendered", "isii", (job.request_id, str(path), len(audio), self.sample_rate))

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
                f"max_ahead_s={self.max_ahead_s:g}, queue_size={self._queue.maxsize})")


def _check_int(name: str, value, low: int, high: int) -> None:
    check_int(value, f"OSC {name}", low, high)
