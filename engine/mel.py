"""Mel filter banks: triangles evenly spaced on the HTK mel scale (one definition for the drum
classifier's log-mel and ``ganshot match``'s distance)."""

from __future__ import annotations

import numpy as np

__all__ = ["mel_filters"]


def _mel(hz):
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _hz(mel):
    return 700.0 * (10 ** (mel / 2595.0) - 1.0)


def mel_filters(sample_rate: float, n_fft: int, n_mels: int, f_min_hz: float) -> np.ndarray:
    """float32[n_mels, n_fft // 2 + 1]: triangular filters from ``f_min_hz`` to Nyquist."""
    edges = _hz(np.linspace(_mel(f_min_hz), _mel(sample_rate / 2), n_mels + 2))
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None] - lower) / np.maximum(centre - lower, 1e-9)
    falling = (upper - freqs[None]) / np.maximum(upper - centre, 1e-9)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
