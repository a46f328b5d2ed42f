"""Render-ahead of instrument pads: one ready buffer per note of each instrument's range.

Cheat sheet (the Engine owns one; see engine/instrument_commands.py)::

    notes = InstrumentNotes(engine)
    notes.reset(kit, buffers)            # a kit or model was installed: queue every instrument pad
    notes.pad_ready(kit, 3, buffer)      # pad 3's buffer became current (a render landed): its notes follow
    notes.buffer(3, 64)                  # float32[frames] at the stream rate, read-only, or None (not ready)
    notes.progress()                     # (notes ready, notes in all ranges)
    notes.wait_idle(10.0); notes.close()

Where a note's buffer comes from:

* a pitch-conditional model (model.json ``pitch``) renders the pad's latent at the note itself
  (``runtime.render(z, labels, pitches=[note])`` through the engine's :class:`RenderWorker`, its
  pipeline and cache), then ``pitch_semitones`` applies on top by resampling, as for drum pads;
* any other model: the pad's one buffer (rendered at ``pitch_semitones``, heard at
  ``root_note``, default the pad's note) resampled by ``note - root_note`` semitones (soxr).

When: every time a pad's buffer becomes current (the kit loads, a model swap installs, a knob,
seed or class edit renders it again) its notes are queued as one job. Jobs are per pad and
coalesced, newest wins: an edit while a job runs stops it after the batch in progress and the
newest one starts (``jobs_coalesced``). One background thread, niced (lowest CPU priority on
Linux), takes jobs oldest pad first; for a pitch-conditional model it waits before each batch
while the engine's own pad renders are pending (bounded by :data:`PRIORITY_WAIT_S`), so a knob
turn on a drum pad is never queued behind 88 notes. Notes are rendered nearest the pad's own note
first. Until its new buffer lands a note keeps the buffer of the previous render (a kit or model
swap keeps those of pads that are still instruments), exactly as drum pads do.

Before a note has any buffer (just after a kit loads) a note-on of it is dropped and counted
(``notes_not_ready`` in Engine.status()): resampling a neighbour on the note-on path would put
soxr between a bridge and the mixer; the status line shows ``notes ready/total`` meanwhile.
Memory is bounded: at most :data:`~.instrument.MAX_RENDERED_NOTES` notes per kit, each at most
2**(MAX_RESAMPLE_SEMITONES/12) times a pad's length. Nothing here runs on the audio thread.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import numpy as np

from .instrument import MAX_RESAMPLE_SEMITONES, root_note
from .postprocess import pitch_shift_by_resampling

__all__ = ["InstrumentNotes", "PRIORITY_WAIT_S", "note_order"]

PRIORITY_WAIT_S = 0.25  # a note batch waits at most this long for the pad renders queued before it
NICE_INCREMENT = 10  # the render-ahead thread's niceness above the process (Linux threads have their own)

log = logging.getLogger(__name__)


def note_order(instrument, first: int) -> list[int]:
    """The notes of ``instrument``'s range, nearest ``first`` (the pad's note) first, lower before higher."""
    return sorted(instrument.notes, key=lambda note: (abs(note - first), note))


def _owned(buffer) -> np.ndarray:
    out = np.ascontiguousarray(buffer, dtype=np.float32).copy()
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class _Job:
    pad: int
    version: int
    kit: object
    buffer: np.ndarray  # the pad's own buffer (resampled for models without pitch input)
    worker: object  # the engine's render worker when the job was queued


class InstrumentNotes:
    """Per-note buffers of ``engine``'s instrument pads, rendered ahead on one background thread."""

    def __init__(self, engine):
        self._engine = engine
        self._cond = threading.Condition(threading.Lock())  # guards everything below
        self._notes: dict[int, dict[int, np.ndarray]] = {}  # pad -> note -> buffer it plays
        self._ready: dict[int, set] = {}  # pad -> notes rendered for its current version
        self._totals: dict[int, int] = {}  # instrument pad -> notes in its range
        self._versions: dict[int, int] = {}
        self._jobs: dict[int, _Job] = {}  # pad -> newest job waiting (bounded by the pads)
        self._busy = self._closing = False
        self._error_logged = False
        self.jobs = self.jobs_coalesced = self.notes_rendered = self.not_ready = self.errors = 0
        self._thread = threading.Thread(target=self._run, name="ganshot-notes", daemon=True)
        self._thread.start()

    # -- what the engine tells us ------------------------------------------------------------
    def reset(self, kit, buffers=None) -> None:
        """A new kit (or model): forget what is not an instrument of ``kit`` any more, and queue every
        instrument pad whose buffer is in ``buffers`` (pad buffers, None: wait for :meth:`pad_ready`)."""
        with self._cond:
            keep = {}
            for index, pad in enumerate(kit.pads):
                instrument = pad.instrument
                if instrument is not None and index in self._notes:  # old buffers play until new ones land
                    keep[index] = {n: b for n, b in self._notes[index].items() if n in instrument}
            self._notes, self._ready, self._jobs = keep, {}, {}
            self._totals = {i: len(p.instrument.notes) for i, p in enumerate(kit.pads) if p.instrument is not None}
            for index in self._totals:
                self._versions[index] = self._versions.get(index, 0) + 1
            self._cond.notify_all()
        for index, buffer in enumerate(buffers or ()):
            if buffer is not None:
                self.pad_ready(kit, index, buffer)

    def pad_ready(self, kit, index: int, buffer) -> None:
        """Pad ``index`` of ``kit`` has a new current buffer: queue its notes (no-op for drum pads).
        Cheap and never blocks on a render (the engine calls it from the render thread)."""
        if not 0 <= index < len(kit.pads) or kit.pads[index].instrument is None or buffer is None:
            return
        with self._cond:
            if self._closing or index not in self._totals:
                return
            version = self._versions.get(index, 0) + 1
            self._versions[index] = version
            self._ready[index] = set()
            if self._jobs.pop(index, None) is not None:
                self.jobs_coalesced += 1
            self._jobs[index] = _Job(index, version, kit, buffer, self._engine.worker)
            self.jobs += 1
            self._cond.notify_all()

    # -- what the engine asks -------------------------------------------------------------------
    def buffer(self, index: int, note: int):
        """The buffer pad ``index`` plays for ``note`` (float32[frames], read-only), or None."""
        with self._cond:
            return self._notes.get(index, {}).get(note)

    def count_not_ready(self) -> None:
        with self._cond:
            self.not_ready += 1

    def progress(self) -> tuple[int, int]:
        """(notes rendered for their pad's current sound, notes in all instrument ranges)."""
        with self._cond:
            return sum(len(r) for i, r in self._ready.items() if i in self._totals), sum(self._totals.values())

    def longest_frames(self) -> int:
        with self._cond:
            return max((len(b) for notes in self._notes.values() for b in notes.values()), default=0)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job waits or runs; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: (not self._jobs and not self._busy) or self._closing, timeout)

    def stats(self) -> dict:
        ready, total = self.progress()
        with self._cond:
            return {"instrument_notes_ready": ready, "instrument_notes_total": total, "notes_not_ready": self.not_ready,
                    "instrument_jobs": self.jobs, "instrument_jobs_coalesced": self.jobs_coalesced,
                    "instrument_errors": self.errors}

    def close(self, timeout: float | None = 5.0) -> None:
        with self._cond:
            self._closing = True
            self._jobs.clear()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        try:  # Linux gives each thread its own nice value: render-ahead yields the CPU to everything else
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           os.getpriority(os.PRIO_PROCESS, 0) + NICE_INCREMENT)
        except (AttributeError, OSError):
            pass
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._jobs or self._closing)
                if self._closing:
                    return
                job = self._jobs.pop(next(iter(self._jobs)))  # oldest pad first
                self._busy = True
            try:
                self._render(job)
            except Exception as err:  # counted, logged once; the pad's notes keep their old buffers
                with self._cond:
                    self.errors += 1
                    first, self._error_logged = not self._error_logged, True
                if first:
                    log.error("instrument notes of pad %d failed: %s: %s (further errors are counted)", job.pad,
                              type(err).__name__, err)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _current(self, job: _Job) -> bool:
        return not self._closing and self._versions.get(job.pad) == job.version

    def _store(self, job: _Job, notes, buffers) -> bool:
        with self._cond:
            if not self._current(job):
                return False
            slot = self._notes.setdefault(job.pad, {})
            for note, buffer in zip(notes, buffers):
                slot[note] = buffer
                self._ready.setdefault(job.pad, set()).add(note)
            self.notes_rendered += len(notes)
            return True

    def _render(self, job: _Job) -> None:
        pad = job.kit.pads[job.pad]
        order = note_order(pad.instrument, pad.note)
        worker = job.worker
        if getattr(worker, "pitch_range", None) is None:  # one render, resampled per note
            root, rate = root_note(pad), worker.stream_sample_rate
            for note in order:
                with self._cond:
                    if not self._current(job):
                        return
                shift = note - root
                buffer = job.buffer if shift == 0 else _owned(pitch_shift_by_resampling(
                    job.buffer, shift, rate, max_semitones=MAX_RESAMPLE_SEMITONES))  # past a pad's ±24
                if not self._store(job, [note], [buffer]):
                    return
            return
        engine = self._engine
        bundle = getattr(worker.runtime, "bundle", None)
        z = engine.pad_latent(job.pad, job.kit, bundle=bundle)
        label = engine.pad_label(job.pad, job.kit, bundle=bundle)
        for start in range(0, len(order), worker.max_batch):
            with self._cond:
                if not self._current(job) or worker is not engine.worker:  # edited, or the model swapped
                    return
            worker.wait_idle(PRIORITY_WAIT_S)  # the pads' own renders go first
            chunk = order[start:start + worker.max_batch]
            buffers = worker.render_notes(z, chunk, pad.pitch_semitones, label, job.kit.enhance)
            if not self._store(job, chunk, buffers):
                return

    def __repr__(self) -> str:
        ready, total = self.progress()
        return f"InstrumentNotes(ready={ready}, total={total}, jobs={self.jobs})"
