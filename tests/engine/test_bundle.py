"""Model bundle format: round trip, atomic replace, and every refusal (one-line errors).

The bundles here hold a hand-built ONNX model (audio = z @ W [+ E[label]]), so these
tests need neither torch nor a trained generator.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ganshot.engine import bundle as bundle_mod
from ganshot.engine import bundle_write as bundle_write_mod
from ganshot.engine._filecheck import check_onnx_self_contained, check_safetensors
from ganshot.engine.bundle import MODEL_JSON, load_bundle
from ganshot.engine.bundle_write import write_bundle
from ganshot.engine.errors import FormatError, IntegrityError, UserInputError
from tests.support.bundles import (
    CLASSES, LATENT, SAMPLES, edit_meta, linear_onnx, make_meta, make_sources, refused, rehash,
)


@pytest.fixture
def bundle_dir(tmp_path) -> Path:
    return write_bundle(tmp_path / "b", make_meta(), make_sources(tmp_path))


def test_round_trip(bundle_dir):
    b = load_bundle(bundle_dir)
    assert (b.name, b.sample_rate, b.num_samples, b.latent_dim) == ("tiny", 16000, SAMPLES, LATENT)
    assert b.classes == tuple(CLASSES) and b.conditional is False
    assert b.onnx_path == bundle_dir.resolve() / "generator.onnx" and b.safetensors_path.is_file()
    assert b.sha256 == hashlib.sha256((bundle_dir / MODEL_JSON).read_bytes()).hexdigest()
    assert b.meta["format"] == "ganshot-model" and b.meta["version"] == 1 and b.directions is None
    assert set(b.meta["files"]) == {"generator.onnx", "generator.safetensors", "README.md"}
    assert b.meta["files"]["README.md"]["bytes"] == len("# tiny\n")
    assert not [p for p in bundle_dir.parent.iterdir() if p.name.endswith(".tmp")]


def test_onnx_generator_renders_the_bundle(tmp_path):
    from ganshot.engine.onnx_runtime import OnnxGenerator

    sources = make_sources(tmp_path, conditional=True)
    gen = OnnxGenerator(write_bundle(tmp_path / "c", make_meta(conditional=True), sources))
    z = np.random.default_rng(1).standard_normal((2, LATENT)).astype(np.float32)
    w = numpy_helper.to_array(onnx.load(sources["generator.onnx"]).graph.initializer[0])
    e = numpy_helper.to_array(onnx.load(sources["generator.onnx"]).graph.initializer[1])
    out = gen.render(z, labels=np.array([0, 2]))
    assert out.dtype == np.float32 and out.shape == (2, SAMPLES)
    np.testing.assert_allclose(out, z @ w + e[[0, 2]], rtol=1e-5, atol=1e-5)
    assert "CPUExecutionProvider" in gen.providers and "OnnxGenerator(" in repr(gen)
    bad_labels = [(None, "pass labels"), ([0, 3], "[0, 3)"), ([0.0, 1.0], "integers"), ([0], "shape")]
    for bad, needle in bad_labels:
        with pytest.raises(UserInputError) as info:
            gen.render(z, labels=None if bad is None else np.array(bad))
        assert needle in str(info.value)


@pytest.mark.parametrize(
    "mutate, needles",
    [
        (lambda m: m.__setitem__("format", "other-model"), ["format is 'other-model'"]),
        (lambda m: m.__setitem__("version", 2), ["version 2 is newer than this ganshot reads (1)"]),
        (lambda m: m.__setitem__("version", "1"), ["unknown version '1'"]),
        (lambda m: m.pop("latent_dim"), ["latent_dim"]),
        (lambda m: m.pop("files"), ["missing field 'files'"]),
        (lambda m: m.__setitem__("sample_rate", True), ["sample_rate must be an integer"]),
        (lambda m: m.__setitem__("num_samples", 16.5), ["num_samples must be an integer"]),
        (lambda m: m.__setitem__("classes", "kick"), ["'classes' must be a list"]),
        (lambda m: m.__setitem__("classes", ["kick", "kick"]), ["distinct"]),
        (lambda m: m.__setitem__("conditional", 1), ["'conditional' must be true or false"]),
        (lambda m: m.__setitem__("architecture", "diffusion"), ["architecture 'diffusion'"]),
        (lambda m: m["hyperparameters"].__setitem__("latent_dim", 9), ["hyperparameters.latent_dim is 9"]),
        (lambda m: m["onnx"].__setitem__("label_input", "label"), ["label_input"]),
        (lambda m: m["files"]["generator.onnx"].__setitem__("sha256", "xyz"), ["sha256 must be 64"]),
        (lambda m: m["files"].pop("generator.safetensors"), ["does not list generator.safetensors"]),
        (lambda m: m.__setitem__("name", "two\nlines"), ["name must be one"]),
        (lambda m: m.__setitem__("latent_distribution", "gaussian"), ["latent_distribution must be one of"]),
        (lambda m: m.__setitem__("dataset", [1]), ["'dataset' must be an object or null"]),
        (lambda m: m["files"].__setitem__("model.json", {"sha256": "0" * 64, "bytes": 1}), ["'model.json'", "extension"]),
    ],
)
def test_refuses_bad_fields(bundle_dir, mutate, needles):
    edit_meta(bundle_dir, mutate)
    refused(bundle_dir, FormatError, MODEL_JSON, *needles)


@pytest.mark.parametrize(
    "rewrite, needle",
    [
        (lambda t: "{ this is not json", "not valid JSON"),
        (lambda t: t[: len(t) // 2], "not valid JSON"),
        (lambda t: t.replace('"sample_rate": 16000', '"sample_rate": NaN'), "non-finite number NaN"),
        (lambda t: t.replace('"sample_rate": 16000', '"sample_rate": -Infinity'), "non-finite number -Infinity"),
        (lambda t: t.replace('"d": 1', '"d": 1e999'), "non-finite number 1e999"),
        (lambda t: "[" * 100000 + "]" * 100000, "not valid JSON"),
        (lambda t: t + " " * bundle_mod.MAX_MODEL_JSON_BYTES, "larger than"),
    ],
)
def test_refuses_bad_json(bundle_dir, rewrite, needle):
    path = bundle_dir / MODEL_JSON
    path.write_text(rewrite(path.read_text()))
    refused(bundle_dir, FormatError, MODEL_JSON, needle)


def test_refuses_missing_folder_and_model_json(tmp_path, bundle_dir):
    refused(tmp_path / "nowhere", FormatError, "no model bundle folder")
    (bundle_dir / MODEL_JSON).unlink()
    refused(bundle_dir, FormatError, "model.json: missing")


def test_refuses_tampered_byte(bundle_dir):
    path = bundle_dir / "generator.onnx"
    data = bytearray(path.read_bytes())
    w = numpy_helper.to_array(onnx.load(path).graph.initializer[0]).tobytes()
    data[data.index(w) + 5] ^= 0x01  # inside W's raw data: still valid protobuf
    path.write_bytes(bytes(data))
    refused(bundle_dir, IntegrityError, "generator.onnx", "sha256 mismatch")


def test_refuses_missing_and_resized_files(bundle_dir):
    with (bundle_dir / "README.md").open("a") as handle:
        handle.write("more")
    refused(bundle_dir, IntegrityError, "README.md", "bytes")
    (bundle_dir / "generator.safetensors").unlink()
    refused(bundle_dir, IntegrityError, "generator.safetensors", "missing")


@pytest.mark.parametrize("name", ["weights.pt", "opt.pkl", "x.pth", "model.ckpt", "data.npy", "a.joblib", "pytorch_model.bin"])
def test_refuses_present_pickle_capable_file(bundle_dir, name):
    (bundle_dir / name).write_bytes(b"harmless-looking")
    refused(bundle_dir, FormatError, name, "pickle")


def test_refuses_listed_pickle_capable_file(bundle_dir):
    edit_meta(bundle_dir, lambda m: m["files"].__setitem__("extra.pkl", {"sha256": "0" * 64, "bytes": 1}))
    refused(bundle_dir, FormatError, "extra.pkl", "pickle")


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_refuses_pickle_named_safetensors(bundle_dir, protocol):
    (bundle_dir / "generator.safetensors").write_bytes(pickle.dumps({"W": [1.0] * 300}, protocol=protocol))
    rehash(bundle_dir, "generator.safetensors")  # only the content check stands in the way
    refused(bundle_dir, FormatError, "generator.safetensors", f"pickle protocol {protocol} header")


def test_refuses_pickle_header_in_other_files(bundle_dir):
    (bundle_dir / "notes.txt").write_bytes(pickle.dumps("hi", protocol=2))
    refused(bundle_dir, FormatError, "notes.txt", "pickle protocol 2")


def test_refuses_zip_archive(bundle_dir):
    with zipfile.ZipFile(bundle_dir / "generator.onnx", "w") as archive:  # what torch.save writes
        archive.writestr("archive/data.pkl", pickle.dumps({}))
    rehash(bundle_dir, "generator.onnx")
    refused(bundle_dir, FormatError, "generator.onnx", "zip header")


def test_safetensors_whose_header_looks_like_pickle_is_accepted(tmp_path):
    """896-byte headers start 0x80 0x03, like pickle protocol 3: the structural check tells them apart."""
    header = json.dumps({"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    header += b" " * (896 - len(header))
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", 896) + header + np.ones(2, np.float32).tobytes())
    assert path.read_bytes()[:2] == b"\x80\x03"
    check_safetensors(path)
    path.write_bytes(path.read_bytes() + b"tail")
    with pytest.raises(FormatError, match="cover 8 of 12 data bytes"):
        check_safetensors(path)
    header = json.dumps({"A": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                         "B": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()  # fmt: skip
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(16))
    with pytest.raises(FormatError, match="overlap or leave a gap"):
        check_safetensors(path)


@pytest.mark.parametrize("name", ["../x.onnx", "sub/x.onnx", "/etc/x.onnx", "..\\x.onnx", ".hidden.onnx", "x.exe"])
def test_refuses_path_like_names(bundle_dir, name):
    edit_meta(bundle_dir, lambda m: m["files"].__setitem__(name, {"sha256": "0" * 64, "bytes": 1}))
    message = refused(bundle_dir, FormatError, repr(name))
    assert "plain file name" in message or "extension" in message


def test_refuses_links(bundle_dir, tmp_path):
    (tmp_path / "outside.md").write_text("x")
    os.symlink(tmp_path / "outside.md", bundle_dir / "link.md")
    refused(bundle_dir, FormatError, "link.md", "symbolic link")


def _external(tensor: onnx.TensorProto) -> onnx.TensorProto:
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../../etc/passwd"
    return tensor


@pytest.mark.parametrize("where", ["initializer", "constant", "subgraph"])
def test_refuses_onnx_external_data(bundle_dir, where):
    path = bundle_dir / "generator.onnx"
    model = onnx.load(path)
    tensor = _external(numpy_helper.from_array(np.ones(3, np.float32), "T"))
    if where == "initializer":
        model.graph.initializer.append(tensor)
    elif where == "constant":
        model.graph.node.append(helper.make_node("Constant", [], ["c"], value=tensor))
    else:
        inner = helper.make_graph([helper.make_node("Constant", [], ["o"], value=tensor)], "inner", [],
                                  [helper.make_tensor_value_info("o", TensorProto.FLOAT, [3])])
        cond = numpy_helper.from_array(np.array(True), "cond")
        model.graph.initializer.append(cond)
        model.graph.node.append(helper.make_node("If", ["cond"], ["r"], then_branch=inner, else_branch=inner))
    path.write_bytes(model.SerializeToString())
    rehash(bundle_dir, "generator.onnx")
    refused(bundle_dir, FormatError, "generator.onnx", "external data")


def test_onnx_scan_agrees_with_onnx_on_saved_external_data(tmp_path):
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    linear_onnx(tmp_path / "m.onnx")
    model = onnx.load(tmp_path / "m.onnx")
    onnx.save(model, tmp_path / "ext.onnx", save_as_external_data=True, location="w.data", size_threshold=0)
    assert any(uses_external_data(t) for t in _get_all_tensors(onnx.load(tmp_path / "ext.onnx", load_external_data=False)))
    check_onnx_self_contained(tmp_path / "m.onnx")
    with pytest.raises(FormatError, match="external data"):
        check_onnx_self_contained(tmp_path / "ext.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\xff" * 20)
    with pytest.raises(FormatError, match="not a valid ONNX file"):
        check_onnx_self_contained(tmp_path / "junk.onnx")


def test_atomic_replace_keeps_backup(tmp_path):
    target = tmp_path / "models" / "drums"
    write_bundle(target, make_meta("first"), make_sources(tmp_path, seed=1))
    write_bundle(target, make_meta("second"), make_sources(tmp_path, seed=2))
    assert load_bundle(target).name == "second"
    assert load_bundle(tmp_path / "models" / "drums.bak").name == "first"
    write_bundle(target, make_meta("third"), make_sources(tmp_path, seed=3))
    assert (load_bundle(target).name, load_bundle(target.with_name("drums.bak")).name) == ("third", "second")
    assert sorted(p.name for p in target.parent.iterdir()) == ["drums", "drums.bak"]


def test_crash_mid_write_leaves_old_bundle(tmp_path, monkeypatch, bundle_dir):
    before = (bundle_dir / MODEL_JSON).read_bytes()
    real_copy, calls = bundle_write_mod._copy_synced, []

    def dying_copy(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if killed half-way
        real_copy(src, dst)

    monkeypatch.setattr(bundle_write_mod, "_copy_synced", dying_copy)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(bundle_dir, make_meta("new"), make_sources(tmp_path, seed=5))
    assert (bundle_dir / MODEL_JSON).read_bytes() == before and load_bundle(bundle_dir).name == "tiny"
    assert sorted(p.name for p in bundle_dir.parent.iterdir() if p.name.startswith(".")) == []


def test_write_refusals_leave_nothing(tmp_path):
    sources = make_sources(tmp_path)
    bad_meta = make_meta()
    del bad_meta["latent_dim"]
    with pytest.raises(FormatError, match="latent_dim"):
        write_bundle(tmp_path / "x", bad_meta, sources)
    with pytest.raises(FormatError, match="not a plain file name"):
        write_bundle(tmp_path / "x", make_meta(), {**sources, "../evil.onnx": sources["generator.onnx"]})
    with pytest.raises(FormatError, match="pickle"):
        write_bundle(tmp_path / "x", make_meta(), {**sources, "weights.pt": sources["README.md"]})
    with pytest.raises(FormatError, match="cannot write the model description"):
        write_bundle(tmp_path / "x", {**make_meta(), "dataset": {"loss": float("nan")}}, sources)
    assert not (tmp_path / "x").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".x")]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.txt").write_text("precious")
    with pytest.raises(UserInputError, match="not a model bundle"):
        write_bundle(tmp_path / "docs", make_meta(), sources)
    assert (tmp_path / "docs" / "thesis.txt").read_text() == "precious"


def test_loading_imports_neither_torch_nor_onnx(bundle_dir):
    code = f"""
