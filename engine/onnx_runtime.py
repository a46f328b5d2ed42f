"""Run a bundle's generator with ONNX Runtime (no torch).

Cheat sheet::

    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.onnx_runtime import OnnxGenerator

    gen = OnnxGenerator(load_bundle("presets/models/drums"))       # CPU
    audio = gen.render(z)                                          # z float32[B, latent_dim]
    audio = gen.render(z, labels=np.array([0, 2], np.int64))       # conditional bundles
    audio = gen.render(z, labels, pitches=np.array([60, 67]))      # pitch-conditional bundles (MIDI)
    gen_gpu = OnnxGenerator(bundle, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])

The session is built from the bytes whose sha256 was just checked against
``model.json``, so the model that runs is exactly the one the bundle lists.
Requested providers that this onnxruntime build lacks are dropped (CPU remains);
:attr:`OnnxGenerator.providers` says what the session really uses. The CUDA
provider gets ``cudnn_conv_algo_search=HEURISTIC`` (the default, EXHAUSTIVE,
stalls for hundreds of ms on each new shape).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ._filecheck import check_onnx_bytes
from ._inputs import MAX_BATCH, BundleSizes, check_inputs, check_pitches
from .bundle import MODEL_JSON, ONNX_NAME, ModelBundle, load_bundle
from .errors import FormatError, IntegrityError

__all__ = ["OnnxGenerator", "MAX_BATCH"]

_CUDA_OPTIONS = {"cudnn_conv_algo_search": "HEURISTIC"}


def _resolve_providers(requested, available: list[str]) -> list:
    """Keep the requested providers this build has (CPU always last); add CUDA's options."""
    chosen = []
    for item in requested or ["CPUExecutionProvider"]:
        name, options = (item, None) if isinstance(item, str) else (item[0], dict(item[1]))
        if name not in available or any(c[0] == name for c in chosen):
            continue
        if name == "CUDAExecutionProvider":
            options = {**_CUDA_OPTIONS, **(options or {})}
        chosen.append((name, options or {}))
    if not any(name == "CPUExecutionProvider" for name, _ in chosen):
        chosen.append(("CPUExecutionProvider", {}))
    return chosen


class OnnxGenerator(BundleSizes):
    """A bundle's ONNX generator: ``render(z[B, latent_dim], labels[B] | None, pitches[B] | None)
    -> float32[B, num_samples]``.

    ``bundle`` is a :class:`ModelBundle` or a bundle folder. ``threads`` sets ONNX
    Runtime's intra-op threads (0: its default).
    """

    def __init__(self, bundle, providers=None, threads: int = 0) -> None:
        import onnxruntime as ort

        self.bundle = bundle if isinstance(bundle, ModelBundle) else load_bundle(bundle)
        io = self.bundle.onnx_io
        self._input, self._label_input, self._output = io["input"], io["label_input"], io["output"]
        self._pitch_input = self.bundle.pitch_input
        path = self.bundle.onnx_path
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.bundle.meta["files"][ONNX_NAME]["sha256"]:
            raise IntegrityError(f"{path}: changed since the bundle was loaded (sha256 differs from {MODEL_JSON})")
        check_onnx_bytes(data, str(path))  # the bytes that will run, not the file again
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        chosen = _resolve_providers(providers, ort.get_available_providers())
        try:
            self._session = ort.InferenceSession(
                data, sess_options=options, providers=[n for n, _ in chosen], provider_options=[o for _, o in chosen]
            )
        except Exception as err:  # onnxruntime raises its own exception types
            detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise FormatError(f"{path}: ONNX Runtime cannot load it ({detail})") from None
        self.providers = tuple(self._session.get_providers())
        inputs = {i.name: i for i in self._session.get_inputs()}
        expected = {self._input} | ({self._label_input} if self._label_input else set())
        expected |= {self._pitch_input} if self._pitch_input else set()
        outputs = [o.name for o in self._session.get_outputs()]
        if set(inputs) != expected or self._output not in outputs:
            raise FormatError(
                f"{path}: inputs {sorted(inputs)} / outputs {outputs} do not match {MODEL_JSON} "
                f"(inputs {sorted(expected)}, output {self._output!r})"
            )
        z_shape = inputs[self._input].shape
        if len(z_shape) != 2 or z_shape[1] != self.bundle.latent_dim:
            expected = f"[batch, {self.bundle.latent_dim}]"
            raise FormatError(f"{path}: input {self._input!r} has shape {z_shape}, expected {expected}")
        if self._pitch_input and inputs[self._pitch_input].type != "tensor(int64)":
            kind = inputs[self._pitch_input].type
            raise FormatError(f"{path}: pitch input {self._pitch_input!r} is {kind}, expected tensor(int64)")

    def render(self, z, labels=None, pitches=None) -> np.ndarray:
        """Generate ``float32[B, num_samples]`` from ``z`` float32[B, latent_dim] (and int64 ``labels[B]``,
        and int64 MIDI ``pitches[B]`` in the bundle's pitch range for a pitch-conditional bundle)."""
        z, labels = check_inputs(self.bundle, z, labels)
        return self.run(z, labels, check_pitches(self.bundle, pitches, z.shape[0]))

    def run(self, z: np.ndarray, labels: np.ndarray | None, pitches: np.ndarray | None = None) -> np.ndarray:
        """:meth:`render` without the input checks, for callers that ran ``check_inputs`` already
        (GeneratorRuntime): the check runs once per render, not once per layer."""
        feeds = {self._input: z}
        if labels is not None:
            feeds[self._label_input] = labels
        if pitches is not None:
            feeds[self._pitch_input] = pitches
        (audio,) = self._session.run([self._output], feeds)
        expected = (z.shape[0], self.num_samples)
        if audio.shape != expected:
            path = self.bundle.onnx_path
            raise FormatError(f"{path}: output has shape {list(audio.shape)}, expected {list(expected)}")
        return audio.astype(np.float32, copy=False)

    def __repr__(self) -> str:
        b = self.bundle
        return (
            f"OnnxGenerator(name={b.name!r}, latent_dim={b.latent_dim}, num_samples={b.num_samples}, "
            f"sample_rate={b.sample_rate}, conditional={b.conditional}, pitch_range={b.pitch_range}, providers={list(self.providers)})"
        )
