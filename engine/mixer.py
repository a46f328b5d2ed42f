"""The Python face of ganshot's C mixer (engine/_cmixer.c): the only module touching its state
(with its record-tap mixin, engine/record_tap.py).

Real-time contract: the audio thread runs only C code. It never allocates, logs, touches
files, takes a lock a Python thread may hold, or waits for the GIL. Python hands it
commands through a lock-free ring and keeps every mono buffer alive until the C side
reports, on a second ring, that it no longer reads it.

Time is a frame counter: ``start_frame`` is an absolute stream frame (frames mixed since
the Mixer was created), so a voice starts on exactly that frame whatever the block size,
live or offline. ``start_frame=None`` means "as soon as possible" (the first frame of the
next mixed block) and is never late; an explicit frame already in the past when the mixer
sees it starts at the next block and counts in ``late_starts``.

Cheat sheet::

    mixer = Mixer(48000)
    token = mixer.play(hit, gain_l=0.7, gain_r=0.5, start_frame=mixer.frame + 480, choke_group=1)
    mixer.choke(1, at_frame=mixer.frame + 4800)     # fade group 1 out from that frame
    audio = mixer.render(48000)                     # float32[48000, 2], offline only
    mixer.counters()["late_starts"]

Master bus: the master gain, then a zero-latency brick-wall limiter, so the output never
passes the ceiling (0 dBFS; ``set_limiter_ceiling(ceiling_db)`` lowers it). It cuts the
gain at once where a frame would pass the ceiling and lets it recover over
LIMITER_RELEASE_MS (80 ms); below the ceiling the output is untouched, bit for bit, and
scheduled frames stay exact (no look-ahead delay). ``counters()`` shows what it did:
``limiter_reduction_db`` now, ``limiter_max_reduction_db`` and ``peak_db`` (before it)
since reset_peaks(), ``limited_frames``.

Recording (what engine/recorder.py uses): ``record_start``, ``record_read``, ``record_stop``,
``record_release`` and ``record_info``, from :class:`~.record_tap.RecordTap` (engine/record_tap.py).
"""

from __future__ import annotations

import math
import threading
import time
import weakref

import numpy as np

from ._cmixer import ffi, lib
from .errors import UserInputError
from .limits import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, check_float, check_int
from .record_tap import RecordTap

__all__ = ["Mixer", "callbacks_over", "FADE_FRAMES", "MAX_RELEASE_FRAMES", "MAX_VOICES_LIMIT", "MAX_GAIN", "FINISH_REASONS", "MAX_RECORD_FRAMES",
           "LIMITER_RELEASE_MS", "MIN_CEILING_DB", "MAX_CEILING_DB"]

# The C constants, bound by name from engine/_cmixer.h (GANSHOT_FADE_FRAMES -> FADE_FRAMES, ...):
# CHANNELS, FADE_FRAMES (linear fade for choke, steal and stop_all), MAX_RELEASE_FRAMES (the longest
# note-off fade), ASAP, MAX_VOICES_LIMIT,
# MAX_QUEUE, MAX_RECORD_FRAMES (the record ring's largest capacity), FINISHED_* (reasons),
# LIMITER_RELEASE_MS (the master limiter's recovery time constant).
for _name in dir(lib):
    if _name.startswith("GANSHOT_") and _name.isupper():
        globals()[_name[len("GANSHOT_"):]] = getattr(lib, _name)
del _name
FINISH_REASONS = {value: name[len("FINISHED_"):].lower()  # 1 -> "ended", ... (counted per reason)
                  for name, value in list(globals().items()) if name.startswith("FINISHED_")}
MAX_GAIN = 16.0  # +24 dB per channel; more is a caller's bug, not a musical choice
MAX_CHOKE_GROUP = 2**31 - 1  # the mixer's own range; kits use limits.MAX_CHOKE_GROUP (16)
MAX_FRAME = 2**62 - 1  # a start frame: 3 million years at 48 kHz
MIN_CEILING_DB, MAX_CEILING_DB = -24.0, 0.0  # the master limiter's ceiling, dBFS
_COUNTERS = ("frames_done", "callbacks", "underflows", "max_callback_ns", "max_callback_cpu_ns", "callback_waits",
             "late_starts", "max_late_frames",
             "commands_dropped", "voices_stolen", "voices_active", "voices_sounding", "finished_overflows",
             "limited_frames", "clock_catch_ups", "frames_caught_up", "clock_rebases")
_REAP_BATCH = 256
_MIXING_WAIT_S = 0.05  # render()/attach wait this long for the mixing lock: the record
# functions hold it for microseconds to prove that no block is in progress


def _finite_gain(name: str, value) -> float:
    return check_float(value, name, -MAX_GAIN, MAX_GAIN)


