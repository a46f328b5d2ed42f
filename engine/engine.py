"""The engine's command API: the one door the CLI, OSC and MIDI bridges go through.

Cheat sheet::

    engine = Engine(load_bundle("presets/models/drums-v2"), load_kit("presets/kits/default.json"))
    engine.trigger(0, velocity=0.8)                 # pad index; starts within one block
    engine.trigger_note(38, velocity=1.0)           # by MIDI note through the kit's map
    engine.trigger(2, at_frame=engine.mixer.frame + 4800)   # sample-exact
    engine.apply("pad.0.direction.1", 0.5)          # any knob: a kit controller target, one vocabulary
    engine.set_direction(0, 1, 0.5)                 # the same knob as a method: pad 0, direction 1 -> +0.5
    engine.morph(3, from_pad=0, to_pad=1, t=0.25)   # spherical interpolation of latents
    engine.set_gain(0, -6.0); engine.set_pan(0, -0.5); engine.set_pitch(0, 3.0)
    engine.set_focus(2)                             # "focused.*" controller targets act on pad 2
    engine.learn("focused.direction.0")             # a MIDI bridge binds the next CC that moves
    engine.set_controllers(controllers)             # the kit's controller table (saved with it)
    engine.status()                                 # counters (voices, underflows, ...)
    engine.panic()
    engine.note_on(64, 0.8, at_frame=f); engine.note_off(64, at_frame=g)   # instrument pads: instrument_commands.py
    engine.load_model("presets/models/drums-v2")   # hot swap, no gap: model_commands.py, model_swap.py

Threads: any thread may call any command. Commands never wait for a render: a latent,
pitch or kit change queues a render on the :class:`RenderWorker` and the pad keeps its
current buffer until the new one is ready, so sounding voices finish with their old
buffer (no clicks) and the next trigger plays the new one. Nothing here runs on the
audio thread: voices are handed to the C mixer as finished buffers with linear gains.

Gains: ``pad gain_db + velocity curve (latent.velocity_gain, square law) + constant-power
pan``; the kit's ``master_gain_db`` is the mixer's master gain. Direction knobs: a kit
coefficient c in [-1, 1] moves z by ``c · DIRECTION_RANGE_SIGMAS · σ_k`` along direction k
(the bundle's directions when it has them, else the first latent axes with σ = 1).
"""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np

from . import latent as _latent
from .bundle import ModelBundle
from .errors import GanshotError, UserInputError
from .instrument import render_pitch
from .controller_commands import ControllerCommands
from .instrument_commands import InstrumentCommands
from .kit import Kit, check_model, load_kit, pad_label, save_kit
from .limits import check_int
from .mixer import Mixer
from .model_commands import ModelCommands, bundle_directions
from .postprocess import PostProcess
from .pad_latents import PadLatentCommands
from .render_worker import DEFAULT_CACHE_BYTES, RenderWorker
from .runtime import load_generator_runtime

__all__ = ["Engine", "DIRECTION_RANGE_SIGMAS", "DEFAULT_SAMPLE_RATE"]

DIRECTION_RANGE_SIGMAS = 3.0  # a direction knob at +1 moves z by 3 σ
DEFAULT_SAMPLE_RATE = 48000
_RENDER_FIELDS = frozenset({"z", "seed", "directions", "pitch_semitones", "class_name", "truncation"})  # change the sound


