"""Write an enhancer run into a model bundle: a copy of the bundle plus ``enhancer.onnx``.

Cheat sheet::

    from ganshot.training.enhance_export import export_enhancer
    export_enhancer("runs/enh", "presets/models/drums-v2", "presets/models/drums-v2e")

The ONNX graph (opset 17, free batch axis, ``audio[B, num_samples] -> enhanced[B, num_samples]``)
is run once with ONNX Runtime and compared with torch before anything is written
(:data:`PARITY_TOLERANCE`, relative to the torch output's peak, at batch 3 and 1). The
new bundle keeps every field and file of the source bundle and adds the ``enhancer``
entry of model.json (file, sha256, names, rate, length, spec, training record); the
source bundle is never modified. Written by :func:`ganshot.engine.bundle_write.write_bundle`
(atomic, validated by the loader).
"""

from __future__ import annotations

import copy
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from ganshot.engine.atomic import sha256_file
from ganshot.engine.bundle import MODEL_JSON, load_bundle
from ganshot.engine.bundle_write import write_bundle
from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.engine.strict_json import read_json_file

from .enhance import LOG_JSONL, load_enhancer_run

__all__ = ["export_enhancer", "export_enhancer_net", "export_enhancer_onnx", "ENHANCER_FILE", "PARITY_TOLERANCE"]

ENHANCER_FILE = "enhancer.onnx"
INPUT, OUTPUT = "audio", "enhanced"
OPSET = 17
PARITY_TOLERANCE = 1e-4


def export_enhancer_onnx(net, path: Path) -> float:
    """Export ``net`` to ``path`` and check ONNX Runtime against torch; returns the relative error."""
    import onnxruntime as ort

    n = net.spec.num_samples
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(net, (torch.zeros(2, n),), str(path), dynamo=False, opset_version=OPSET,
                              input_names=[INPUT], output_names=[OUTPUT],
                              dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}})
        except Exception as err:  # the exporter raises many types; the user needs one line
            detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise GanshotError(f"enhancer export refused: torch.onnx.export failed ({detail})") from None
    session = ort.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for batch in (3, 1):
        audio = torch.randn(batch, n, generator=gen) * torch.logspace(0, -3, batch).unsqueeze(1) * 0.5
        with torch.no_grad():
            expected = net(audio).numpy()
        got = session.run([OUTPUT], {INPUT: audio.numpy()})[0]
        if got.shape != expected.shape:
            raise GanshotError(f"enhancer export refused: ONNX shape {list(got.shape)} != torch {list(expected.shape)}")
        error = float(np.max(np.abs(got - expected)) / max(float(np.max(np.abs(expected))), 1e-9))
        if not error <= PARITY_TOLERANCE:
            raise GanshotError(f"enhancer export refused: ONNX differs from torch by {error:.3g} relative "
                               f"(max {PARITY_TOLERANCE:g}); no bundle written")
        worst = max(worst, error)
    return worst


def _last_figures(run_dir: Path) -> dict:
    log = run_dir / LOG_JSONL
    lines = log.read_text(encoding="utf-8").splitlines() if log.is_file() else []
    return json.loads(lines[-1]) if lines else {}  # (the newest evaluation; see step in it)


def export_enhancer(run_dir, bundle_path, out_path, name: str | None = None) -> Path:
    """A new bundle at ``out_path``: ``bundle_path``'s model plus the run's newest enhancer."""
    run_dir = Path(run_dir)
    net, state = load_enhancer_run(run_dir)
    run = read_json_file(run_dir / "run.json", 1 << 20, "enhancer run description")
    training = {"step": int(state["step"]), "cpu_s": round(float(state.get("cpu_s", 0.0)), 1),
                "pairs": run.get("pairs"), "dataset_items": (run.get("dataset") or {}).get("num_items"),
                "figures": _last_figures(run_dir)}
    return export_enhancer_net(net, bundle_path, out_path, name=name, training=training)


def export_enhancer_net(net, bundle_path, out_path, name: str | None = None, training: dict | None = None) -> Path:
    """A new bundle at ``out_path``: ``bundle_path``'s model plus the enhancer ``net`` (a MaskEnhancer)."""
    out_path = Path(out_path)
    bundle = load_bundle(bundle_path)
    if out_path.resolve() == bundle.path:
        raise UserInputError(f"{out_path}: is the source bundle; write the enhanced copy to a new folder")
    if (net.spec.sample_rate, net.spec.num_samples) != (bundle.sample_rate, bundle.num_samples):
        raise UserInputError(f"the enhancer works on {net.spec.num_samples} samples at {net.spec.sample_rate} Hz, "
                             f"{bundle.name!r} makes {bundle.num_samples} at {bundle.sample_rate} Hz")
    net = net.eval()
    meta = copy.deepcopy(read_json_file(bundle.path / MODEL_JSON, 4 << 20, "model description"))
    for key in ("files", "created_utc", "ganshot_version", "format", "version"):
        meta.pop(key, None)
    meta["name"] = name or out_path.name
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / ENHANCER_FILE
        parity = export_enhancer_onnx(net, onnx_path)
        meta["enhancer"] = {
            "file": ENHANCER_FILE, "sha256": sha256_file(onnx_path), "input": INPUT, "output": OUTPUT,
            "sample_rate": bundle.sample_rate, "num_samples": bundle.num_samples, "opset": OPSET,
            "architecture": net.spec.architecture, "spec": net.spec.to_dict(), "params": net.num_params(),
            "training": {**(training or {}), "parity_relative_error": parity},
            "source_model": {"name": bundle.name, "sha256": bundle.sha256},
        }
        files = dict(bundle.files)
        files[ENHANCER_FILE] = onnx_path
        readme = Path(tmp) / "README.md"
        source = bundle.files.get("README.md")
        head = source.read_text(encoding="utf-8").replace(f"# {bundle.name}\n", f"# {meta['name']}\n", 1) if source else ""
        readme.write_text(head + _readme_section(meta["enhancer"], bundle.name), encoding="utf-8")
        files["README.md"] = readme
        return write_bundle(out_path, meta, files)


def _readme_section(entry: dict, source_name: str) -> str:
    spec, training = entry["spec"], entry["training"]
    figures = training.get("figures") or {}
    trained = (f"trained {training['step']} steps ({training.get('cpu_s', 0) / 60:.1f} CPU minutes) "
               if "step" in training else "")
    lsd = (f" Held-out degraded hits: log-spectral distance {figures['lsd_noisy_db']:.1f} dB -> "
           f"{figures['lsd_enhanced_db']:.1f} dB; clean hits through it: {figures['lsd_identity_db']:.2f} dB."
           if {"lsd_noisy_db", "lsd_enhanced_db", "lsd_identity_db"} <= set(figures) else "")
    return (f"\n## Enhancer\n\n`{entry['file']}` ({entry['params']:,} parameters): the generator of `{source_name}` is "
            f"followed by a spectral mask in [0, 1] (STFT {spec['n_fft']}/{spec['hop']}, conv over frames, inverse STFT, "
            f"all inside the ONNX graph) that can only remove energy (tail hiss and rumble, tonal lines, pre-echo); "
            f"{trained}on real one-shots with synthetic artefacts and identity pairs (`ganshot enhance-train`).{lsd} "
            f"The engine runs it after the generator unless `--no-enhance` or the kit says `\"enhance\": false`; "
            f"`ganshot enhance IN.wav -o OUT.wav --model BUNDLE` runs it on a file. ONNX Runtime matched torch to "
            f"{training['parity_relative_error']:.1e} relative.\n")
