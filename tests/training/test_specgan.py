"""SpecGAN (model.architecture = "specgan", engine/specgan.py): trains 2 steps with the drums recipe in
each representation, exports with ONNX-vs-torch parity (the inverse STFT inside the graph), round-trips
a real-ish hit through its image, plays a kit through the engine offline, and refuses bad configs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import FormatError
from ganshot.engine.generators import build_generator, spec_from_dict
from ganshot.engine.onnx_runtime import OnnxGenerator
from ganshot.engine.runtime import load_generator_runtime
from ganshot.engine.specgan import SpecGANGenerator, SpecGANSpec
from ganshot.engine.stft_basis import STFTBasis, griffin_lim, spectral_convergence
from ganshot.training.checkpoint import load_generator
from ganshot.training.config import load_config
from ganshot.training.export import export_run
from ganshot.training.train import train

torch.set_num_threads(2)

TINY = ["model.d=2", "train.batch_size=2", "train.num_workers=0", "train.checkpoint_every=1000"]
RATE = 16000


def _z(batch: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, latent_dim)).astype(np.float32)


def _hit(num_samples: int = 16384, seed: int = 0) -> torch.Tensor:
    """A real-ish drum hit: a pitch-dropping decaying sine (a kick) plus a noise burst (a snare's wires)."""
    t = torch.arange(num_samples, dtype=torch.float64) / RATE
    freq = 55.0 + 120.0 * torch.exp(-t / 0.03)
    phase = 2 * np.pi * torch.cumsum(freq, 0) / RATE
    noise = torch.from_numpy(np.random.default_rng(seed).standard_normal(num_samples))
    return (0.8 * torch.sin(phase) * torch.exp(-t / 0.25) + 0.2 * noise * torch.exp(-t / 0.04)).float().unsqueeze(0)


@pytest.mark.parametrize("representation, conditional, upsample", [
    ("logmag_phase", True, "nearest"), ("logmag", False, "nearest"), ("logmag_phase", True, "bilinear"),
    ("logmag_if", True, "bilinear")])
def test_specgan_trains_two_steps_and_exports_with_parity(make_dataset, tmp_path, representation, conditional, upsample):
    data = make_dataset(num_items=6, classes=("kick", "snare", "closed_hat"))
    run = tmp_path / "run"
    overrides = [*TINY, f"model.conditional={str(conditional).lower()}", f"model.specgan_representation={representation}",
                 "model.specgan_gl_iterations=2", f"model.specgan_upsample={upsample}"]
    result = train("drums_specgan", data_dir=data, run_dir=run, overrides=overrides, max_steps=2)
    assert result["step"] == 2 and np.isfinite(result["critic_loss"]) and np.isfinite(result["generator_loss"])
    bundle = load_bundle(export_run(run, tmp_path / "bundle", directions_k=2, directions_samples=64))
    assert bundle.meta["architecture"] == "specgan" and bundle.meta["training"]["weights"] == "ema"
    assert bundle.hyperparameters["representation"] == representation
    assert bundle.hyperparameters["upsample"] == upsample
    assert bundle.conditional == conditional and bundle.num_samples == 16384
    assert bundle.meta["export"]["parity_rel_error"] <= 1e-4
    z = _z(3, bundle.latent_dim)
    labels = np.array([0, 1, 2]) if conditional else None
    rendered = OnnxGenerator(bundle).render(z, labels)  # the inverse STFT runs inside the ONNX graph
    generator, _, _ = load_generator(run)
    assert isinstance(generator, SpecGANGenerator)
    with torch.no_grad():
        expected = generator(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)).numpy()
    assert rendered.shape == (3, bundle.num_samples) and np.max(np.abs(expected)) > 0
    assert np.max(np.abs(rendered - expected)) <= 1e-4 * max(np.max(np.abs(expected)), 1e-6)
    torch_backend = load_generator_runtime(bundle, backend="torch", device="cpu")
    np.testing.assert_allclose(torch_backend.render(z, labels), expected, atol=1e-5)


