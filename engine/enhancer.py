"""The enhancement post-filter a bundle may carry, run with ONNX Runtime (no torch).

Cheat sheet::

    from ganshot.engine.enhancer import Enhancer, enhance_file
    enh = Enhancer(load_bundle("presets/models/drums-v2e"))      # FormatError: no enhancer, or it does not fit
    clean = enh.run(audio)                 # float32[B, num_samples] at the bundle's rate -> same shape
    enh.ms_p50                             # median ms of the recent run() calls (NaN before any)
    enhance_file("hit.wav", "hit-clean.wav", bundle)             # any mono/multichannel WAV/FLAC

The enhancer is a spectral mask in [0, 1] (it can only remove energy: hiss, tonal lines,
pre-echo) trained by ``ganshot enhance-train``; model.json's ``enhancer`` entry names its
file, sha256, input/output names, rate and length. Loading re-checks the bytes' sha256,
refuses external data, and checks the graph: one float input ``[batch, num_samples]`` and
the named output of the same shape, else one :class:`FormatError` line. ``run`` releases
the GIL inside ONNX Runtime; it is called by the render worker, never by the audio thread.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from ._filecheck import check_onnx_bytes
from .bundle import MODEL_JSON, ModelBundle, load_bundle
from .errors import FormatError, IntegrityError, UserInputError

__all__ = ["Enhancer", "enhance_file", "ENHANCE_MS_WINDOW", "MAX_ENHANCE_FILE_BYTES"]

ENHANCE_MS_WINDOW = 256
MAX_ENHANCE_FILE_BYTES = 64 * 1024 * 1024
MAX_CHANNELS = 16


class Enhancer:
    """A bundle's enhancer: ``run(float32[B, num_samples]) -> float32[B, num_samples]``."""

    def __init__(self, bundle, threads: int = 1) -> None:
        import onnxruntime as ort

        self.bundle = bundle if isinstance(bundle, ModelBundle) else load_bundle(bundle)
        entry = self.bundle.enhancer
        if entry is None:
            raise FormatError(f"{self.bundle.path}: model {self.bundle.name!r} carries no enhancer")
        self.num_samples, self.sample_rate = self.bundle.num_samples, self.bundle.sample_rate
        self._input, self._output = entry["input"], entry["output"]
        path = self.bundle.files[entry["file"]]
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise IntegrityError(f"{path}: sha256 differs from the enhancer entry of {MODEL_JSON}")
        check_onnx_bytes(data, str(path))
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types
            detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise FormatError(f"{path}: ONNX Runtime cannot load the enhancer ({detail})") from None
        self._check_graph(path)
        self._ms: deque = deque(maxlen=ENHANCE_MS_WINDOW)
        self._lock = threading.Lock()

    def _check_graph(self, path) -> None:
        inputs, outputs = self._session.get_inputs(), {o.name: o for o in self._session.get_outputs()}
        want = f"[batch, {self.num_samples}]"
        if len(inputs) != 1 or inputs[0].name != self._input or self._output not in outputs:
            raise FormatError(f"{path}: enhancer inputs {[i.name for i in inputs]} / outputs {sorted(outputs)} do not "
                              f"match {MODEL_JSON} (input {self._input!r}, output {self._output!r})")
        for what, node in (("input", inputs[0]), ("output", outputs[self._output])):
            shape = node.shape
            if len(shape) != 2 or shape[1] != self.num_samples or isinstance(shape[0], int):
                raise FormatError(f"{path}: enhancer {what} {node.name!r} has shape {shape}, expected {want} "
                                  f"(a free batch axis and the model's {self.num_samples} samples)")
            if node.type != "tensor(float)":
                raise FormatError(f"{path}: enhancer {what} {node.name!r} is {node.type}, expected tensor(float)")

    def run(self, audio: np.ndarray) -> np.ndarray:
        """Enhance ``audio`` float32[B, num_samples] (B >= 1); returns a new float32 array of that shape."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if audio.ndim != 2 or audio.shape[1] != self.num_samples or audio.shape[0] < 1:
            raise UserInputError(f"enhancer input must be float32[B, {self.num_samples}], got {list(audio.shape)}")
        start = time.perf_counter()
        (out,) = self._session.run([self._output], {self._input: audio})
        if out.shape != audio.shape:
            raise FormatError(f"enhancer output has shape {list(out.shape)}, expected {list(audio.shape)}")
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        with self._lock:
            self._ms.append(elapsed_ms / audio.shape[0])  # per one-shot
        return np.asarray(out, dtype=np.float32)

    @property
    def ms_p50(self) -> float:
        """Median ms per one-shot over the recent :meth:`run` calls (NaN before the first)."""
        with self._lock:
            window = list(self._ms)
        return float(np.median(window)) if window else float("nan")

    def __repr__(self) -> str:
        return f"Enhancer(model={self.bundle.name!r}, sample_rate={self.sample_rate}, num_samples={self.num_samples})"


def _read_audio(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not path.is_file():
        raise UserInputError(f"{path}: no such audio file")
    if path.stat().st_size > MAX_ENHANCE_FILE_BYTES:
        raise UserInputError(f"{path}: larger than {MAX_ENHANCE_FILE_BYTES // (1024 * 1024)} MiB; one-shots only")
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile's errors, and anything a corrupt header makes it raise
        detail = " ".join(str(err).split()) or type(err).__name__
        raise FormatError(f"{path}: not a readable audio file ({detail:.200})") from None
    return audio, int(rate)


def enhance_file(in_path, out_path, bundle, enhancer: Enhancer | None = None) -> Path:
    """Enhance a WAV/FLAC one-shot at the bundle's rate, at most ``num_samples`` long (shorter is
    zero-padded, then cut back); each channel separately; writes a float WAV atomically."""
    from .offline import write_wav

    in_path = Path(in_path)
    audio, rate = _read_audio(in_path)
    enhancer = enhancer or Enhancer(bundle)
    if rate != enhancer.sample_rate:
        raise UserInputError(f"{in_path}: sample rate {rate} Hz; this enhancer works at {enhancer.sample_rate} Hz "
                             f"(resample first, e.g. sox in.wav -r {enhancer.sample_rate} out.wav)")
    frames, channels = audio.shape
    if frames == 0:
        raise UserInputError(f"{in_path}: holds no samples")
    if frames > enhancer.num_samples:
        raise UserInputError(f"{in_path}: {frames} samples; this enhancer takes one-shots of at most "
                             f"{enhancer.num_samples} ({enhancer.num_samples / rate:.3f} s)")
    if channels > MAX_CHANNELS:
        raise UserInputError(f"{in_path}: {channels} channels; at most {MAX_CHANNELS}")
    if not np.isfinite(audio).all():
        raise UserInputError(f"{in_path}: holds NaN or infinite samples")
    rows = np.zeros((channels, enhancer.num_samples), np.float32)
    rows[:, :frames] = audio.T
    out = enhancer.run(rows)[:, :frames].T
    return write_wav(out_path, np.ascontiguousarray(out), rate)
