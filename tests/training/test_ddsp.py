"""The DDSP generator family (model.architecture = "ddsp", engine/ddsp.py): trains 2 steps with the drums
recipe, exports with ONNX-vs-torch parity, is deterministic per z, ends in exact zeros, takes class labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.ddsp import DDSPGenerator, DDSPSpec
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.generators import build_generator, spec_from_dict
from ganshot.engine.onnx_runtime import OnnxGenerator
from ganshot.engine.runtime import load_generator_runtime
from ganshot.engine.wavegan import ENVELOPE_FADE_S
from ganshot.training.checkpoint import load_generator
from ganshot.training.config import load_config
from ganshot.training.export import export_run
from ganshot.training.train import train

torch.set_num_threads(2)

TINY = ["model.d=2", "train.batch_size=2", "train.num_workers=0", "train.checkpoint_every=1000",
        "train.critic_warmup_steps=0", "model.ddsp_noise_bands=4", "model.ddsp_sinusoids=2"]


def _z(batch: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, latent_dim)).astype(np.float32)


@pytest.mark.parametrize("conditional", [True, False])
def test_ddsp_recipe_trains_two_steps_and_exports_with_parity(make_dataset, tmp_path, conditional):
    data = make_dataset(num_items=6, classes=("kick", "snare", "closed_hat"))
    run = tmp_path / "run"
    overrides = [*TINY, f"model.conditional={str(conditional).lower()}"]
    result = train("drums_ddsp", data_dir=data, run_dir=run, overrides=overrides, max_steps=2)
    assert result["step"] == 2 and np.isfinite(result["critic_loss"]) and np.isfinite(result["generator_loss"])
    bundle = load_bundle(export_run(run, tmp_path / "bundle", directions_k=2, directions_samples=64))
    assert bundle.meta["architecture"] == "ddsp" and bundle.meta["training"]["weights"] == "ema"
    assert bundle.conditional == conditional and bundle.num_samples == 16384
    z = _z(3, bundle.latent_dim)
    labels = np.array([0, 1, 2]) if conditional else None
    rendered = OnnxGenerator(bundle).render(z, labels)
    generator, _, _ = load_generator(run)
    assert isinstance(generator, DDSPGenerator)
    with torch.no_grad():
        expected = generator(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()
    assert rendered.shape == (3, bundle.num_samples)
    assert np.max(np.abs(rendered - expected)) <= 1e-4 * max(np.max(np.abs(expected)), 1e-6)
    torch_backend = load_generator_runtime(bundle, backend="torch", device="cpu")  # the engine's torch backend
    np.testing.assert_allclose(torch_backend.render(z, labels), expected, atol=1e-5)


def test_ddsp_is_deterministic_per_z_and_differs_between_latents():
    torch.manual_seed(0)
    gen = DDSPGenerator(DDSPSpec(latent_dim=16, d=2, noise_bands=8, sinusoids=4)).eval()
    z = torch.from_numpy(_z(2, 16))
    with torch.no_grad():
        first, again = gen(z), gen(z.clone())
        rebuilt = DDSPGenerator(gen.spec)
        rebuilt.load_state_dict(gen.state_dict(), strict=True)  # the noise buffer travels with the weights
        third = rebuilt.eval()(z)
    assert torch.equal(first, again) and torch.equal(first, third)
    assert not torch.allclose(first[0], first[1])


def test_ddsp_tails_are_exact_zeros_after_the_envelope_end():
    torch.manual_seed(0)
    spec = DDSPSpec(latent_dim=8, d=2, noise_bands=4, sinusoids=2)
    gen = DDSPGenerator(spec).eval()
    with torch.no_grad():
        gen.envelope.head.bias.copy_(torch.tensor([-3.0, 0.0, -3.0]))  # end early: ~0.05-0.1 s
        z = torch.from_numpy(_z(4, 8))
        audio = gen(z)
        x = z  # unconditional: the envelope reads z itself
        end_s = gen.envelope(x) > 0
    last = end_s.float().flip(1).argmax(1)  # samples after the last non-zero envelope value
    cut = spec.num_samples - int(last.min())
    assert cut < spec.num_samples - int(ENVELOPE_FADE_S * spec.sample_rate)
    assert torch.count_nonzero(audio[:, cut:]) == 0
    assert audio[:, :512].abs().max() > 0  # not silent before


def test_ddsp_conditional_needs_labels_and_labels_change_the_sound():
    torch.manual_seed(0)
    gen = DDSPGenerator(DDSPSpec(latent_dim=8, d=2, num_classes=3, noise_bands=4, sinusoids=2)).eval()
    z = torch.from_numpy(_z(1, 8)).repeat(3, 1)
    with torch.no_grad():
        audio = gen(z, torch.tensor([0, 1, 2]))
    assert not torch.allclose(audio[0], audio[1]) and not torch.allclose(audio[1], audio[2])
    with pytest.raises(UserInputError, match="conditional"):
        gen(z)
    with pytest.raises(UserInputError, match="unconditional"):
        DDSPGenerator(DDSPSpec(latent_dim=8, d=2, noise_bands=4, sinusoids=2))(z, torch.tensor([0, 1, 2]))


def test_architecture_table_round_trips_specs_and_refuses_unknown_names():
    spec = DDSPSpec(latent_dim=8, d=2, num_classes=2, noise_bands=4, sinusoids=2, transient_ms=10)
    assert spec_from_dict("ddsp", spec.to_dict()) == spec
    assert isinstance(build_generator(spec), DDSPGenerator)
    with pytest.raises(FormatError, match="not one this ganshot knows"):
        spec_from_dict("transformer", {})
    with pytest.raises(FormatError, match="unknown key"):
        spec_from_dict("ddsp", {**spec.to_dict(), "nearest_layers": 3})
    with pytest.raises(FormatError, match="noise_frames"):
        DDSPSpec(noise_frames=3)
    cfg = load_config("drums_ddsp")
    assert cfg.model.architecture == "ddsp" and load_config("drums_v2").model.architecture == "wavegan"