@pytest.mark.parametrize("n_fft, hop", [(512, 128), (256, 128), (256, 64)])
def test_stft_basis_round_trips_a_real_ish_hit(n_fft, hop):
    basis = STFTBasis(n_fft, hop, 16384)
    hit = _hit()
    spectrum = basis.analyse(hit)
    assert spectrum.shape == (1, 2, n_fft // 2, 16384 // hop)
    frame, pad = 5, (n_fft - hop) // 2  # frame t: the periodic-Hann-windowed DFT of samples t hop - pad ...
    samples = hit[0, frame * hop - pad: frame * hop - pad + n_fft].double().numpy()
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    reference = np.fft.rfft(samples * window)[: n_fft // 2]
    np.testing.assert_allclose(spectrum[0, 0, :, frame].numpy(), reference.real, atol=2e-3)
    np.testing.assert_allclose(spectrum[0, 1, :, frame].numpy(), reference.imag, atol=2e-3)
    residual = basis.synthesise(spectrum) - hit
    assert 10 * torch.log10(hit.square().sum() / residual.square().sum()) > 40  # the noise's share at Nyquist is lost
    spectrum = torch.fft.rfft(hit)
    spectrum[..., -200:] = 0  # without energy near Nyquist (the dropped bin) only float32 rounding is lost
    smooth = torch.fft.irfft(spectrum, n=hit.shape[1])
    assert (basis.synthesise(basis.analyse(smooth)) - smooth).abs().max().item() < 1e-3


def test_representations_round_trip_a_real_ish_hit():
    hit = _hit()
    exact = SpecGANGenerator(SpecGANSpec(d=1, representation="logmag_phase"))
    image = exact.encode(hit)
    assert image.shape == (1, 3, 256, 128) and image[:, 0].min() >= -1 and image[:, 0].max() <= 1
    rebuilt = exact.invert(image)
    snr_db = 10 * torch.log10(hit.square().sum() / (rebuilt - hit).square().sum())
    assert snr_db > 40, snr_db  # no phase guessing: only the -80 dB clipping and the Nyquist bin (45 dB here)
    inst = SpecGANGenerator(SpecGANSpec(d=1, representation="logmag_if"))
    image = inst.encode(hit)
    assert image.shape == (1, 2, 256, 128) and image.abs().max() <= 1
    rebuilt = inst.invert(image)
    if_snr_db = 10 * torch.log10(hit.square().sum() / (rebuilt - hit).square().sum())
    assert abs(if_snr_db - snr_db) < 3, (if_snr_db, snr_db)  # the phase from the summed advances: as exact
    guessed = SpecGANGenerator(SpecGANSpec(d=1, representation="logmag", gl_iterations=32))
    magnitude = guessed.magnitude(guessed.encode(hit)[:, 0])
    audio = guessed.invert(guessed.encode(hit))
    assert spectral_convergence(guessed.stft, audio, magnitude).item() < 0.25  # measured 0.08-0.16 on real hits
    assert spectral_convergence(guessed.stft, griffin_lim(guessed.stft, magnitude, 0), magnitude).item() > 0.5


def test_the_floor_of_the_log_range_is_exact_silence():
    gen = SpecGANGenerator(SpecGANSpec(d=1, envelope=0))
    assert gen.magnitude(torch.tensor(-1.0)).item() == 0.0
    assert gen.magnitude(torch.tensor(1.0)).item() == pytest.approx(256.0)
    silent = torch.cat([-torch.ones(1, 1, 256, 128), torch.ones(1, 2, 256, 128)], dim=1)
    assert torch.count_nonzero(gen.invert(silent)) == 0


def test_specgan_plays_a_kit_through_the_engine_offline(tmp_path):
    from ganshot.engine.engine import Engine
    from ganshot.engine.offline import render_events
    from ganshot.training.export import export_generator
    from tests.support import kit_for

    spec = SpecGANSpec(latent_dim=8, d=1, num_classes=0)
    torch.manual_seed(0)
    path = export_generator(build_generator(spec), spec, tmp_path / "sg", name="sg", sample_rate=RATE)
    bundle = load_bundle(path)
    with Engine(bundle, kit_for(bundle), sample_rate=48000, backend="onnx") as engine:
        audio = render_events(engine, [(0.0, 36, 127), (0.25, 37, 100)])
        buffer = engine.pad_buffer(0)
    assert audio.shape[1] == 2 and np.all(np.isfinite(audio))
    assert len(buffer) == pytest.approx(16384 * 3, abs=2) and np.max(np.abs(buffer)) > 0
    assert np.max(np.abs(audio[:12000])) > 0 and np.max(np.abs(audio[12000:])) > 0  # both hits sound


def test_spec_table_round_trips_and_refuses_bad_specs():
    spec = SpecGANSpec(latent_dim=8, d=2, num_classes=2, representation="logmag", gl_iterations=4)
    assert spec_from_dict("specgan", spec.to_dict()) == spec
    assert isinstance(build_generator(spec), SpecGANGenerator)
    with pytest.raises(FormatError, match="unknown key"):
        spec_from_dict("specgan", {**spec.to_dict(), "nearest_layers": 3})
    with pytest.raises(FormatError, match="representation"):
        SpecGANSpec(representation="dct")
    with pytest.raises(FormatError, match="upsample must be one of nearest, bilinear"):
        SpecGANSpec(upsample="bicubic")
    old = {k: v for k, v in spec.to_dict().items() if k != "upsample"}  # a bundle made before the option
    assert spec_from_dict("specgan", old).upsample == "nearest"
    with pytest.raises(FormatError, match="multiples of 32"):
        SpecGANSpec(n_fft=4096, hop=2048)  # 8 frames
    with pytest.raises(FormatError, match="hop"):
        SpecGANSpec(hop=96)
    assert load_config("drums_specgan").model.architecture == "specgan"


@pytest.mark.parametrize("setting, needle", [
    ("model.specgan_hop=96", "hop=96"),
    ("model.specgan_representation=dct", "specgan_representation"),
    ("model.specgan_n_fft=100", "power of two"),
    ("model.specgan_upsample=cubic", "specgan_upsample"),
])
def test_a_bad_specgan_config_is_one_line(make_dataset, tmp_path, setting, needle):
    data = make_dataset(num_items=2, classes=("kick", "snare"))
    result = subprocess.run([sys.executable, "-m", "ganshot", "train", "drums_specgan", "--data", str(data),
                             "--out", str(tmp_path / "run"), "--steps", "1", "--set", setting],
                            capture_output=True, text=True, timeout=120)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1 and lines[0].startswith("ganshot: error:") and needle in lines[0], result.stderr
