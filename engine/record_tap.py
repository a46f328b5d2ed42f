"""The C mixer's record tap, from Python: a mixin of :class:`~.mixer.Mixer` (kept apart so mixer.py
stays about playing voices). What engine/recorder.py writes to WAV files comes through here.

``record_start(capacity_frames)`` makes the C mixer copy every mixed block into a lock-free
ring; ``record_read()`` drains it from a Python thread; ``record_stop()`` then
``record_release()`` end it. A full ring drops frames and counts them (``record_info()``), it
never blocks the audio thread. The enable / disable handshake is described at the top of
engine/_cmixer.c: the ring is freed only once no block can write it (the mixer acknowledged
the stop, or the Mixer's mixing lock proves that nothing mixes).

It relies on ``_state`` (the C mixer), ``_record_lock`` (one record-ring consumer at a time,
never seen by C) and ``_mixing`` (held by render() and by an attached AudioStream's life) of
the Mixer; the Mixer frees a stopped ring itself when its stream detaches.

Cheat sheet::

    mixer.record_start(1 << 16)             # ring of 65536 stereo frames, from the next block on
    frames = mixer.record_read()            # float32[n, 2], oldest first (n may be 0)
    mixer.record_stop(); tail = mixer.record_read(); mixer.record_release()
    mixer.record_info()["frames_dropped"]   # and first_frame, overflows, frames_waiting, ...
"""

from __future__ import annotations

import time

import numpy as np

from ._cmixer import ffi, lib
from .errors import UserInputError
from .limits import check_int

__all__ = ["RecordTap"]


class RecordTap:
    """record_start, record_read, record_stop, record_release, record_info of :class:`~.mixer.Mixer`."""

    def record_start(self, capacity_frames: int) -> None:
        """Copy every mixed frame from the next block on into a fresh ring of at least
        ``capacity_frames`` stereo frames (rounded up to a power of two), allocated here.

        Read it with record_read() faster than it fills: a full ring drops frames.
        """
        check_int(capacity_frames, "capacity_frames", 1, lib.GANSHOT_MAX_RECORD_FRAMES)  # mixer.MAX_RECORD_FRAMES
        with self._record_lock:
            self._record_free_locked()  # the last recording's ring, if still held
            status = lib.ganshot_record_start(self._state, int(capacity_frames))
        if status == -1:
            raise MemoryError(f"could not allocate a record ring of {capacity_frames} frames")
        if status != 1:
            why = "already recording" if self.record_info()["recording"] else \
                "the last recording's ring is still in use by a stream that is not running"
            raise UserInputError(f"cannot start recording: {why}")

    def record_read(self, max_frames: int | None = None) -> np.ndarray:
        """The recorded frames waiting in the ring, oldest first -> float32[n, 2] (n may be 0)."""
        with self._record_lock:
            waiting = int(lib.ganshot_record_waiting(self._state))
            n = waiting if max_frames is None else max(0, min(waiting, int(max_frames)))
            out = np.empty((n, 2), dtype=np.float32)
            if n:  # cffi drops the GIL for this call
                n = int(lib.ganshot_record_read(self._state, ffi.cast("float *", out.ctypes.data), n))
            return out[:n]

    def record_stop(self, timeout_s: float = 1.0) -> bool:
        """Stop recording from the next block on; True once no block can write the ring any
        more (the mixer acknowledged, or nothing mixes), after which record_read() returns the
        complete tail. False if no block acknowledged within ``timeout_s`` while a stream is
        attached (one that is stopped but not closed mixes no block, so loses none either)."""
        with self._record_lock:
            lib.ganshot_record_stop(self._state)
        deadline = time.monotonic() + timeout_s
        while True:
            if lib.ganshot_record_acknowledged(self._state):
                return True
            if self._mixing.acquire(blocking=False):  # no block in progress, later ones see "off"
                self._mixing.release()
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)

    def record_release(self) -> bool:
        """Free the stopped recording's ring (unread frames are lost). False when a stream
        might still write it: it is then freed by the next record_start(), when the stream
        closes, or with the Mixer - never while the audio thread could touch it."""
        with self._record_lock:
            return self._record_free_locked()

    def record_info(self) -> dict:
        """recording, acknowledged (off, and the mixer began a block since), first_frame (the
        stream frame of the first recorded frame, None before one), capacity_frames,
        frames_recorded (into the ring), frames_waiting (not read yet), frames_dropped and
        overflows (blocks cut short by a full ring)."""
        r = ffi.new("ganshot_record_info *")
        with self._record_lock:  # the ring's size is a plain field that start/release write
            lib.ganshot_record_info_read(self._state, r)
        return {"recording": bool(r.recording), "acknowledged": bool(r.acknowledged),
                "first_frame": None if r.first_frame < 0 else int(r.first_frame),
                "capacity_frames": int(r.capacity_frames), "frames_recorded": int(r.frames_recorded),
                "frames_waiting": int(r.frames_waiting), "frames_dropped": int(r.frames_dropped),
                "overflows": int(r.overflows)}

    def _record_free_locked(self) -> bool:
        if lib.ganshot_record_free(self._state, 0):  # acknowledged by the mixer
            return True
        if self._mixing.acquire(blocking=False):  # nothing mixes while we hold it
            try:
                return bool(lib.ganshot_record_free(self._state, 1))
            finally:
                self._mixing.release()
        return False
