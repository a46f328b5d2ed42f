"""Bandwidth extension against the truth: real 48 kHz hits cut to 8 kHz, extended, compared above 8 kHz. Not a test.

The drum dataset (and so every model) is 16 kHz. Here real one-shots rendered at 48 kHz from the
same SoundFonts (``ganshot dataset soundfont --sample-rate 48000 --num-samples 49152 ...``) go the
way a model's one-shot goes: down to 16 kHz (what the dataset holds), back up to 48 kHz (the
engine's resampler), then engine/bandwidth.py's extension with no correction. Per drum family:

* the real hit's energy in 8-16 kHz, dB re its energy below 8 kHz (what the top octave holds);
* the same for the extended hit (before: nothing there at all);
* the error: extended minus real, median per family, and the spread (p10..p90) of the per-hit error;
* the log-spectral distance over 8-16 kHz in third octaves (dB, rms over bands, median over hits),
  of the extension and of an empty top octave floored at -60 dB re the band below.

The overall median error (one hit per family weighted alike) is the correction the extension
should carry (engine/bandwidth.py's DEFAULT_CORRECTION_DB, with the opposite sign). Prints a
Markdown table.

    python bench/bandwidth.py --data data/drums48

Results kept with the code: bench/results/bandwidth.md.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

LOW_HZ, HIGH_HZ = 8000.0, 16000.0


def band_db(audio: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    power = np.abs(np.fft.rfft(audio.astype(np.float64), axis=1)) ** 2
    freqs = np.fft.rfftfreq(audio.shape[1], 1.0 / rate)
    return 10 * np.log10(power[:, (freqs >= low) & (freqs < high)].sum(axis=1) + 1e-30)


def third_octaves_db(audio: np.ndarray, rate: int) -> np.ndarray:
    """float[B, bands]: energy in third-octave bands across 8-16 kHz, dB re the 4-8 kHz band."""
    edges = LOW_HZ * 2.0 ** (np.arange(3) / 3.0)  # 8, 10.1, 12.7 kHz: three bands up to 16 kHz
    bands = [band_db(audio, rate, lo, hi) for lo, hi in zip(edges, [*edges[1:], HIGH_HZ])]
    return np.stack(bands, axis=1) - band_db(audio, rate, 4000.0, 8000.0)[:, None]


def _grid(real, labels, cut, rate, nyquist, extend) -> int:
    """Slope scales x corrections: the median over families of |median error| (each family alike)."""
    top_real = band_db(real, rate, LOW_HZ, HIGH_HZ) - band_db(real, rate, 0.0, LOW_HZ)
    print("| slope scale | correction dB | median over families of abs(median error) dB | worst family |\n|---|---|---|---|")
    for scale in (1.0, 1.25, 1.5, 1.75, 2.0, 2.5):
        for correction in np.arange(-6.0, 6.5, 1.0):
            ext = extend(cut, rate, nyquist, correction_db=float(correction), slope_scale=scale)
            error = band_db(ext, rate, LOW_HZ, HIGH_HZ) - band_db(ext, rate, 0.0, LOW_HZ) - top_real
            per_family = [abs(np.median(error[labels == i])) for i in np.unique(labels)]
            print(f"| {scale:g} | {correction:+.0f} | {np.median(per_family):.1f} | {max(per_family):.1f} |", flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a 48 kHz drum dataset (ganshot dataset soundfont --sample-rate 48000)")
    parser.add_argument("--model-rate", type=int, default=16000, help="the rate the models are trained at")
    parser.add_argument("--correction-db", type=float, default=None, help="the extension's correction to try "
                        "(default: engine/bandwidth.py's)")
    parser.add_argument("--slope-scale", type=float, default=None, help="the extension's slope scale to try "
                        "(default: engine/bandwidth.py's)")
    parser.add_argument("--grid", action="store_true", help="search correction and slope scale instead")
    args = parser.parse_args(argv)

    from ganshot.engine.bandwidth import DEFAULT_CORRECTION_DB, DEFAULT_SLOPE_SCALE, extend_bandwidth
    from ganshot.engine.postprocess import resample
    from ganshot.training.data import OneShotDataset

    dataset = OneShotDataset(args.data)
    rate = dataset.sample_rate
    real, labels = dataset.audio.numpy(), dataset.labels.numpy()
    loud = np.abs(real).max(axis=1) > 1e-3
    real, labels = real[loud], labels[loud]
    cut = resample(resample(real, rate, args.model_rate), args.model_rate, rate)[:, :real.shape[1]]
    correction = DEFAULT_CORRECTION_DB if args.correction_db is None else args.correction_db
    scale = DEFAULT_SLOPE_SCALE if args.slope_scale is None else args.slope_scale
    if args.grid:
        return _grid(real, labels, cut, rate, args.model_rate / 2, extend_bandwidth)
    extended = extend_bandwidth(cut, rate, args.model_rate / 2, correction_db=correction, slope_scale=scale)

    top_real = band_db(real, rate, LOW_HZ, HIGH_HZ) - band_db(real, rate, 0.0, LOW_HZ)
    top_ext = band_db(extended, rate, LOW_HZ, HIGH_HZ) - band_db(extended, rate, 0.0, LOW_HZ)
    error = top_ext - top_real
    shape_real, shape_ext = third_octaves_db(real, rate), third_octaves_db(extended, rate)
    lsd_ext = np.sqrt(np.mean((shape_ext - shape_real) ** 2, axis=1))
    lsd_empty = np.sqrt(np.mean((np.maximum(third_octaves_db(cut, rate), -60.0) - shape_real) ** 2, axis=1))

    print(f"{len(real)} real hits at {rate} Hz through {args.model_rate} Hz; extension correction "
          f"{correction:+.1f} dB, slope scale {scale:g}\n")
    print("| family | hits | real 8-16 kHz re 0-8 kHz (dB) | extended | error median (p10..p90) | "
          "third-octave distance: extended / empty |\n|---|---|---|---|---|---|")
    medians = []
    for index, name in enumerate(dataset.classes):
        rows = labels == index
        if not np.any(rows):
            continue
        e = error[rows]
        medians.append(np.median(e))
        print(f"| {name} | {rows.sum()} | {np.median(top_real[rows]):.1f} | {np.median(top_ext[rows]):.1f} | "
              f"{np.median(e):+.1f} ({np.percentile(e, 10):+.1f}..{np.percentile(e, 90):+.1f}) | "
              f"{np.median(lsd_ext[rows]):.1f} / {np.median(lsd_empty[rows]):.1f} |")
    print(f"\nmedian error over families: {np.median(medians):+.1f} dB (the correction to carry: "
          f"{correction - np.median(medians):+.1f} dB at this slope scale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
