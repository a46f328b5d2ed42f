"""Generator backends behind one interface: ONNX Runtime or torch, CPU or CUDA.

Cheat sheet::

    from ganshot.engine.runtime import load_generator_runtime

    gen = load_generator_runtime("presets/models/drums")           # backend="auto": the faster one
    gen.backend, gen.device, gen.name      # "onnx", "cpu", "onnx-cpu"
    gen.timings_summary                    # "onnx-cpu 6.4 ms vs torch-cpu 18.0 ms" (batch 1, median)
    audio = gen.render(z)                  # z float32[B, latent_dim] -> float32[B, num_samples]
    audio = gen.render(z, labels=np.array([0, 2]))                 # conditional bundles: int64[B]
    audio = gen.render(z, labels, pitches=np.array([60, 67]))      # pitch-conditional: MIDI int64[B]
    gen = load_generator_runtime(bundle, backend="onnx", threads=1)  # never imports torch

Backends:

* ``onnx`` wraps :class:`~.onnx_runtime.OnnxGenerator`: the CPU provider, or the CUDA
  provider when ``device`` is "cuda"/"auto" and onnxruntime-gpu finds a GPU. This path
  never imports torch.
* ``torch`` rebuilds :class:`~.wavegan.WaveGANGenerator` from the bundle's
  hyperparameters and loads ``generator.safetensors`` from bytes whose sha256 was just
  checked against ``model.json`` (safetensors only: no pickles, no TorchScript). It runs
  in eval mode under ``torch.inference_mode()``. On CUDA it captures one CUDA graph per
  batch size in :data:`CUDA_GRAPH_BATCHES` on first use (a batch is padded up to the
  next captured size; larger batches run eagerly). torch is imported here only.
* ``auto`` loads both on their best device, warms each up, times
  :data:`AUTO_TIMED_RUNS` renders at batch 1, keeps the faster and records every
  figure in :attr:`GeneratorRuntime.timings` (name -> median ms); a backend that cannot
  load is listed in :attr:`GeneratorRuntime.unavailable` with the reason.

``threads`` sets ONNX Runtime's intra-op threads for this session; for torch it calls
``torch.set_num_threads``, which is process-wide. Both backends release the GIL while
the generator runs, and :meth:`GeneratorRuntime.render` is safe to call from several
threads (the CUDA-graph replay is serialised by a lock).
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
import struct
import threading
import time

import numpy as np

from ._inputs import MAX_BATCH, BundleSizes, check_inputs, check_pitches
from .bundle import IMPORTED, MODEL_JSON, SAFETENSORS_NAME, ModelBundle, load_bundle
from .errors import FormatError, GanshotError, IntegrityError, UserInputError
from .limits import check_int

__all__ = [
    "BACKENDS",
    "DEVICES",
    "MAX_BATCH",
    "CUDA_GRAPH_BATCHES",
    "GeneratorRuntime",
    "load_generator_runtime",
    "measure_render_ms",
]

BACKENDS = ("auto", "onnx", "torch")
DEVICES = ("auto", "cpu", "cuda")
CUDA_GRAPH_BATCHES = (1, 2, 4, 8)
AUTO_WARMUP_RUNS = 2
AUTO_TIMED_RUNS = 5
MAX_THREADS = 256

log = logging.getLogger(__name__)


class GeneratorRuntime(BundleSizes):
    """One loaded generator: ``render(z[B, latent_dim], labels[B] | None, pitches[B] | None) -> float32[B, num_samples]``.

    Attributes: ``bundle``; ``backend`` ("onnx" | "torch"); ``device`` ("cpu" | "cuda");
    ``timings`` (name -> median render ms at batch 1, filled by ``backend="auto"``);
    ``unavailable`` (name -> why a backend was not loaded by auto); ``cuda_graphs`` (True when
    the torch backend replays CUDA graphs).
    """

    backend = "?"
    cuda_graphs = False

    def __init__(self, bundle: ModelBundle, device: str) -> None:
        self.bundle = bundle
        self.device = device
        self.timings: dict[str, float] = {}
        self.unavailable: dict[str, str] = {}

    @property
    def name(self) -> str:
        """``"{backend}-{device}"``, e.g. "onnx-cpu"."""
        return f"{self.backend}-{self.device}"

    @property
    def timings_summary(self) -> str:
        """e.g. ``"onnx-cpu 6.4 ms vs torch-cpu 18.0 ms"`` (empty when nothing was measured)."""
        return " vs ".join(f"{name} {ms:.1f} ms" for name, ms in self.timings.items())

    def render(self, z, labels=None, pitches=None) -> np.ndarray:
        """``z`` float32[B, latent_dim] (+ int64 ``labels[B]``, + int64 MIDI ``pitches[B]`` in the bundle's
        pitch range for a pitch-conditional bundle) -> a new float32[B, num_samples] array."""
        z, labels = check_inputs(self.bundle, z, labels)
        return self._render(z, labels, check_pitches(self.bundle, pitches, z.shape[0]))

    def _render(self, z: np.ndarray, labels: np.ndarray | None, pitches: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        b = self.bundle
        timing = f", timings={self.timings_summary!r}" if self.timings else ""
        return (
            f"GeneratorRuntime(backend={self.backend!r}, device={self.device!r}, model={b.name!r}, "
            f"latent_dim={b.latent_dim}, num_samples={b.num_samples}, sample_rate={b.sample_rate}{timing})"
        )


class _OnnxRuntime(GeneratorRuntime):
    backend = "onnx"

    def __init__(self, bundle: ModelBundle, device: str, threads: int | None) -> None:
        import onnxruntime as ort

        from .onnx_runtime import OnnxGenerator

        want_cuda = device in ("auto", "cuda") and "CUDAExecutionProvider" in ort.get_available_providers()
        if device == "cuda" and not want_cuda:
            raise UserInputError(
                "device 'cuda' asked for, but this onnxruntime has no CUDA provider (install onnxruntime-gpu)"
            )
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if want_cuda else ["CPUExecutionProvider"]
        try:
            self._gen = OnnxGenerator(bundle, providers=providers, threads=threads or 0)
        except FormatError:
            if not want_cuda or device == "cuda":
                raise
            # onnxruntime-gpu without a usable GPU/driver can fail to build the session: use the CPU
            self._gen = OnnxGenerator(bundle, providers=["CPUExecutionProvider"], threads=threads or 0)
        used = "cuda" if "CUDAExecutionProvider" in self._gen.providers else "cpu"
        if device == "cuda" and used != "cuda":
            raise UserInputError("device 'cuda' asked for, but ONNX Runtime found no usable GPU")
        super().__init__(bundle, used)

    def _render(self, z, labels, pitches=None):
        return self._gen.run(z, labels, pitches)  # checked by render(); session.run releases the GIL


def _safetensors_metadata(data: bytes) -> dict:
    """The ``__metadata__`` of a safetensors byte string (structure checked by load_bundle)."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta if isinstance(meta, dict) else {}


