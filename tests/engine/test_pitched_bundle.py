"""Pitch-conditional bundles: model.json ``pitch``, the loader's checks, the runtimes' pitch input,
and old bundles (no pitch) loading and rendering exactly as before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import MODEL_JSON, load_bundle
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.generators import spec_from_dict
from ganshot.engine.onnx_runtime import OnnxGenerator
from ganshot.engine.runtime import load_generator_runtime
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
from ganshot.training.export import export_generator
from tests.support.bundles import edit_meta, refused

REPO = Path(__file__).resolve().parents[2]
DRUMS_V2 = REPO / "presets" / "models" / "drums-v2"
LOW, HIGH = 36, 96


@pytest.fixture(scope="module")
def pitched_bundle(tmp_path_factory) -> Path:
    """A real exported pitch- and class-conditional WaveGAN (latent 8, d=2, 2048 samples, MIDI 36-96)."""
    spec = GeneratorSpec(latent_dim=8, d=2, num_samples=2048, num_classes=2, pitch_low=LOW, pitch_high=HIGH)
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("pitched")
    return export_generator(WaveGANGenerator(spec), spec, root / "pitched", name="pitched", sample_rate=16000,
                            classes=["alto_sax", "violin"])


@pytest.fixture
def copy_of(tmp_path, pitched_bundle):
    count = iter(range(1000))

    def _copy() -> Path:
        return Path(shutil.copytree(pitched_bundle, tmp_path / f"copy{next(count)}"))
    return _copy


def _z(batch: int = 2, dim: int = 8) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((batch, dim)).astype(np.float32)


def test_model_json_records_the_pitch_input_and_range(pitched_bundle):
    bundle = load_bundle(pitched_bundle)
    assert bundle.meta["pitch"] == {"input": "pitch", "low": LOW, "high": HIGH}
    assert bundle.pitch_range == (LOW, HIGH) and bundle.pitch_input == "pitch"
    assert (bundle.hyperparameters["pitch_low"], bundle.hyperparameters["pitch_high"]) == (LOW, HIGH)
    assert "Pitch: MIDI 36-96" in (pitched_bundle / "README.md").read_text()


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_runtimes_render_pitches_and_refuse_bad_ones(pitched_bundle, backend):
    gen = load_generator_runtime(pitched_bundle, backend=backend, device="cpu", threads=1)
    labels = np.array([0, 1], np.int64)
    audio = gen.render(_z(), labels, pitches=np.array([LOW, HIGH]))
    assert audio.shape == (2, 2048) and audio.dtype == np.float32 and np.isfinite(audio).all()
    cases = [
        (None, "this model is pitch-conditional (MIDI 36-96): pass pitches"),
        (np.array([LOW - 1, 60]), "pitches must be MIDI notes in [36, 96] (this model's range), got 35..60"),
        (np.array([60, HIGH + 1]), "got 60..97"),
        (np.array([60.0, 61.0]), "pitches must be integer MIDI notes"),
        (np.array([60, 61, 62]), "pitches must have shape [2] to match z"),
    ]
    for pitches, needle in cases:
        with pytest.raises(UserInputError) as info:
            gen.render(_z(), labels, pitches=pitches)
        assert needle in str(info.value) and "\n" not in str(info.value)


def test_onnx_and_torch_agree_with_the_pitch_input(pitched_bundle):
    onnx = load_generator_runtime(pitched_bundle, backend="onnx", device="cpu", threads=1)
    torch_rt = load_generator_runtime(pitched_bundle, backend="torch", device="cpu", threads=1)
    z, labels, pitches = _z(3), np.array([0, 1, 0], np.int64), np.array([36, 61, 96], np.int64)
    a, b = onnx.render(z, labels, pitches), torch_rt.render(z, labels, pitches)
    assert np.max(np.abs(a - b)) <= 1e-4 * max(np.max(np.abs(b)), 1e-6)


def test_the_pitch_changes_the_sound_for_the_same_z(pitched_bundle):
    gen = OnnxGenerator(pitched_bundle, threads=1)
    z = np.repeat(_z(1), 3, axis=0)
    audio = gen.render(z, np.zeros(3, np.int64), np.array([40, 60, 90]))
    assert np.max(np.abs(audio[0] - audio[1])) > 1e-6 and np.max(np.abs(audio[1] - audio[2])) > 1e-6
    alone = gen.render(z[:1], np.zeros(1, np.int64), np.array([60]))[0]  # a note's sound is its own, not its batch's
    assert np.allclose(alone, audio[1], atol=1e-6)


def test_auto_backend_times_a_pitched_bundle(pitched_bundle):
    gen = load_generator_runtime(pitched_bundle, device="cpu", threads=1)  # measure_render_ms passes pitches
    assert gen.timings and gen.render(_z(1), np.zeros(1, np.int64), np.array([60])).shape == (1, 2048)


@pytest.mark.parametrize("mutate, needles", [
    (lambda m: m.__setitem__("pitch", None), ["hyperparameters give a pitch range but model.json has no pitch entry"]),
    (lambda m: m.pop("pitch"), ["no pitch entry"]),
    (lambda m: m["pitch"].__setitem__("low", 96), ["pitch: low, high must be two MIDI notes low < high in [0, 127]"]),
    (lambda m: m["pitch"].__setitem__("high", 128), ["low < high in [0, 127], got 36, 128"]),
    (lambda m: m["pitch"].__setitem__("low", True), ["two MIDI notes"]),
    (lambda m: m["pitch"].__setitem__("high", "96"), ["two MIDI notes"]),
    (lambda m: m["pitch"].pop("high"), ["exactly the keys input, low, high"]),
    (lambda m: m["pitch"].__setitem__("step", 1), ["exactly the keys input, low, high"]),
    (lambda m: m.__setitem__("pitch", [36, 96]), ["must be null or an object"]),
    (lambda m: m["pitch"].__setitem__("input", "z"), ["input must be a non-empty name distinct from"]),
    (lambda m: m["pitch"].__setitem__("input", ""), ["input must be a non-empty name"]),
    (lambda m: m["pitch"].__setitem__("low", 40), ["range 40-96 differs from hyperparameters pitch_low/pitch_high"]),
])
def test_the_loader_refuses_bad_pitch_entries(copy_of, mutate, needles):
    bundle = copy_of()
    edit_meta(bundle, mutate)
    refused(bundle, FormatError, *needles)


def test_a_pitch_input_the_graph_lacks_is_refused(copy_of, tiny_bundle, tmp_path):
    renamed = copy_of()
    edit_meta(renamed, lambda m: m["pitch"].__setitem__("input", "note"))
    with pytest.raises(FormatError, match=r"inputs \['label', 'pitch', 'z'\] .* do not match model.json"):
        OnnxGenerator(load_bundle(renamed))
    # An unpitched graph whose model.json claims a pitch input: the loader reads it, the session refuses.
    claimed = Path(shutil.copytree(tiny_bundle.path, tmp_path / "claimed"))
    edit_meta(claimed, lambda m: m.__setitem__("pitch", {"input": "pitch", "low": 36, "high": 96}))
    with pytest.raises(FormatError, match="do not match model.json") as info:
        OnnxGenerator(load_bundle(claimed))
    assert "\n" not in str(info.value)
    # A pitched graph whose model.json drops both the entry and the hyperparameters: the graph has an extra input.
    dropped = copy_of()
    edit_meta(dropped, lambda m: (m.pop("pitch"), m["hyperparameters"].pop("pitch_low"), m["hyperparameters"].pop("pitch_high")))
    with pytest.raises(FormatError, match="do not match model.json"):
        OnnxGenerator(load_bundle(dropped))


def test_unpitched_bundles_refuse_pitches(tiny_bundle):
    gen = OnnxGenerator(tiny_bundle)
    with pytest.raises(UserInputError, match="this model has no pitch input: pitches must be None"):
        gen.render(_z(1), pitches=np.array([60]))
    assert tiny_bundle.pitch_range is None and tiny_bundle.pitch_input is None


@pytest.mark.skipif(not DRUMS_V2.is_dir(), reason="presets/models/drums-v2 is not in this checkout")
def test_the_drums_v2_bundle_loads_and_renders_as_before():
    import onnxruntime as ort

    bundle = load_bundle(DRUMS_V2)
    meta = json.loads((DRUMS_V2 / MODEL_JSON).read_text())
    assert "pitch" not in meta and bundle.pitch_range is None and bundle.pitch_input is None
    spec = spec_from_dict(meta["architecture"], meta["hyperparameters"])
    assert spec.to_dict() == meta["hyperparameters"] and not spec.pitch_conditional  # no new keys appear
    z = np.random.default_rng(7).standard_normal((3, bundle.latent_dim)).astype(np.float32)
    labels = np.array([0, 5, 15], np.int64)
    session = ort.InferenceSession(str(bundle.onnx_path), providers=["CPUExecutionProvider"])
    (reference,) = session.run(["audio"], {"z": z, "label": labels})  # the graph fed directly, no ganshot code
    onnx = load_generator_runtime(bundle, backend="onnx", device="cpu", threads=1)
    assert np.array_equal(onnx.render(z, labels), reference)
    torch_rt = load_generator_runtime(bundle, backend="torch", device="cpu", threads=1)  # strict state_dict load
    assert np.max(np.abs(torch_rt.render(z, labels) - reference)) <= 1e-4 * max(np.max(np.abs(reference)), 1e-6)
