"""Every shipped config trains an iteration at tiny width; checkpoints, resume, Ctrl-C, TensorBoard."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import UserInputError
from ganshot.engine.onnx_runtime import OnnxGenerator
from ganshot.training._distributed import BatchStream
from ganshot.training.checkpoint import list_checkpoints, load_generator, load_run_info
from ganshot.training.config import list_configs, load_config
from ganshot.training.export import export_run
from ganshot.training.monitor import spectrogram_image
from ganshot.training.train import train

torch.set_num_threads(2)

TINY = ["model.d=2", "train.batch_size=2", "train.num_workers=0", "train.checkpoint_every=1000"]


def dataset_for(make_dataset, config_name, overrides=(), **kwargs):
    cfg = load_config(config_name, [*TINY, *overrides])
    if cfg.model.pitch_conditional:  # a pitched config trains on a pitched dataset
        kwargs.setdefault("pitches", (cfg.model.pitch_range[0], cfg.model.pitch_range[1], 60))
    return make_dataset(num_items=4, num_samples=cfg.model.num_samples, sample_rate=cfg.model.sample_rate, **kwargs)


@pytest.mark.parametrize("name", list_configs())
def test_every_config_trains_one_iteration(make_dataset, tmp_path, name):
    data = dataset_for(make_dataset, name)
    run = tmp_path / "run"
    result = train(name, data_dir=data, run_dir=run, overrides=TINY, max_steps=1)
    assert result["step"] == 1
    cfg = load_config(name, TINY)
    scalars = {"wgan_gp": ("wasserstein", "gradient_penalty"), "ns_r1": ("real_score", "fake_score")}[cfg.train.loss]
    assert all(isinstance(result[k], float) for k in ("critic_loss", "generator_loss", *scalars))
    [(step, folder)] = list_checkpoints(run)
    assert step == 1 and folder.name == "step_0000001"
    ema = {"generator_ema.safetensors"} if cfg.train.ema_decay > 0 else set()
    assert {p.name for p in folder.iterdir()} == {"generator.safetensors", "discriminator.safetensors", "state.pt", *ema}
    generator, config, step = load_generator(run)
    assert step == 1 and config == load_config(name, TINY + ["train.steps=1"])
    with torch.no_grad():
        labels = torch.zeros(1, dtype=torch.int64) if generator.spec.conditional else None
        pitches = torch.full((1,), 60, dtype=torch.int64) if generator.spec.pitch_conditional else None
        audio = generator(torch.randn(1, config.model.latent_dim), labels, pitches)
    assert audio.shape == (1, config.model.num_samples)
    info = load_run_info(run)
    assert info["dataset"]["num_items"] == 4 and info["generator"]["num_samples"] == config.model.num_samples
    # ... and exports: the bundle loads without torch and ONNX Runtime renders the contract's shape.
    bundle = load_bundle(export_run(run, tmp_path / "bundle"))
    assert (bundle.latent_dim, bundle.num_samples) == (config.model.latent_dim, config.model.num_samples)
    labels = np.zeros(2, np.int64) if bundle.conditional else None
    pitches = np.full(2, 60, np.int64) if bundle.pitch_range else None
    rendered = OnnxGenerator(bundle).render(np.zeros((2, bundle.latent_dim), np.float32), labels, pitches)
    assert rendered.shape == (2, config.model.num_samples) and np.isfinite(rendered).all()


def test_conditional_post_filter_and_tensorboard(make_dataset, tmp_path):
    extra = ["model.conditional=true", "model.post_filter_length=64", "train.log_every=1", "train.sample_every=1"]
    data = dataset_for(make_dataset, "wavegan_small", extra, classes=("kick", "snare", "hat"))
    run = tmp_path / "run"
    train("wavegan_small", data, run, overrides=[*TINY, *extra], max_steps=1)
    generator, _, _ = load_generator(run)
    assert generator.spec.num_classes == 3 and generator.spec.post_filter_length == 64
    assert load_run_info(run)["classes"] == ["kick", "snare", "hat"]
    # tensorboard comes with the `train` extra that `make test` installs.
    assert any(p.name.startswith("events.out.tfevents") for p in (run / "tb").iterdir())


def _weights(folder):
    return load_file(folder / "generator.safetensors"), load_file(folder / "discriminator.safetensors")


def test_resume_continues_and_matches_an_uninterrupted_run(make_dataset, tmp_path):
    data = dataset_for(make_dataset, "wavegan_small")
    overrides = [*TINY, "train.keep_checkpoints=5", "train.seed=7"]
    run = tmp_path / "run"
    assert train("wavegan_small", data, run, overrides=overrides, max_steps=2)["step"] == 2
    result = train("wavegan_small", data, run, resume=True, overrides=overrides, max_steps=4)
    assert result["step"] == 4
    steps = dict(list_checkpoints(run))
    assert sorted(steps) == [2, 4]
    g2, _ = _weights(steps[2])
    g4, d4 = _weights(steps[4])
    assert any(not torch.equal(g2[k], g4[k]) for k in g2)
    state = torch.load(steps[4] / "state.pt", weights_only=True)
    assert state["step"] == 4 and state["format"] == "ganshot-train-state"
    assert set(state) >= {"opt_g", "opt_d", "seed", "version"}

    straight = tmp_path / "straight"
    train("wavegan_small", data, straight, overrides=overrides, max_steps=4)
    s4, sd4 = _weights(dict(list_checkpoints(straight))[4])
    for k in g4:
        assert torch.equal(g4[k], s4[k]), k
    for k in d4:
        assert torch.equal(d4[k], sd4[k]), k


def test_ctrl_c_from_a_callback_saves_then_reraises(make_dataset, tmp_path):
    data = dataset_for(make_dataset, "wavegan_small")
    run = tmp_path / "run"

    def interrupt(state, stats):
        if state.step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train("wavegan_small", data, run, overrides=TINY, max_steps=50, on_step=interrupt)
    assert [s for s, _ in list_checkpoints(run)] == [2]
    assert train("wavegan_small", data, run, resume=True, overrides=TINY, max_steps=3)["step"] == 3


def test_real_sigint_stops_after_the_step_and_saves(make_dataset, tmp_path):
    data = dataset_for(make_dataset, "wavegan_small")
    run = tmp_path / "run"
    previous = signal.getsignal(signal.SIGINT)

    def send_sigint(state, stats):
        if state.step == 1:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        train("wavegan_small", data, run, overrides=TINY, max_steps=50, on_step=send_sigint)
    assert [s for s, _ in list_checkpoints(run)] == [1]
    assert signal.getsignal(signal.SIGINT) is previous


def test_keeps_the_last_n_checkpoints_and_no_temp_folders(make_dataset, tmp_path):
    data = dataset_for(make_dataset, "wavegan_small")
    run = tmp_path / "run"
    train("wavegan_small", data, run, overrides=[*TINY, "train.checkpoint_every=1", "train.keep_checkpoints=2"],
          max_steps=3)
    assert [s for s, _ in list_checkpoints(run)] == [2, 3]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_0000002", "step_0000003"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_checkpoint_files_honour_the_umask(make_dataset, tmp_path, umask):
    data = dataset_for(make_dataset, "wavegan_small")
    old = os.umask(umask)
    try:
        train("wavegan_small", data, tmp_path / "run", overrides=[*TINY, "train.checkpoint_every=1"], max_steps=1)
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "run" / "checkpoints").rglob("*") if p.is_file()]
    assert files and {p.stat().st_mode & 0o777 for p in files} == {0o666 & ~umask}  # safetensors alone writes 0600


def test_resume_refuses_another_architecture_and_fresh_runs_refuse_old_folders(make_dataset, tmp_path):
    data = dataset_for(make_dataset, "wavegan_small")
    run = tmp_path / "run"
    train("wavegan_small", data, run, overrides=TINY, max_steps=1)
    with pytest.raises(UserInputError, match="model.d=4"):
        train("wavegan_small", data, run, resume=True, overrides=[*TINY, "model.d=4"], max_steps=2)
    with pytest.raises(UserInputError, match="train.lr"):
        train("wavegan_small", data, run, resume=True, overrides=[*TINY, "train.lr=0.001"], max_steps=2)
    with pytest.raises(UserInputError, match="--resume"):
        train("wavegan_small", data, run, overrides=TINY, max_steps=2)
    with pytest.raises(UserInputError, match="nothing to resume"):
        train("wavegan_small", data, tmp_path / "empty", resume=True, overrides=TINY, max_steps=2)
    # steps, logging and checkpoint cadence may change on resume
    more = [*TINY, "train.log_every=1", "train.checkpoint_every=7"]
    assert train("wavegan_small", data, run, resume=True, overrides=more, max_steps=2)["step"] == 2
    assert load_config(run / "config.toml").train.checkpoint_every == 7


def test_sample_rate_mismatch_is_one_clear_error(make_dataset, tmp_path):
    data = make_dataset(num_items=4, num_samples=16384, sample_rate=22050)
    with pytest.raises(UserInputError, match="22050 Hz"):
        train("wavegan_small", data, tmp_path / "run", overrides=TINY, max_steps=1)


def test_cli_train_and_user_error(make_dataset, tmp_path, capsys):
    from ganshot.cli import main

    data = dataset_for(make_dataset, "wavegan_small")
    args = ["train", "wavegan_small", "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "1"]
    assert main([*args, *sum((["--set", o] for o in TINY), [])]) == 0
    assert main([*args, "--set", "train.bogus=1"]) == 2
    assert "train.bogus" in capsys.readouterr().err


def test_batch_stream_is_sharded_resumable_and_spans_epochs():
    a = BatchStream(10, 3, seed=1, rank=0, world_size=2)
    b = BatchStream(10, 3, seed=1, rank=1, world_size=2)
    assert a.per_epoch == 5
    epoch_a = a.batch(0) + a.batch(1)[:2]
    epoch_b = b.batch(0) + b.batch(1)[:2]
    assert sorted(epoch_a + epoch_b) == list(range(10))
    stream = a.iterate(0)
    first = [next(stream) for _ in range(7)]
    assert first[4:] == [a.batch(k) for k in range(4, 7)]
    assert next(BatchStream(10, 3, seed=1).iterate(5)) == BatchStream(10, 3, seed=1).batch(5)
    tiny = BatchStream(2, 5, seed=0)
    assert len(tiny.batch(0)) == 5 and set(tiny.batch(0)) == {0, 1}


def test_spectrogram_image_is_uint8_low_frequencies_at_the_bottom():
    t = torch.arange(4096) / 16000
    low = torch.sin(2 * torch.pi * 200 * t)
    image = spectrogram_image(torch.stack([low, low]), n_fft=256, hop_length=64)
    assert image.dtype == torch.uint8 and image.shape[0] == 129
    column = image[:, 10].int()
    assert int(column.argmax()) > 120  # 200 Hz sits in the bottom rows


def test_bf16_autocast_path_runs_on_cpu(make_dataset, tmp_path):
    """The mixed-precision branch (bf16 scores, float32 penalty) that CUDA takes with amp="auto"."""
    data = dataset_for(make_dataset, "wavegan_small")
    extra = ["train.amp=bf16", "model.conditional=true", "train.sample_every=1"]
    result = train("wavegan_small", data, tmp_path / "run", overrides=[*TINY, *extra], max_steps=1, device="cpu")
    assert result["step"] == 1
    assert all(torch.isfinite(torch.tensor(result[k])) for k in ("critic_loss", "generator_loss", "gradient_penalty"))
    generator, _, _ = load_generator(tmp_path / "run")
    assert all(p.dtype == torch.float32 for p in generator.parameters())