import sys
import numpy as np
from ganshot.engine import load_bundle
b = load_bundle({str(bundle_dir)!r})
assert b.latent_dim == {LATENT}
assert not [m for m in sys.modules if m.split('.')[0] in ('torch', 'onnx', 'onnxruntime')], 'heavy import at load'
from ganshot.engine.onnx_runtime import OnnxGenerator
out = OnnxGenerator(b).render(np.zeros((1, {LATENT}), np.float32))
assert out.shape == (1, {SAMPLES})
assert not [m for m in sys.modules if m.split('.')[0] == 'torch'], 'torch imported'
print('ok')
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_provider_choice():
    from ganshot.engine.onnx_runtime import _resolve_providers

    cpu_only = ["CPUExecutionProvider"]
    assert _resolve_providers(None, cpu_only) == [("CPUExecutionProvider", {})]
    assert _resolve_providers(["CUDAExecutionProvider", "CPUExecutionProvider"], cpu_only) == [("CPUExecutionProvider", {})]
    chosen = _resolve_providers(["CUDAExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert chosen == [("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"}), ("CPUExecutionProvider", {})]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_written_bundle_honours_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = write_bundle(tmp_path / "b", make_meta(), make_sources(tmp_path))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700
    assert {p.stat().st_mode & 0o777 for p in path.iterdir()} == {0o666 & ~umask}
