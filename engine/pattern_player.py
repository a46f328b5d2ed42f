"""Live loops: slots of patterns on one bar grid, scheduled sample-exactly through the engine's timed triggers.

Cheat sheet::

    player = PatternPlayer.for_engine(engine, root="models")    # the engine's sample rate, mixer clock, trigger_note
    player.start()                                      # the scheduler and generation threads
    player.play(0, "grooves", seed=3)                   # a bundle (generated off the audio thread) or "beat.mid"
    player.play(0, "grooves", seed=4)                   # regenerate: the new pattern from the next bar line
    player.set_tempo(96.0)                              # from the next bar line
    player.stop(0); player.stop()                       # one slot, or all (and the transport), at the next bar line
    player.status()                                     # tempo, bar, slots, counters (hits, late, missed, ...)

Timing. The transport is a 4/4 bar grid in stream frames (engine.pattern_transport.BarGrid): a
hit ``beats`` after a tempo segment's first bar line plays at ``segment frame + round(beats * 60 *
sample_rate / tempo_bpm)``, handed to ``Engine.trigger_note(note, velocity, at_frame=...)``, so
the C mixer starts it on exactly that frame. The scheduler thread wakes every :data:`TICK_S` and
hands the mixer every hit up to ``lookahead_s`` ahead of the mixer's frame; those are committed.
Every change (play, stop, tempo) takes effect at the *next bar line not yet committed*: the next
bar line, or the one after when the command comes within ``lookahead_s`` of it. A loop starts at
that bar line from its first beat and repeats over its own length (a 3/4 loop drifts against the
4/4 grid: polymeter); a new pattern in a slot replaces the old at that bar line. The first play
starts the transport ``lookahead_s`` after the command (bar 0); ``stop()`` of every slot stops
it at the next bar line, and the next play starts a fresh grid.

Generation. A bundle's pattern is generated on the generation thread (ONNX Runtime, niced), never
on the audio thread or the caller's. Requests wait one per slot, newest wins (``coalesced``
counts the replaced ones), so a flood of ``/pattern/play`` costs one generation per slot. The
bar a request should start on is fixed when it arrives; a pattern ready too late for it starts
a bar later while the old one plays on (``late`` counts these; the slot's status says so). A MIDI
file is small (engine.pattern_source caps it) and read in the caller's thread, so a bad file is
refused at once. A scheduler stalled past the look-ahead skips the hits it missed
(``missed``) rather than play them late in a burst.

External transport (engine-agnostic, used by bridges/midi/clock.py): ``follow_external(True)``
makes plays wait for :meth:`transport_start` (a DAW's Start), :meth:`transport_stop` pauses at the
next bar line keeping every slot's loop, :meth:`transport_snapshot` tells a clock sender the grid.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from .errors import GanshotError
from .limits import MAX_PATTERN_SLOTS, MAX_SEED, MAX_TEMPO_BPM, MIN_TEMPO_BPM, check_float, check_int
from .pattern_source import LoopLoader, LoopPattern, loop_from_midi, resolve_source
from .pattern_transport import BarGrid, bar_hits

__all__ = ["PatternPlayer", "MAX_SLOTS", "DEFAULT_TEMPO_BPM", "DEFAULT_LOOKAHEAD_S", "TICK_S", "COUNTERS"]

MAX_SLOTS = MAX_PATTERN_SLOTS
DEFAULT_TEMPO_BPM = 120.0
DEFAULT_LOOKAHEAD_S = 0.2  # > the scheduler's worst wake-up delay on a loaded 2-core machine
MIN_LOOKAHEAD_S, MAX_LOOKAHEAD_S = 0.02, 2.0
TICK_S = 0.02
GENERATION_NICE = 5  # the generation thread yields to the audio and OSC threads
COUNTERS = ("hits", "hits_not_played", "missed", "late", "coalesced", "generated", "errors")

log = logging.getLogger(__name__)


@dataclass
class _Slot:
    current: LoopPattern | None = None
    start_bar: int = 0
    next: tuple | None = None  # (LoopPattern | None, bar): from that bar line (None: silence)
    state: str = "empty"  # a line for status(): what the slot does or waits for


def _describe(loop: LoopPattern | None) -> str | None:
    if loop is None:
        return None
    return loop.name if loop.seed is None else f"{loop.name} seed {loop.seed}"


class PatternPlayer:
    """Slots of loops on one transport (see the module docstring).

    ``trigger(note, velocity 0..1, at_frame) -> token`` (0: not played) plays a hit;
    ``release(note, at_frame)`` (optional) ends a melodic note at a note-off hit (velocity 0);
    ``clock() -> frame`` is the mixer's next frame; ``root`` the folder sources lie in.
    Any thread may call the commands; :meth:`tick` and :meth:`generate_pending` are the threads'
    work, callable directly (tests drive them with a fake clock, no threads)."""

    def __init__(self, sample_rate: int, trigger, clock, *, root=".", tempo_bpm: float = DEFAULT_TEMPO_BPM,
                 lookahead_s: float = DEFAULT_LOOKAHEAD_S, num_slots: int = MAX_SLOTS, loader: LoopLoader | None = None,
                 release=None):
        self.sample_rate = check_int(sample_rate, "sample_rate", 1, 10**7)
        self.lookahead_frames = int(round(check_float(lookahead_s, "look-ahead (s)", MIN_LOOKAHEAD_S, MAX_LOOKAHEAD_S)
                                          * self.sample_rate))
        self.num_slots = check_int(num_slots, "slots", 1, MAX_SLOTS)
        self.root, self._trigger, self._clock, self._release = root, trigger, clock, release
        self._loader = loader if loader is not None else LoopLoader()
        self._lock = threading.Lock()  # never taken by the audio thread (the mixer has its own queue)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._slots = [_Slot() for _ in range(self.num_slots)]
        self._pending: dict = {}  # slot -> (kind, path, seed, wanted bar or None): newest wins
        self._tempo_bpm = check_float(tempo_bpm, "tempo (bpm)", MIN_TEMPO_BPM, MAX_TEMPO_BPM)
        self._grid: BarGrid | None = None  # None: the transport is stopped
        self._bar = 0  # the bar that holds the horizon
        self._horizon = 0  # every hit before this frame is committed to the mixer
        self._tempo_at: tuple | None = None  # (bar, bpm): a tempo change waiting for its bar line
        self._stop_at: int | None = None  # the transport stops at this bar line
        self._external = False  # follow an external transport (MIDI clock): plays wait for Start
        self._bar_hits: tuple = (None, [])  # (bar, hits of every slot in it) while nothing changes
        self._stopped_frame: int | None = None  # the bar line the transport last stopped at
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.last_error: str | None = None

    @classmethod
    def for_engine(cls, engine, **kwargs) -> "PatternPlayer":
        """A player that plays ``engine``'s kit by note on its mixer's frames: Engine.note_on (a drum pad's
        one-shot or an instrument's note) and Engine.note_off (an instrument note's release)."""
        mixer = engine.mixer
        return cls(engine.sample_rate, engine.note_on, lambda: mixer.frame, release=engine.note_off, **kwargs)

    # -- commands ------------------------------------------------------------------------------------
    def _check_slot(self, slot) -> int:
        return check_int(slot, "slot", 0, self.num_slots - 1)

    def play(self, slot: int, source: str, seed: int = 0) -> str:
        """Play ``source`` (a bundle folder or .mid file under ``root``) in ``slot`` from the next
        bar line; ``seed`` picks a bundle's pattern. Returns the source kind ("bundle"/"midi").
        Bad input raises GanshotError at once (a bundle's own faults show in status(): it loads later)."""
        slot = self._check_slot(slot)
        seed = check_int(seed, "seed", 0, MAX_SEED)
        kind, path = resolve_source(self.root, source)
        if kind == "midi":
            loop = loop_from_midi(path)
            with self._lock:
                self._pending.pop(slot, None)
                wanted = self._next_free_bar()
            self._install(slot, loop, wanted)
            return kind
        with self._lock:
            if self._pending.pop(slot, None) is not None:
                self.counts["coalesced"] += 1
            self._pending[slot] = (kind, path, seed, self._next_free_bar())
            self._slots[slot].state = f"generating {path.name} seed {seed}"
        self._wake.set()
        return kind

    def stop(self, slot: int | None = None) -> None:
        """Silence ``slot`` (None: every slot, and stop the transport) from the next bar line."""
        slots = range(self.num_slots) if slot is None else [self._check_slot(slot)]
        with self._lock:
            for index in slots:
                self._pending.pop(index, None)
            if self._grid is None:  # nothing sounds: forget the loops now
                for index in slots:
                    self._slots[index] = _Slot()
                return
            bar = self._next_free_bar()
            for index in slots:
                held = self._slots[index]
                if held.current is not None or held.next is not None:
                    held.next, held.state = (None, bar), f"stopping at bar {bar}"
            if slot is None:
                self._stop_at = bar

    def set_tempo(self, tempo_bpm: float) -> None:
        """Play ``tempo_bpm`` from the next bar line (at once when the transport is stopped)."""
        tempo_bpm = check_float(tempo_bpm, "tempo (bpm)", MIN_TEMPO_BPM, MAX_TEMPO_BPM)
        with self._lock:
            self._tempo_bpm = tempo_bpm
            if self._grid is not None:
                self._tempo_at = (self._next_free_bar(), tempo_bpm)

    def follow_external(self, on: bool) -> None:
        """With ``on``, the transport runs only between :meth:`transport_start` and :meth:`transport_stop`."""
        with self._lock:
            self._external = bool(on)

    def transport_start(self, at_frame: int | None = None) -> int:
        """(Re)start the grid at ``at_frame`` (default: the look-ahead from now; never before what is
        committed): bar 0 there, every slot's loop from its first beat. Returns the origin frame."""
        with self._lock:
            origin = max(self._clock() + self.lookahead_frames if at_frame is None else int(at_frame), self._horizon)
            self._start_grid(origin)
            for held in self._slots:
                if held.next is not None:
                    held.current, held.next = held.next[0], None
                held.start_bar = 0
                held.state = "playing" if held.current is not None else "empty"
            return origin

    def transport_stop(self) -> None:
        """Pause the transport at the next bar line; the slots keep their loops for the next start."""
        with self._lock:
            if self._grid is not None:
                self._stop_at = self._next_free_bar()

    # -- internals (hold the lock) ---------------------------------------------------------------------
    def _next_free_bar(self) -> int | None:
        """The first bar line not committed yet (None: the transport is stopped)."""
        if self._grid is None:
            return None
        return self._bar if self._grid.frame_of(self._bar) >= self._horizon else self._bar + 1

    def _start_grid(self, origin: int) -> None:
        self._grid = BarGrid(self.sample_rate, self._tempo_bpm, origin)
        self._bar, self._horizon, self._tempo_at, self._stop_at = 0, origin, None, None
        self._bar_hits = (None, [])

    def _install(self, slot: int, loop: LoopPattern, wanted: int | None) -> None:
        with self._lock:
            held = self._slots[slot]
            if self._grid is None:
                if self._external:  # a DAW's Start will start it
                    held.current, held.next, held.start_bar = loop, None, 0
                    held.state = f"{_describe(loop)}: waiting for the transport to start"
                    return
                self._start_grid(max(self._clock() + self.lookahead_frames, self._horizon))
            bar = self._next_free_bar()
            if wanted is not None and bar > wanted:
                self.counts["late"] += 1
            late = " (ready too late for bar %d)" % wanted if wanted is not None and bar > wanted else ""
            held.next, held.state = (loop, bar), f"{_describe(loop)} from bar {bar}{late}"
            if self._stop_at is not None and self._stop_at >= bar:
                self._stop_at = None  # a play cancels a pending stop of the transport

    def _apply(self, bar: int) -> bool:
        """The changes due at bar line ``bar``; False when the transport stops there."""
        changed = False
        if self._tempo_at is not None and self._tempo_at[0] <= bar:
            self._grid.change_tempo(bar, self._tempo_at[1])
            self._tempo_at, changed = None, True
        for held in self._slots:
            if held.next is not None and held.next[1] <= bar:
                held.current, held.start_bar, held.next = held.next[0], bar, None
                held.state, changed = ("playing " + _describe(held.current)) if held.current else "empty", True
        if changed:
            self._bar_hits = (None, [])
        if self._stop_at is not None and self._stop_at <= bar:
            self._stopped_frame = self._grid.frame_of(bar)
            self._grid, self._bar, self._stop_at = None, 0, None
            return False
        return True

    def _hits_of(self, bar: int) -> list:
        if self._bar_hits[0] != bar:
            hits = []
            for held in self._slots:
                if held.current is not None:
                    hits += bar_hits(held.current, held.start_bar, bar)
            self._bar_hits = (bar, sorted(hits))
        return self._bar_hits[1]

    def _advance(self, limit: int, out: list | None) -> int:
        """Commit every hit before frame ``limit`` (into ``out``; None: skip them). -> hits passed."""
        passed = 0
        while self._grid is not None and self._horizon < limit:
            bar = self._bar
            if not self._apply(bar):
                break
            bar_end = self._grid.frame_of(bar + 1)
            end = min(limit, bar_end)
            for beat, note, velocity in self._hits_of(bar):
                frame = self._grid.frame_of(bar, beat)
                if self._horizon <= frame < end:
                    passed += 1
                    if out is not None:
                        out.append((frame, note, velocity))
            self._horizon = end
            if end >= bar_end:
                self._bar = bar + 1
        return passed

    # -- the threads' work ------------------------------------------------------------------------------
    def tick(self, now_frame: int | None = None) -> int:
        """Hand the mixer every hit up to the look-ahead past ``now_frame`` (default: the clock's).
        Returns how many were handed over."""
        now = self._clock() if now_frame is None else int(now_frame)
        hits: list = []
        with self._lock:
            if self._grid is None:
                self._horizon = max(self._horizon, now)
                return 0
            if self._horizon < now:  # stalled past the look-ahead: those hits are gone
                self.counts["missed"] += self._advance(now, None)
                self._horizon = max(self._horizon, now)
            self._advance(now + self.lookahead_frames, hits)
        played = 0
        for frame, note, velocity in hits:
            if velocity <= 0.0:  # a melodic note's end: its instrument pad releases it (drum pads ignore it)
                if self._release is not None:
                    self._release(note, at_frame=frame)
                continue
            played += 1
            if not self._trigger(note, velocity, at_frame=frame):
                self.counts["hits_not_played"] += 1  # no pad on that note, no buffer yet, or a full queue
        self.counts["hits"] += played
        return played

    def generate_pending(self) -> int:
        """Generate every waiting bundle request (the generation thread's work). -> how many ran."""
        done = 0
        while True:
            with self._lock:
                if not self._pending:
                    return done
                slot = next(iter(self._pending))
                kind, path, seed, wanted = self._pending.pop(slot)
            done += 1
            try:
                loop = self._loader.load(kind, path, seed)
            except Exception as err:  # noqa: BLE001 - a bad bundle must not stop the thread
                reason = str(err) if isinstance(err, GanshotError) else f"{type(err).__name__}: {err}"
                with self._lock:
                    self.counts["errors"] += 1
                    self.last_error = f"slot {slot}: {reason}"
                    self._slots[slot].state = f"failed: {reason}"[:300]
                log.warning("pattern slot %d: %s", slot, reason)
                continue
            self.counts["generated"] += 1
            self._install(slot, loop, wanted)

    # -- threads ------------------------------------------------------------------------------------------
    def start(self) -> "PatternPlayer":
        if not self._threads:
            for name, target in (("schedule", self._schedule_loop), ("generate", self._generate_loop)):
                thread = threading.Thread(target=target, name=f"ganshot-pattern-{name}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def _schedule_loop(self) -> None:
        while not self._stopping.wait(TICK_S):
            try:
                self.tick()
            except Exception as err:  # noqa: BLE001 - keep scheduling; say so once in a while
                self.counts["errors"] += 1
                log.warning("pattern scheduler: %s", err, exc_info=err)

    def _generate_loop(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), GENERATION_NICE)  # this thread only (Linux)
        except (AttributeError, OSError):
            pass
        while not self._stopping.is_set():
            if self._wake.wait(0.1):
                self._wake.clear()
                self.generate_pending()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the threads (hits already handed to the mixer still play). Idempotent."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    # -- state ----------------------------------------------------------------------------------------------
    def transport_snapshot(self) -> dict:
        """``running``, ``tempo_bpm``, ``start_bar``/``start_frame`` of the tempo segment (bar lines
        and beats follow from them, engine.pattern_transport), ``bar`` (the one being committed);
        stopped: ``stop_frame``, the bar line it stopped at (None: never ran)."""
        with self._lock:
            grid = self._grid
            if grid is None:
                return {"running": False, "tempo_bpm": self._tempo_bpm, "stop_frame": self._stopped_frame}
            return {"running": True, "tempo_bpm": grid.tempo_bpm, "start_bar": grid.start_bar,
                    "start_frame": grid.start_frame, "bar": self._bar}

    def status(self) -> dict:
        """Tempo, transport, each slot (playing, next, state) and :data:`COUNTERS`."""
        with self._lock:
            grid = self._grid
            slots = [{"slot": i, "playing": _describe(s.current), "next": None if s.next is None else
                      {"pattern": _describe(s.next[0]), "bar": s.next[1]}, "state": s.state}
                     for i, s in enumerate(self._slots)]
            return {"running": grid is not None, "tempo_bpm": self._tempo_bpm,
                    "bar": self._bar if grid is not None else None,
                    "next_bar_frame": None if grid is None else grid.frame_of(self._next_free_bar()),
                    "external": self._external, "slots": slots, "last_error": self.last_error, **self.counts}

    def __enter__(self) -> "PatternPlayer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"PatternPlayer(sample_rate={self.sample_rate}, slots={self.num_slots}, tempo_bpm={self._tempo_bpm:g}, "
                f"lookahead_frames={self.lookahead_frames}, root={str(self.root)!r})")