class _TorchRuntime(GeneratorRuntime):
    backend = "torch"

    def __init__(
        self, bundle: ModelBundle, device: str, threads: int | None, graph_batches=CUDA_GRAPH_BATCHES
    ) -> None:
        import torch
        from safetensors.torch import load as load_safetensors

        from .generators import build_generator, spec_from_dict

        if device == "cuda" and not torch.cuda.is_available():
            raise UserInputError("device 'cuda' asked for, but torch sees no CUDA GPU")
        used = "cuda" if device in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
        super().__init__(bundle, used)
        if threads:
            torch.set_num_threads(threads)  # process-wide: torch has no per-module thread pool
        path = bundle.safetensors_path
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != bundle.meta["files"][SAFETENSORS_NAME]["sha256"]:
            raise IntegrityError(f"{path}: changed since the bundle was loaded (sha256 differs from {MODEL_JSON})")
        spec = spec_from_dict(bundle.meta["architecture"], bundle.hyperparameters)
        stored = _safetensors_metadata(data).get("spec")
        if stored is not None and json.loads(stored) != spec.to_dict():
            raise FormatError(f"{path}: its spec metadata differs from {MODEL_JSON} hyperparameters")
        model = build_generator(spec)
        try:
            model.load_state_dict(load_safetensors(data), strict=True)
        except (RuntimeError, KeyError, ValueError) as err:
            detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise FormatError(f"{path}: weights do not fit the generator in {MODEL_JSON} ({detail})") from None
        self._torch = torch
        self._model = model.to(used).eval().requires_grad_(False)
        self._graph_batches = tuple(sorted(graph_batches)) if used == "cuda" else ()
        self._graphs: dict[int, tuple] = {}
        self._graph_lock = threading.Lock()
        self.cuda_graphs = bool(self._graph_batches)

    @property
    def module(self):
        """The torch generator (eval mode, weights frozen), for callers that differentiate through it
        with respect to z (``ganshot match``); ``module(z, labels)`` (``module(z, labels, pitches)`` for a
        pitch-conditional bundle) -> audio."""
        return self._model

    def _capture(self, size: int) -> tuple:
        """Record a CUDA graph of the forward pass at batch ``size`` (static input/output tensors)."""
        torch, dev = self._torch, self.device
        z = torch.zeros(size, self.latent_dim, device=dev)
        labels = torch.zeros(size, dtype=torch.int64, device=dev) if self.bundle.conditional else None
        pitch_range = self.bundle.pitch_range
        pitches = torch.full((size,), pitch_range[0], dtype=torch.int64, device=dev) if pitch_range else None
        extra = (pitches,) if pitches is not None else ()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):  # warm-up outside the graph (cuDNN picks its algorithms here)
                self._model(z, labels, *extra)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = self._model(z, labels, *extra)
        return graph, z, labels, pitches, out

    def _render_graph(self, z: np.ndarray, labels, pitches=None) -> np.ndarray | None:
        batch = z.shape[0]
        size = next((s for s in self._graph_batches if s >= batch), None)
        if size is None:
            return None
        torch = self._torch
        with self._graph_lock:
            if size not in self._graphs:
                try:
                    self._graphs[size] = self._capture(size)
                except Exception as err:  # capture is optional: eager still works
                    log.warning("CUDA graph capture failed (%s); running eagerly", err)
                    self._graph_batches, self.cuda_graphs = (), False
                    return None
            graph, static_z, static_labels, static_pitches, out = self._graphs[size]
            static_z.zero_()
            static_z[:batch].copy_(torch.from_numpy(z))
            if static_labels is not None:
                static_labels.zero_()
                static_labels[:batch].copy_(torch.from_numpy(labels))
            if static_pitches is not None:
                static_pitches[:batch].copy_(torch.from_numpy(pitches))  # padding rows keep a valid note
            graph.replay()
            return out[:batch].float().cpu().numpy()  # .cpu() waits for the replay

    def _render(self, z, labels, pitches=None):
        torch = self._torch
        with torch.inference_mode():
            if self._graph_batches:
                audio = self._render_graph(z, labels, pitches)
                if audio is not None:
                    return audio
            zt = torch.from_numpy(z).to(self.device)
            lt = torch.from_numpy(labels).to(self.device) if labels is not None else None
            extra = (torch.from_numpy(pitches).to(self.device),) if pitches is not None else ()
            out = self._model(zt, lt, *extra)  # each op releases the GIL while it runs
            return np.ascontiguousarray(out.float().cpu().numpy())


