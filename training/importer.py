"""``ganshot import``: a generator trained elsewhere, wrapped into a normal hash-checked bundle.

Cheat sheet::

    from ganshot.training.importer import import_generator
    import_generator("wavegan.onnx", "presets/models/mine", sample_rate=16000)          # ONNX
    import_generator("wavegan.ts", "presets/models/mine", sample_rate=16000, latent_dim=100)  # TorchScript

What a file must be: a generator ``z float32[batch, latent_dim] -> audio`` with ``audio``
``[batch, samples]`` or ``[batch, 1, samples]`` (the second is reshaped inside the graph), one
input and one output, a fixed number of samples, and a dynamic (or symbolic) batch. ONNX is
taken as it is (external data is refused; the model is checked with ``onnx.checker``).
TorchScript is *code*: it is loaded here, once, with ``torch.jit.load`` to convert it to ONNX
(a warning says so), and never by the engine, which only ever sees the ONNX file.

Checks before anything is written, each refused in one line naming the problem: the shapes,
``latent_dim`` (from the graph, or ``--latent-dim`` where the graph leaves it open; they must
agree), and a seeded render of :data:`CHECK_BATCH` latents that must be finite, of the declared
length, not silent, and the same at batch 1 as in the batch.

Knobs: an opaque generator has no layer to run GANSpace on, so the directions are found in its
output: :data:`DIRECTION_SAMPLES` seeded latents are rendered, their log-spectra (64 log-spaced
bands) reduced by PCA, and each of the top ``k`` components regressed on ``z`` (least squares):
the unit vector in latent space that moves the sound most along that component. ``sigmas`` are
the spread of the latents along each; ``explained_variance`` the components' shares.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np

from ganshot.engine.bundle import IMPORTED, ONNX_NAME
from ganshot.engine.bundle_write import write_bundle
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.latent import seeded_latent
from ganshot.engine.limits import MAX_LATENT_DIM, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, check_int
from ganshot.training.artefacts import log_band_powers

__all__ = ["import_generator", "output_directions", "TORCHSCRIPT_SUFFIXES", "CHECK_BATCH", "DIRECTION_SAMPLES"]

TORCHSCRIPT_SUFFIXES = (".ts", ".pt", ".pth", ".torchscript")
CHECK_BATCH = 4
DIRECTION_SAMPLES = 256
MAX_IMPORT_BYTES = 512 * 1024 * 1024
OPSET = 17


def _torchscript_to_onnx(path: Path, latent_dim: int, out: Path, say) -> None:
    import torch

    warnings.warn(f"{path.name} is TorchScript, which is code: it is loaded here only, to convert it to ONNX; "
                  "the bundle holds the ONNX file and the engine never loads TorchScript", stacklevel=3)
    say(f"loading TorchScript {path.name} (code, run here once) to convert it to ONNX")
    try:
        module = torch.jit.load(str(path), map_location="cpu").eval()
    except Exception as err:  # torch raises RuntimeError and friends for a file that is not TorchScript
        raise FormatError(f"{path}: not a TorchScript file torch can load ({str(err).splitlines()[0][:120]})") from None
    z = torch.zeros(2, latent_dim)
    try:
        with torch.inference_mode():
            torch.onnx.export(module, (z,), str(out), input_names=["z"], output_names=["audio"], opset_version=OPSET,
                              dynamic_axes={"z": {0: "batch"}, "audio": {0: "batch"}}, dynamo=False)
    except Exception as err:
        raise FormatError(f"{path}: cannot convert it to ONNX with z float32[batch, {latent_dim}] "
                          f"({str(err).splitlines()[0][:160]})") from None


def _dims(value_info) -> list:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in value_info.type.tensor_type.shape.dim]


def _checked_graph(path: Path, latent_dim: int | None):
    """Load and check the ONNX graph; -> (model, latent_dim, output rank). Refuses what does not fit."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
        onnx.checker.check_model(model)
    except Exception as err:
        raise FormatError(f"{path}: not a valid ONNX model ({str(err).splitlines()[0][:160]})") from None
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise FormatError(f"{path}: its weights live in external data files; save it as one file")
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        raise FormatError(f"{path}: a generator has one input (z) and one output (audio); this graph has "
                          f"{len(inputs)} and {len(model.graph.output)}")
    z, audio = inputs[0], model.graph.output[0]
    if z.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise FormatError(f"{path}: input {z.name!r} must be float32")
    z_dims = _dims(z)
    if len(z_dims) != 2:
        raise FormatError(f"{path}: input {z.name!r} must be [batch, latent_dim], got rank {len(z_dims)}")
    graph_dim = z_dims[1] if isinstance(z_dims[1], int) and z_dims[1] > 0 else None
    if graph_dim is not None and latent_dim is not None and graph_dim != latent_dim:
        raise UserInputError(f"{path}: --latent-dim {latent_dim} differs from the graph's {graph_dim}")
    latent_dim = graph_dim or latent_dim
    if latent_dim is None:
        raise UserInputError(f"{path}: the graph leaves the latent size open; give --latent-dim")
    check_int(latent_dim, "latent_dim", 1, MAX_LATENT_DIM)
    audio_dims = _dims(audio)
    rank = len(audio_dims)
    if rank not in (2, 3) or (rank == 3 and isinstance(audio_dims[1], int) and audio_dims[1] != 1):
        raise FormatError(f"{path}: output {audio.name!r} must be [batch, samples] or [batch, 1, samples] "
                          f"(mono), got {audio_dims}")
    return model, latent_dim, rank


