"""Export: tiny generators -> bundles, ONNX Runtime parity, refusals, and a real 1-step run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.engine.onnx_runtime import OnnxGenerator
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
from ganshot.training import export as export_mod
from ganshot.training.export import PARITY_TOLERANCE, export_generator

CLASSES = ["kick", "snare", "hat"]
SPECS = {
    "plain": GeneratorSpec(latent_dim=8, d=2, num_samples=16384),
    "conditional": GeneratorSpec(latent_dim=8, d=3, num_samples=16384, num_classes=3),
    "post_filter": GeneratorSpec(latent_dim=6, d=4, num_samples=16384, post_filter_length=33),
    "cropped": GeneratorSpec(latent_dim=5, d=2, num_samples=5000),
}


def rel_error(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(got - expected)) / max(float(np.max(np.abs(expected))), 1e-6))


def build(spec: GeneratorSpec, seed: int = 0) -> WaveGANGenerator:
    torch.manual_seed(seed)
    return WaveGANGenerator(spec).eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One bundle per spec, exported once for the module."""
    root = tmp_path_factory.mktemp("bundles")
    out = {}
    for key, spec in SPECS.items():
        generator = build(spec)
        path = export_generator(
            generator, spec, root / key, name=f"tiny-{key}", sample_rate=16000, classes=CLASSES,
            dataset={"num_items": 8}, training={"step": 0, "config": {}},
        )  # fmt: skip
        out[key] = (generator, spec, path)
    return out


