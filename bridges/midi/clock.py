"""MIDI clock for the live pattern transport: follow a DAW's tempo and Start/Stop, or send our own.

Cheat sheet::

    estimator = TempoEstimator()
    bpm = estimator.add(arrival_s)                 # each 0xF8 tick's arrival -> bpm (None until enough ticks)
    follower = ClockFollower(engine.patterns)      # feed(data, arrival_s): ticks -> set_tempo, FA/FB/FC -> transport
    sender = ClockSender(engine.patterns, clock=lambda: mixer.frame, send=port.send_message)
    sender.poll()                                  # sends the ticks (and Start/Stop) whose frame has been reached
    clock_in, clock_out = start_clock(engine.patterns, args, report)   # ports from --midi-clock-in/--midi-clock-out

Pure parts (tested with fake timestamps and a fake frame clock): :class:`TempoEstimator` fits a
line through the last :data:`WINDOW_TICKS` tick times (least squares over tick numbers, so jitter
averages out); a gap of about k tick periods counts as k ticks (dropped ticks do not slow the
estimate), and a gap over :data:`MAX_GAP_S` (the DAW stopped sending) starts again.
:class:`ClockFollower` calls ``set_tempo`` (applied at the next bar line) only when the estimate
moves by :data:`DEADBAND_BPM` or more; Start and Continue start the transport one look-ahead later
(bar 0, every loop from its first beat), Stop pauses it at the next bar line. Tempo is followed,
not phase: loops sit on our own sample-exact grid, a constant latency behind the DAW.

:class:`ClockSender` sends 24 ticks per quarter note at the transport's frames, Start at bar 0's
frame and Stop when it stops; it sends a tick once the mixer has reached that frame (so within a
block of it). Port I/O is thin: python-rtmidi on the MIDI API the MIDI bridge uses (JACK MIDI when
a JACK server runs), an input named by ``--midi-clock-in`` (or ``virtual``: a port of our own) and
an output ``--midi-clock-out`` (a port name, or ``virtual``).
"""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["TempoEstimator", "ClockFollower", "ClockSender", "start_clock", "CLOCK", "START", "CONTINUE", "STOP",
           "TICKS_PER_BEAT", "VIRTUAL", "CLOCK_IN_NAME", "CLOCK_OUT_NAME"]

CLOCK, START, CONTINUE, STOP = 0xF8, 0xFA, 0xFB, 0xFC
TICKS_PER_BEAT = 24
WINDOW_TICKS = 48  # two beats: a tempo change is followed within two beats
MIN_TICKS = 12  # half a beat before the first estimate
MAX_GAP_S = 1.0  # no tick for this long: the clock stopped
DEADBAND_BPM = 0.1  # smaller moves are jitter, not a new tempo
SEND_POLL_S = 0.001
VIRTUAL = "virtual"
CLOCK_IN_NAME, CLOCK_OUT_NAME = "ganshot clock in", "ganshot clock out"


