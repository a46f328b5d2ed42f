"""Pick the default kit's 16 pads from a model by sound, not at random.

Until the quality issue's drum classifier exists, pads are chosen by two simple
features of each candidate one-shot: its spectral centroid (Hz; kicks low, hats
high) and its decay time (ms until the envelope falls 30 dB below its peak;
crash/ride/open hat long, closed hat short). Each GM pad of notes 36–51 asks for
a centroid quantile and a decay quantile among the candidates (:data:`PAD_TARGETS`),
and takes the closest unused candidate.

    python -m ganshot.training.default_kit presets/models/drums-v0 -o presets/kits/default.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ganshot.engine.bundle import load_bundle
from ganshot.engine.kit import save_kit
from ganshot.engine.latent import seeded_latent
from ganshot.engine.presets import seeded_kit
from ganshot.engine.runtime import load_generator_runtime

__all__ = ["PAD_TARGETS", "features", "choose_seeds", "main"]

#: note -> (centroid quantile, decay quantile) among the candidates.
PAD_TARGETS = {
    36: (0.02, 0.5), 37: (0.55, 0.1), 38: (0.5, 0.4), 39: (0.6, 0.3), 40: (0.45, 0.45), 41: (0.12, 0.6),
    42: (0.95, 0.05), 43: (0.18, 0.6), 44: (0.9, 0.1), 45: (0.24, 0.6), 46: (0.9, 0.8), 47: (0.3, 0.55),
    48: (0.35, 0.55), 49: (0.85, 0.98), 50: (0.4, 0.5), 51: (0.8, 0.95),
}


def features(audio: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """(spectral centroid in Hz, decay to -30 dB in ms) of a mono one-shot."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    freqs = np.fft.rfftfreq(len(audio), 1 / sample_rate)
    centroid = float((spectrum * freqs).sum() / max(spectrum.sum(), 1e-12))
    hop = max(1, sample_rate // 200)
    env = np.sqrt(np.convolve(audio**2, np.ones(hop) / hop, mode="same"))
    peak = int(np.argmax(env))
    below = np.nonzero(env[peak:] < env[peak] * 10 ** (-30 / 20))[0]
    decay = (below[0] if below.size else len(audio) - peak) * 1000 / sample_rate
    return centroid, float(decay)


def choose_seeds(bundle, num_candidates: int = 256, first_seed: int = 1) -> list[int]:
    """One seed per GM note 36-51, picked by :data:`PAD_TARGETS`."""
    runtime = load_generator_runtime(bundle, backend="onnx")
    seeds = list(range(first_seed, first_seed + num_candidates))
    z = np.stack([seeded_latent(s, bundle.latent_dim, bundle.latent_distribution) for s in seeds])
    audio = np.concatenate([runtime.render(z[i:i + 32]) for i in range(0, len(z), 32)])
    feats = np.array([features(a, bundle.sample_rate) for a in audio])
    ranks = feats.argsort(axis=0).argsort(axis=0) / max(len(seeds) - 1, 1)  # quantile of each feature
    chosen, used = [], set()
    for note in sorted(PAD_TARGETS):
        target = np.array(PAD_TARGETS[note])
        order = np.argsort(((ranks - target) ** 2).sum(axis=1))
        pick = next(int(i) for i in order if int(i) not in used)
        used.add(pick)
        chosen.append(seeds[pick])
    return chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="model bundle folder under presets/models/")
    parser.add_argument("-o", "--out", default="presets/kits/default.json")
    parser.add_argument("--candidates", type=int, default=256)
    args = parser.parse_args(argv)
    bundle = load_bundle(args.bundle)
    kit = seeded_kit(bundle, choose_seeds(bundle, args.candidates), name="default")
    print(save_kit(kit, Path(args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
