"""A background render thread: latent requests in, ready-to-play buffers out, with a cache.

Cheat sheet::

    from ganshot.engine.render_worker import RenderWorker

    def on_ready(pad, buffer, request_id): ...          # called from the worker thread
    worker = RenderWorker(runtime, bundle.sha256, 48000, on_ready=on_ready)
    rid = worker.request(3, z, pitch_semitones=-2.0)     # never blocks; newest request per pad wins
    buffer = worker.render_now(z)                        # synchronous, same pipeline and cache
    worker.stats()                                       # counters (see below)
    worker.close()                                       # joins the thread

Pipeline, for each request: cache look-up → one ``runtime.render`` call for all
waiting pads (batch of up to ``max_batch``; equal requests rendered once) →
non-finite samples zeroed → the bundle's enhancer, when it carries one and both the worker
(``enhance``) and the request allow it (:mod:`.enhancer`) → one soxr pass from the generator's rate, sped up by
``2**(pitch/12)``, to the stream's rate → :func:`~.postprocess.postprocess` →
cache → ``on_ready(pad, buffer float32[n] mono C-contiguous read-only, request_id)``.

Coalescing: pending requests live in a dict keyed by pad (pads are
``0 <= pad < MAX_PADS``, so it is bounded); a newer request for a pad that is still
waiting replaces the older one and keeps its place in line (``requests_coalesced``). :meth:`request` only takes a
lock that the worker holds for a few dict operations, never while rendering.

Pitch-conditional models (model.json ``pitch``): a request's ``note`` is the MIDI pitch the model
renders (``runtime.render(z, labels, pitches)``); the resampling by ``pitch_semitones`` applies on top.

Cache: key ``(bundle sha256, z bytes, label, pitch, PostProcess, stream rate, enhanced, note)``, LRU,
bounded by ``cache_bytes`` counted exactly as the sum of the cached buffers' ``nbytes``
(each buffer owns its memory; keys are not counted). Buffers are shared between
callers, hence read-only.

Errors: an exception in a render (or in ``on_ready``) is logged once, counted in
``errors``, and the thread goes on; :meth:`render_now` re-raises it to its caller.

Determinism: the same z, label, pitch and settings give the same buffer (bit-exact
for the same batch size; batching may change the last bits of float rounding, which
the cache hides while the entry lives).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np

from .errors import GanshotError, UserInputError
from .limits import MAX_PADS, MAX_PITCH_SEMITONES, MIN_PITCH_SEMITONES, check_float, check_int
from .postprocess import PostProcess, _check_rate, pitch_ratio, pitch_shift_by_resampling, postprocess

__all__ = ["RenderWorker", "MAX_PADS", "DEFAULT_CACHE_BYTES", "RENDER_MS_WINDOW", "MAX_WORKER_BATCH"]

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
RENDER_MS_WINDOW = 256  # render_ms percentiles are over the last this many render calls
MAX_WORKER_BATCH = 256
DEFAULT_NOTE = 60  # C4: what a pitch-conditional model renders for a request that names no note

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Request:
    pad: int
    z: np.ndarray  # float32[latent_dim], owned
    pitch_semitones: float
    label: int | None
    request_id: int
    enhance: bool = True
    note: int | None = None  # the MIDI pitch a pitch-conditional model renders (None for other models)


class RenderWorker:
    """Render latents on a daemon thread for ``runtime`` (a GeneratorRuntime or anything with
    ``render``, ``latent_dim``, ``sample_rate`` and optionally ``bundle``) at ``stream_sample_rate`` Hz.
    """

    def __init__(
        self, runtime, bundle_sha256: str, stream_sample_rate: int, post: PostProcess = PostProcess(),
        cache_bytes: int = DEFAULT_CACHE_BYTES, max_batch: int = 8, on_ready=None, enhance: bool = True,
    ) -> None:  # fmt: skip
        if not isinstance(bundle_sha256, str) or not bundle_sha256:
            raise UserInputError("bundle_sha256 must be a non-empty string (ModelBundle.sha256)")
        if not isinstance(post, PostProcess):
            raise UserInputError("post must be a PostProcess")
        if isinstance(cache_bytes, bool) or not isinstance(cache_bytes, int) or cache_bytes < 0:
            raise UserInputError(f"cache_bytes must be a non-negative integer, got {cache_bytes!r:.40}")
        check_int(max_batch, "max_batch", 1, MAX_WORKER_BATCH)
        if on_ready is not None and not callable(on_ready):
            raise UserInputError("on_ready must be callable or None")
        self.runtime = runtime
        self.bundle_sha256 = bundle_sha256
        self.stream_sample_rate = int(_check_rate("stream_sample_rate", stream_sample_rate))
        self.post = post
        self.cache_capacity_bytes = cache_bytes
        self.max_batch = max_batch
        self.on_ready = on_ready
        bundle = getattr(runtime, "bundle", None)
        self.enhance = bool(enhance)  # False: never run the bundle's enhancer (serve/render --no-enhance)
        self.enhancer = None
        if self.enhance and getattr(bundle, "enhancer", None) is not None:
            from .enhancer import Enhancer

            self.enhancer = Enhancer(bundle)  # hash and shapes checked here, before any render
        self._num_classes = len(bundle.classes) if bundle is not None and bundle.conditional else 0
        self.pitch_range = getattr(bundle, "pitch_range", None)  # (low, high) of a pitch-conditional model
        self._cond = threading.Condition(threading.Lock())  # guards _pending, _busy, _closing
        self._pending: dict[int, _Request] = {}
        self._busy = False
        self._closing = False
        self._lock = threading.Lock()  # guards the cache and the counters
        self._cache: OrderedDict = OrderedDict()
        self._render_ms: deque = deque(maxlen=RENDER_MS_WINDOW)
        self._next_id = 0
        self._error_logged = False
        self.requests = self.requests_coalesced = self.renders_done = self.render_calls = 0
        self.cache_hits = self.cache_misses = self.cache_bytes = self.errors = self.nonfinite_samples = 0
        self._thread = threading.Thread(target=self._run, name="ganshot-render", daemon=True)
        self._thread.start()

    # -- requests -------------------------------------------------------------------------
    def _make_request(self, pad: int, z, pitch_semitones, label, enhance: bool = True, note=None) -> _Request:
        z = np.asarray(z)
        if not np.issubdtype(z.dtype, np.floating) or z.shape != (self.runtime.latent_dim,):
            raise UserInputError(f"z must be float32[{self.runtime.latent_dim}], got {z.dtype} {list(z.shape)}")
        z = np.array(z, dtype=np.float32, order="C", copy=True)
        if not np.isfinite(z).all():
            raise UserInputError("z contains NaN or infinite values")
        pitch_semitones = check_float(pitch_semitones, "pitch_semitones", MIN_PITCH_SEMITONES, MAX_PITCH_SEMITONES)
        if self._num_classes:
            label = check_int(label, "this model is conditional: label", 0, self._num_classes - 1)
        elif label is not None:
            raise UserInputError("this model is unconditional: label must be None")
        note = self._note(note)
        with self._cond:
            if self._closing:
                raise GanshotError("the render worker is closed")
            self._next_id += 1
            return _Request(pad, z, float(pitch_semitones), label, self._next_id, bool(enhance), note)

    def _note(self, note) -> int | None:
        """A pitch-conditional model's MIDI pitch for a request: ``note`` checked against its range
        (None: :data:`DEFAULT_NOTE` moved into the range); None for any other model."""
        if self.pitch_range is None:
            if note is not None:
                raise UserInputError("this model has no pitch input: note must be None")
            return None
        low, high = self.pitch_range
        if note is None:
            return min(max(DEFAULT_NOTE, low), high)
        return check_int(note, "note (this model's pitch range)", low, high)

    def request(self, pad: int, z, pitch_semitones: float = 0.0, label: int | None = None,
                enhance: bool = True, note: int | None = None) -> int:
        """Queue a render of ``z`` float32[latent_dim] for ``pad``; returns its request id at once.

        A request still waiting for the same pad is replaced (the newest wins).
        ``on_ready(pad, buffer, request_id)`` follows from the worker thread. ``enhance=False`` (a kit's
        ``enhance: false``) skips the bundle's enhancer for this render. ``note``: the MIDI pitch a
        pitch-conditional model renders (None: C4 moved into its range); None for other models.
        """
        req = self._make_request(check_int(pad, "pad", 0, MAX_PADS - 1), z, pitch_semitones, label, enhance, note)
        with self._cond:
            self.requests += 1
            if req.pad in self._pending:
                self.requests_coalesced += 1
            self._pending[req.pad] = req  # a waiting pad keeps its place in line (no starvation)
            self._cond.notify()
        return req.request_id

    def render_now(self, z, pitch_semitones: float = 0.0, label: int | None = None,
                   enhance: bool = True, note: int | None = None) -> np.ndarray:
        """Render ``z`` in the calling thread through the same pipeline and cache; returns the buffer."""
        return self.render_notes(z, [note], pitch_semitones, label, enhance)[0]

    def render_notes(self, z, notes, pitch_semitones: float = 0.0, label: int | None = None,
                     enhance: bool = True) -> list[np.ndarray]:
        """``z`` rendered at each MIDI pitch of ``notes`` (a pitch-conditional model; ``[None]`` for
        others) in the calling thread, in one batch, through the same pipeline and cache."""
        reqs = [self._make_request(-1, z, pitch_semitones, label, enhance, note) for note in notes]
        return [buffer for _, buffer in self._process(reqs)]

    # -- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                pads = list(self._pending)[: self.max_batch]  # oldest first
                batch = [self._pending.pop(pad) for pad in pads]
                self._busy = True
            try:
                results = self._process(batch)
            except Exception:  # counted and logged once by _process; this batch is dropped
                results = []
            for req, buffer in results:
                if self.on_ready is None:
                    continue
                try:
                    self.on_ready(req.pad, buffer, req.request_id)
                except Exception as err:
                    self._count_error(err, "on_ready callback")
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _count_error(self, err: Exception, where: str) -> None:
        with self._lock:
            self.errors += 1
            first, self._error_logged = not self._error_logged, True
        if first:
            log.error("%s failed: %s: %s (further errors are counted, not logged)", where, type(err).__name__, err)

    def _key(self, req: _Request) -> tuple:
        enhanced = req.enhance and self.enhancer is not None
        return (self.bundle_sha256, req.z.tobytes(), req.label, req.pitch_semitones, self.post, self.stream_sample_rate,
                enhanced, req.note)

    def _process(self, batch: list[_Request]) -> list[tuple[_Request, np.ndarray]]:
        """Buffers for ``batch`` (cache, then one render); an error is counted, then re-raised."""
        try:
            return self._process_unchecked(batch)
        except Exception as err:
            self._count_error(err, "render")
            raise

    def _process_unchecked(self, batch: list[_Request]) -> list[tuple[_Request, np.ndarray]]:
        keys = [self._key(req) for req in batch]
        found, misses = {}, {}
        with self._lock:
            for req, key in zip(batch, keys):
                if key in found or key in misses:
                    continue
                buffer = self._cache.get(key)
                if buffer is not None:
                    self._cache.move_to_end(key)
                    found[key] = buffer
                else:
                    misses[key] = req
            self.cache_hits += len(batch) - len(misses)
            self.cache_misses += len(misses)
        if misses:
            found.update(self._render(misses))
        return [(req, found[key]) for req, key in zip(batch, keys)]

    def _render(self, misses: dict) -> dict:
        """Render every missed request in one runtime call; returns and caches key -> buffer."""
        start = time.perf_counter()
        keys, reqs = list(misses), list(misses.values())
        z = np.stack([req.z for req in reqs])
        labels = np.array([req.label for req in reqs], np.int64) if self._num_classes else None
        if self.pitch_range is None:
            audio = self.runtime.render(z, labels)
        else:
            audio = self.runtime.render(z, labels, np.array([req.note for req in reqs], np.int64))
        audio = np.array(audio, dtype=np.float32, copy=True)
        if audio.ndim != 2 or audio.shape[0] != len(reqs):
            raise GanshotError(f"runtime returned shape {list(audio.shape)} for a batch of {len(reqs)}")
        bad = ~np.isfinite(audio)
        nonfinite = int(np.count_nonzero(bad))
        audio[bad] = 0.0  # before soxr, which would smear a NaN over its filter length
        rows = [i for i, req in enumerate(reqs) if req.enhance] if self.enhancer is not None else []
        if rows:
            audio[rows] = self.enhancer.run(audio[rows])
        by_pitch: dict[float, list[int]] = {}
        for index, req in enumerate(reqs):
            by_pitch.setdefault(req.pitch_semitones, []).append(index)
        out = {}
        for pitch, rows in by_pitch.items():  # usually one group: resample and clean them together
            group = audio[rows]
            if pitch != 0.0 or self.runtime.sample_rate != self.stream_sample_rate:
                group = pitch_shift_by_resampling(group, pitch, self.runtime.sample_rate, self.stream_sample_rate)
            # what the group holds ends at the model's Nyquist, moved by the pitch shift
            source_nyquist = 0.5 * self.runtime.sample_rate * pitch_ratio(pitch)
            group, _ = postprocess(group, self.stream_sample_rate, self.post, source_nyquist_hz=source_nyquist)
            for index, row in zip(rows, group):
                buffer = row.copy()  # owns its memory, so nbytes is what the cache really holds
                buffer.flags.writeable = False
                out[keys[index]] = buffer
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        with self._lock:
            for key, buffer in out.items():
                self._cache_put(key, buffer)
            self.renders_done += len(reqs)
            self.render_calls += 1
            self.nonfinite_samples += nonfinite
            self._render_ms.append(elapsed_ms)
        return out

    def _cache_put(self, key, buffer: np.ndarray) -> None:
        """LRU insert under ``self._lock``; evicts oldest entries until the byte bound holds."""
        old = self._cache.pop(key, None)
        if old is not None:
            self.cache_bytes -= old.nbytes
        if buffer.nbytes > self.cache_capacity_bytes:
            return
        while self.cache_bytes + buffer.nbytes > self.cache_capacity_bytes:
            _, evicted = self._cache.popitem(last=False)
            self.cache_bytes -= evicted.nbytes
        self._cache[key] = buffer
        self.cache_bytes += buffer.nbytes

    # -- status and shutdown ----------------------------------------------------------------
    def _percentile(self, q: float) -> float:
        with self._lock:
            window = list(self._render_ms)
        return float(np.percentile(window, q)) if window else float("nan")

    @property
    def render_ms_p50(self) -> float:
        """Median ms of a render call (generator + resampling + clean-up) over the recent window."""
        return self._percentile(50)

    @property
    def render_ms_p99(self) -> float:
        return self._percentile(99)

    def stats(self) -> dict:
        """A snapshot of every counter (ints, and render_ms_p50/p99 in ms; NaN before the first render)."""
        with self._cond:
            pending = len(self._pending)
        with self._lock:
            snap = {name: getattr(self, name) for name in (
                "requests", "requests_coalesced", "renders_done", "render_calls", "cache_hits",
                "cache_misses", "cache_bytes", "errors", "nonfinite_samples")}  # fmt: skip
            snap["cache_entries"] = len(self._cache)
        snap.update(pending=pending, render_ms_p50=self.render_ms_p50, render_ms_p99=self.render_ms_p99,
                    enhancer=self.enhancer is not None,  # the bundle has one and the worker may use it
                    enhance_ms_p50=self.enhancer.ms_p50 if self.enhancer is not None else float("nan"))
        return snap

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or rendering; False on timeout (for tests and offline use)."""
        with self._cond:
            return self._cond.wait_for(lambda: (not self._pending and not self._busy) or self._closing, timeout)

    @property
    def last_request_id(self) -> int:
        """The id given to the newest request so far (ids grow by 1 from 1; 0 before any)."""
        with self._cond:
            return self._next_id

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float | None = None) -> None:
        """Stop the thread (requests still waiting are dropped) and join it. Idempotent."""
        with self._cond:
            self._closing = True
            self._pending.clear()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __enter__(self) -> "RenderWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"RenderWorker(runtime={self.runtime!r}, stream_sample_rate={self.stream_sample_rate}, post={self.post!r}, "
            f"cache_bytes={self.cache_capacity_bytes}, max_batch={self.max_batch}, enhance={self.enhance})"
        )