def callbacks_over(hist, cpu_us: float) -> int:
    """Callbacks of ``counters()["callback_cpu_hist"]`` whose CPU per block reached ``cpu_us``
    at least: the bins from the power of two at or below it, so a count errs on the high side."""
    k = int(math.log2(cpu_us)) if cpu_us >= 1 else 0  # floor: log2 >= 0 here
    return int(sum(hist[min(k, len(hist) - 1):]))


def _gain_db(gain: float) -> float:
    """Linear gain -> dB (-inf for 0); 0.0 exactly for 1."""
    return 20.0 * math.log10(gain) if gain > 0 else float("-inf")


def _frame_arg(name: str, value) -> int:
    return check_int(value, f"{name} (a stream frame, or None)", 0, MAX_FRAME)


def _immutable(array: np.ndarray) -> bool:
    """No one can change these samples: read-only, and so is every array (or bytes) it views."""
    while isinstance(array, np.ndarray):
        if array.flags.writeable:
            return False
        array = array.base
    return array is None or isinstance(array, bytes)


class Mixer(RecordTap):
    """Stereo one-shot mixer with sample-exact starts, choke groups and voice stealing.

    ``sample_rate`` in Hz; ``max_voices`` voices sound at once (the oldest is stolen with
    a FADE_FRAMES fade when a new one starts); ``queue_size`` commands can wait between
    Python and the mixer, and as many scheduled events (a full queue counts in
    ``commands_dropped``). Thread-safe for callers; one AudioStream or render() mixes.
    """

    def __init__(self, sample_rate: int, max_voices: int = 64, queue_size: int = 4096):
        check_int(sample_rate, "sample_rate (Hz)", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)
        check_int(max_voices, "max_voices", 1, MAX_VOICES_LIMIT)
        check_int(queue_size, "queue_size", 16, MAX_QUEUE)
        state = lib.ganshot_create(float(sample_rate), int(max_voices), int(queue_size))
        if state == ffi.NULL:
            raise MemoryError("could not allocate the mixer state")
        self._state = ffi.gc(state, lib.ganshot_destroy)
        self.sample_rate = int(sample_rate)
        self.max_voices = int(max_voices)
        self.queue_size = int(queue_size)
        self._lock = threading.Lock()  # one producer and one reaper at a time; never seen by C
        self._buffers: dict[int, np.ndarray] = {}  # token -> buffer the C side may still read
        # room on the finished ring is kept for the notes a JACK MIDI input (engine/jack_midi.py) may start
        self._max_outstanding = int(lib.ganshot_finished_capacity(self._state)) - MIDI_NOTE_RING
        self._midi_finished: dict[int, int] = {}  # note-table generation -> its voices given back
        self._keep_forever: list = []  # note tables a closed JACK MIDI input could not prove unused
        self._next_token = 1
        self._dropped_here = 0  # refused before reaching the ring (too many outstanding)
        self._finished = ffi.new("ganshot_finished[]", _REAP_BATCH)
        self._finished_counts = dict.fromkeys(FINISH_REASONS, 0)  # reason -> buffers come back
        self._owner = None  # the AudioStream mixing us, if any
        self._mixing = threading.Lock()  # held by render() and by an attached AudioStream's life
        self._record_lock = threading.Lock()  # one record-ring consumer at a time; never seen by C
        self._finite: dict = {}  # id -> weakref of read-only buffers already checked for NaN/inf

    # -- commands ---------------------------------------------------------------
    def play(self, buffer: np.ndarray, gain_l: float = 1.0, gain_r: float = 1.0,
             start_frame: int | None = None, choke_group: int = 0) -> int:
        """Schedule ``buffer`` (float32[frames], mono) at ``start_frame``; returns its token.

        Left/right gains are linear (the caller does velocity and pan). A voice in
        ``choke_group`` g > 0 fades out the group's sounding voices from its own start
        frame. Returns 0 when the command queue was full (counted in commands_dropped).
        """
        buf = self._check_buffer(buffer)
        gl, gr = _finite_gain("gain_l", gain_l), _finite_gain("gain_r", gain_r)
        at = ASAP if start_frame is None else _frame_arg("start_frame", start_frame)
        group = self._group_arg(choke_group, allow_zero=True)
        with self._lock:
            self._reap_locked()
            if len(self._buffers) >= self._max_outstanding:
                self._dropped_here += 1
                return 0
            token, self._next_token = self._next_token, self._next_token + 1
            self._buffers[token] = buf  # before the push: C may finish it at once
            ptr = ffi.cast("const float *", buf.ctypes.data)
            if not lib.ganshot_play(self._state, token, ptr, buf.shape[0], gl, gr, at, group):
                del self._buffers[token]
                return 0
        return token

    def choke(self, group: int, at_frame: int | None = None) -> bool:
        """Fade out every voice of ``group`` (>= 1) sounding at ``at_frame`` (None: now)."""
        group = self._group_arg(group, allow_zero=False)
        at = ASAP if at_frame is None else _frame_arg("at_frame", at_frame)
        with self._lock:
            return bool(lib.ganshot_choke(self._state, group, at))

    def release(self, token: int, release_frames: int, at_frame: int | None = None) -> bool:
        """Note-off: the voice ``token`` (from :meth:`play`) fades out linearly over
        ``release_frames`` (1..MAX_RELEASE_FRAMES) from exactly ``at_frame`` (None: now). A voice that
        has ended by then, or was never started, is left alone. False: the command queue was full."""
        token = check_int(token, "token", 1, 2**63 - 1)
        frames = check_int(release_frames, "release_frames", 1, MAX_RELEASE_FRAMES)
        at = ASAP if at_frame is None else _frame_arg("at_frame", at_frame)
        with self._lock:
            return bool(lib.ganshot_release(self._state, token, at, frames))

    def stop_all(self) -> bool:
        """Panic: fade out every voice and cancel everything scheduled."""
        with self._lock:
            return bool(lib.ganshot_stop_all(self._state))

    def set_master_gain(self, gain: float) -> bool:
        """Linear master gain, ramped over FADE_FRAMES from the next mixed block."""
        gain = _finite_gain("gain", gain)
        with self._lock:
            return bool(lib.ganshot_set_master_gain(self._state, gain))

    def set_limiter_ceiling(self, ceiling_db: float) -> bool:
        """The level the output never passes, in dBFS (MIN_CEILING_DB..MAX_CEILING_DB; 0 at start),
        from the next mixed block."""
        value = check_float(ceiling_db, "ceiling_db (dBFS)", MIN_CEILING_DB, MAX_CEILING_DB)
        with self._lock:
            return bool(lib.ganshot_set_limiter_ceiling(self._state, min(1.0, 10.0 ** (value / 20.0))))

    # -- offline rendering ------------------------------------------------------
    def render(self, frames: int) -> np.ndarray:
        """Mix the next ``frames`` frames offline -> float32[frames, 2] (the live code path)."""
        check_int(frames, "frames", 0, 2**31)
        if not self._mixing.acquire(timeout=_MIXING_WAIT_S):
            raise RuntimeError(f"render() refused: {self._owner or 'another render()'} is mixing this Mixer")
        try:
            out = np.zeros((int(frames), 2), dtype=np.float32)
            if frames:  # cffi drops the GIL for this call
                lib.ganshot_mix(self._state, ffi.cast("float *", out.ctypes.data), int(frames))
        finally:
            self._mixing.release()
        self.reap()
        return out

    # -- state ------------------------------------------------------------------
    @property
    def frame(self) -> int:
        """Frames mixed so far: the next block starts at this stream frame."""
        return int(lib.ganshot_frame(self._state))

    def counters(self) -> dict:
        """frames_done, callbacks, underflows (PortAudio's output-underflow flag),
        max_callback_ns (the slowest live callback, wall clock: preemption by a loaded machine
        counts), max_callback_cpu_ns (the audio thread's CPU time in its costliest callback,
        per block heard), callback_cpu_hist (callbacks by that CPU time: bin 0 under 2 us, bin k
        [2^k, 2^(k+1)) us, the last all above; see :func:`callbacks_over`), callback_waits
        (callbacks in which the audio thread blocked: gave up
        the CPU or waited for a page; the real-time contract says 0), late_starts, max_late_frames,
        commands_dropped, voices_stolen, voices_active (incl. fading tails), voices_sounding,
        finished_overflows (always 0 unless a bug), finished_<reason> (buffers the mixer gave
        back, per :data:`FINISH_REASONS`: ended, choked, stolen, stopped, cancelled, dropped,
        cut), buffers_held (buffers kept for the mixer),
        record_overflows and record_frames_dropped (of the current or last recording);
        the master limiter: limited_frames (frames it turned down), limiter_reduction_db (how
        far down it is at the end of the last block, >= 0), limiter_max_reduction_db and
        peak_db / peak_out_db (dBFS before / after it) since reset_peaks()."""
        self.reap()
        c = ffi.new("ganshot_counters *")
        lib.ganshot_read_counters(self._state, c)
        out = {name: int(getattr(c, name)) for name in _COUNTERS}
        out["callback_cpu_hist"] = tuple(int(n) for n in c.callback_cpu_hist)
        out["commands_dropped"] += self._dropped_here
        out["buffers_held"] = len(self._buffers)
        out["limiter_reduction_db"] = -_gain_db(float(c.limiter_gain)) + 0.0  # + 0.0: no -0.0
        out["limiter_max_reduction_db"] = -_gain_db(float(c.limiter_min_gain)) + 0.0
        out["peak_db"], out["peak_out_db"] = _gain_db(float(c.peak_in)), _gain_db(float(c.peak_out))
        with self._lock:
            out.update((f"finished_{FINISH_REASONS[r]}", n) for r, n in self._finished_counts.items())
        record = self.record_info()
        out["record_overflows"], out["record_frames_dropped"] = record["overflows"], record["frames_dropped"]
        return out

    def reset_peaks(self) -> None:
        """Restart max_callback_ns, max_callback_cpu_ns, max_late_frames and the limiter's peaks (at the next
        mixed block) from zero (e.g. after start-up)."""
        lib.ganshot_reset_peaks(self._state)

    def reap(self) -> int:
        """Release buffers the mixer has finished with; returns how many."""
        with self._lock:
            return self._reap_locked()

    # -- internals used by AudioStream ------------------------------------------
    def _attach(self, owner) -> None:
        if not self._mixing.acquire(timeout=_MIXING_WAIT_S):
            raise UserInputError(f"this Mixer is already mixed by {self._owner or 'render()'}")
        self._owner = owner

    def _detach(self, owner) -> None:
        if self._owner is owner:
            self._owner = None
            with self._record_lock:  # the stream is closed: a stopped recording's ring can go
                lib.ganshot_record_free(self._state, 1)
            self._mixing.release()

    def _midi_voices_finished(self, generation: int, forget: bool = False) -> int:
        """How many voices of JACK MIDI note table ``generation`` the mixer gave back (forget: and drop the count)."""
        with self._lock:
            self._reap_locked()
            return self._midi_finished.pop(generation, 0) if forget else self._midi_finished.get(generation, 0)

    def _wait_blocks(self, blocks: int, timeout_s: float) -> bool:
        """True once ``blocks`` more live callbacks have begun, or nothing mixes (a stopped or no
        stream): after that no block that began before the call is still running."""
        start = int(self.counters_raw().callbacks)
        deadline = time.monotonic() + timeout_s
        while int(self.counters_raw().callbacks) < start + blocks + 1:
            if self._mixing.acquire(blocking=False):
                self._mixing.release()
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def counters_raw(self):
        """The C counters as they are (no reaping): a ganshot_counters struct."""
        c = ffi.new("ganshot_counters *")
        lib.ganshot_read_counters(self._state, c)
        return c

    def _read_clock(self):
        clock = ffi.new("ganshot_clock *")
        return clock if lib.ganshot_read_clock(self._state, clock) else None

    def _reap_locked(self) -> int:
        released = 0
        while True:
            n = lib.ganshot_pop_finished(self._state, self._finished, _REAP_BATCH)
            for i in range(n):
                item = self._finished[i]
                token = int(item.token)
                if token >= MIDI_TOKEN_BASE:  # a voice a JACK MIDI note started: counted per table
                    generation = token - MIDI_TOKEN_BASE
                    self._midi_finished[generation] = self._midi_finished.get(generation, 0) + 1
                else:
                    self._buffers.pop(token, None)
                self._finished_counts[int(item.reason)] = self._finished_counts.get(int(item.reason), 0) + 1
            released += n
            if n < _REAP_BATCH:
                return released

    def _check_buffer(self, buffer) -> np.ndarray:
        if not isinstance(buffer, np.ndarray):
            raise UserInputError(f"buffer must be a numpy float32 array, got {type(buffer).__name__}")
        if buffer.dtype != np.float32:
            raise UserInputError(f"buffer must be float32, got {buffer.dtype}")
        if buffer.ndim != 1 or buffer.shape[0] == 0:
            raise UserInputError(f"buffer must be mono 1-D and non-empty, got shape {buffer.shape}")
        if not buffer.flags.c_contiguous:
            raise UserInputError("buffer must be C-contiguous (use np.ascontiguousarray)")
        key = id(buffer)
        seen = self._finite.get(key)
        if seen is not None and seen() is buffer:
            return buffer  # a read-only buffer already scanned (a pad's is played again and again)
        if not np.isfinite(buffer).all():  # ~0.1 ms for a second of audio: once per read-only buffer
            raise UserInputError("buffer holds NaN or infinite samples")
        if _immutable(buffer):
            self._finite[key] = weakref.ref(buffer, lambda _ref, key=key: self._finite.pop(key, None))
        return buffer

    @staticmethod
    def _group_arg(group, allow_zero: bool) -> int:
        return check_int(group, "choke group", 0 if allow_zero else 1, MAX_CHOKE_GROUP)

    def __repr__(self) -> str:
        return (f"Mixer(sample_rate={self.sample_rate}, max_voices={self.max_voices}, "
                f"queue_size={self.queue_size}, frame={self.frame}, buffers_held={len(self._buffers)})")
