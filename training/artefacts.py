"""Signal-level artefact figures for ``ganshot evaluate``: tail noise floor and tonal lines.

Cheat sheet::

    from ganshot.training.artefacts import tail_floor_db, tonal_lines_db, line_frequencies_hz
    floors = tail_floor_db(audio)                  # float64[N]: dB re each one-shot's peak
    lines = tonal_lines_db(audio, 16000)           # {frequency_hz: prominence_db}

* **Tail noise floor** of a one-shot: the RMS of its last :data:`TAIL_SHARE` (25 %), in dB
  relative to its own peak (so a one-shot's loudness does not matter). A real drum has
  decayed by then: what is left is the recording's noise floor, or digital silence, which
  is reported as :data:`SILENCE_DB`. A generator's broadband hiss shows up here first.
* **Tonal lines**: transposed convolutions of stride 4 leave spectral lines at multiples of
  ``fs/4`` (last layer) and ``fs/16`` (the layer before). For each line frequency
  ``k * fs/16`` (k = 1..7, which includes ``fs/4``), the *prominence* is the level at the
  line's bin minus the median level of the bins around it (:data:`NEIGHBOUR_BINS`, the line's
  own ±2 bins of window leakage left out), on a log-power spectrum averaged over the frames
  and one-shots of a set (each one-shot peak-normalised; Hann frames of :data:`LINE_FFT`
  samples, so every line falls on a bin centre). Averaging in dB, not power, keeps quiet
  tails in view: lines are often loudest relative to what is around them after the hit.
  A set without lines scores about 0 dB.
"""

from __future__ import annotations

import numpy as np

from ganshot.engine.errors import UserInputError

__all__ = ["tail_floor_db", "tonal_lines_db", "line_frequencies_hz", "mean_log_spectrum_db", "log_band_powers",
           "TAIL_SHARE", "SILENCE_DB", "LINE_FFT", "LINE_DIVISORS", "LOG_BANDS"]

TAIL_SHARE = 0.25
LOG_BANDS = 64
SILENCE_DB = -120.0  # an exactly silent tail: digital silence
LINE_FFT = 1024  # a multiple of 16: the lines k*fs/16 sit on bin centres
LINE_HOP = 512
LINE_DIVISORS = (4, 16)  # lines at k*fs/4 and k*fs/16 (stride-4 transposed convs, last two layers)
LINE_LEAK_BINS = 2  # a Hann window spreads a line over its bin ±1; ±2 leaves a margin
NEIGHBOUR_BINS = 16  # the neighbourhood a line is compared against, each side
FLOOR_POWER = 1e-15  # -150 dB: silent frames count as this, on the line and around it alike


def _audio(audio, min_samples: int = 1) -> np.ndarray:
    array = np.asarray(audio, dtype=np.float64)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < min_samples:
        raise UserInputError(f"audio must be float[N, samples >= {min_samples}], got shape {list(array.shape)}")
    return np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)


def _peak_normalised(audio: np.ndarray) -> np.ndarray:
    peak = np.abs(audio).max(axis=1, keepdims=True)
    return audio / np.where(peak > 0, peak, 1.0)


def tail_floor_db(audio, tail_share: float = TAIL_SHARE) -> np.ndarray:
    """float64[N]: the RMS of the last ``tail_share`` of each one-shot, dB re its peak (>= SILENCE_DB)."""
    if not 0.0 < tail_share <= 1.0:
        raise UserInputError(f"tail_share must be in (0, 1], got {tail_share!r}")
    a = _peak_normalised(_audio(audio, min_samples=4))
    start = a.shape[1] - max(1, int(round(a.shape[1] * tail_share)))
    rms = np.sqrt((a[:, start:] ** 2).mean(axis=1))
    return np.maximum(20 * np.log10(np.maximum(rms, 1e-30)), SILENCE_DB)


def line_frequencies_hz(sample_rate: int) -> list[float]:
    """The line frequencies checked: ``k * fs/16`` for k = 1..7 (``fs/4`` is k = 4), below Nyquist."""
    finest = max(LINE_DIVISORS)
    return [k * sample_rate / finest for k in range(1, finest // 2)]


def mean_log_spectrum_db(audio, n_fft: int = LINE_FFT, hop: int = LINE_HOP) -> np.ndarray:
    """float64[n_fft // 2 + 1]: the mean over frames and one-shots of the Hann-windowed power, in dB."""
    a = _peak_normalised(_audio(audio, min_samples=n_fft))
    frames = 1 + (a.shape[1] - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    window = np.hanning(n_fft)
    total = np.zeros(n_fft // 2 + 1)
    for start in range(0, len(a), 256):  # chunks keep memory small for thousands of one-shots
        spectrum = np.abs(np.fft.rfft(a[start:start + 256][:, index] * window, axis=2)) ** 2
        total += (10 * np.log10(np.maximum(spectrum, FLOOR_POWER))).sum(axis=(0, 1))
    return total / (len(a) * frames)


def tonal_lines_db(audio, sample_rate: int, n_fft: int = LINE_FFT) -> dict[float, float]:
    """{line frequency Hz: prominence dB over its neighbourhood} for a set of one-shots float[N, samples]."""
    if n_fft % max(LINE_DIVISORS):
        raise UserInputError(f"n_fft must be a multiple of {max(LINE_DIVISORS)}, got {n_fft}")
    spectrum = mean_log_spectrum_db(audio, n_fft)
    bins = len(spectrum)
    out = {}
    for freq in line_frequencies_hz(sample_rate):
        line = int(round(freq * n_fft / sample_rate))
        offsets = np.arange(LINE_LEAK_BINS + 1, NEIGHBOUR_BINS + 1)
        around = np.concatenate([line - offsets, line + offsets])
        around = around[(around > 0) & (around < bins - 1)]
        out[float(freq)] = float(spectrum[line] - np.median(spectrum[around]))
    return out


def log_band_powers(audio, bands: int = LOG_BANDS) -> np.ndarray:
    """float64[N, <= bands]: each one-shot's natural-log mean power in log-spaced spectrum bands
    (the whole one-shot's FFT; bands that would share a bin merge). What ``ganshot map`` lays out
    without a classifier and ``ganshot import`` finds knob directions in."""
    power = np.abs(np.fft.rfft(np.asarray(audio, np.float64), axis=1)) ** 2
    edges = np.unique(np.geomspace(1, power.shape[1], bands + 1).astype(int))
    return np.stack([np.log(power[:, a:b].mean(axis=1) + 1e-12) for a, b in zip(edges[:-1], edges[1:])], axis=1)