def _flattened(model, rank: int, out: Path) -> tuple[str, str]:
    """Write the graph to ``out`` with its output reshaped to [batch, samples]; -> (input, output) names."""
    import onnx
    from onnx import helper

    audio_name = model.graph.output[0].name
    z_name = next(i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer})
    if rank == 3:
        shape = helper.make_tensor("ganshot_flat_shape", onnx.TensorProto.INT64, [2], [0, -1])
        model.graph.initializer.append(shape)
        flat = f"{audio_name}_flat"
        model.graph.node.append(helper.make_node("Reshape", [audio_name, "ganshot_flat_shape"], [flat],
                                                 name="ganshot_flatten"))
        model.graph.output.remove(model.graph.output[0])
        model.graph.output.append(helper.make_tensor_value_info(flat, onnx.TensorProto.FLOAT, ["batch", None]))
        audio_name = flat
    onnx.save(model, str(out))
    return z_name, audio_name


def _opset(model) -> int:
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return int(max(versions)) if versions else OPSET


def _render(session, z_name: str, z: np.ndarray) -> np.ndarray:
    return np.asarray(session.run(None, {z_name: z.astype(np.float32)})[0], dtype=np.float32)


def _checked_render(path: Path, session, z_name: str, latent_dim: int, distribution: str) -> int:
    """Render seeded latents; -> samples per one-shot. Refuses NaN, silence, odd shapes, batch effects."""
    z = np.stack([seeded_latent(seed, latent_dim, distribution) for seed in range(CHECK_BATCH)])
    try:
        audio = _render(session, z_name, z)
        single = _render(session, z_name, z[:1])
    except Exception as err:
        raise FormatError(f"{path}: the generator does not run on z float32[{CHECK_BATCH}, {latent_dim}] "
                          f"({str(err).splitlines()[0][:160]})") from None
    if audio.ndim != 2 or audio.shape[0] != CHECK_BATCH:
        raise FormatError(f"{path}: rendered shape {list(audio.shape)}, want [{CHECK_BATCH}, samples]")
    if audio.shape[1] < 16:
        raise FormatError(f"{path}: one-shots of {audio.shape[1]} samples are too short (at least 16)")
    if not np.all(np.isfinite(audio)):
        raise FormatError(f"{path}: the generator renders NaN or infinite samples")
    if not np.any(np.abs(audio) > 1e-6):
        raise FormatError(f"{path}: the generator renders silence")
    if not np.allclose(single[0], audio[0], rtol=1e-3, atol=1e-5):
        raise FormatError(f"{path}: a one-shot changes with the batch it is rendered in (batch norm in training "
                          "mode?); export the generator in eval mode")
    return int(audio.shape[1])


