"""Turn any recorded hit into a training one-shot (pure numpy + soxr).

Both dataset builders (SoundFont renders and a user's folder) pass every hit
through :func:`prepare_one_shot`, so all datasets share one contract:

    audio (frames,) or (frames, channels), float, any rate
      -> mono (mean of channels)
      -> resampled to ``sample_rate`` (soxr, high quality)
      -> leading silence trimmed: starts ``pre_roll_ms`` before the first sample
         within ``threshold_db`` of the peak
      -> cropped to ``num_samples`` (raised-cosine fade over the last ``fade_ms``)
         or zero-padded
      -> tail gate: everything after the last point where the 5 ms RMS envelope
         is above the gate is faded out over 5 ms and then set to exact zeros
      -> peak normalised to ``peak_db`` dBFS
    -> float32 array of shape (num_samples,)

Tail gate: the gate level is ``TAIL_GATE_DB`` (-70 dB re the hit's peak, i.e.
about -71 dBFS after normalisation to -1 dBFS) or, for a hit that ends in a
steady noise floor (a recording's hiss; only with ``measure_floor=True``, which
the folder builder uses: in a noise-free render a slowly ringing cymbal would
look like a floor), ``TAIL_FLOOR_MARGIN_DB`` above that
floor: the floor is the median 5 ms RMS level over the input's last
``TAIL_FLOOR_MS / 2``, taken as noise when it is at least ``TAIL_FLOOR_MIN_BELOW_DB``
below the peak and steady (less than ``TAIL_FLOOR_FLAT_DB`` under the half before).
So tails below the data's noise floor become exact zeros, as a generator with a
decaying envelope can produce.

Hits that cannot make a one-shot raise :class:`Rejected`; its ``reason`` is one
of :data:`REASONS` (``"empty"``, ``"non-finite"``, ``"silent"``, ``"too short"``)
and ``str(err)`` adds the measured detail. Builders skip those hits and count
the reasons.
"""

from __future__ import annotations

import numpy as np
import soxr

from ganshot.engine.errors import UserInputError

__all__ = [
    "REASONS",
    "Rejected",
    "db_to_gain",
    "gain_to_db",
    "to_mono",
    "resample",
    "prepare_one_shot",
    "rms_envelope",
    "tail_floor_db",
    "gate_tail",
]

REASONS = ("empty", "non-finite", "silent", "too short", "truncated")
TAIL_WINDOW_MS = 5.0  # ms, RMS window of the tail envelope
TAIL_GATE_DB = -70.0  # dB re the hit's peak: envelope below this is silence
TAIL_FADE_MS = 5.0  # ms, raised-cosine fade after the last point above the gate
TAIL_FLOOR_MS = 200.0  # ms at the end of the input where a noise floor is measured (two halves)
TAIL_FLOOR_MIN_BELOW_DB = 30.0  # dB: a "floor" less far below the peak is still the sound
TAIL_FLOOR_FLAT_DB = 1.0  # dB: a steady floor falls less than this from one half to the next
TAIL_FLOOR_MARGIN_DB = 6.0  # dB: the gate sits this far above a measured floor
_MAX_CHANNELS = 64


