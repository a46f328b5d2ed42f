"""Shared fixtures: a tiny exported bundle, small generated datasets (seeded, real FLAC +
manifest) and a private JACK server per test. Helpers live in tests/support/.

The ``needs`` marker names external programs a test runs (``@pytest.mark.needs("pd",
hint="Debian: puredata-core")``): a developer's run skips the test with the reason when one
is missing; a CI run (CI=true) fails it, so CI cannot pass by skipping.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import need_tools, synth_hit, synth_tone
from tests.support.jack import jack_servers


def pytest_runtest_setup(item):
    for mark in item.iter_markers(name="needs"):
        need_tools(*mark.args, hint=mark.kwargs.get("hint", ""))


@pytest.fixture
def jack_server(tmp_path):
    """jack_server(sample_rate=48000, block_size=128) -> JackServer (a fresh jackd, stopped after the test)."""
    yield from jack_servers(tmp_path)


@pytest.fixture
def make_dataset(tmp_path):
    """make_dataset(num_items=8, num_samples=16384, sample_rate=16000, classes=(...), pitches=None) -> dataset dir.

    ``pitches`` (MIDI notes, cycled over the items): a pitched dataset of harmonic tones, each item
    carrying its ``pitch`` (and a GM ``program``: 65 for the first class, 40 for the others)."""
    import soundfile as sf

    from ganshot.training.manifest import Manifest, ManifestItem, save_manifest

    def _make(num_items=8, num_samples=16384, sample_rate=16000, classes=("kick", "snare"), seed=0, name="data",
              pitches=None):
        rng = np.random.default_rng(seed)
        root = tmp_path / name
        (root / "audio").mkdir(parents=True)
        items = []
        for index in range(num_items):
            label = classes[index % len(classes)]
            rel = f"audio/{label}_{index:03d}.flac"
            if pitches is None:
                sf.write(root / rel, synth_hit(label, num_samples, sample_rate, rng), sample_rate, subtype="PCM_16")
                items.append(ManifestItem(path=rel, label=label, kit="synth", note=36 + index % 2, velocity=100))
                continue
            pitch, program = pitches[index % len(pitches)], 65 if label == classes[0] else 40
            tone = synth_tone(pitch, num_samples, sample_rate, harmonics=4 + index % len(classes), decay_per_s=2.0)
            sf.write(root / rel, tone, sample_rate, subtype="PCM_16")
            items.append(ManifestItem(path=rel, label=label, kit="synth", note=pitch, velocity=100, pitch=pitch,
                                      program=program))
        save_manifest(root, Manifest(sample_rate, num_samples, list(classes), items, {"kind": "synthetic", "seed": seed}))
        return root

    return _make


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    """A real exported bundle of a tiny random WaveGAN (latent 8, d=4, 2048 samples at 16 kHz)."""
    import torch

    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
    from ganshot.training.export import export_generator

    spec = GeneratorSpec(latent_dim=8, d=4, num_samples=2048)
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("tiny-bundle")
    return load_bundle(export_generator(WaveGANGenerator(spec), spec, root / "tiny", name="tiny", sample_rate=16000))


@pytest.fixture(scope="session")
def tiny_specgan_bundle(tmp_path_factory):
    """A real exported bundle of a tiny random SpecGAN (latent 8, d=2, 2048 samples at 16 kHz, n_fft 256, hop 64; the
    inverse STFT inside its ONNX graph)."""
    import torch

    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.specgan import SpecGANGenerator, SpecGANSpec
    from ganshot.training.export import export_generator

    spec = SpecGANSpec(latent_dim=8, d=2, num_samples=2048, n_fft=256, hop=64, upsample="bilinear")
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("tiny-specgan")
    return load_bundle(export_generator(SpecGANGenerator(spec), spec, root / "tiny-specgan", name="tiny-specgan",
                                        sample_rate=16000))


@pytest.fixture(scope="session")
def tiny_pitched_bundle(tmp_path_factory):
    """A real exported pitch- and class-conditional WaveGAN (latent 8, d=2, 2048 samples at 16 kHz,
    MIDI 36-96, classes "keys" and "pad"): instrument pads render every note through its pitch input."""
    import torch

    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
    from ganshot.training.export import export_generator

    spec = GeneratorSpec(latent_dim=8, d=2, num_samples=2048, num_classes=2, pitch_low=36, pitch_high=96)
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("tiny-pitched")
    return load_bundle(export_generator(WaveGANGenerator(spec), spec, root / "pitched", name="pitched",
                                        sample_rate=16000, classes=["keys", "pad"]))
