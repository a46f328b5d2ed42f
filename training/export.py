"""Export a trained generator to a model bundle (ONNX + safetensors + model.json).

Cheat sheet::

    ganshot export runs/drums -o presets/models/drums            # the command line
    from ganshot.training.export import export_run, export_generator
    export_run("runs/drums", "presets/models/drums")               # last checkpoint
    export_generator(generator, spec, "out/tiny", name="tiny", sample_rate=16000)
    export_run("runs/drums", "out/plain", directions_k=0)          # no latent directions
    export_run("runs/drums", "out/best", best=True)                # RUN/best/, the judge's best (--best)

What a bundle holds and why:

* ``generator.onnx`` — legacy TorchScript-based ONNX exporter (``dynamo=False``,
  opset 17; the dynamo exporter fails on this model in torch 2.13), inputs ``z``
  float32[batch, latent_dim] (+ ``label`` int64[batch] when conditional, + ``pitch``
  int64[batch] MIDI notes when pitch-conditional, recorded in model.json ``pitch``), output
  ``audio`` float32[batch, num_samples], dynamic batch. The runtime runs this file.
  The legacy exporter needs neither onnxscript nor onnx_ir (checked with torch 2.13).
* ``generator.safetensors`` — the state_dict, for torch users and fine-tuning; with
  ``hyperparameters`` (the :class:`GeneratorSpec`) it rebuilds the module exactly.
* No TorchScript: TorchScript is code (PyTorch's SECURITY.md), and safetensors plus
  the architecture name and hyperparameters are enough to rebuild the model.
* ``README.md`` — name, sizes and how the bundle was made.
* ``model.json`` ``directions`` — :func:`export_run` computes ``directions_k`` GANSpace
  latent directions (:mod:`ganshot.training.directions`) from ``directions_samples``
  seeded latents of the model's own distribution; the engine's direction knobs move
  along them. ``directions_k=0`` leaves the field null (the knobs then move latent axes).

Before writing anything, export runs ONNX Runtime (CPU) and torch on the same seeded
``z`` (batch 3, labels ``0, 1, 2 mod classes``, pitches spread over the pitch range) and refuses with one line when
``max|ort - torch| / max(max|torch|, 1e-6)`` exceeds :data:`PARITY_TOLERANCE`; no bundle is
written then. The bundle itself is written through :func:`ganshot.engine.bundle_write.write_bundle`,
so the format is defined in one place.
"""

from __future__ import annotations

import copy
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from ganshot.engine.bundle import ONNX_NAME, SAFETENSORS_NAME
from ganshot.engine.bundle_write import write_bundle
from ganshot.engine.errors import FormatError, GanshotError, UserInputError
from ganshot.engine.generators import ARCHITECTURES
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator

__all__ = [
    "export_run", "export_generator", "PARITY_TOLERANCE", "OPSET", "PARITY_BATCH",
    "DEFAULT_DIRECTIONS", "DEFAULT_DIRECTION_SAMPLES",
]  # fmt: skip

OPSET = 17
PARITY_TOLERANCE = 1e-4
PARITY_BATCH = 3
PARITY_SEED = 0
PITCH_INPUT = "pitch"  # the ONNX input name of a pitch-conditional generator
RUN_JSON = "run.json"
DEFAULT_DIRECTIONS = 8  # GANSpace directions export_run stores (the MIDI bridge has 8 direction knobs)
DEFAULT_DIRECTION_SAMPLES = 10000
_ARCHITECTURE_TITLES = {"wavegan": "WaveGAN", "ddsp": "DDSP (noise bands + damped sinusoids + transient)",
                        "specgan": "SpecGAN (2-D STFT image, inverse STFT in the graph)",
                        "harmonic": "harmonic-plus-noise (partials at the given pitch + noise bands)"}


def _pitched(spec) -> bool:
    return bool(getattr(spec, "pitch_conditional", False))


