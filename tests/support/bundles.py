"""Hand-made model bundles for the bundle tests: a linear ONNX generator (audio = z @ W
[+ E[label]]), its safetensors and README, a model.json, and a check that a load is refused
with one line naming the problem. Needs neither torch nor a trained generator."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

from ganshot.engine.bundle import MODEL_JSON, load_bundle
from ganshot.engine.errors import FormatError

LATENT, SAMPLES, CLASSES = 4, 64, ["kick", "snare", "hat"]


def linear_onnx(path: Path, conditional: bool = False, seed: int = 0) -> np.ndarray:
    """Write audio = z @ W (+ E[label]) as ONNX; returns W."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((LATENT, SAMPLES)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["z", "W"], ["audio" if not conditional else "zw"])]
    inits = [numpy_helper.from_array(w, "W")]
    inputs = [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", LATENT])]
    if conditional:
        e = rng.standard_normal((len(CLASSES), SAMPLES)).astype(np.float32)
        inits.append(numpy_helper.from_array(e, "E"))
        nodes += [
            helper.make_node("Gather", ["E", "label"], ["el"], axis=0),
            helper.make_node("Add", ["zw", "el"], ["audio"]),
        ]
        inputs.append(helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]))
    graph = helper.make_graph(
        nodes, "g", inputs, [helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["batch", SAMPLES])], inits
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return w


def make_sources(tmp_path: Path, conditional: bool = False, seed: int = 0) -> dict:
    src = tmp_path / f"src{seed}{'c' if conditional else ''}"
    src.mkdir()
    w = linear_onnx(src / "generator.onnx", conditional, seed)
    save_file({"W": w}, str(src / "generator.safetensors"))
    (src / "README.md").write_text("# tiny\n")
    return {name: src / name for name in ("generator.onnx", "generator.safetensors", "README.md")}


def make_meta(name: str = "tiny", conditional: bool = False) -> dict:
    return {
        "name": name,
        "architecture": "wavegan",
        "hyperparameters": {"latent_dim": LATENT, "num_samples": SAMPLES, "d": 1, "num_classes": 3 if conditional else 0},
        "sample_rate": 16000,
        "num_samples": SAMPLES,
        "latent_dim": LATENT,
        "classes": list(CLASSES),
        "conditional": conditional,
        "onnx": {"input": "z", "label_input": "label" if conditional else None, "output": "audio", "opset": 17},
        "dataset": {"num_items": 8},
        "training": {"step": 1, "config": {}},
    }


def edit_meta(bundle: Path, mutate) -> None:
    data = json.loads((bundle / MODEL_JSON).read_text())
    mutate(data)
    (bundle / MODEL_JSON).write_text(json.dumps(data))


def rehash(bundle: Path, name: str) -> None:
    data = (bundle / name).read_bytes()
    entry = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    edit_meta(bundle, lambda m: m["files"].__setitem__(name, entry))


def refused(path, error=FormatError, *needles: str) -> str:
    with pytest.raises(error) as info:
        load_bundle(path)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    return message