class Engine(PadLatentCommands, InstrumentCommands, ControllerCommands, ModelCommands):
    """A loaded model + kit, its render worker and its C mixer (live or offline)."""

    def __init__(self, bundle: ModelBundle, kit: Kit, *, sample_rate: int = DEFAULT_SAMPLE_RATE,
                 backend: str = "auto", device: str = "auto", max_voices: int = 64,
                 cache_bytes: int = DEFAULT_CACHE_BYTES, velocity_curve: str = "square",
                 runtime=None, post: PostProcess = PostProcess(), enhance: bool = True):
        check_model(kit, bundle)
        _latent.velocity_gain(1.0, velocity_curve)  # validates the curve name
        self.bundle = bundle
        self.timbre_map = None  # a TimbreMap for set_xy (load_map)
        self.sample_rate = int(sample_rate)
        self.velocity_curve = velocity_curve
        self.runtime = runtime if runtime is not None else load_generator_runtime(bundle, backend, device)
        self.mixer = Mixer(self.sample_rate, max_voices=max_voices)
        self.stream = None  # an AudioStream attaches itself here when serving live
        self._lock = threading.RLock()  # guards kit and pad buffers; never seen by the audio thread
        self._kit = kit
        self._buffers: list = [None] * len(kit.pads)
        self._buffer_ids = [0] * len(kit.pads)  # request id of each pad's current buffer
        self._generation_start = 0  # results of requests older than the current kit are dropped
        self.triggers = self.triggers_not_ready = self.triggers_unmapped = 0
        self.focus = 0  # the pad "focused.*" targets act on: the last one played, or set_focus()
        self.learn_target: str | None = None  # armed by learn(); a MIDI bridge binds the next CC to it
        self.worker = RenderWorker(self.runtime, bundle.sha256, self.sample_rate, post=post,
                                   cache_bytes=cache_bytes, on_ready=self._on_ready, enhance=enhance)
        self.worker.on_ready = self._ready_for(self.worker)
        self._directions, self._sigmas = bundle_directions(bundle)
        self.model_swap = None  # the last load_model(): its stage and progress show in status()
        self.closed = False
        self.mixer.set_master_gain(float(_latent.db_to_gain(kit.master_gain_db)))
        self._init_instruments()  # note-on/off, sustain and render-ahead of instrument pads (instrument_commands.py)
        self._render_all(wait=True)

    # -- latents ------------------------------------------------------------------------
    @property
    def kit(self) -> Kit:
        return self._kit

    def pad_latent(self, index: int, kit: Kit | None = None, bundle: ModelBundle | None = None) -> np.ndarray:
        """The z float32[latent_dim] a pad renders: its z (or seed) moved along its directions
        (of ``bundle``, default the engine's model: a model swap renders for the next one)."""
        pad = (kit or self._kit).pads[index]
        bundle = bundle or self.bundle
        if pad.z is not None:
            z = np.asarray(pad.z, dtype=np.float32)
        else:
            z = _latent.seeded_latent(pad.seed, bundle.latent_dim, bundle.latent_distribution)
        if pad.truncation != 1.0:
            z = (z * np.float32(pad.truncation)).astype(np.float32)
        if not pad.directions:
            return z
        count = len(pad.directions)
        directions, sigmas = bundle_directions(bundle) if bundle is not self.bundle else (self._directions, self._sigmas)
        dirs = None if directions is None else directions[:count]
        sigmas = (np.ones(count, np.float32) if sigmas is None else sigmas[:count]) * DIRECTION_RANGE_SIGMAS
        if dirs is not None and len(dirs) < count:
            raise UserInputError(f"the model has {len(dirs)} directions; pad {index} uses {count}")
        return _latent.apply_directions(z, dirs, np.asarray(pad.directions, np.float32), sigmas)

    def pad_label(self, index: int, kit: Kit | None = None, bundle: ModelBundle | None = None) -> int | None:
        """The class index a pad asks a conditional model for (None for unconditional models)."""
        return pad_label((kit or self._kit).pads[index], index, bundle or self.bundle)

    def _request(self, index: int, kit: Kit) -> None:
        pad = kit.pads[index]
        worker = self.worker
        try:
            worker.request(index, self.pad_latent(index, kit), pitch_semitones=pad.pitch_semitones,
                           label=self.pad_label(index, kit), enhance=kit.enhance,
                           note=render_pitch(pad, getattr(worker, "pitch_range", None)))
        except GanshotError:
            if worker is self.worker:
                raise
            self._request(index, self._kit)  # a model swap closed that worker meanwhile: the new one renders

    def _render_all(self, wait: bool) -> None:
        kit = self._kit
        if wait:
            buffers = [self.worker.render_now(self.pad_latent(i, kit), kit.pads[i].pitch_semitones,
                                              self.pad_label(i, kit), kit.enhance,
                                              render_pitch(kit.pads[i], self.worker.pitch_range))
                       for i in range(len(kit.pads))]
            with self._lock:
                if kit is self._kit:
                    self._buffers = buffers
                    self.instrument_notes.reset(kit, buffers)  # every note of every range, in the background
            return
        for index in range(len(kit.pads)):
            self._request(index, kit)

    def _ready_for(self, worker: RenderWorker):
        """The on_ready callback of ``worker``: its results count only while it is the engine's."""
        return lambda pad, buffer, request_id: self._on_ready(pad, buffer, request_id, worker)

    def _on_ready(self, pad: int, buffer: np.ndarray, request_id: int, worker=None) -> None:
        with self._lock:  # called from the render thread
            if worker is not None and worker is not self.worker:
                return  # rendered by a model swapped out since (its ids are another count)
            if request_id <= self._generation_start or pad >= len(self._buffers):
                return  # made for a kit that is no longer loaded
            if request_id > self._buffer_ids[pad]:
                self._buffers[pad], self._buffer_ids[pad] = buffer, request_id
                self.instrument_notes.pad_ready(self._kit, pad, buffer)  # an instrument's notes follow

    def _edit(self, index: int, **changes) -> Kit:
        """Change pad fields in place (one check per given field) and render again when the
        sound changes; the pad keeps its old buffer until then."""
        with self._lock:
            self._check_index(index)
            self._kit = self._kit.with_pad(int(index), **changes)
            kit = self._kit
        if _RENDER_FIELDS.intersection(changes):
            self._request(int(index), kit)
        return kit

    def _check_index(self, index) -> None:
        check_int(index, "pad", 0, len(self._kit.pads) - 1)

    # -- commands: sound --------------------------------------------------------------
    def trigger(self, index: int, velocity: float = 1.0, at_frame: int | None = None) -> int:
        """Play pad ``index`` at ``velocity`` in [0, 1], now or at stream frame ``at_frame``.

        Returns the mixer's voice token (0: not played — no buffer yet, or queue full).
        """
        gain = float(_latent.velocity_gain(velocity, self.velocity_curve))
        with self._lock:
            self._check_index(index)
            pad, buffer = self._kit.pads[index], self._buffers[index]
            buffer = self._trigger_buffer(index, pad, buffer)  # an instrument pad: its own note
            self.triggers += 1
            self.focus = int(index)
        if buffer is None:
            self.triggers_not_ready += 1
            return 0
        gain *= float(_latent.db_to_gain(pad.gain_db))
        gain_l, gain_r = _latent.constant_power_pan(pad.pan)
        return self.mixer.play(buffer, gain * gain_l, gain * gain_r, start_frame=at_frame,
                               choke_group=pad.choke_group)

    def count_played(self, index: int) -> None:
        """Pad ``index`` was played by the C mixer's JACK MIDI input (engine/jack_midi.py), not by
        trigger(): count it in ``triggers`` and focus it, as trigger() does."""
        with self._lock:
            if 0 <= index < len(self._kit.pads):
                self.triggers += 1
                self.focus = int(index)

    def frame_for_time(self, unix_time_s: float) -> int | None:
        """The stream frame heard at wall-clock ``unix_time_s`` (``time.time()`` scale, e.g. an
        OSC timetag), from the live stream's calibrated clock; None when no stream is running."""
        stream = self.stream
        if stream is None or not stream.active:
            return None
        return stream.frame_at_monotonic(time.monotonic() + (float(unix_time_s) - time.time()))

    def trigger_note(self, note: int, velocity: float = 1.0, at_frame: int | None = None) -> int:
        """Play the pad mapped to MIDI ``note`` (unmapped notes are counted and ignored)."""
        index = self._kit.index_for_note(note)
        if index < 0:
            self.triggers_unmapped += 1
            return 0
        return self.trigger(index, velocity, at_frame)

    def panic(self) -> None:
        """Fade out every voice and cancel everything scheduled."""
        self.mixer.stop_all()
        self.instrument_voices.panic()

    # -- commands: the sound of a pad -----------------------------------------------------
    @property
    def num_directions(self) -> int:
        """How many direction knobs a pad has: the bundle's directions, else its latent axes."""
        return self.bundle.latent_dim if self._directions is None else len(self._directions)

    def set_direction(self, index: int, direction: int, value: float) -> None:
        """Knob: move pad ``index`` along ``direction`` to ``value`` in [-1, 1]."""
        self._check_index(index)
        direction = check_int(direction, "direction", 0, self.num_directions - 1)  # before the kit changes
        coefficients = list(self._kit.pads[index].directions)
        coefficients += [0.0] * (direction + 1 - len(coefficients))
        coefficients[direction] = value
        self._edit(index, directions=tuple(coefficients))

    def set_gain(self, index: int, gain_db: float) -> None:
        self._edit(index, gain_db=gain_db)

    def set_pan(self, index: int, pan: float) -> None:
        self._edit(index, pan=pan)

    def set_pitch(self, index: int, pitch_semitones: float) -> None:
        self._edit(index, pitch_semitones=pitch_semitones)

    def set_choke(self, index: int, group: int) -> None:
        self._edit(index, choke_group=group)

    def set_class(self, index: int, class_name: str) -> None:
        """Ask a conditional model for ``class_name`` (one of the bundle's classes) on pad ``index``."""
        with self._lock:
            self._check_index(index)
            pad_label(dataclasses.replace(self._kit.pads[int(index)], class_name=class_name), int(index), self.bundle)
        self._edit(index, class_name=class_name)

    def render(self, z, pitch_semitones: float = 0.0) -> np.ndarray:
        """Render ``z`` float[latent_dim] to a finished buffer (float32 mono at the stream rate), in the
        calling thread, through the worker's pipeline and cache (for render-server requests)."""
        return self.worker.render_now(np.asarray(z, dtype=np.float32), pitch_semitones)

    def set_master_gain(self, gain_db: float) -> None:
        with self._lock:
            self._kit = self._kit.with_master_gain(gain_db)
            gain_db = self._kit.master_gain_db
        self.mixer.set_master_gain(float(_latent.db_to_gain(gain_db)))

    def _base_latent(self, index: int) -> np.ndarray:
        pad = self._kit.pads[index]
        if pad.z is not None:
            return np.array(pad.z, dtype=np.float64)
        return _latent.seeded_latent(pad.seed, self.bundle.latent_dim, self.bundle.latent_distribution).astype(np.float64)

    # -- kits -------------------------------------------------------------------------------
    def load_kit(self, path, wait: bool = False) -> Kit:
        """Load and swap in the kit at ``path``; on any error the current kit keeps playing."""
        kit = load_kit(path, latent_dim=self.bundle.latent_dim)
        check_model(kit, self.bundle)
        self.set_kit(kit, wait=wait)
        return kit

    def set_kit(self, kit: Kit, wait: bool = False) -> None:
        check_model(kit, self.bundle)
        with self._lock:
            old = self._buffers
            self._kit = kit
            # pads keep sounding with the buffer of the same index until their new one is ready
            self._buffers = [old[i] if i < len(old) else None for i in range(len(kit.pads))]
            self._buffer_ids = [0] * len(kit.pads)
            self._generation_start = self.worker.last_request_id
            self.focus = max(0, min(self.focus, len(kit.pads) - 1))
            self.instrument_notes.reset(kit)
        self.mixer.set_master_gain(float(_latent.db_to_gain(kit.master_gain_db)))
        self._render_all(wait=wait)

    def save_kit(self, path) -> None:
        save_kit(self._kit, path)

    # -- state ---------------------------------------------------------------------------------
    def longest_buffer_frames(self) -> int:
        """Length in frames of the longest pad buffer now loaded (0 before any render)."""
        with self._lock:
            pads = max((len(b) for b in self._buffers if b is not None), default=0)
        return max(pads, self.instrument_notes.longest_frames())

    def pad_buffer(self, index: int):
        """The buffer pad ``index`` plays on its next trigger (float32[frames], read-only) or None."""
        with self._lock:
            self._check_index(index)
            return self._buffers[index]

    def pads_snapshot(self) -> tuple:
        """``(kit, buffers)``: the kit and each pad's current buffer (None: not rendered yet), taken
        together (a JACK MIDI note table is built from them, engine/jack_midi.py)."""
        with self._lock:
            return self._kit, tuple(self._buffers)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until every queued render, then every instrument note, has landed (tests, offline, SFZ)."""
        return self.worker.wait_idle(timeout) and self._instruments_wait(timeout)

    def status(self) -> dict:
        """Counters, readable any time from any thread."""
        mixer, worker = self.mixer.counters(), self.worker.stats()
        return {
            "voices": mixer["voices_sounding"],
            "underflows": mixer["underflows"],
            "late": mixer["late_starts"],
            "dropped": mixer["commands_dropped"],
            "stolen": mixer["voices_stolen"],
            "limiter_db": mixer["limiter_reduction_db"],  # the master limiter's gain reduction now, dB >= 0
            "limiter_max_db": mixer["limiter_max_reduction_db"],  # and its most since the mixer's reset_peaks()
            "peak_db": mixer["peak_db"],  # the loudest frame before it, dBFS
            "renders": worker["renders_done"],
            "render_ms_p50": worker["render_ms_p50"],
            "render_ms_p99": worker["render_ms_p99"],
            "render_errors": worker["errors"],
            "enhancer": worker["enhancer"] and self._kit.enhance,  # the bundle's post-filter runs on renders
            "enhance_ms_p50": worker["enhance_ms_p50"],  # its median ms per one-shot (NaN: none ran yet)
            "cache_bytes": worker["cache_bytes"],
            "triggers": self.triggers,
            "triggers_not_ready": self.triggers_not_ready,
            "backend": self.runtime.name,
            "sample_rate": self.sample_rate,
            "frame": mixer["frames_done"],
            "pads": len(self._kit.pads),
            "focus": self.focus,
            "model": self.bundle.name,
            **{f"model_swap_{k}": v for k, v in (self.model_swap.status() if self.model_swap else
                                                 {"stage": None, "progress": None, "error": None}).items()
               if k != "model"},  # the last load_model(): stage, progress 0..1, error
            **self._instrument_status(),  # instrument_notes_ready / _total, notes_not_ready, notes_stolen, ...
        }

    def close(self) -> None:
        self.closed = True  # a model swap in progress gives up
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        self.worker.close()
        self.instrument_notes.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Engine(model={self.bundle.name!r}, kit={self._kit.name!r}, pads={len(self._kit.pads)}, "
                f"sample_rate={self.sample_rate}, backend={self.runtime.name!r})")
