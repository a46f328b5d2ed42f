"""`ganshot import`: generators made by other code paths become bundles the engine plays."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.importer import import_generator

LATENT, SAMPLES = 12, 2048


class Plain(nn.Module):
    """Not a WaveGAN: a dense layer to a decaying noise-like one-shot, output [batch, 1, samples]."""

    def __init__(self, latent=LATENT, samples=SAMPLES, channels_dim=True, broken=False):
        super().__init__()
        torch.manual_seed(3)
        self.dense = nn.Linear(latent, samples)
        self.register_buffer("envelope", torch.exp(-torch.arange(samples) / 300.0))
        self.channels_dim, self.broken = channels_dim, broken

    def forward(self, z):
        audio = torch.tanh(self.dense(z)) * self.envelope
        if self.broken:
            audio = audio / (audio - audio)  # NaN everywhere
        return audio[:, None, :] if self.channels_dim else audio


def to_onnx(module, path, latent=LATENT, dynamic=True):
    torch.onnx.export(module.eval(), (torch.zeros(2, latent),), str(path), input_names=["noise"],
                      output_names=["wave"], opset_version=17, dynamo=False,
                      dynamic_axes={"noise": {0: "b"}, "wave": {0: "b"}} if dynamic else None)
    return path


@pytest.mark.parametrize("channels_dim", [True, False])
def test_an_onnx_generator_from_elsewhere_plays_in_the_engine(tmp_path, channels_dim):
    from ganshot.engine.engine import Engine
    from ganshot.engine.runtime import load_generator_runtime
    from tests.support import kit_for

    module = Plain(channels_dim=channels_dim)
    bundle = load_bundle(import_generator(to_onnx(module, tmp_path / "mine.onnx"), tmp_path / "mine", 22050))
    assert (bundle.name, bundle.sample_rate, bundle.num_samples, bundle.latent_dim) == ("mine", 22050, SAMPLES, LATENT)
    assert bundle.meta["architecture"] == "imported" and "generator.safetensors" not in bundle.files
    directions = bundle.meta["directions"]
    assert directions["method"] == "output-pca" and len(directions["vectors"]) == 8
    assert np.allclose(np.linalg.norm(directions["vectors"], axis=1), 1.0)
    # the bundle renders what the original module renders
    z = np.random.default_rng(0).standard_normal((3, LATENT)).astype(np.float32)
    runtime = load_generator_runtime(bundle, backend="auto")
    assert runtime.name.startswith("onnx")
    with torch.inference_mode():
        want = module(torch.from_numpy(z)).reshape(3, SAMPLES).numpy()
    np.testing.assert_allclose(runtime.render(z), want, rtol=1e-4, atol=1e-5)
    with pytest.raises(UserInputError, match="ONNX Runtime only"):
        load_generator_runtime(bundle, backend="torch")
    # and plays through a kit, knobs included
    with Engine(bundle, kit_for(bundle), sample_rate=48000, backend="auto") as engine:
        assert engine.wait_ready(30)
        before = np.array(engine.pad_buffer(0))
        engine.set_direction(0, 0, 1.0)
        assert engine.wait_ready(30)
        assert np.any(before) and not np.array_equal(before, engine.pad_buffer(0))


def test_a_torchscript_generator_is_converted_with_a_warning(tmp_path):
    module = Plain(channels_dim=True)
    scripted = torch.jit.trace(module.eval(), torch.zeros(2, LATENT))
    scripted.save(str(tmp_path / "mine.ts"))
    with pytest.raises(UserInputError, match="--latent-dim"):
        import_generator(tmp_path / "mine.ts", tmp_path / "no", 16000)
    with pytest.warns(UserWarning, match="TorchScript, which is code"):
        path = import_generator(tmp_path / "mine.ts", tmp_path / "mine", 16000, latent_dim=LATENT, name="scripted")
    bundle = load_bundle(path)
    assert bundle.name == "scripted" and bundle.meta["import"]["converted_from_torchscript"] is True
    assert set(bundle.files) == {"generator.onnx"}


@pytest.mark.parametrize("make, match", [
    (lambda p: to_onnx(Plain(broken=True), p), "NaN"),
    (lambda p: to_onnx(Plain(latent=4), p, latent=4) and None or p, "differs from the graph's 4"),
    (lambda p: p.write_bytes(b"not onnx at all") and p, "not a valid ONNX model"),
    (lambda p: to_onnx(nn.Sequential(nn.Linear(LATENT, 8), nn.Unflatten(1, (2, 2, 2))), p), "must be \\[batch, samples\\]"),
])
def test_what_does_not_fit_is_refused_in_one_line_and_nothing_is_written(tmp_path, make, match):
    source = make(tmp_path / "bad.onnx")
    latent = 12 if "differs" in match else None
    with pytest.raises((FormatError, UserInputError), match=match) as err:
        import_generator(source, tmp_path / "out", 16000, latent_dim=latent)
    assert "\n" not in str(err.value) and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, match", [("missing.onnx", "no such file"), ("mine.wav", "is .onnx or TorchScript")])
def test_other_files_are_refused(tmp_path, name, match):
    (tmp_path / "mine.wav").write_bytes(b"RIFF")
    with pytest.raises(UserInputError, match=match):
        import_generator(tmp_path / name, tmp_path / "out", 16000)


def test_the_command_line(tmp_path):
    to_onnx(Plain(), tmp_path / "mine.onnx")
    run = subprocess.run([sys.executable, "-m", "ganshot", "import", str(tmp_path / "mine.onnx"), "--sample-rate",
                          "16000", "-o", str(tmp_path / "bundle")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "wrote model bundle" in run.stderr and load_bundle(tmp_path / "bundle").latent_dim == LATENT
    run = subprocess.run([sys.executable, "-m", "ganshot", "import", str(tmp_path / "nope.onnx"), "--sample-rate",
                          "16000", "-o", str(tmp_path / "b2")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and run.stderr.strip().splitlines()[-1].startswith("ganshot: error:")