def measure_render_ms(
    runtime: GeneratorRuntime, batch: int = 1, warmup: int = AUTO_WARMUP_RUNS, runs: int = AUTO_TIMED_RUNS
) -> float:
    """Median wall time in ms of ``runtime.render`` at ``batch`` (seeded z, label 0, the lowest pitch of a
    pitch-conditional bundle), after ``warmup`` runs."""
    z = np.random.default_rng(0).standard_normal((batch, runtime.latent_dim)).astype(np.float32)
    labels = np.zeros(batch, np.int64) if runtime.bundle.conditional else None
    pitch_range = runtime.bundle.pitch_range
    pitches = np.full(batch, pitch_range[0], np.int64) if pitch_range else None
    for _ in range(warmup):
        runtime.render(z, labels, pitches)
    times = []
    for _ in range(max(int(runs), 1)):
        start = time.perf_counter()
        runtime.render(z, labels, pitches)
        times.append((time.perf_counter() - start) * 1000.0)
    return float(statistics.median(times))


def _load_one(backend: str, bundle: ModelBundle, device: str, threads: int | None) -> GeneratorRuntime:
    if backend == "onnx":
        return _OnnxRuntime(bundle, device, threads)
    if bundle.meta["architecture"] == IMPORTED:
        raise UserInputError(f"model {bundle.name!r:.60} is an imported ONNX generator: it runs on ONNX Runtime "
                             "only (--backend onnx or auto)")
    return _TorchRuntime(bundle, device, threads)


def load_generator_runtime(
    bundle, backend: str = "auto", device: str = "auto", threads: int | None = None
) -> GeneratorRuntime:
    """Load ``bundle`` (a :class:`ModelBundle` or a bundle folder) on ``backend`` / ``device``.

    ``backend``: "auto" (time both, keep the faster), "onnx" or "torch". ``device``:
    "auto" (CUDA when the backend can use a GPU here), "cpu" or "cuda" (UserInputError
    when unavailable). ``threads``: intra-op threads (None: the library's default).
    """
    if backend not in BACKENDS:
        raise UserInputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r:.40}")
    if device not in DEVICES:
        raise UserInputError(f"device must be one of {', '.join(DEVICES)}, got {device!r:.40}")
    if threads is not None:
        check_int(threads, "threads (or None)", 1, MAX_THREADS)
    bundle = bundle if isinstance(bundle, ModelBundle) else load_bundle(bundle)
    if backend != "auto":
        return _load_one(backend, bundle, device, threads)
    loaded, unavailable = [], {}
    for name in ("onnx", "torch"):
        try:
            loaded.append(_load_one(name, bundle, device, threads))
        except (ImportError, GanshotError) as err:  # e.g. no torch installed, or no GPU for device="cuda"
            unavailable[name] = (str(err).splitlines() or [type(err).__name__])[0]
    if not loaded:
        reasons = "; ".join(f"{name}: {why}" for name, why in unavailable.items())
        raise UserInputError(f"no generator backend could load this bundle: {reasons}")
    timings = {runtime.name: measure_render_ms(runtime) for runtime in loaded}
    best = min(loaded, key=lambda runtime: timings[runtime.name])
    best.timings, best.unavailable = timings, unavailable
    return best
