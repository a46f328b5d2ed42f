"""Export a pattern run to a patterns bundle (ONNX + safetensors + model.json, sha256 of each file).

The ONNX file comes from torch's legacy exporter (``dynamo=False``, opset 17, dynamic batch), like
the audio bundles. Before anything is written, ONNX Runtime (CPU) and torch run the same seeded
``z`` (batch 3, then batch 1) and export refuses with one line when their probabilities differ by
more than :data:`PARITY_TOLERANCE` (absolute; probabilities live in [0, 1]).

Cheat sheet::

    export_pattern_run("runs/grooves", "models/grooves")            # the newest checkpoint's EMA generator
    export_pattern_generator(generator, spec, "out/tiny", name="tiny", mode="drums", bars=2)
"""

from __future__ import annotations

import copy
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from ganshot.engine.errors import GanshotError, UserInputError

from .bundle import ARCHITECTURE, ONNX_NAME, SAFETENSORS_NAME, write_pattern_bundle
from .midi_windows import MODES, STEPS_PER_BEAT, row_labels, steps_per_bar
from .model import PatternGenerator, PatternSpec

__all__ = ["export_pattern_run", "export_pattern_generator", "PARITY_TOLERANCE", "OPSET", "THRESHOLD"]

OPSET = 17
PARITY_TOLERANCE = 1e-4
THRESHOLD = 0.5


def _export_onnx(model: PatternGenerator, path: Path) -> None:
    z = torch.zeros(2, model.spec.latent_dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
        try:
            torch.onnx.export(model, (z,), str(path), dynamo=False, opset_version=OPSET, input_names=["z"],
                              output_names=["probs"], dynamic_axes={"z": {0: "batch"}, "probs": {0: "batch"}})
        except Exception as err:  # the exporter raises many types; the user needs one line
            detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise GanshotError(f"export refused: torch.onnx.export failed ({detail}); no bundle written") from None


def _check_parity(model: PatternGenerator, path: Path) -> float:
    import onnxruntime as ort

    session = ort.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
    worst = 0.0
    for batch in (3, 1):  # batch 1 as well: the batch axis must really be dynamic
        z = torch.randn(batch, model.spec.latent_dim, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            expected = model(z).numpy()
        got = session.run(["probs"], {"z": z.numpy()})[0]
        if got.shape != expected.shape:
            raise GanshotError(f"export refused: ONNX output {list(got.shape)} != torch {list(expected.shape)}; "
                               "no bundle written")
        error = float(np.max(np.abs(got - expected)))
        if not error <= PARITY_TOLERANCE:  # also NaN
            raise GanshotError(f"export refused: ONNX Runtime differs from torch by {error:.3g} "
                               f"(max {PARITY_TOLERANCE:g}); no bundle written")
        worst = max(worst, error)
    return worst


def _readme(meta: dict, params: int) -> str:
    return "\n".join([
        f"# {meta['name']}", "",
        f"ganshot patterns bundle (ganshot-patterns v1): a convolutional GAN generator of {meta['mode']} "
        f"patterns, z[{meta['latent_dim']}] -> {meta['bars']} bars of {meta['meter'][0]}/{meta['meter'][1]} "
        f"({meta['steps']} 16th-note steps) x {len(meta['rows'])} rows ({', '.join(meta['channels'])}).",
        f"Parameters: {params:,}. ONNX Runtime matched torch to {meta['export']['parity_max_abs_error']:.2g}.",
        "Write MIDI with `ganshot patterns generate BUNDLE -n 8 --bars 4 --tempo 110 -o out/`; "
        "play one through a kit with `ganshot render KIT --pattern BUNDLE --bars 8 -o out.wav`.",
        "Training data: " + "; ".join(f"{s.get('name')}: {s.get('licence')}"
                                      for s in (meta.get("dataset") or {}).get("sources", [])),
    ]) + "\n"


def export_pattern_generator(generator: PatternGenerator, spec: PatternSpec, bundle_dir, name: str, mode: str,
                             bars: int, meter=(4, 4), dataset: dict | None = None,
                             training: dict | None = None) -> Path:
    """Export ``generator`` to a patterns bundle; GanshotError (nothing written) when ONNX and torch disagree."""
    if mode not in MODES:
        raise UserInputError(f"unknown mode {mode!r}")
    m = MODES[mode]
    per_bar = steps_per_bar(*meter)
    if spec.steps != bars * per_bar or spec.rows != m.num_rows or spec.channels != (1 if m.drums else 2):
        raise UserInputError(f"export: spec {spec} does not fit {bars} bars of {meter[0]}/{meter[1]} in mode {mode}")
    model = copy.deepcopy(generator).to("cpu", torch.float32).eval()
    meta = {
        "kind": "patterns", "name": str(name), "architecture": ARCHITECTURE, "hyperparameters": spec.to_dict(),
        "mode": mode, "rows": row_labels(m), "row_notes": [m.row_note(r) for r in range(m.num_rows)],
        "channels": ["onset"] if m.drums else ["onset", "hold"], "bars": bars, "meter": list(meter),
        "steps_per_bar": per_bar, "steps_per_beat": STEPS_PER_BEAT, "steps": spec.steps,
        "latent_dim": spec.latent_dim, "threshold": THRESHOLD,
        "onnx": {"input": "z", "output": "probs", "opset": OPSET}, "dataset": dataset, "training": training,
    }
    with tempfile.TemporaryDirectory(prefix="ganshot-patterns-export-") as work:
        work = Path(work)
        _export_onnx(model, work / ONNX_NAME)
        error = _check_parity(model, work / ONNX_NAME)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, work / SAFETENSORS_NAME,
                  metadata={"format": "ganshot-patterns-generator", "version": "1"})
        meta["export"] = {"parity_max_abs_error": error, "torch": torch.__version__}
        params = sum(p.numel() for p in model.parameters())
        (work / "README.md").write_text(_readme(meta, params), encoding="utf-8")
        return write_pattern_bundle(bundle_dir, meta, {ONNX_NAME: work / ONNX_NAME,
                                                       SAFETENSORS_NAME: work / SAFETENSORS_NAME,
                                                       "README.md": work / "README.md"})


def export_pattern_run(run_dir, bundle_dir, name: str | None = None, step: int | None = None,
                       ema: bool = True) -> Path:
    """Export a run's newest (or ``step``) checkpoint to ``bundle_dir``: its EMA weights, or with
    ``ema=False`` the live ones (early in a run the averaged logits can stay under the threshold)."""
    from .train import load_run_generator

    generator, spec, step, info = load_run_generator(run_dir, step, ema=ema)
    ds = info["dataset"]
    return export_pattern_generator(generator, spec, bundle_dir, name or Path(run_dir).resolve().name, ds["mode"],
                                    ds["bars"], tuple(ds["meter"]), dataset=ds,
                                    training={"step": step, "weights": "ema" if ema else "live"})