def _export_onnx(model: WaveGANGenerator, spec: GeneratorSpec, path: Path) -> None:
    z = torch.zeros(2, spec.latent_dim)
    names = ["z"] + (["label"] if spec.conditional else []) + ([PITCH_INPUT] if _pitched(spec) else [])
    labels = torch.zeros(2, dtype=torch.int64) if spec.conditional else None
    args = (z, labels) if spec.conditional else (z,)
    if _pitched(spec):  # positional: (z, labels or None, pitches); None inputs are left out of the graph
        args = (z, labels, torch.full((2,), spec.pitch_low, dtype=torch.int64))
    axes = {name: {0: "batch"} for name in (*names, "audio")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter's notices
        warnings.filterwarnings("ignore", "Constant folding - Only steps=1", UserWarning)  # crop Slice: harmless
        try:
            torch.onnx.export(
                model, args, str(path), dynamo=False, opset_version=OPSET,
                input_names=names, output_names=["audio"], dynamic_axes=axes,
            )  # fmt: skip
        except Exception as err:  # the exporter raises many types; the user needs one line
            detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise GanshotError(f"export refused: torch.onnx.export failed ({detail}); no bundle written") from None


def _run_onnx(path: Path, z: np.ndarray, labels: np.ndarray | None, pitches: np.ndarray | None = None) -> np.ndarray:
    """Run the exported file once with ONNX Runtime on CPU (a seam for tests)."""
    import onnxruntime as ort

    session = ort.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
    feeds = {"z": z} if labels is None else {"z": z, "label": labels}
    if pitches is not None:
        feeds[PITCH_INPUT] = pitches
    return session.run(["audio"], feeds)[0]


def _parity_inputs(spec: GeneratorSpec, batch: int) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Seeded ``(z, labels | None, pitches | None)``; pitches step through the range (low, then +7 semitones...)."""
    gen = torch.Generator().manual_seed(PARITY_SEED)
    z = torch.randn(batch, spec.latent_dim, generator=gen)
    labels = torch.arange(batch, dtype=torch.int64) % spec.num_classes if spec.conditional else None
    pitches = None
    if _pitched(spec):
        span = spec.pitch_high - spec.pitch_low + 1
        pitches = spec.pitch_low + (torch.arange(batch, dtype=torch.int64) * 7) % span
    return z, labels, pitches


def _check_parity(model: WaveGANGenerator, spec: GeneratorSpec, path: Path) -> float:
    """Relative max error of ONNX Runtime against torch; raises GanshotError above tolerance."""
    for batch in (PARITY_BATCH, 1):  # batch 1 as well: the batch axis must really be dynamic
        z, labels, pitches = _parity_inputs(spec, batch)
        with torch.no_grad():
            expected = (model(z, labels) if pitches is None else model(z, labels, pitches)).numpy()
        try:
            feeds = (z.numpy(), None if labels is None else labels.numpy())
            got = _run_onnx(path, *feeds) if pitches is None else _run_onnx(path, *feeds, pitches.numpy())
        except Exception as err:  # onnxruntime has its own exception types
            detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise GanshotError(
                f"export refused: ONNX Runtime cannot run the exported model ({detail}); no bundle written"
            ) from None
        if got.shape != expected.shape:
            raise GanshotError(
                f"export refused: ONNX output shape {list(got.shape)} != torch {list(expected.shape)} "
                f"at batch {batch}; no bundle written"
            )
        if batch == PARITY_BATCH:
            error = float(np.max(np.abs(got - expected)) / max(float(np.max(np.abs(expected))), 1e-6))
            tolerance = getattr(spec, "parity_tolerance", None) or PARITY_TOLERANCE  # unrolled Griffin-Lim drifts
            if not error <= tolerance:  # also catches NaN
                raise GanshotError(
                    f"export refused: ONNX Runtime differs from torch by {error:.3g} relative "
                    f"(max allowed {tolerance:g}); no bundle written"
                )
    return error


def _readme(meta: dict, sizes: dict, num_params: int) -> str:
    classes = ", ".join(meta["classes"]) or "none"
    training = meta.get("training") or {}
    step = training.get("step")
    made = f"training step {step}" if step is not None else "a generator in memory"
    warm = training.get("init_generator")
    if step is not None and isinstance(warm, dict):
        made += (f" of a run warm-started from the bundle {warm.get('bundle')} "
                 f"({training.get('total_steps', step):,} generator steps in all)")
    lines = [
        f"# {meta['name']}",
        "",
        f"ganshot model bundle (ganshot-model v1): a {_ARCHITECTURE_TITLES.get(meta['architecture'], meta['architecture'])} "
        f"generator, z[{meta['latent_dim']}] -> "
        f"{meta['num_samples']} samples at {meta['sample_rate']} Hz "
        f"({meta['num_samples'] / meta['sample_rate']:.3f} s).",
        f"Classes: {classes} ({'conditional: pass a label' if meta['conditional'] else 'unconditional'}).",
        *([f"Pitch: MIDI {meta['pitch']['low']}-{meta['pitch']['high']} (pass pitches, ONNX input "
           f"{meta['pitch']['input']!r})."] if meta.get("pitch") else []),
        f"Parameters: {num_params:,}. Files: " + ", ".join(f"{k} ({v:,} bytes)" for k, v in sizes.items()) + ".",
        f"Made by `ganshot export` from {made} (torch {torch.__version__}, ONNX opset {OPSET}); "
        f"ONNX Runtime matched torch to {meta['export']['parity_rel_error']:.2g} relative.",
        "Load it with `ganshot.engine.load_bundle(path)`; model.json records the sha256 of every file.",
    ]
    directions = meta.get("directions")
    if isinstance(directions, dict) and isinstance(directions.get("vectors"), list):  # validated when written
        lines.insert(-1, f"Latent directions: {len(directions['vectors'])} ({directions.get('method')}, "
                         f"{directions.get('num_samples')} samples) in model.json.")  # fmt: skip
    return "\n".join(lines) + "\n"


def export_generator(
    generator: WaveGANGenerator,
    spec: GeneratorSpec,
    bundle_dir: str | Path,
    name: str,
    sample_rate: int,
    classes=(),
    dataset: dict | None = None,
    training: dict | None = None,
    latent_distribution: str = "normal",
    directions: dict | None = None,
) -> Path:
    """Export ``generator`` (built from ``spec``) to the bundle folder ``bundle_dir``; returns it.

    ``classes`` are the label names in index order (required, one per class, when
    the spec is conditional). ``dataset`` and ``training`` are stored as given;
    ``latent_distribution`` ("normal" or "uniform") is how the model was trained to see ``z``.
    ``directions`` is stored as model.json "directions" (a :func:`~ganshot.training.directions.compute_directions`
    result, or None); the bundle loader validates it before anything is swapped in.
    Raises GanshotError (nothing written) when ONNX Runtime disagrees with torch.
    """
    classes = _check_export_args(generator, spec, name, classes)
    model = copy.deepcopy(generator).to("cpu").eval()
    for param in model.parameters():  # float32 weights; buffers keep their dtype (engine.harmonic's float16 noise)
        param.data = param.data.float()
    meta = {
        "name": str(name),
        "architecture": spec.architecture,
        "hyperparameters": spec.to_dict(),
        "sample_rate": sample_rate,
        "num_samples": spec.num_samples,
        "latent_dim": spec.latent_dim,
        "classes": classes,
        "conditional": spec.conditional,
        "latent_distribution": latent_distribution,
        "onnx": {"input": "z", "label_input": "label" if spec.conditional else None, "output": "audio", "opset": OPSET},
        "dataset": dataset,
        "training": training,
        "directions": copy.deepcopy(directions),
    }
    if _pitched(spec):  # only then: bundles without a pitch input keep exactly their old model.json
        meta["pitch"] = {"input": PITCH_INPUT, "low": spec.pitch_low, "high": spec.pitch_high}
    with tempfile.TemporaryDirectory(prefix="ganshot-export-") as work:
        work = Path(work)
        onnx_path, weights_path = work / ONNX_NAME, work / SAFETENSORS_NAME
        _export_onnx(model, spec, onnx_path)
        error = _check_parity(model, spec, onnx_path)
        _save_weights(model, spec, training, weights_path)
        meta["export"] = {
            "parity_rel_error": error,
            "parity_batch": PARITY_BATCH,
            "torch_version": torch.__version__.split("+")[0],
            "exporter": "torch.onnx.export(dynamo=False)",
        }
        sizes = {ONNX_NAME: onnx_path.stat().st_size, SAFETENSORS_NAME: weights_path.stat().st_size}
        num_params = sum(value.numel() for value in model.parameters())
        (work / "README.md").write_text(_readme(meta, sizes, num_params), encoding="utf-8")
        files = {ONNX_NAME: onnx_path, SAFETENSORS_NAME: weights_path, "README.md": work / "README.md"}
        return write_bundle(bundle_dir, meta, files)


def _check_export_args(generator, spec, name, classes) -> list[str]:
    """The class names as strings; UserInputError for a wrong spec, name or class count."""
    if not isinstance(spec, GeneratorSpec) and getattr(spec, "architecture", None) not in ARCHITECTURES:
        raise UserInputError("export_generator needs a generator spec (GeneratorSpec, DDSPSpec)")
    if getattr(generator, "spec", spec) != spec:
        raise UserInputError(f"export: the generator was built from {generator.spec}, not {spec}")
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise UserInputError(f"export: the model name must be one non-empty line, got {name!r:.80}")
    classes = [str(c) for c in classes]
    if spec.conditional and len(classes) != spec.num_classes:
        raise UserInputError(
            f"export: a conditional generator with {spec.num_classes} classes needs "
            f"{spec.num_classes} class names, got {len(classes)}"
        )
    return classes


def _save_weights(model, spec: GeneratorSpec, training: dict | None, path: Path) -> None:
    """generator.safetensors with the same metadata tags as a checkpoint's generator."""
    from safetensors.torch import save_file

    from .checkpoint import GENERATOR_FORMAT

    state = {key: value.detach().contiguous() for key, value in model.state_dict().items()}
    tags = {"format": GENERATOR_FORMAT, "version": "1", "spec": json.dumps(spec.to_dict()), "architecture": spec.architecture}
    if (training or {}).get("step") is not None:
        tags["step"] = str(training["step"])
    save_file(state, str(path), metadata=tags)


def _training_record(run_dir: Path, info: dict, config, step: int) -> dict:
    """model.json "training": step, config, run, which weights, and a warm start's total steps."""
    from .config import config_to_dict

    training = {"step": step, "config": config_to_dict(config), "run": run_dir.resolve().name,
                "weights": "ema" if config.train.ema_decay > 0 else "live"}
    warm = info.get("init_generator")
    if isinstance(warm, dict):  # a warm start: the steps before this run count towards the model's total
        training["init_generator"] = warm
        before = warm.get("steps_before")
        training["total_steps"] = step + (before if isinstance(before, int) and before >= 0 else 0)
    return training


def export_run(
    run_dir: str | Path,
    bundle_dir: str | Path,
    name: str | None = None,
    step: int | None = None,
    directions_k: int = DEFAULT_DIRECTIONS,
    directions_samples: int = DEFAULT_DIRECTION_SAMPLES,
    best: bool = False,
) -> Path:
    """Export a training run's generator to ``bundle_dir``; returns the bundle path.

    ``step`` picks a checkpoint (default: the newest); ``name`` defaults to the run
    folder's name. The bundle records the run's resolved config, the step, the dataset
    summary and classes from ``run.json``, the latent distribution, and ``directions_k``
    GANSpace latent directions estimated from ``directions_samples`` latents (0: none).
    A run with an EMA generator (``train.ema_decay > 0``) exports the EMA weights and records
    ``training.weights = "ema"`` in model.json. ``best``: the checkpoint the judge kept
    (``RUN/best/``, ``train.judge_every``) instead of the newest; model.json's ``training.judge``
    then holds its figures from ``RUN/best.json``.
    """
    from .checkpoint import best_dir, load_generator, load_generator_folder, load_run_info
    from .directions import MAX_DIRECTIONS, compute_directions

    if isinstance(directions_k, bool) or not isinstance(directions_k, int) or not 0 <= directions_k <= MAX_DIRECTIONS:
        raise UserInputError(
            f"export: directions must be an integer in [0, {MAX_DIRECTIONS}], got {directions_k!r:.40}"
        )

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FormatError(f"{run_dir}: no training run folder here")
    info = load_run_info(run_dir)
    judged = None
    if best:
        from .judge import load_best

        if step is not None:
            raise UserInputError("export: give a step or --best, not both")
        if not best_dir(run_dir).is_dir():
            raise UserInputError(f"{run_dir}: the run kept no best checkpoint (train with train.judge_every > 0)")
        judged = load_best(run_dir)
        generator, config, step = load_generator_folder(run_dir, best_dir(run_dir))
    else:
        generator, config, step = load_generator(run_dir, step)
    spec = generator.spec
    classes = info.get("classes") or []
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise FormatError(f"{run_dir / RUN_JSON}: classes must be a list of strings")
    if spec.conditional and len(classes) != spec.num_classes:
        raise FormatError(
            f"{run_dir / RUN_JSON}: lists {len(classes)} classes but the generator has {spec.num_classes}"
        )
    sample_rate = config.model.sample_rate
    if info.get("sample_rate", sample_rate) != sample_rate:
        raise FormatError(
            f"{run_dir / RUN_JSON}: sample_rate {info['sample_rate']!r} differs from the config's {sample_rate}"
        )
    dataset = info.get("dataset")
    training = _training_record(run_dir, info, config, step)
    if best:
        training["checkpoint"] = "best"
        if judged is not None and judged["step"] == step:  # best.json is written just after best/
            training["judge"] = {key: judged[key] for key in ("fd_ratio", "probe", "is_ratio")}
            training["judge"]["samples"] = config.train.judge_samples
    directions = None
    if directions_k > 0:
        directions = compute_directions(
            generator, spec.latent_dim, num_samples=directions_samples, k=directions_k,
            distribution=config.model.latent_distribution,
        )  # fmt: skip
    return export_generator(
        generator, spec, bundle_dir, name=name or run_dir.resolve().name, sample_rate=sample_rate,
        classes=classes if spec.conditional else [], dataset=dataset if isinstance(dataset, dict) else None,
        training=training, latent_distribution=config.model.latent_distribution, directions=directions,
    )  # fmt: skip
