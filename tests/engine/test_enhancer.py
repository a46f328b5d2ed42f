"""The enhancer in the engine: the loader's checks (hash, names, shapes), the render path with and
without it (engine flag, kit field), and the status fields."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ganshot.engine.bundle import load_bundle
from ganshot.engine.engine import Engine
from ganshot.engine.enhancer import Enhancer
from ganshot.engine.errors import FormatError, IntegrityError
from ganshot.engine.kit import kit_to_json, parse_kit
from ganshot.engine.offline import render_events
from tests.support import kit_for
from tests.support.bundles import edit_meta, refused
from tests.support.enhance import enhanced_copy


@pytest.fixture(scope="module")
def enhanced_bundle(tiny_bundle, tmp_path_factory):
    return enhanced_copy(tiny_bundle, tmp_path_factory.mktemp("enh") / "tiny-e")


def _copy(bundle, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(bundle.path, dst)
    return dst


def _replace_enhancer(path, model: onnx.ModelProto) -> None:
    """Put ``model`` in as enhancer.onnx with every hash updated (a well-formed bundle)."""
    onnx.save(model, path / "enhancer.onnx")
    data = (path / "enhancer.onnx").read_bytes()
    digest = hashlib.sha256(data).hexdigest()

    def mutate(meta):
        meta["files"]["enhancer.onnx"] = {"sha256": digest, "bytes": len(data)}
        meta["enhancer"]["sha256"] = digest

    edit_meta(path, mutate)


def _identity_onnx(in_shape, out_shape, in_name="audio", out_name="enhanced") -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Identity", [in_name], [out_name])], "g",
        [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_enhancer_runs_and_only_removes_energy(enhanced_bundle):
    enh = Enhancer(enhanced_bundle)
    audio = np.random.default_rng(0).standard_normal((3, enhanced_bundle.num_samples)).astype(np.float32)
    out = enh.run(audio)
    assert out.shape == audio.shape and out.dtype == np.float32
    assert np.all((out ** 2).sum(axis=1) < (audio ** 2).sum(axis=1))
    assert enh.ms_p50 > 0


def test_loader_refuses_a_tampered_enhancer(enhanced_bundle, tmp_path):
    path = _copy(enhanced_bundle, tmp_path)
    data = bytearray((path / "enhancer.onnx").read_bytes())
    data[-1] ^= 1
    (path / "enhancer.onnx").write_bytes(bytes(data))
    refused(path, IntegrityError, "enhancer.onnx", "sha256")


def test_loader_refuses_an_enhancer_hash_that_differs_from_files(enhanced_bundle, tmp_path):
    path = _copy(enhanced_bundle, tmp_path)
    edit_meta(path, lambda m: m["enhancer"].__setitem__("sha256", "0" * 64))
    refused(path, FormatError, "enhancer", "sha256")


@pytest.mark.parametrize("key, value, needle", [
    ("num_samples", 4096, "num_samples"), ("sample_rate", 44100, "sample_rate"),
    ("file", "missing.onnx", "not listed"), ("file", "../x.onnx", "plain file name"), ("input", "", "input"),
])
def test_loader_refuses_a_bad_enhancer_entry(enhanced_bundle, tmp_path, key, value, needle):
    path = _copy(enhanced_bundle, tmp_path)
    edit_meta(path, lambda m: m["enhancer"].__setitem__(key, value))
    refused(path, FormatError, needle)


@pytest.mark.parametrize("in_shape, out_shape, names, needle", [
    (["batch", 100], ["batch", 100], ("audio", "enhanced"), "shape"),
    ([1, 2048], [1, 2048], ("audio", "enhanced"), "free batch axis"),
    (["batch", 2048], ["batch", 2048], ("x", "enhanced"), "do not match"),
    (["batch", 2048], ["batch", 2048], ("audio", "y"), "do not match"),
])
def test_enhancer_refuses_a_graph_of_the_wrong_shape(enhanced_bundle, tmp_path, in_shape, out_shape, names, needle):
    path = _copy(enhanced_bundle, tmp_path)
    _replace_enhancer(path, _identity_onnx(in_shape, out_shape, *names))
    bundle = load_bundle(path)  # the bundle itself is well-formed; the graph does not fit it
    with pytest.raises(FormatError) as info:
        Enhancer(bundle)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_bundles_without_an_enhancer_still_load_and_say_so(tiny_bundle):
    assert tiny_bundle.enhancer is None
    with pytest.raises(FormatError, match="carries no enhancer"):
        Enhancer(tiny_bundle)


def _render(bundle, kit, enhance=True):
    with Engine(bundle, kit, sample_rate=16000, backend="onnx", enhance=enhance) as engine:
        audio = render_events(engine, [(0.0, 36, 127), (0.05, 37, 100), (0.1, 38, 90)])
        return audio, engine.status()


def test_engine_renders_a_kit_offline_with_and_without_the_enhancer(enhanced_bundle):
    kit = kit_for(enhanced_bundle)
    on, status_on = _render(enhanced_bundle, kit)
    off, status_off = _render(enhanced_bundle, kit, enhance=False)
    kit_off, status_kit = _render(enhanced_bundle, dataclasses.replace(kit, enhance=False))
    assert status_on["enhancer"] and status_on["enhance_ms_p50"] > 0
    assert not status_off["enhancer"] and not status_kit["enhancer"]
    assert np.array_equal(off, kit_off)  # the kit field and the engine flag turn off the same thing
    assert on.shape == off.shape and not np.allclose(on, off)
    assert np.isfinite(on).all() and np.abs(on).max() > 0


def test_kit_enhance_field_round_trips_and_defaults_on(enhanced_bundle):
    kit = kit_for(enhanced_bundle)
    assert kit.enhance is True and "enhance" not in kit_to_json(kit)  # existing kit files stay as they are
    data = kit_to_json(dataclasses.replace(kit, enhance=False))
    assert data["enhance"] is False and parse_kit(json.loads(json.dumps(data))).enhance is False
    data["enhance"] = "no"
    with pytest.raises(FormatError, match="enhance must be true or false"):
        parse_kit(data)