@pytest.mark.parametrize("key", list(SPECS))
@pytest.mark.parametrize("batch", [1, 5])
def test_bundle_matches_torch(exported, key, batch):
    generator, spec, path = exported[key]
    bundle = load_bundle(path)
    assert (bundle.latent_dim, bundle.num_samples, bundle.conditional) == (spec.latent_dim, spec.num_samples, spec.conditional)
    assert bundle.hyperparameters == spec.to_dict() and bundle.classes == tuple(CLASSES)
    assert bundle.meta["export"]["parity_rel_error"] <= PARITY_TOLERANCE
    rng = np.random.default_rng(batch)
    z = rng.standard_normal((batch, spec.latent_dim)).astype(np.float32)
    labels = rng.integers(0, 3, batch) if spec.conditional else None
    audio = OnnxGenerator(bundle).render(z, labels)
    with torch.no_grad():
        expected = generator(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()
    assert audio.shape == (batch, spec.num_samples) and audio.dtype == np.float32
    assert rel_error(audio, expected) <= PARITY_TOLERANCE


@pytest.mark.parametrize("key", ["conditional", "post_filter"])
def test_safetensors_and_spec_rebuild_the_generator(exported, key):
    from safetensors import safe_open
    from safetensors.torch import load_file

    generator, _, path = exported[key]
    bundle = load_bundle(path)
    rebuilt = WaveGANGenerator(GeneratorSpec.from_dict(bundle.hyperparameters)).eval()
    rebuilt.load_state_dict(load_file(str(bundle.safetensors_path)), strict=True)
    with safe_open(str(bundle.safetensors_path), framework="np") as handle:  # tagged like checkpoints
        tags = handle.metadata()
    assert tags["format"] == "ganshot-wavegan-generator" and json.loads(tags["spec"]) == bundle.hyperparameters
    z = torch.randn(2, bundle.latent_dim)
    labels = torch.tensor([0, 2]) if bundle.conditional else None
    with torch.no_grad():
        assert torch.equal(rebuilt(z, labels), generator(z, labels))


def test_bundle_readme_and_no_torchscript(exported):
    _, spec, path = exported["conditional"]
    assert sorted(p.name for p in path.iterdir()) == ["README.md", "generator.onnx", "generator.safetensors", "model.json"]
    readme = (path / "README.md").read_text()
    assert "tiny-conditional" in readme and "16384 samples at 16000 Hz" in readme and "conditional" in readme


@pytest.mark.parametrize(
    "z, labels, needle",
    [
        (np.zeros((2, 9), np.float32), None, "shape [batch, 8]"),
        (np.zeros(8, np.float32), None, "shape [batch, 8]"),
        (np.zeros((0, 8), np.float32), None, "1 <= batch"),
        (np.zeros((2, 8), np.int64), None, "floating point"),
        (np.full((2, 8), np.nan, np.float32), None, "NaN"),
        (np.array([[np.inf] + [0.0] * 7], np.float32), None, "infinite"),
        (np.zeros((2, 8), np.float32), np.array([0, 1]), "unconditional"),
    ],
)
def test_onnx_generator_rejects_bad_input(exported, z, labels, needle):
    generator = OnnxGenerator(exported["plain"][2])
    with pytest.raises(UserInputError) as info:
        generator.render(z, labels)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_onnx_generator_accepts_float64(exported):
    generator = OnnxGenerator(exported["plain"][2])
    assert generator.render(np.zeros((1, 8))).dtype == np.float32


@pytest.mark.parametrize("damage", ["perturb", "nan"])
def test_broken_parity_refuses_and_writes_nothing(tmp_path, monkeypatch, damage):
    spec = SPECS["plain"]
    target = tmp_path / "models" / "tiny"
    export_generator(build(spec), spec, target, name="good", sample_rate=16000)
    real_run = export_mod._run_onnx

    def broken_run(path, z, labels):
        audio = real_run(path, z, labels)
        if damage == "nan":
            audio[0, 0] = np.nan
        else:
            audio[0, 100] += 1e-2 * np.max(np.abs(audio))
        return audio

    monkeypatch.setattr(export_mod, "_run_onnx", broken_run)
    with pytest.raises(GanshotError) as info:
        export_generator(build(spec, seed=1), spec, target, name="bad", sample_rate=16000)
    message = str(info.value)
    assert "export refused" in message and "no bundle written" in message and "\n" not in message
    if damage == "perturb":
        assert "differs from torch by 0.01 relative" in message
    with pytest.raises(GanshotError):
        export_generator(build(spec), spec, tmp_path / "fresh", name="bad", sample_rate=16000)
    assert not (tmp_path / "fresh").exists()
    assert load_bundle(target).name == "good" and sorted(p.name for p in target.parent.iterdir()) == ["tiny"]


def test_export_refuses_mismatched_inputs(tmp_path):
    spec = SPECS["conditional"]
    with pytest.raises(UserInputError, match="needs 3 class names"):
        export_generator(build(spec), spec, tmp_path / "b", name="x", sample_rate=16000, classes=["kick"])
    with pytest.raises(UserInputError, match="built from"):
        export_generator(build(SPECS["plain"]), spec, tmp_path / "b", name="x", sample_rate=16000, classes=CLASSES)
    assert not (tmp_path / "b").exists()


@pytest.fixture
def tiny_run(make_dataset, tmp_path):
    """A real one-step conditional training run at tiny width (about 2 s on 2 cores)."""
    from ganshot.training.train import train

    data = make_dataset(num_items=4, classes=("kick", "snare"))
    run = tmp_path / "drums-run"
    overrides = ["model.d=2", "model.latent_dim=8", "model.conditional=true", "train.batch_size=2", "train.critic_steps=1",
                 "train.num_workers=0", "model.latent_distribution=uniform"]  # fmt: skip
    train("wavegan_small", data_dir=data, run_dir=run, overrides=overrides, max_steps=1, device="cpu")
    return run


def test_export_run_writes_a_working_bundle(tiny_run, tmp_path):
    from ganshot.training.checkpoint import load_generator
    from ganshot.training.export import export_run

    path = export_run(tiny_run, tmp_path / "bundle")
    bundle = load_bundle(path)
    assert bundle.name == "drums-run" and bundle.classes == ("kick", "snare") and bundle.conditional
    assert bundle.latent_distribution == "uniform" and bundle.sample_rate == 16000
    assert bundle.meta["training"]["step"] == 1 and bundle.meta["training"]["config"]["model"]["d"] == 2
    assert bundle.meta["dataset"]["num_items"] == 4 and bundle.meta["dataset"]["class_counts"] == {"kick": 2, "snare": 2}
    assert bundle.meta["dataset"]["source"] == {"kind": "synthetic", "seed": 0}
    generator, _, _ = load_generator(tiny_run)
    z = np.random.default_rng(0).uniform(-1, 1, (3, 8)).astype(np.float32)
    labels = np.array([0, 1, 1])
    with torch.no_grad():
        expected = generator(torch.from_numpy(z), torch.from_numpy(labels)).numpy()
    assert rel_error(OnnxGenerator(bundle).render(z, labels), expected) <= PARITY_TOLERANCE
    directions = bundle.directions  # 8 GANSpace directions by default, from 10000 latents of the run's distribution
    assert directions["method"] == "ganspace-pca" and directions["num_samples"] == 10000
    assert len(directions["vectors"]) == 8 and np.allclose(directions["sigmas"], 1 / np.sqrt(3), rtol=0.1)
    assert export_run(tiny_run, tmp_path / "named", name="My kit", step=1, directions_k=0)
    assert load_bundle(tmp_path / "named").name == "My kit" and load_bundle(tmp_path / "named").directions is None
    export_run(tiny_run, tmp_path / "few", directions_k=3, directions_samples=500)
    assert len(load_bundle(tmp_path / "few").directions["sigmas"]) == 3


def test_export_run_refusals(tiny_run, tmp_path):
    from ganshot.training.export import export_run

    with pytest.raises(UserInputError, match="no checkpoint at step 7"):
        export_run(tiny_run, tmp_path / "b", step=7)
    with pytest.raises(GanshotError, match="no training run folder"):
        export_run(tmp_path / "nowhere", tmp_path / "b")
    for bad in (-1, 65, 2.5):
        with pytest.raises(UserInputError, match="directions must be an integer in"):
            export_run(tiny_run, tmp_path / "b", directions_k=bad)
    assert not (tmp_path / "b").exists()


def test_cli_export(tiny_run, tmp_path, capsys):
    from ganshot.cli import main

    assert main(["export", str(tiny_run), "-o", str(tmp_path / "cli"), "--name", "cli-kit"]) == 0
    assert load_bundle(tmp_path / "cli").name == "cli-kit"
    assert capsys.readouterr().err.strip() == f"ganshot: wrote model bundle {tmp_path / 'cli'}"
    assert main(["export", str(tmp_path / "missing"), "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("ganshot: error:") and "missing" in err