class Rejected(UserInputError):
    """A hit that cannot become a one-shot; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = ""):
        if reason not in REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason} ({detail})" if detail else reason)


def db_to_gain(gain_db: float) -> float:
    """Amplitude factor for ``gain_db`` decibels."""
    return float(10.0 ** (gain_db / 20.0))


def gain_to_db(gain: float) -> float:
    """Decibels of amplitude factor ``gain`` (-inf for 0)."""
    with np.errstate(divide="ignore"):
        return float(20.0 * np.log10(gain))


def to_mono(audio) -> np.ndarray:
    """(frames,) or (frames, channels) float audio -> (frames,) float64, the mean of channels."""
    audio = np.asarray(audio)
    if not np.issubdtype(audio.dtype, np.floating):
        raise UserInputError(f"expected float audio in [-1, 1], got dtype {audio.dtype}")
    if audio.ndim == 1:
        return audio.astype(np.float64, copy=False)
    if audio.ndim != 2 or audio.shape[1] > _MAX_CHANNELS:
        raise UserInputError(f"expected audio shaped (frames,) or (frames, channels<= {_MAX_CHANNELS}), got {audio.shape}")
    if audio.shape[1] == 0:
        return np.zeros(audio.shape[0])
    return audio.astype(np.float64, copy=False).mean(axis=1)


def resample(mono: np.ndarray, sample_rate_in: int, sample_rate: int) -> np.ndarray:
    """Resample (frames,) audio from ``sample_rate_in`` to ``sample_rate`` Hz (soxr HQ)."""
    if sample_rate_in == sample_rate or mono.size == 0:
        return mono
    return soxr.resample(mono, sample_rate_in, sample_rate, quality="HQ")


def rms_envelope(x: np.ndarray, window: int) -> np.ndarray:
    """Centred moving RMS of (frames,) ``x`` over ``window`` samples (same length as x)."""
    window = max(1, int(window))
    power = np.concatenate([[0.0], np.cumsum(np.square(x, dtype=np.float64))])
    half = window // 2
    idx = np.arange(x.size)
    lo, hi = np.clip(idx - half, 0, x.size), np.clip(idx - half + window, 0, x.size)
    return np.sqrt(np.maximum(power[hi] - power[lo], 0.0) / window)


def tail_floor_db(mono: np.ndarray, sample_rate: int) -> float:
    """Steady noise floor at the end of ``mono`` in dB re its peak, or -inf when there is none.

    The median 5 ms RMS level of the last TAIL_FLOOR_MS / 2 is a floor when it is at
    least TAIL_FLOOR_MIN_BELOW_DB below the peak and no more than TAIL_FLOOR_FLAT_DB
    under the median of the TAIL_FLOOR_MS / 2 before it (noise is steady, a ringing
    tail still falls; one decaying slower than ~1 dB per 100 ms cannot be told apart).
    """
    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    span = int(round(TAIL_FLOOR_MS * sample_rate / 1000.0))
    window = int(round(TAIL_WINDOW_MS * sample_rate / 1000.0))
    if peak == 0.0 or mono.size < 2 * span or span < 4 * window:
        return -np.inf
    env = rms_envelope(mono[-span:], window)[window // 2 : span - window // 2]
    with np.errstate(divide="ignore"):
        levels = 20.0 * np.log10(np.maximum(env, 1e-300) / peak)
    half = levels.size // 2
    before, last = float(np.median(levels[:half])), float(np.median(levels[half:]))
    if last > -TAIL_FLOOR_MIN_BELOW_DB or before - last > TAIL_FLOOR_FLAT_DB:
        return -np.inf
    return last


def gate_tail(out: np.ndarray, sample_rate: int, gate_db: float) -> np.ndarray:
    """Zero ``out`` after the last point whose RMS envelope is above ``gate_db`` re its peak (5 ms fade before)."""
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak == 0.0:
        return out
    window = int(round(TAIL_WINDOW_MS * sample_rate / 1000.0))
    env = rms_envelope(out, window)
    above = np.flatnonzero(env > peak * db_to_gain(gate_db))
    if above.size == 0:
        return out
    end = int(above[-1]) + 1
    fade = int(round(TAIL_FADE_MS * sample_rate / 1000.0))
    out = out.copy()
    stop = min(out.size, end + fade)
    if stop > end:
        out[end:stop] *= 0.5 * (1.0 + np.cos(np.pi * np.arange(1, stop - end + 1) / fade))
    out[stop:] = 0.0
    return out


def _check_rate(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1000 <= value <= 384000:
        raise UserInputError(f"{name} must be an integer number of Hz in [1000, 384000], got {value!r}")
    return int(value)


def _checked_mono(audio, silence_db: float) -> np.ndarray:
    """Mono float64 of ``audio``; Rejected when it is empty, not finite or below ``silence_db`` dBFS."""
    mono = to_mono(audio)
    if mono.size == 0:
        raise Rejected("empty", "no samples")
    finite = np.isfinite(mono)
    if not finite.all():
        raise Rejected("non-finite", f"{int(mono.size - finite.sum())} NaN/Inf samples")
    peak_in = float(np.max(np.abs(mono)))
    if peak_in == 0.0 or gain_to_db(peak_in) < silence_db:
        raise Rejected("silent", f"peak {gain_to_db(peak_in):.1f} dBFS < {silence_db:g} dBFS")
    return mono


def _crop(mono: np.ndarray, start: int, num_samples: int, fade: int) -> np.ndarray:
    """``num_samples`` from ``start`` (zero-padded); a raised-cosine fade of ``fade`` samples when cropped."""
    hit = mono[start : start + num_samples]
    out = np.zeros(num_samples, dtype=np.float64)
    out[: hit.size] = hit
    fade = min(num_samples, fade)
    if mono.size - start > num_samples and fade > 0:  # cropped: fade the tail so it does not click
        out[-fade:] *= 0.5 * (1.0 + np.cos(np.pi * (np.arange(1, fade + 1) / fade)))  # 1 -> 0
    return out


def prepare_one_shot(
    audio,
    sample_rate_in: int,
    sample_rate: int = 16000,
    num_samples: int = 16384,
    *,
    threshold_db: float = -40.0,
    pre_roll_ms: float = 1.0,
    fade_ms: float = 10.0,
    peak_db: float | None = -1.0,
    silence_db: float = -60.0,
    min_sound_ms: float = 10.0,
    tail_gate_db: float | None = TAIL_GATE_DB,
    measure_floor: bool = False,
) -> np.ndarray:
    """One hit -> a (num_samples,) float32 one-shot at ``sample_rate`` Hz.

    audio: (frames,) or (frames, channels) float array at ``sample_rate_in`` Hz.
    threshold_db: onset/sound threshold relative to the hit's peak.
    pre_roll_ms: kept before the onset so the attack is not clipped.
    fade_ms: raised-cosine fade-out length applied only when the hit is cropped.
    peak_db: output peak in dBFS; None leaves the level alone.
    silence_db: a hit whose input peak is below this (dBFS) is "silent".
    min_sound_ms: a hit whose sound (onset to last sample above the threshold)
        is shorter than this is "too short".
    tail_gate_db: gate level in dB re the peak (raised to a measured noise floor
        + TAIL_FLOOR_MARGIN_DB when measure_floor, see the module docstring); None keeps the tail as is.
    measure_floor: raise the gate above a steady noise floor at the input's end (recordings).

    Raises :class:`Rejected` (reason empty / non-finite / silent / too short) and
    UserInputError for bad arguments.
    """
    sample_rate_in = _check_rate(sample_rate_in, "sample_rate_in")
    sample_rate = _check_rate(sample_rate, "sample_rate")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
        raise UserInputError(f"num_samples must be a positive integer, got {num_samples!r}")
    mono = resample(_checked_mono(audio, silence_db), sample_rate_in, sample_rate)
    magnitude = np.abs(mono)
    peak = float(magnitude.max()) if mono.size else 0.0
    loud = np.flatnonzero(magnitude >= peak * db_to_gain(threshold_db)) if peak > 0 else np.array([], dtype=np.intp)
    sound_ms = 0.0 if loud.size == 0 else (loud[-1] - loud[0] + 1) * 1000.0 / sample_rate
    if sound_ms < min_sound_ms:
        raise Rejected("too short", f"{sound_ms:.1f} ms of sound < {min_sound_ms:g} ms")

    start = max(0, int(loud[0]) - int(round(pre_roll_ms * sample_rate / 1000.0)))
    out = _crop(mono, start, num_samples, int(round(fade_ms * sample_rate / 1000.0)))
    if tail_gate_db is not None:
        floor_db = tail_floor_db(mono[start:], sample_rate) if measure_floor else -np.inf
        out = gate_tail(out, sample_rate, max(float(tail_gate_db), floor_db + TAIL_FLOOR_MARGIN_DB))
    if peak_db is not None:
        out_peak = float(np.max(np.abs(out)))
        if out_peak > 0:
            out *= db_to_gain(peak_db) / out_peak
    return out.astype(np.float32)
