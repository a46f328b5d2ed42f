"""Hot model swap: a new model loads, warms up and pre-renders every pad in the background,
then the engine switches to it at once, while the old one plays on until that moment.

Stages (``ModelSwap.stage``): ``loading`` (bundle read and checked) -> ``warming`` (the
generator runtime is built and renders once) -> ``rendering`` (every pad of the kit, pad
by pad; ``progress`` goes 0..1) -> ``waiting`` (for ``at_frame``, when given) -> ``done``;
or ``failed`` (``error`` says why, in one line) or ``cancelled``. Until ``done`` the
engine is untouched: a model that fails to load, warm up or render leaves the old one
playing. The switch (:meth:`Engine.install_model`) is one swap under the engine's lock:
the next trigger of every pad plays the new model's buffer, voices already sounding (or
already scheduled in the mixer) finish with the old one, so there is neither a gap nor a
click; nothing of this runs on the audio thread. Pad edits made while the new model was
rendering are kept: the pads they touched are rendered again on the new model.

The kit: by default the engine's own kit, re-pointed at the new model (pads keep their
seeds, latents, directions, gains; a pad whose ``z`` has the wrong length for the new
model, or that uses more directions than it has, fails the swap). ``kit=`` switches to
another kit made for the new model (a kit set whose kits name different models).

Cheat sheet::

    swap = engine.load_model("presets/models/drums-v2")     # returns at once
    swap.stage, swap.progress                               # "rendering", 0.4
    swap.wait(30)                                           # True once done (or failed)
    swap.error                                              # None, or why the old model plays on
    engine.load_model(path, at_frame=engine.mixer.frame + 48000)   # switch one second ahead
"""

from __future__ import annotations

import dataclasses
import threading
import time

from .errors import GanshotError, UserInputError

__all__ = ["ModelSwap", "STAGES"]

STAGES = ("queued", "loading", "warming", "rendering", "waiting", "done", "failed", "cancelled")
FINAL_STAGES = frozenset({"done", "failed", "cancelled"})
_WAIT_POLL_S = 0.002


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if isinstance(err, GanshotError) else f"{type(err).__name__}: {text}"


class ModelSwap:
    """Prepares ``model`` (a bundle folder, a name under presets/models, or a ModelBundle) for
    ``engine`` on a background thread and installs it; see the module docstring.

    ``backend``: generator backend for the new model (None: the engine's current one);
    ``at_frame``: the stream frame from which triggers play the new model (None: as soon
    as it is ready); ``on_done(swap)``: called from the thread once the swap ends, whatever
    the outcome.
    """

    def __init__(self, engine, model, *, kit=None, backend: str | None = None, at_frame: int | None = None,
                 on_done=None):
        if at_frame is not None and (isinstance(at_frame, bool) or not isinstance(at_frame, int) or at_frame < 0):
            raise UserInputError(f"at_frame must be a stream frame >= 0 or None, got {at_frame!r:.40}")
        if on_done is not None and not callable(on_done):
            raise UserInputError("on_done must be callable or None")
        self.engine, self.model, self.kit, self.at_frame, self.on_done = engine, model, kit, at_frame, on_done
        self.backend = backend or engine.runtime.name.split("-")[0]
        self.stage, self.progress, self.error = "queued", 0.0, None
        self.model_name: str | None = None
        self.seconds: dict[str, float] = {}  # time spent per stage
        self._snapshot = None  # the engine's kit when rendering began (edits after it are re-rendered)
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ganshot-model-swap", daemon=True)

    def start(self) -> "ModelSwap":
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the swap has ended (done, failed or cancelled); False on timeout."""
        return self._finished.wait(timeout)

    def cancel(self) -> None:
        """Give up unless already switched; the engine keeps the old model."""
        self._cancel.set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def status(self) -> dict:
        return {"stage": self.stage, "progress": self.progress, "model": self.model_name, "error": self.error}

    # -- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        worker = None
        try:
            bundle = self._timed("loading", self._load_bundle)
            self.model_name = bundle.name
            runtime = self._timed("warming", lambda: self._load_runtime(bundle))
            worker, kit, buffers = self._timed("rendering", lambda: self._prerender(bundle, runtime))
            if self.at_frame is not None:
                self._timed("waiting", self._wait_for_frame)
            self._check_cancel()
            self.engine.install_model(bundle, runtime, worker, kit, buffers, snapshot=self._snapshot)
            worker = None  # the engine owns it now
            self.progress, self.stage = 1.0, "done"
        except _Cancelled:
            self.stage = "cancelled"
        except Exception as err:  # anything: the old model plays on, and the reason is kept
            self.error, self.stage = _one_line(err), "failed"
        finally:
            if worker is not None:
                worker.close()
            self._finished.set()
            if self.on_done is not None:
                try:
                    self.on_done(self)
                except Exception:  # a reply that could not be sent must not kill the thread silently
                    pass

    def _timed(self, stage: str, step):
        self._check_cancel()
        self.stage = stage
        started = time.monotonic()
        try:
            return step()
        finally:
            self.seconds[stage] = time.monotonic() - started

    def _check_cancel(self) -> None:
        if self._cancel.is_set() or self.engine.closed:
            raise _Cancelled()

    def _load_bundle(self):
        from .bundle import ModelBundle, load_bundle
        from .presets import resolve_bundle

        return self.model if isinstance(self.model, ModelBundle) else load_bundle(resolve_bundle(self.model))

    def _load_runtime(self, bundle):
        from .runtime import load_generator_runtime

        if bundle.sample_rate <= 0:
            raise UserInputError(f"model {bundle.name!r} has no usable sample rate")
        return load_generator_runtime(bundle, self.backend)  # builds the session and renders once

    def _prerender(self, bundle, runtime):
        from .instrument import render_pitch
        from .kit import ModelRef
        from .kit_model import check_model
        from .render_worker import RenderWorker

        engine = self.engine
        self._snapshot = engine.kit
        if self.kit is None:
            ref = ModelRef.of(bundle, path=str(bundle.path) if getattr(bundle, "path", None) else None)
            kit = dataclasses.replace(self._snapshot, model=ref)
        else:
            kit = self.kit
        check_model(kit, bundle)  # the sha, and every pad's z length against the new latent size
        old = engine.worker
        worker = RenderWorker(runtime, bundle.sha256, engine.sample_rate, post=old.post,
                              cache_bytes=old.cache_capacity_bytes, enhance=old.enhance)
        try:
            buffers = []
            for index in range(len(kit.pads)):
                self._check_cancel()
                z = engine.pad_latent(index, kit, bundle=bundle)
                label = engine.pad_label(index, kit, bundle=bundle)
                buffers.append(worker.render_now(z, kit.pads[index].pitch_semitones, label, kit.enhance,
                                                 render_pitch(kit.pads[index], worker.pitch_range)))
                self.progress = (index + 1) / max(1, len(kit.pads))
        except BaseException:
            worker.close()
            raise
        return worker, kit, buffers

    def _wait_for_frame(self) -> None:
        engine = self.engine
        while True:
            self._check_cancel()
            stream = engine.stream
            lead = stream.lead_frames if stream is not None and stream.active else 0
            if engine.mixer.frame + lead >= self.at_frame:
                return
            time.sleep(_WAIT_POLL_S)

    def __repr__(self) -> str:
        return (f"ModelSwap(model={self.model_name or self.model!r}, stage={self.stage!r}, "
                f"progress={self.progress:.2f}, at_frame={self.at_frame}, error={self.error!r})")


class _Cancelled(Exception):
    pass
