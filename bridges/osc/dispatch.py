"""The OSC server's dispatch: one pass of datagrams, checked and turned into Engine commands.

Cheat sheet::

    dispatcher = Dispatcher(engine, live_counters, counters, reject=server._reject,
                            deliver=server._deliver, kit_dir=None, max_ahead_s=10.0)
    dispatcher.handle_batch([(datagram, sender), ...])     # in order, as one pass
    dispatcher.accepted, dispatcher.coalesced              # the io thread's counts (read without a lock)

Per datagram: a simple message of a known layout (:data:`~.fast_path.FAST_PARSER`:
/pad/trigger, /pad/knob, /note, ...) is read at once, anything else goes through
:func:`~.validate.parse_datagram` (every check) -> per message: timetag -> coerce -> Engine
command (:func:`~.addresses.run`) -> what it returns (a Reply, a RenderJob, ...) goes to
``deliver(spec, result, sender)``; a refusal goes to ``reject(sender, address, reason, error)``.

Knob edits (the routes that call Engine.apply) are checked at once but applied newest-wins
per target (address, pad, direction) when a message of another kind comes (a /pad/trigger:
only that pad's and master's), or at the end of the pass: a flood of knob moves costs one
edit per knob and pass (``coalesced`` counts the others), and a trigger still hears every
move sent before it.

No handler sleeps: a bundle's future timetag becomes a stream frame
(``Engine.frame_for_time``) for the mixer to start the voice at; more than ``max_ahead_s``
ahead is refused; a past one plays at once and counts in ``late``. Messages without a
sample-exact meaning (knobs, kits, ...) in a future bundle apply on arrival.

No sockets here: :class:`~.server.OscServer` reads the datagrams, sends the replies and owns
the threads; only its io thread calls :meth:`Dispatcher.handle_batch`.
"""

from __future__ import annotations

import time

from .addresses import ADDRESSES, RouteContext, When, coerce, run, schedule
from .fast_path import FAST_COERCERS, FAST_PARSER
from .validate import IMMEDIATE, MAX_BUNDLE_DEPTH, MAX_DATAGRAM_BYTES, OscError, flatten, parse_datagram, peek_address

__all__ = ["Dispatcher"]

_IMMEDIATE = When(None)


class Dispatcher:
    """Check and run the messages of OSC datagrams against ``engine``, one pass at a time.

    ``live``: what /status reads as the counters; ``counters``: a
    :class:`~ganshot.bridges._counters.Counters` that gets ``late``; ``reject(sender, address,
    reason, error=None)`` answers a refusal; ``deliver(spec, result, sender)`` handles what a
    command returned (never None). ``kit_dir``: the folder file paths in messages resolve in.
    """

    def __init__(self, engine, live, counters, *, reject, deliver, kit_dir=None,
                 max_ahead_s: float, max_datagram_bytes: int = MAX_DATAGRAM_BYTES,
                 max_depth: int = MAX_BUNDLE_DEPTH):
        self.engine, self.kit_dir = engine, kit_dir
        self.max_ahead_s, self.max_datagram_bytes, self.max_depth = max_ahead_s, max_datagram_bytes, max_depth
        self._live, self._counters, self._reject, self._deliver = live, counters, reject, deliver
        self._ctx_now = RouteContext(None, live, kit_dir)  # an untimed message's context
        self._edits: dict = {}  # knob edits of the pass being dispatched
        self.accepted = self.coalesced = 0  # written by the io thread only, read by counters(): no lock

    def handle_batch(self, batch) -> None:
        """Dispatch ``[(datagram bytes, sender address), ...]`` in order as one pass: knob edits
        coalesce across it and the last ones are applied at its end."""
        for data, sender in batch:
            try:
                self._handle_datagram(data, sender)
            except Exception as err:  # never let one datagram stop the server
                self._reject(sender, peek_address(data), f"internal error ({type(err).__name__})", err)
        self._flush_edits()

    def _handle_datagram(self, data: bytes, sender) -> None:
        """Parse one datagram and handle its messages; knob edits wait in ``_edits`` (newest wins
        per target) until a message of another kind, or the end of the pass, flushes them."""
        message = FAST_PARSER.parse(data) if len(data) <= self.max_datagram_bytes else None
        if message is not None:  # a simple message of a known layout: nothing else to check
            self._dispatch(message, IMMEDIATE, sender, 0.0)
            return
        try:
            packet = parse_datagram(data, self.max_datagram_bytes, self.max_depth)
        except OscError as err:
            self._reject(sender, peek_address(data), str(err))
            return
        now = time.time()
        for timetag, message in flatten(packet):
            self._dispatch(message, timetag, sender, now)

    def _dispatch(self, message, timetag: int, sender, now: float) -> None:
        """Check one message (timetag, address, arguments); run it, or keep it as a knob edit."""
        try:
            when = _IMMEDIATE if timetag == IMMEDIATE else schedule(timetag, now, self.max_ahead_s)
            spec = ADDRESSES.get(message.address)
            if spec is None:
                raise OscError(f"unknown address {message.address}")
            fast = FAST_COERCERS.get((message.address, message.tags))
            values = fast(message) if fast is not None else coerce(spec, message)
        except OscError as err:
            self._reject(sender, message.address, str(err))
            return
        if spec.command == "apply":  # a knob: checked now, applied at the flush
            key = (message.address, values[:-1])
            if self._edits.pop(key, None) is not None:  # valid, and replaced by a newer value
                self.accepted += 1
                self.coalesced += 1
            self._edits[key] = (spec, values, when, sender)
            return
        if self._edits:  # a trigger after a knob move hears the move: a pad's trigger flushes that
            # pad's edits (and master's), anything else flushes them all
            self._flush_edits(values[0] if spec.address == "/pad/trigger" else None)
        self._run(spec, values, when, sender)

    def _flush_edits(self, pad: int | None = None) -> None:
        """Apply the waiting knob edits (all, or those of ``pad`` and of no pad), oldest first."""
        if pad is None:
            edits, self._edits = self._edits, {}
        else:
            keys = [k for k in self._edits if not k[1] or k[1][0] == pad]
            edits = {k: self._edits.pop(k) for k in keys}
        for spec, values, when, sender in edits.values():
            self._run(spec, values, when, sender)

    def _run(self, spec, values: tuple, when: When, sender) -> None:
        """Run one checked message's command, count it, and hand on what it returns."""
        timed = when.unix_s is not None and spec.timed
        at_frame = self._frame_for(when.unix_s) if timed else None
        ctx = self._ctx_now if at_frame is None else RouteContext(at_frame, self._live, self.kit_dir)
        try:
            result = run(spec, values, self.engine, ctx)
        except OscError as err:
            self._reject(sender, spec.address, str(err))
            return
        except Exception as err:
            self._reject(sender, spec.address, f"internal error ({type(err).__name__})", err)
            return
        self.accepted += 1
        if timed and when.late:
            self._counters.add("late")
        if result is not None:
            self._deliver(spec, result, sender)

    def _frame_for(self, unix_s: float):
        try:
            return self.engine.frame_for_time(unix_s)  # None without a live stream: play at once
        except Exception:  # a stream that has not run a callback yet cannot place a frame
            return None

    def __repr__(self) -> str:
        return (f"Dispatcher(max_ahead_s={self.max_ahead_s:g}, max_datagram_bytes={self.max_datagram_bytes}, "
                f"max_depth={self.max_depth})")