class TempoEstimator:
    """bpm from the arrival times (seconds, any monotonic scale) of 24-ppqn clock ticks."""

    def __init__(self, window_ticks: int = WINDOW_TICKS, min_ticks: int = MIN_TICKS, max_gap_s: float = MAX_GAP_S):
        self.window_ticks, self.min_ticks, self.max_gap_s = int(window_ticks), int(min_ticks), float(max_gap_s)
        self._points: deque = deque(maxlen=self.window_ticks)  # (tick number, time)
        self.dropped = 0  # ticks inferred from gaps

    def reset(self) -> None:
        self._points.clear()

    def _period(self) -> float | None:
        if len(self._points) < 3:
            return None
        gaps = sorted((b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(self._points, list(self._points)[1:]))
        return gaps[len(gaps) // 2]  # the median: robust to one late tick

    def add(self, t_s: float) -> float | None:
        """Count one tick that arrived at ``t_s``; the tempo (bpm) once ``min_ticks`` are in, else None."""
        if self._points:
            number, last = self._points[-1]
            gap = t_s - last
            if gap <= 0 or gap > self.max_gap_s:
                self.reset()
                number = -1
            else:
                period = self._period()
                step = max(1, int(round(gap / period))) if period else 1
                self.dropped += step - 1
                number += step - 1
        else:
            number = -1
        self._points.append((number + 1, float(t_s)))
        return self.bpm()

    def bpm(self) -> float | None:
        n = len(self._points)
        if n < self.min_ticks:
            return None
        ticks = [p[0] for p in self._points]
        times = [p[1] for p in self._points]
        mean_k, mean_t = sum(ticks) / n, sum(times) / n
        var = sum((k - mean_k) ** 2 for k in ticks)
        slope = sum((k - mean_k) * (t - mean_t) for k, t in zip(ticks, times)) / var  # seconds per tick
        return 60.0 / (TICKS_PER_BEAT * slope) if slope > 0 else None

    def __repr__(self) -> str:
        return f"TempoEstimator(window_ticks={self.window_ticks}, ticks={len(self._points)}, dropped={self.dropped})"


class ClockFollower:
    """Raw MIDI -> the pattern player: clock ticks set its tempo, Start/Continue/Stop its transport.
    ``feed`` is a MIDI port sink: it never raises (a bad message is counted)."""

    def __init__(self, player, estimator: TempoEstimator | None = None, deadband_bpm: float = DEADBAND_BPM):
        self.player, self.estimator, self.deadband_bpm = player, estimator or TempoEstimator(), float(deadband_bpm)
        self.tempo_bpm: float | None = None  # the last tempo handed to the player
        self.counts = {"ticks": 0, "starts": 0, "stops": 0, "tempo_changes": 0, "ignored": 0, "errors": 0}
        player.follow_external(True)

    def feed(self, data, arrival_s: float | None = None) -> None:
        try:
            status = data[0] if len(data) == 1 else None
            arrival = time.monotonic() if arrival_s is None else float(arrival_s)
            if status == CLOCK:
                self.counts["ticks"] += 1
                bpm = self.estimator.add(arrival)
                if bpm is not None and (self.tempo_bpm is None or abs(bpm - self.tempo_bpm) >= self.deadband_bpm):
                    self.player.set_tempo(round(bpm, 2))
                    self.tempo_bpm = round(bpm, 2)
                    self.counts["tempo_changes"] += 1
            elif status in (START, CONTINUE):
                self.counts["starts"] += 1
                self.estimator.reset()
                self.player.transport_start()
            elif status == STOP:
                self.counts["stops"] += 1
                self.player.transport_stop()
            else:
                self.counts["ignored"] += 1  # notes, CCs, active sensing: not the clock's
        except Exception:  # noqa: BLE001 - a port's thread must never see an exception
            self.counts["errors"] += 1


class ClockSender:
    """The transport -> MIDI clock bytes: ``poll()`` sends (through ``send(list of bytes)``) every
    tick whose frame the mixer (``clock() -> frame``) has reached, Start at bar 0, Stop where the
    transport stopped. The player commits its grid a look-ahead early, so a new tempo segment or
    a stop is queued here and takes over only once the mixer reaches its frame."""

    def __init__(self, player, clock, send):
        self.player, self.clock, self.send = player, clock, send
        self._queue: deque = deque()  # what comes next: segments (start_frame, tempo_bpm, start_bar), ("stop", frame)
        self._seen = None  # the last snapshot queued
        self._current = None  # the segment being ticked, and its next tick number
        self._tick = 0
        self.counts = {"ticks": 0, "starts": 0, "stops": 0, "errors": 0}

    def _tick_frame(self, tick: int) -> int:
        start_frame, tempo_bpm, _ = self._current
        return start_frame + int(round(tick * 60.0 * self.player.sample_rate / (tempo_bpm * TICKS_PER_BEAT)))

    def _watch(self) -> None:
        snap = self.player.transport_snapshot()
        if snap["running"]:
            seen = (snap["start_frame"], snap["tempo_bpm"], snap["start_bar"])
        elif self._seen is not None and self._seen[0] != "stop":
            stop_frame = snap.get("stop_frame")
            seen = ("stop", self.clock() if stop_frame is None else stop_frame)
        else:
            return
        if seen != self._seen:
            self._seen = seen
            self._queue.append(seen)

    def poll(self) -> int:
        """Send what is due now; returns how many messages were sent."""
        self._watch()
        now, sent = self.clock(), 0
        while True:
            upcoming = self._queue[0] if self._queue else None
            boundary = None if upcoming is None else upcoming[1] if upcoming[0] == "stop" else upcoming[0]
            if self._current is not None:
                frame = self._tick_frame(self._tick)
                if boundary is not None and frame >= boundary:
                    self._current = None  # the next segment (or the stop) takes over at its frame
                    continue
                if frame > now:
                    return sent
                self._out([CLOCK], "ticks")
                self._tick, sent = self._tick + 1, sent + 1
                continue
            if upcoming is None or boundary > now:
                return sent
            self._queue.popleft()
            if upcoming[0] == "stop":
                self._out([STOP], "stops")
            else:
                if upcoming[2] == 0:  # bar 0: the transport (re)started
                    self._out([START], "starts")
                self._current, self._tick = upcoming, 0
            sent += 1

    def _out(self, message, counter: str) -> None:
        try:
            self.send(message)
            self.counts[counter] += 1
        except Exception:  # noqa: BLE001 - a vanished port: count, keep going
            self.counts["errors"] += 1


class _SenderThread:
    def __init__(self, sender: ClockSender, port):
        self.sender, self.port, self._stopping = sender, port, threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ganshot-midi-clock-out", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(SEND_POLL_S):
            self.sender.poll()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(1.0)
        self.port.close_port()
        self.port.delete()


def _open_output(rtmidi, api_id, name: str):
    out = rtmidi.MidiOut(rtapi=api_id, name="ganshot")
    if name == VIRTUAL:
        out.open_virtual_port(CLOCK_OUT_NAME)
        return out, CLOCK_OUT_NAME
    ports = out.get_ports()
    matches = [p for p in ports if p == name] or [p for p in ports if name.lower() in p.lower()]
    if len(matches) != 1:
        out.delete()
        what = "matches several" if matches else "matches none of the"
        raise OSError(f"--midi-clock-out {name!r} {what} MIDI outputs ({', '.join(ports) or 'none'}); or use virtual")
    out.open_port(ports.index(matches[0]))
    return out, matches[0]


def start_clock(player, engine, args, report):
    """Start ``--midi-clock-in``/``--midi-clock-out`` for ``player``; returns the things to close.
    Raises UserInputError (MidiUnavailable) or OSError with one line when a port cannot be had."""
    from .ports import API_NAMES, PortWatcher, open_backend

    closers = []
    if args.midi_clock_in:
        backend = open_backend(getattr(args, "midi_api", "auto"), client_name="ganshot-clock")
        follower = ClockFollower(player)
        virtual = args.midi_clock_in == VIRTUAL
        watcher = PortWatcher(backend, [] if virtual else [args.midi_clock_in], follower.feed,
                              virtual_name=CLOCK_IN_NAME if virtual else None, report=report)
        watcher.open_virtual()
        watcher.start()
        closers += [watcher.close, backend.close]
        report(f"MIDI clock in: {CLOCK_IN_NAME if virtual else args.midi_clock_in} (tempo and Start/Stop)")
    if args.midi_clock_out:
        import rtmidi

        from .ports import choose_api

        api_id = getattr(rtmidi, f"API_{API_NAMES[choose_api(getattr(args, 'midi_api', 'auto'))]}")
        port, name = _open_output(rtmidi, api_id, args.midi_clock_out)
        sender = ClockSender(player, lambda: engine.mixer.frame, port.send_message)
        closers.append(_SenderThread(sender, port).close)
        report(f"MIDI clock out: {name}")
    return closers
