"""The MIDI server: a bounded queue fed by the ports, one dispatch thread, counters.

Cheat sheet::

    server = MidiServer(engine, mapper=MidiMapper(note_channel=9), kitset=switcher)
    watcher = PortWatcher(backend, ["all"], server.feed, virtual_name="ganshot")  # see .ports
    server.start(); watcher.start()
    server.counters()        # received, dropped, sysex, clock, active_sensing, garbage, ...
    server.wait_idle(1.0)    # tests: queue empty and no knob value waiting

Threads (nothing here runs on, or waits for, the audio thread)::

    MIDI input threads (rtmidi's own; JACK: our poller) -> feed(raw bytes): sysex and real-time
        bytes (clock, active sensing, ...) are counted and dropped; the rest goes into a bounded
        queue (full: dropped += 1). feed never raises and never blocks.
    dispatch thread: parse_bytes -> MidiMapper -> Engine commands (notes at once; knob values
        through the KnobLimiter) -> counters. Every exception is caught and counted.

Timing: every message carries its arrival time (``feed(data, arrival_s)``, from the port's
:class:`~.ports.ArrivalClock`). A note is not played "as soon as the dispatch thread sees it"
but at ``stream.frame_at_monotonic(arrival)`` + the DAC's lead over the callback + one block
+ ``lead_ms``: the frame heard a fixed time after it arrived, so the polling, the queue and a busy GIL add no jitter as long
as they take less than ``lead_ms`` (default :data:`DEFAULT_LEAD_MS`). A note later than that
still plays at once and counts in ``late`` (and in the mixer's late starts). Offline (no
running stream) notes play at the next block.

Knob sweeps: a controller sends up to ~1000 values a second and every value that reaches the
Engine edits the kit and queues a render. :class:`KnobLimiter` lets each knob (target and pad)
through at most ``knob_rate_hz`` times a second: the first value of a burst applies at once, the
ones after it wait, newest replacing older, and a trailing-edge timer in the dispatch loop
applies the last one when its interval has passed. So the last position of a sweep is always
the one applied last; the Engine's render worker then keeps only the newest request per pad,
so no stale render queues behind it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from ganshot.bridges._counters import Counters
from ganshot.engine.errors import GanshotError
from ganshot.engine.limits import check_float, check_int

from .mapping import (
    Bind, MidiMapper, NoteOff, NoteOn, Panic, SelectKit, SetFocus, SetParam, Sustain, Trigger, parse_bytes,
)

__all__ = ["MidiServer", "KnobLimiter", "COUNTERS", "DEFAULT_QUEUE_SIZE", "DEFAULT_KNOB_RATE_HZ",
           "DEFAULT_LEAD_MS", "MAX_LEAD_MS", "SYSEX", "REALTIME"]

DEFAULT_QUEUE_SIZE = 1024  # raw messages waiting for the dispatch thread
DEFAULT_KNOB_RATE_HZ = 50.0  # values per second per knob that reach the Engine
DEFAULT_LEAD_MS = 6.0  # what the path from the port to the Engine may take before a note is late
MAX_LEAD_MS = 500.0
MAX_QUEUE_SIZE = 1 << 20
POLL_S = 0.1  # how often an idle dispatch thread looks at the stop flag
MAX_MESSAGE_BYTES = 3  # every channel message fits; longer ones (not sysex) are garbage
SYSEX = (0xF0, 0xF7)
REALTIME = {0xF8: "clock", 0xFE: "active_sensing"}  # 0xF9-0xFF others count in "realtime"
COUNTERS = ("received", "dropped", "sysex", "clock", "active_sensing", "realtime", "garbage", "feed_errors",
            "accepted", "rejected", "errors", "knob_applied", "knob_coalesced", "kit_switches",
            "programs_ignored", "learned", "queue_max", "timed", "late")

log = logging.getLogger(__name__)


class KnobLimiter:
    """Newest-value-wins rate limit per key; ``clock`` is injectable for tests. One thread only."""

    def __init__(self, rate_hz: float = DEFAULT_KNOB_RATE_HZ, clock=time.monotonic):
        if not 0.0 < float(rate_hz) < float("inf"):
            raise ValueError(f"rate_hz must be positive, got {rate_hz!r:.40}")
        self.interval_s, self._clock = 1.0 / float(rate_hz), clock
        self._last: dict = {}  # key -> when its last value was applied
        self.pending: dict = {}  # key -> newest value not yet applied

    def offer(self, key, value):
        """Returns ``value`` to apply now, or None when it waits (replacing an older waiting one)."""
        now = self._clock()
        last = self._last.get(key)
        if key not in self.pending and (last is None or last + self.interval_s <= now):
            self._last[key] = now
            return value
        self.pending[key] = value
        return None

    def due(self) -> list:
        """Waiting values whose interval has passed (trailing edge), oldest key first."""
        now = self._clock()
        ready = [key for key in self.pending if self._last[key] + self.interval_s <= now]
        for key in ready:
            self._last[key] = now
        return [self.pending.pop(key) for key in ready]

    def flush(self) -> list:
        """Every waiting value, now (before a kit switch: they belong to the kit playing)."""
        now = self._clock()
        for key in self.pending:
            self._last[key] = now
        values, self.pending = list(self.pending.values()), {}
        return values

    def next_due_s(self) -> float | None:
        """Seconds until the next waiting value is due (0 if one is), None if none waits."""
        if not self.pending:
            return None
        now = self._clock()
        return max(0.0, min(self._last[key] + self.interval_s for key in self.pending) - now)


class MidiServer:
    """Feeds MIDI from any number of ports into ``engine`` through ``mapper``.

    ``kitset``: a :class:`~.kitset.KitSwitcher` for program changes (None: they are counted and
    ignored). ``on_learn(controller)`` is called on the dispatch thread after a MIDI-learn binding.
    """

    def __init__(self, engine, mapper: MidiMapper | None = None, kitset=None, *,
                 queue_size: int = DEFAULT_QUEUE_SIZE, knob_rate_hz: float = DEFAULT_KNOB_RATE_HZ,
                 lead_ms: float = DEFAULT_LEAD_MS, on_learn=None, clock=time.monotonic):
        check_int(queue_size, "queue_size", 1, MAX_QUEUE_SIZE, ValueError)
        self.lead_ms = check_float(lead_ms, "lead_ms (ms)", 0.0, MAX_LEAD_MS, ValueError)
        self._lead = (None, 0)  # (stream, frames): the lead, fixed per stream
        self._arrival_s: float | None = None  # of the message being handled (dispatch thread only)
        self.engine, self.kitset, self.on_learn = engine, kitset, on_learn
        self.mapper = mapper if mapper is not None else MidiMapper()
        self.limiter = KnobLimiter(knob_rate_hz, clock)
        self._queue: queue.Queue = queue.Queue(queue_size)
        self._counters = Counters(COUNTERS)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = False  # the dispatch thread is between get() and task_done()

    # -- input side: called from MIDI threads ------------------------------------------------
    def feed(self, data, arrival_s: float | None = None) -> None:
        """Take one raw MIDI message (bytes or list of ints) that arrived at ``arrival_s``
        (``time.monotonic()``; None: now). Never raises, never blocks."""
        try:
            status = data[0] if len(data) else -1
            if status in SYSEX:
                self._counters.add("sysex")
            elif status >= 0xF8:
                self._counters.add(REALTIME.get(status, "realtime"))
            elif status < 0x80 or len(data) > MAX_MESSAGE_BYTES:
                self._counters.add("garbage")  # a data byte without status, an empty or oversized message
            else:
                self._queue.put_nowait((bytes(data), time.monotonic() if arrival_s is None else float(arrival_s)))
                self._counters.add("received")
                self._counters.maximum("queue_max", self._queue.qsize())
        except queue.Full:
            self._counters.add("dropped")
        except BaseException:  # noqa: BLE001 - nothing may escape into a MIDI driver's thread
            try:
                self._counters.add("feed_errors")
            except BaseException:  # noqa: BLE001
                pass

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> "MidiServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._dispatch_loop, name="ganshot-midi-dispatch", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 2.0) -> None:
        """Stop the dispatch thread (waiting messages are dropped). Idempotent."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> "MidiServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def counters(self) -> dict:
        """A snapshot of :data:`COUNTERS`, the mapper's counts (``map_*``) and the queue depth."""
        snap = self._counters.snapshot()
        snap.update({f"map_{k}": v for k, v in dict(self.mapper.counts).items()})
        snap["queue"] = self._queue.qsize()
        return snap

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every fed message is handled and no knob value waits (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks or self.limiter.pending or self._busy:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    # -- dispatch thread -------------------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        while not self._stopping.is_set():
            wait = self.limiter.next_due_s()
            try:
                data, arrival_s = self._queue.get(timeout=POLL_S if wait is None else min(wait, POLL_S))
            except queue.Empty:
                data = None
            if data is not None:
                self._busy = True
                try:
                    self.handle(data, arrival_s)
                finally:
                    self._queue.task_done()
            self._busy = bool(self.limiter.pending)
            self._arrival_s = None
            for action in self.limiter.due():  # trailing edge: the newest value of a finished burst
                self._run(action, limited=False)
            self._busy = False

    def handle(self, data: bytes, arrival_s: float | None = None) -> None:
        """Parse one raw message that arrived at ``arrival_s`` and run its actions (the dispatch
        thread's work; tests call it). ``arrival_s`` None: notes play at the next block."""
        self._arrival_s = arrival_s
        try:
            message = parse_bytes(data)
            if message is None or message.type == "sysex":
                self._counters.add("garbage")
                return
            engine = self.engine
            actions = self.mapper.handle(message, engine.kit, engine.focus, engine.learn_target)
        except Exception as err:  # noqa: BLE001 - one message never stops the server
            self._counters.add("errors")
            log.warning("MIDI message %s: internal error", bytes(data).hex(), exc_info=err)
            return
        for action in actions:
            self._run(action, limited=True)

    def _run(self, action, limited: bool) -> None:
        try:
            if isinstance(action, SetParam) and limited:
                if self.limiter.offer(action.key, action) is None:
                    self._counters.add("knob_coalesced")
                    return
            self._apply(action)
            self._counters.add("accepted")
        except GanshotError as err:  # e.g. a direction the model lacks: refused, counted
            self._counters.add("rejected")
            log.debug("MIDI %s refused: %s", action, err)
        except Exception as err:  # noqa: BLE001
            self._counters.add("errors")
            log.warning("MIDI %s: internal error", action, exc_info=err)

    def _apply(self, action) -> None:
        _ACTIONS[type(action)](self, action)

    def _trigger(self, action: Trigger) -> None:
        self.engine.trigger_note(action.note, action.velocity, at_frame=self._start_frame(self._arrival_s))

    def _note_on(self, action: NoteOn) -> None:
        self.engine.note_on(action.note, action.velocity, action.channel, at_frame=self._start_frame(self._arrival_s))

    def _note_off(self, action: NoteOff) -> None:  # the same lead as the note-on: the held length is kept
        self.engine.note_off(action.note, action.channel, at_frame=self._start_frame(self._arrival_s))

    def _sustain(self, action: Sustain) -> None:
        self.engine.sustain(action.down, action.channel, at_frame=self._start_frame(self._arrival_s))

    def _start_frame(self, arrival_s: float | None) -> int | None:
        """The frame heard ``lead`` after ``arrival_s`` on the live stream (None: offline, or no clock yet)."""
        stream = self.engine.stream
        if arrival_s is None or stream is None or not stream.active:
            return None
        try:
            if self._lead[0] is not stream:  # the DAC's lead over the callback, one block being mixed, lead_ms
                block = stream.block_size or 0
                self._lead = (stream, stream.lead_frames - block + int(round(self.lead_ms * stream.sample_rate / 1000.0)))
            frame = stream.frame_at_monotonic(arrival_s) + self._lead[1]
        except RuntimeError:  # no callback has run yet: as soon as possible
            return None
        self._counters.add("timed")
        if frame < self.engine.mixer.frame:
            self._counters.add("late")  # plays at the next block; the mixer counts it as a late start
        return max(frame, 0)

    def _set_focus(self, action: SetFocus) -> None:
        self.engine.set_focus(action.pad)

    def _panic(self, action: Panic) -> None:
        self.engine.panic()

    def _set_param(self, action: SetParam) -> None:
        self._counters.add("knob_applied")
        self.engine.apply(action.target, action.value)  # the command vocabulary OSC knobs speak too

    def _select_kit(self, action: SelectKit) -> None:
        for waiting in self.limiter.flush():  # the last knob positions stay with their kit
            self._run(waiting, limited=False)
        if self.kitset is None or not self.kitset.select(self.engine, action.program):
            self._counters.add("programs_ignored")
        else:
            self._counters.add("kit_switches")

    def _bind(self, action: Bind) -> None:
        self.engine.set_controllers(action.controllers)
        self.engine.learn(None)
        self._counters.add("learned")
        if self.on_learn is not None:
            self.on_learn(action.learned)

    def __repr__(self) -> str:
        return (f"MidiServer(note_channel={self.mapper.note_channel}, queue_size={self._queue.maxsize}, "
                f"knob_rate_hz={1.0 / self.limiter.interval_s:g}, lead_ms={self.lead_ms:g}, kitset={self.kitset!r})")


#: What the dispatch thread does with each kind of action.
_ACTIONS = {
    Trigger: MidiServer._trigger,
    NoteOn: MidiServer._note_on,
    NoteOff: MidiServer._note_off,
    Sustain: MidiServer._sustain,
    SetParam: MidiServer._set_param,
    SetFocus: MidiServer._set_focus,
    Panic: MidiServer._panic,
    SelectKit: MidiServer._select_kit,
    Bind: MidiServer._bind,
}