def output_directions(render, latent_dim: int, k: int = 8, num_samples: int = DIRECTION_SAMPLES,
                      distribution: str = "normal", seed: int = 0) -> dict:
    """model.json "directions" for an opaque generator (``render(z) -> audio``): see the module doc."""
    z = np.stack([seeded_latent(seed + i, latent_dim, distribution) for i in range(num_samples)]).astype(np.float64)
    features = log_band_powers(np.concatenate([render(z[i:i + 64]) for i in range(0, num_samples, 64)]))
    features -= features.mean(axis=0)
    _, singular, components = np.linalg.svd(features, full_matrices=False)
    k = max(1, min(k, latent_dim, len(singular)))
    scores = features @ components[:k].T  # [num_samples, k]
    weights, *_ = np.linalg.lstsq(z - z.mean(axis=0), scores, rcond=None)  # [latent_dim, k]
    vectors = weights / np.maximum(np.linalg.norm(weights, axis=0, keepdims=True), 1e-12)
    variance = singular ** 2
    return {"method": "output-pca", "layer": "output log-spectrum", "num_samples": num_samples,
            "vectors": vectors.T.astype(np.float64).tolist(),
            "sigmas": np.std(z @ vectors, axis=0).tolist(),
            "explained_variance": (variance[:k] / max(variance.sum(), 1e-30)).tolist()}


def import_generator(path, bundle_dir, sample_rate: int, latent_dim: int | None = None, name: str | None = None,
                     latent_distribution: str = "normal", say=lambda _line: None) -> Path:
    """Wrap the generator file ``path`` (ONNX, or TorchScript converted here) into a bundle at ``bundle_dir``."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise UserInputError(f"{path}: {path.stat().st_size} bytes is over the {MAX_IMPORT_BYTES >> 20} MiB a bundle may hold")
    check_int(sample_rate, "sample rate (Hz)", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)
    if latent_dim is not None:
        check_int(latent_dim, "latent_dim", 1, MAX_LATENT_DIM)
    if latent_distribution not in ("normal", "uniform"):
        raise UserInputError(f"latent distribution must be normal or uniform, got {latent_distribution!r:.40}")
    name = name or path.stem
    with tempfile.TemporaryDirectory(prefix="ganshot-import-") as work:
        work = Path(work)
        source = path
        if path.suffix.lower() in TORCHSCRIPT_SUFFIXES:
            if latent_dim is None:
                raise UserInputError(f"{path}: TorchScript does not say its latent size; give --latent-dim")
            source = work / "converted.onnx"
            _torchscript_to_onnx(path, latent_dim, source, say)
        elif path.suffix.lower() != ".onnx":
            raise UserInputError(f"{path}: an importable generator is .onnx or TorchScript "
                                 f"({', '.join(TORCHSCRIPT_SUFFIXES)})")
        model, latent_dim, rank = _checked_graph(source, latent_dim)
        onnx_path = work / ONNX_NAME
        z_name, audio_name = _flattened(model, rank, onnx_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        num_samples = _checked_render(path, session, z_name, latent_dim, latent_distribution)
        say(f"{path.name}: z[{latent_dim}] -> {num_samples} samples at {sample_rate} Hz; finding knob directions")
        directions = output_directions(lambda z: _render(session, z_name, z), latent_dim,
                                       distribution=latent_distribution)
        meta = {
            "name": str(name), "architecture": IMPORTED,
            "hyperparameters": {"latent_dim": latent_dim, "num_samples": num_samples, "source": path.name},
            "sample_rate": int(sample_rate), "num_samples": num_samples, "latent_dim": latent_dim,
            "classes": [], "conditional": False, "latent_distribution": latent_distribution,
            "onnx": {"input": z_name, "label_input": None, "output": audio_name, "opset": _opset(model)},
            "dataset": None, "training": None, "directions": directions,
            "import": {"source": path.name, "converted_from_torchscript": source is not path},
        }
        return write_bundle(bundle_dir, meta, {ONNX_NAME: onnx_path})
