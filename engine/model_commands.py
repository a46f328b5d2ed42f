"""The Engine's model commands: a hot model swap (``load_model``) and the one-step switch that
ends it (``install_model``), plus the reading of a bundle's latent directions both share.

A mixin of :class:`~.engine.Engine` (kept apart so engine.py stays about pads, playing and
state). The background work (load, warm up, pre-render every pad) is :class:`~.model_swap.ModelSwap`;
this module is only what the engine itself does. It relies on ``_lock``, ``_kit``, ``_buffers``,
``_buffer_ids``, ``_generation_start``, ``_directions``, ``_sigmas``, ``focus``, ``bundle``,
``runtime``, ``worker``, ``mixer``, ``model_swap``, ``instrument_notes``, ``_ready_for`` and
``_request`` of the engine.

Cheat sheet::

    swap = engine.load_model("presets/models/drums-v2")         # returns at once; see model_swap.py
    swap = engine.load_model(bundle, kit=other_kit, at_frame=f)  # another kit; switch at stream frame f
    engine.status()["model_swap_stage"]                         # "rendering", ... "done"
    vectors, sigmas = bundle_directions(bundle)                 # float32[K, latent_dim], float32[K] (or None, None)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import latent as _latent
from .bundle import ModelBundle
from .errors import UserInputError
from .kit import Kit, check_model
from .render_worker import RenderWorker

__all__ = ["ModelCommands", "bundle_directions"]


def bundle_directions(bundle) -> tuple:
    """``(vectors float32[K, latent_dim], sigmas float32[K])`` of a bundle's latent directions, or (None, None)."""
    if bundle.directions is None:
        return None, None
    return (np.asarray(bundle.directions["vectors"], np.float32), np.asarray(bundle.directions["sigmas"], np.float32))


class ModelCommands:
    """load_model and install_model of :class:`~.engine.Engine` (see the module docstring)."""

    def load_model(self, model, *, kit: Kit | None = None, backend: str | None = None,
                   at_frame: int | None = None, on_done=None):
        """Swap to another model without a gap: it loads, warms up and pre-renders every pad on a
        background thread while this one plays, then the next triggers play it (from ``at_frame``,
        when given). Returns the :class:`~.model_swap.ModelSwap` at once; a swap still running is
        cancelled. A failure leaves the current model playing (``swap.error``)."""
        from .model_swap import ModelSwap

        swap = ModelSwap(self, model, kit=kit, backend=backend, at_frame=at_frame, on_done=on_done)
        with self._lock:
            previous, self.model_swap = self.model_swap, swap
        if previous is not None:
            previous.cancel()
        return swap.start()

    def install_model(self, bundle: ModelBundle, runtime, worker: RenderWorker, kit: Kit, buffers,
                      snapshot: Kit | None = None) -> None:
        """Switch to a prepared model at once (ModelSwap calls this): ``worker`` renders for
        ``runtime``, ``buffers`` hold every pad of ``kit`` rendered by it. Pads edited since
        ``snapshot`` (the kit the buffers were rendered from) keep their edits and render again."""
        check_model(kit, bundle)
        if len(buffers) != len(kit.pads):
            raise UserInputError(f"{len(buffers)} buffers for a kit of {len(kit.pads)} pads")
        worker.on_ready = self._ready_for(worker)
        with self._lock:
            if snapshot is not None and len(snapshot.pads) == len(self._kit.pads) == len(kit.pads):
                edited = [i for i, (then, now) in enumerate(zip(snapshot.pads, self._kit.pads)) if then != now]
                pads = tuple(now if i in edited else new for i, (new, now) in
                             enumerate(zip(kit.pads, self._kit.pads)))
                kit = dataclasses.replace(kit, pads=pads, master_gain_db=self._kit.master_gain_db,
                                          controllers=self._kit.controllers)
            else:
                edited = []
            old = self.worker
            self.bundle, self.runtime, self.worker = bundle, runtime, worker
            self._directions, self._sigmas = bundle_directions(bundle)
            self._kit = kit
            self._buffers, self._buffer_ids = list(buffers), [0] * len(kit.pads)
            self._generation_start = 0
            self.focus = max(0, min(self.focus, len(kit.pads) - 1))
            self.instrument_notes.reset(kit, buffers)
        self.mixer.set_master_gain(float(_latent.db_to_gain(kit.master_gain_db)))
        for index in edited:
            self._request(index, kit)
        old.on_ready = None
        old.close()
