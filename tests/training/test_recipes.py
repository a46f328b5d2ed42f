"""Every recipe option of issue 10 trains 2 steps and exports with ONNX-vs-torch parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganshot.engine.bundle import load_bundle
from ganshot.engine.onnx_runtime import OnnxGenerator
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
from ganshot.training.augment import augment
from ganshot.training.checkpoint import list_checkpoints, load_generator
from ganshot.training.config import load_config
from ganshot.training.export import export_run
from ganshot.training.losses import ns_critic_loss, ns_generator_loss, r1_penalty
from ganshot.training.stft_critic import MultiCritic, STFTCritic
from ganshot.training.train import build_critic, train
from ganshot.training.wave_critic import WaveGANDiscriminator

torch.set_num_threads(2)

TINY = ["model.d=2", "model.stft_critic_d=2", "train.batch_size=2", "train.num_workers=0",
        "train.checkpoint_every=1000", "train.critic_warmup_steps=0"]
OPTIONS = {
    "ns_r1": ["train.loss=ns_r1", "train.critic_steps=1", "train.r1_every=1"],
    "stft_critic": ["model.stft_critic=[128, 512]"],
    "ema": ["train.ema_decay=0.9"],
    "nearest": ["model.nearest_layers=3"],
    "envelope": ["model.envelope=true"],
    "conditional": ["model.conditional=true"],
    "augment": ["train.augment=true"],
    "drums_v2": [],
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_each_option_trains_two_steps_and_exports(make_dataset, tmp_path, option):
    config = "drums_v2" if option == "drums_v2" else "wavegan_small"
    data = make_dataset(num_items=6, classes=("kick", "snare", "closed_hat"))
    run = tmp_path / "run"
    result = train(config, data_dir=data, run_dir=run, overrides=[*TINY, *OPTIONS[option]], max_steps=2)
    assert result["step"] == 2 and np.isfinite(result["critic_loss"]) and np.isfinite(result["generator_loss"])
    bundle = load_bundle(export_run(run, tmp_path / "bundle", directions_k=2, directions_samples=64))
    z = np.random.default_rng(0).standard_normal((3, bundle.latent_dim)).astype(np.float32)
    labels = np.array([0, 1, 2]) if bundle.conditional else None
    rendered = OnnxGenerator(bundle).render(z, labels)
    generator, _, _ = load_generator(run)
    with torch.no_grad():
        expected = generator(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()
    assert rendered.shape == (3, bundle.num_samples)
    assert np.max(np.abs(rendered - expected)) <= 1e-4 * max(np.max(np.abs(expected)), 1e-6)


def test_ema_is_exported_and_checkpointed(make_dataset, tmp_path):
    data = make_dataset(num_items=4)
    run = tmp_path / "run"
    train("wavegan_small", data_dir=data, run_dir=run, overrides=[*TINY, "train.ema_decay=0.5"], max_steps=3)
    [(_, folder)] = list_checkpoints(run)
    live, ema = load_file(folder / "generator.safetensors"), load_file(folder / "generator_ema.safetensors")
    assert any(not torch.equal(live[k], ema[k]) for k in live)  # an average, not a copy
    exported = load_bundle(export_run(run, tmp_path / "bundle", directions_k=0))
    assert exported.meta["training"]["weights"] == "ema"
    weights = load_file(str(exported.safetensors_path))
    assert all(torch.equal(weights[k], ema[k]) for k in ema)


def test_resume_with_ema_and_stft_critics_continues_exactly(make_dataset, tmp_path):
    data = make_dataset(num_items=4)
    extra = [*TINY, "train.loss=ns_r1", "train.critic_steps=1", "train.r1_every=2", "train.ema_decay=0.9",
             "model.stft_critic=[128]", "train.augment=true", "train.checkpoint_every=2"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    train("wavegan_small", data_dir=data, run_dir=straight, overrides=extra, max_steps=4)
    train("wavegan_small", data_dir=data, run_dir=split, overrides=extra, max_steps=2)
    train("wavegan_small", data_dir=data, run_dir=split, overrides=extra, max_steps=4, resume=True)
    a = load_file(list_checkpoints(straight)[-1][1] / "generator_ema.safetensors")
    b = load_file(list_checkpoints(split)[-1][1] / "generator_ema.safetensors")
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_envelope_reaches_exact_zeros_and_decays():
    spec = GeneratorSpec(latent_dim=8, d=2, num_samples=16384, envelope=1, nearest_layers=2, sample_rate=16000)
    gen = WaveGANGenerator(spec).eval()
    with torch.no_grad():
        gen.envelope.head.bias.copy_(torch.tensor([-3.0, -1.0, -2.0]))  # short: end well inside the one-shot
        env = gen.envelope(torch.zeros(1, 8))[0]
        audio = gen(torch.zeros(1, 8))[0]
    peak = int(torch.argmax(env))
    assert torch.all(env[peak:][1:] <= env[peak:][:-1] + 1e-7)  # monotone after the attack
    assert env[-1000:].abs().max() == 0 and audio[-1000:].abs().max() == 0


def test_old_generators_keep_their_exact_hyperparameters():
    spec = GeneratorSpec(latent_dim=8, d=2, num_samples=2048)
    assert set(spec.to_dict()) == {"latent_dim", "d", "num_samples", "num_classes", "post_filter_length", "kernel_size"}
    assert GeneratorSpec.from_dict(spec.to_dict()) == spec
    new = GeneratorSpec(latent_dim=8, d=2, num_samples=2048, nearest_layers=1)
    assert GeneratorSpec.from_dict(new.to_dict()) == new


@pytest.mark.parametrize("num_samples", [2048, 16384, 16000])
def test_nearest_layers_keep_the_output_length(num_samples):
    for k in range(0, 6):
        gen = WaveGANGenerator(GeneratorSpec(latent_dim=4, d=2, num_samples=num_samples, nearest_layers=k,
                                             nearest_kernel_size=8 if k % 2 else 9))
        assert gen(torch.zeros(2, 4)).shape == (2, num_samples)


def test_stft_critic_sees_quiet_hiss_the_waveform_critic_barely_sees():
    torch.manual_seed(0)
    t = torch.arange(4096) / 16000
    clean = (torch.sin(2 * torch.pi * 200 * t) * torch.exp(-t / 0.05)).unsqueeze(0)
    hissy = clean + 1e-3 * torch.randn_like(clean)  # -60 dB hiss
    critic = STFTCritic(n_fft=256, d=2)
    a, b = critic.log_spectrogram(clean), critic.log_spectrogram(hissy)
    assert (b - a).abs().mean() > 1.0  # nats: large on the log spectrogram
    assert (hissy - clean).abs().mean() < 1e-3  # tiny on the waveform


def test_multi_critic_scores_and_losses_have_the_documented_shapes():
    wave = WaveGANDiscriminator(d=2, num_samples=2048, num_classes=3)
    critic = MultiCritic(wave, (128, 256), 2)
    audio, labels = torch.randn(4, 2048) * 0.1, torch.tensor([0, 1, 2, 0])
    scores = critic(audio, labels)
    assert scores.shape == (4, 3)
    loss, stats = ns_critic_loss(critic, audio[:2], audio[2:], labels[:2], r1_weight=1.0)
    assert loss.ndim == 0 and torch.isfinite(stats["r1"]) and stats["r1"] >= 0
    loss.backward()
    assert all(p.grad is not None for p in critic.parameters())
    assert ns_generator_loss(scores).ndim == 0 and r1_penalty(critic, audio, labels) >= 0
    _, no_r1 = ns_critic_loss(critic, audio[:2], audio[2:], labels[:2], r1_weight=0.0)
    assert torch.isnan(no_r1["r1"])
    assert isinstance(build_critic({"d": 2, "num_samples": 2048, "num_classes": 0, "phase_shuffle": 2,
                                    "kernel_size": 25}), WaveGANDiscriminator)


def test_augment_is_seeded_shape_preserving_and_differentiable():
    audio = torch.randn(8, 1024, requires_grad=True)
    torch.manual_seed(1)
    a = augment(audio, 16000)
    torch.manual_seed(1)
    b = augment(audio, 16000)
    assert a.shape == audio.shape and torch.equal(a, b) and not torch.equal(a, audio)
    a.sum().backward()
    assert audio.grad is not None and torch.isfinite(audio.grad).all()


def test_config_refuses_bad_recipe_values():
    from ganshot.engine.errors import FormatError

    for bad in ("train.loss=hinge", "model.stft_critic=[32]", "model.stft_critic=[256, 256, 256, 256, 256]",
                "train.ema_decay=1.0", "model.nearest_layers=7"):
        with pytest.raises(FormatError, match=bad.split("=")[0]):
            load_config("drums_v2", [bad])
