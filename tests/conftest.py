"""Shared fixtures: small generated datasets, seeded, written as real FLAC + manifest."""

from __future__ import annotations

import numpy as np
import pytest


def synth_hit(kind: str, num_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A drum-like one-shot: a decaying sine ("kick"/"tom") or decaying noise ("snare"/"hat")."""
    t = np.arange(num_samples) / sample_rate
    if kind in ("kick", "tom"):
        f0 = 55.0 if kind == "kick" else 140.0
        freq = f0 * (1 + 2 * np.exp(-t * 30)) * rng.uniform(0.9, 1.1)
        wave = np.sin(2 * np.pi * np.cumsum(freq) / sample_rate) * np.exp(-t * 8)
    else:
        decay = 25.0 if kind == "snare" else 60.0
        wave = rng.standard_normal(num_samples) * np.exp(-t * decay)
    return (0.8 * wave / np.max(np.abs(wave))).astype(np.float32)


@pytest.fixture
def make_dataset(tmp_path):
    """make_dataset(num_items=8, num_samples=16384, sample_rate=16000, classes=(...)) -> dataset dir."""
    import soundfile as sf

    from ganshot.training.manifest import Manifest, ManifestItem, save_manifest

    def _make(num_items=8, num_samples=16384, sample_rate=16000, classes=("kick", "snare"), seed=0, name="data"):
        rng = np.random.default_rng(seed)
        root = tmp_path / name
        (root / "audio").mkdir(parents=True)
        items = []
        for index in range(num_items):
            label = classes[index % len(classes)]
            rel = f"audio/{label}_{index:03d}.flac"
            sf.write(root / rel, synth_hit(label, num_samples, sample_rate, rng), sample_rate, subtype="PCM_16")
            items.append(ManifestItem(path=rel, label=label, kit="synth", note=36 + index % 2, velocity=100))
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


def kit_for(bundle, num_pads=4, **pad_changes):
    """A valid Kit for ``bundle``: pads on notes 36.. with seeds 1.., choke group 1 on pads 2 and 3."""
    from ganshot.engine.kit import Kit, ModelRef, Pad

    pads = tuple(
        Pad(note=36 + i, name=f"pad{i}", seed=i + 1, choke_group=1 if i in (2, 3) else 0, **pad_changes)
        for i in range(num_pads)
    )
    return Kit(name="test", model=ModelRef.of(bundle), pads=pads)
