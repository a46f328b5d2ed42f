"""Bandwidth extension: the top octave a low-rate model cannot make, continued above its Nyquist.

A model trained at 16 kHz has nothing above 8 kHz; played at 48 kHz its hats, cymbals and snares
lose their air. Spectral band replication (the idea of HE-AAC's SBR) puts it back: the one-shot's
own top band (:data:`SOURCE_LOW`..:data:`SOURCE_HIGH` of the source Nyquist, 3.7-7.4 kHz for a
16 kHz model) is copied upwards, band after band, through one octave (:data:`EXTENSION_RATIO` times
the source Nyquist: 16 kHz for a 16 kHz model, 8 kHz for one pitched down an octave) or up to 0.45
of the stream rate. A copy is the band shifted in frequency as a whole (single sideband, on the one-shot's
spectrum), so it keeps the band's time envelope: the hit's attack, its decay, its choke. Each copy
is turned down by the one-shot's own spectral slope (dB per octave, fitted over
:data:`SLOPE_LOW`..:data:`SOURCE_HIGH` of the source Nyquist, between :data:`MIN_SLOPE_DB_OCT` and
0) times the octaves it moved, plus ``correction_db``: a kick, whose spectrum falls steeply,
gains next to nothing, a hat almost a band's worth. Copies meet with raised-cosine crossfades
(:data:`TAPER_HZ`), so there are no spectral edges to ring. ``correction_db`` is measured on
real one-shots (bench/bandwidth.py: real 48 kHz SoundFont hits cut to 8 kHz and extended, against
what they really hold above 8 kHz).

Cheat sheet::

    rows = extend_bandwidth(rows, 48000, source_nyquist_hz=8000.0)  # float32[B, N] -> new float32[B, N]
"""

from __future__ import annotations

import numpy as np

__all__ = ["extend_bandwidth", "DEFAULT_CORRECTION_DB", "DEFAULT_SLOPE_SCALE", "EXTENSION_RATIO", "SOURCE_LOW", "SOURCE_HIGH",
           "SLOPE_LOW", "MIN_SLOPE_DB_OCT", "TAPER_HZ"]

SOURCE_LOW, SOURCE_HIGH = 0.46, 0.92  # the band copied, as fractions of the source Nyquist
SLOPE_LOW = 0.25  # the slope is fitted from here to SOURCE_HIGH
MIN_SLOPE_DB_OCT = -30.0
EXTENSION_RATIO = 2.0  # the extension ends an octave above the source Nyquist
TAPER_HZ = 400.0
DEFAULT_CORRECTION_DB = -1.0  # from bench/bandwidth.py (results/bandwidth.md): real 48 kHz hits cut to 8 kHz
DEFAULT_SLOPE_SCALE = 1.5  # ditto: real drums fall faster above 8 kHz than their slope below it says
_MIN_SAMPLES = 256


def _crossfade(freqs: np.ndarray, low: float, high: float, taper: float) -> np.ndarray:
    """A band pass in [0, 1] over ``freqs``: 1 inside [low, high], raised-cosine ramps of ``taper`` Hz
    centred on both edges, so bands that share an edge sum to 1 across it."""
    rise = np.clip((freqs - (low - taper / 2)) / taper, 0.0, 1.0)
    fall = np.clip(((high + taper / 2) - freqs) / taper, 0.0, 1.0)
    return (0.5 - 0.5 * np.cos(np.pi * rise)) * (0.5 - 0.5 * np.cos(np.pi * fall))


def _slopes_db_oct(power: np.ndarray, freqs: np.ndarray, low: float, high: float) -> np.ndarray:
    """float64[B]: the least-squares slope of 10·log10(power) against log2(f) over [low, high]."""
    band = (freqs >= low) & (freqs <= high)
    x = np.log2(freqs[band])
    y = 10.0 * np.log10(np.maximum(power[:, band], 1e-30))
    x0 = x - x.mean()
    return (y * x0).sum(axis=1) / max((x0 * x0).sum(), 1e-12)


def extend_bandwidth(rows: np.ndarray, sample_rate: float, source_nyquist_hz: float,
                     correction_db: float = DEFAULT_CORRECTION_DB, slope_scale: float = DEFAULT_SLOPE_SCALE) -> np.ndarray:
    """``rows`` float32[B, N] at ``sample_rate`` Hz, whose content ends at ``source_nyquist_hz``,
    with the bands above it filled in; a new array (the input is left alone). Rows too short, or a
    source band already at the top of the stream's range, come back unchanged."""
    rows = np.asarray(rows, np.float32)
    count, length = rows.shape
    top = min(EXTENSION_RATIO * source_nyquist_hz, 0.45 * sample_rate)
    src_low, src_high = SOURCE_LOW * source_nyquist_hz, SOURCE_HIGH * source_nyquist_hz
    if length < _MIN_SAMPLES or count == 0 or src_high >= top:
        return rows.copy()
    spectrum = np.fft.rfft(rows.astype(np.float64), axis=1)
    freqs = np.fft.rfftfreq(length, 1.0 / sample_rate)
    bin_hz = sample_rate / length
    power = np.abs(spectrum) ** 2
    slopes = np.clip(_slopes_db_oct(power, freqs, SLOPE_LOW * source_nyquist_hz, src_high), MIN_SLOPE_DB_OCT, 0.0)
    source = spectrum * _crossfade(freqs, src_low, src_high, TAPER_HZ)  # the band, with soft edges
    added = np.zeros_like(spectrum)
    width = src_high - src_low
    centre = 0.5 * (src_low + src_high)
    for k in range(1, int(np.ceil((top - src_high) / width)) + 1):
        shift = int(round(k * width / bin_hz))  # copy k lies at src_high + (k-1)·width .. src_high + k·width
        if shift >= len(freqs):
            break
        gain = 10.0 ** ((slope_scale * slopes * np.log2((centre + k * width) / centre) + correction_db) / 20.0)
        added[:, shift:] += source[:, :len(freqs) - shift] * gain[:, None]
    # copies share soft edges (they sum to 1 across each); the source's own band hands over to the
    # first copy across src_high (what lies above it is the resampler's roll-off), the last ends at top
    below = _crossfade(freqs, -np.inf, src_high, TAPER_HZ)
    out = np.fft.irfft(spectrum * below + added * _crossfade(freqs, -np.inf, top, TAPER_HZ), n=length, axis=1)
    return out.astype(np.float32)
