"""Pitch-conditional training (issue 14): every generator architecture trains two steps on a tiny pitched
dataset, exports with the pitch input, and ONNX Runtime matches torch; configs and datasets that cannot
work are refused with one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.onnx_runtime import OnnxGenerator
from ganshot.engine.runtime import load_generator_runtime
from ganshot.training.checkpoint import load_generator, load_run_info
from ganshot.training.config import load_config
from ganshot.training.export import export_run
from ganshot.training.losses import critic_loss, ns_critic_loss
from ganshot.training.train import build_critic, train
from ganshot.training.wave_critic import WaveGANDiscriminator

torch.set_num_threads(2)

TINY = ["model.d=2", "train.batch_size=2", "train.num_workers=0", "train.checkpoint_every=1000"]
PITCHES = (48, 60, 72)
PITCH = ["model.pitch_conditional=true", "model.pitch_range=[40, 80]"]

#: name -> (config, extra overrides): the WaveGAN path (ns_r1 + EMA + nearest + envelope), the same
#: with class conditioning off and an STFT critic, and the two other architectures via conditioned().
RUNS = {
    "wavegan": ("pitched_small", ["model.pitch_range=[40, 80]"]),
    "wavegan_pitch_only_stft": ("pitched_small", ["model.pitch_range=[40, 80]", "model.conditional=false",
                                                  "model.stft_critic=[256]"]),
    "ddsp": ("drums_ddsp", PITCH),
    "specgan": ("drums_specgan", PITCH),
    "harmonic": ("pitched_harmonic", ["model.pitch_range=[40, 80]", "model.num_samples=16384",
                                      "model.harmonic_partials=8", "model.harmonic_frames=32"]),
}


def _pitched_data(make_dataset, config, overrides, **kwargs):
    cfg = load_config(config, [*TINY, *overrides])
    return make_dataset(num_items=6, num_samples=cfg.model.num_samples, sample_rate=cfg.model.sample_rate,
                        classes=("alto_sax", "violin"), pitches=PITCHES, **kwargs)


@pytest.mark.parametrize("name", list(RUNS))
def test_two_steps_export_and_onnx_matches_torch_with_the_pitch_input(make_dataset, tmp_path, name):
    config, extra = RUNS[name]
    overrides = [*TINY, *extra]
    data = _pitched_data(make_dataset, config, extra)
    run = tmp_path / "run"
    assert train(config, data, run, overrides=overrides, max_steps=2)["step"] == 2
    assert load_run_info(run)["pitch_range"] == [40, 80]
    generator, cfg, _ = load_generator(run)
    assert (generator.spec.pitch_low, generator.spec.pitch_high) == (40, 80)
    bundle = load_bundle(export_run(run, tmp_path / "bundle", directions_k=2, directions_samples=64))
    assert bundle.meta["pitch"] == {"input": "pitch", "low": 40, "high": 80}
    assert bundle.meta["export"]["parity_rel_error"] <= 1e-3  # checked by export itself, batch 3 and 1
    assert bundle.conditional == cfg.model.conditional and bundle.directions is not None
    z = np.random.default_rng(1).standard_normal((3, bundle.latent_dim)).astype(np.float32)
    labels = np.array([0, 1, 0], np.int64) if bundle.conditional else None
    pitches = np.array([40, 60, 80], np.int64)
    onnx = OnnxGenerator(bundle, threads=1).render(z, labels, pitches)
    eager = load_generator_runtime(bundle, backend="torch", device="cpu", threads=1).render(z, labels, pitches)
    tolerance = bundle.meta["export"]["parity_rel_error"] * 10 + 1e-5
    assert np.max(np.abs(onnx - eager)) <= tolerance * max(np.max(np.abs(eager)), 1e-6)
    # the same z and class at another pitch sounds different
    same = np.repeat(z[:1], 2, axis=0)
    two = OnnxGenerator(bundle, threads=1).render(same, None if labels is None else labels[:2] * 0, np.array([40, 80]))
    assert np.max(np.abs(two[0] - two[1])) > 1e-7


def test_a_pitched_config_refuses_a_dataset_without_pitches(make_dataset, tmp_path):
    data = make_dataset(num_items=4)  # drums: no pitch on any item
    with pytest.raises(UserInputError) as info:
        train("pitched_small", data, tmp_path / "run", overrides=TINY, max_steps=1)
    message = str(info.value)
    assert "model.pitch_conditional needs a pitch on every item" in message and "\n" not in message


def test_a_pitched_config_refuses_pitches_outside_its_range(make_dataset, tmp_path):
    data = _pitched_data(make_dataset, "pitched_small", [])
    with pytest.raises(UserInputError, match=r"pitches 48-72 lie outside model.pitch_range \[50, 70\]"):
        train("pitched_small", data, tmp_path / "run", overrides=[*TINY, "model.pitch_range=[50, 70]"], max_steps=1)


@pytest.mark.parametrize("value, needle", [
    ("[96, 36]", "model.pitch_range must be two MIDI notes low < high in [0, 127]"),
    ("[60, 60]", "low < high"),
    ("[0, 200]", "model.pitch_range must be an integer in [0, 127], got 200"),
    ("[36]", "model.pitch_range must be a list of 2 numbers"),
])
def test_config_refuses_bad_pitch_ranges(value, needle):
    with pytest.raises(FormatError) as info:
        load_config("pitched_small", [f"model.pitch_range={value}"])
    assert needle in str(info.value)


def test_shipped_pitched_configs():
    big, small = load_config("pitched_64000"), load_config("pitched_small")
    assert (big.model.latent_dim, big.model.num_samples, big.model.sample_rate, big.model.d) == (500, 64000, 16000, 64)
    assert big.model.architecture == "wavegan" and big.model.nearest_layers == 0  # DCGAN-1D: transposed convs
    assert big.model.pitch_conditional and big.model.conditional and big.model.pitch_range == (36, 96)
    assert small.model.pitch_conditional and small.model.conditional and small.model.num_samples == 16384
    assert (small.train.loss, small.train.ema_decay > 0, small.model.d) == ("ns_r1", True, 16)


def test_the_critic_projects_the_pitch_and_the_losses_pass_it():
    torch.manual_seed(0)
    critic = build_critic({"d": 2, "num_samples": 2048, "num_classes": 2, "phase_shuffle": 0, "kernel_size": 25,
                           "pitch_range": [40, 80]})
    assert isinstance(critic, WaveGANDiscriminator) and critic.pitch_projection is not None
    audio, labels = torch.randn(3, 2048), torch.tensor([0, 1, 0])
    low, high = critic(audio, labels, torch.full((3,), 40)), critic(audio, labels, torch.full((3,), 80))
    assert not torch.allclose(low, high)
    with pytest.raises(UserInputError, match="pitch-conditional"):
        critic(audio, labels)
    cond = (labels, torch.tensor([40, 60, 80]))
    for loss, stats in (critic_loss(critic, audio, audio.flip(0), cond), ns_critic_loss(critic, audio, audio.flip(0), cond, 1.0)):
        loss.backward()
        assert torch.isfinite(loss) and critic.pitch_projection.linear.weight.grad is not None
