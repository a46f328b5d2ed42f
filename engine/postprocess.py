"""Clean-up of generated one-shots, resampling and pitch by resampling (numpy + soxr).

Cheat sheet::

    from ganshot.engine.postprocess import PostProcess, postprocess, resample, pitch_shift_by_resampling

    post = PostProcess()                                   # DC off, tail gate, cut fade, 5 ms fade-out, peak <= -0.5 dBFS
    audio, nonfinite = postprocess(audio, 48000, post)     # float32[N] or [B, N] -> same shape
    audio48 = resample(audio16, 16000, 48000)              # soxr "HQ"; [N] or [B, N]
    up = pitch_shift_by_resampling(audio, 12.0, 48000)     # an octave up: half as long

:func:`postprocess` runs, on each row, vectorised over the batch:

1. **NaN/Inf guard** — non-finite samples become 0; their count is returned so
   callers can count and flag them.
2. **DC removal** — the row's mean is subtracted. A one-shot is a finite buffer, so its
   DC offset *is* its mean; a recursive high-pass would smear the offset into a slow
   tail instead, and cannot be vectorised in numpy alone.
3. **Bandwidth extension** — given the Nyquist of what the row holds (a 16 kHz model's 8 kHz,
   moved by a pitch shift), its top band is continued above it by its own spectral slope
   (:mod:`.bandwidth`), so a 16 kHz model's hats keep their air at 48 kHz (``extend_bandwidth``).
4. **Tail gate** — where a one-shot's decay sinks into a flat noise floor of its own (a
   generator's hiss), it falls to exactly 0 along a raised-cosine ramp (:mod:`.tail_gate`; its
   floor rule leaves sustained and still-decaying sounds alone). ``tail_gate_db`` is the margin
   over the floor below which the tail counts as floor (None: off).
5. **Cut fade** — a row the buffer's end cuts while it still rings (a crash at -25 dB) falls
   60 dB over its last ``cut_fade_ms``, evenly in dB, instead of stopping dead
   (:mod:`.tail_gate`; decayed one-shots are untouched; 0: off).
6. **Fade-out** — the last ``fade_out_ms`` fall to exactly 0 along a raised-cosine
   half ramp, so a clipped tail never clicks.
7. **Peak limit** — a row whose peak exceeds ``peak_limit_db`` dBFS is scaled down
   as a whole (no distortion); quieter rows are untouched.

Pitch by resampling plays the buffer faster or slower, like a sampler: +12 semitones
is half as long and an octave up. :class:`PostProcess` is a frozen dataclass: its hash
and repr are part of the render cache key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import UserInputError
from .bandwidth import extend_bandwidth
from .tail_gate import (
    DEFAULT_CUT_FADE_MS, DEFAULT_MARGIN_DB, GATE_FADE_MS, MAX_CUT_FADE_MS, MAX_MARGIN_DB, MIN_MARGIN_DB, cut_fade,
    cut_rows, gate_points,
)
from .limits import MAX_PITCH_SEMITONES, MAX_SAMPLE_RATE, MIN_PITCH_SEMITONES, MIN_SAMPLE_RATE, check_float

__all__ = [
    "PostProcess",
    "postprocess",
    "resample",
    "pitch_shift_by_resampling",
    "pitch_ratio",
    "fade_out_ramp",
    "RESAMPLE_QUALITY",
    "MIN_SAMPLE_RATE",
    "MAX_SAMPLE_RATE",
    "MIN_PITCH_SEMITONES",
    "MAX_PITCH_SEMITONES",
    "MAX_FADE_OUT_MS",
    "MIN_PEAK_LIMIT_DB",
    "MAX_PEAK_LIMIT_DB",
]

RESAMPLE_QUALITY = "HQ"
MAX_FADE_OUT_MS = 1000.0
MIN_PEAK_LIMIT_DB, MAX_PEAK_LIMIT_DB = -60.0, 0.0


@dataclass(frozen=True)
class PostProcess:
    """Clean-up parameters (hashable; part of the render cache key).

    ``remove_dc``: subtract each row's mean. ``fade_out_ms``: raised-cosine fade to 0
    over the last milliseconds (0: none). ``peak_limit_db``: scale a row down so that
    ``max|x| <= 10**(peak_limit_db/20)`` (None: no limit). ``tail_gate_db``: the tail gate's
    margin over a one-shot's noise floor (None: no gate). ``cut_fade_ms``: how long a one-shot that
    still rings at its end takes to fall 60 dB (0: none). ``extend_bandwidth``: continue a row's
    top band above the Nyquist its source had (when postprocess() is told it).
    """

    remove_dc: bool = True
    fade_out_ms: float = 5.0
    peak_limit_db: float | None = -0.5
    tail_gate_db: float | None = DEFAULT_MARGIN_DB
    extend_bandwidth: bool = True
    cut_fade_ms: float = DEFAULT_CUT_FADE_MS

    def __post_init__(self) -> None:
        for name in ("remove_dc", "extend_bandwidth"):
            if not isinstance(getattr(self, name), bool):
                raise UserInputError(f"{name} must be true or false, got {getattr(self, name)!r:.40}")
        fade = check_float(self.fade_out_ms, "fade_out_ms", 0.0, MAX_FADE_OUT_MS)
        object.__setattr__(self, "fade_out_ms", fade)  # 5 and 5.0 make one cache key
        cut = check_float(self.cut_fade_ms, "cut_fade_ms", 0.0, MAX_CUT_FADE_MS)
        object.__setattr__(self, "cut_fade_ms", cut)
        if self.peak_limit_db is not None:
            limit = check_float(self.peak_limit_db, "peak_limit_db (or None)", MIN_PEAK_LIMIT_DB, MAX_PEAK_LIMIT_DB)
            object.__setattr__(self, "peak_limit_db", limit)
        if self.tail_gate_db is not None:
            margin = check_float(self.tail_gate_db, "tail_gate_db (or None)", MIN_MARGIN_DB, MAX_MARGIN_DB)
            object.__setattr__(self, "tail_gate_db", margin)


def _check_rate(name: str, rate) -> float:
    return check_float(rate, f"{name} (Hz)", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)


def _check_audio(audio) -> np.ndarray:
    audio = np.asarray(audio)
    if not np.issubdtype(audio.dtype, np.floating):
        raise UserInputError(f"audio must be a float array, got {audio.dtype}")
    if audio.ndim not in (1, 2) or audio.shape[-1] < 1:
        raise UserInputError(f"audio must have shape [N] or [B, N] with N >= 1, got {list(audio.shape)}")
    return audio


def fade_out_ramp(length: int) -> np.ndarray:
    """float32[length] falling from just under 1 to exactly 0 (raised-cosine half ramp)."""
    k = np.arange(1, length + 1, dtype=np.float64)
    return (0.5 * (1.0 + np.cos(np.pi * k / length))).astype(np.float32)


def postprocess(audio, sample_rate, params: PostProcess = PostProcess(),
                source_nyquist_hz: float | None = None) -> tuple[np.ndarray, int]:
    """Clean ``audio`` float[N] or float[B, N] at ``sample_rate`` Hz; returns ``(new float32 array, nonfinite)``.

    ``source_nyquist_hz``: where the rows' content ends (a model's rate / 2, times a pitch
    shift's ratio); with ``params.extend_bandwidth`` the band above it is filled in. None: no extension.

    ``nonfinite`` is the number of NaN/Inf samples that were replaced by 0. The input is
    never modified; the output is C-contiguous and shaped like the input.
    """
    if not isinstance(params, PostProcess):
        raise UserInputError("params must be a PostProcess")
    rate = _check_rate("sample_rate", sample_rate)
    x = np.array(_check_audio(audio), dtype=np.float32, order="C", copy=True)
    rows = x.reshape(-1, x.shape[-1])  # a view: edits land in x
    bad = ~np.isfinite(rows)
    nonfinite = int(np.count_nonzero(bad))
    if nonfinite:
        rows[bad] = 0.0
    if params.remove_dc:
        rows -= rows.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
    if params.extend_bandwidth and source_nyquist_hz is not None:
        source = check_float(source_nyquist_hz, "source_nyquist_hz (Hz)", 1.0, MAX_SAMPLE_RATE)
        rows[:] = extend_bandwidth(rows, rate, source)
    if params.tail_gate_db is not None:
        gate_fade = max(1, int(round(GATE_FADE_MS * rate / 1000.0)))
        for row, start in enumerate(gate_points(rows, rate, params.tail_gate_db)):
            if start < rows.shape[1]:
                ramp = min(gate_fade, rows.shape[1] - start)
                rows[row, start:start + ramp] *= fade_out_ramp(ramp)
                rows[row, start + ramp:] = 0.0
    cut = min(int(round(params.cut_fade_ms * rate / 1000.0)), rows.shape[1] // 4)  # at most a quarter of the row
    if cut > 1:
        ringing = cut_rows(rows, rate)
        if ringing.any():
            rows[ringing, -cut:] *= cut_fade(cut)
    fade = min(int(round(params.fade_out_ms * rate / 1000.0)), rows.shape[1])
    if fade > 0:
        rows[:, -fade:] *= fade_out_ramp(fade)
    if params.peak_limit_db is not None:
        limit = 10.0 ** (params.peak_limit_db / 20.0)
        peak = np.abs(rows).max(axis=1, keepdims=True)
        rows *= np.minimum(1.0, limit / np.maximum(peak, 1e-30)).astype(np.float32)
        np.clip(rows, -limit, limit, out=rows)  # float32 rounding of the scale may overshoot by an ulp
    return x, nonfinite


def resample(audio, from_rate, to_rate, quality: str = RESAMPLE_QUALITY) -> np.ndarray:
    """Resample float[N] or float[B, N] from ``from_rate`` to ``to_rate`` Hz with soxr.

    Rates may be fractional (pitch shifting uses that). The output has
    ``round(N·to_rate/from_rate)`` samples per row (at least 1), float32 C-contiguous;
    equal rates return a copy.
    """
    src, dst = _check_rate("from_rate", from_rate), _check_rate("to_rate", to_rate)
    return _resample(_check_audio(audio), src, dst, quality)


def _resample(audio: np.ndarray, src: float, dst: float, quality: str = RESAMPLE_QUALITY) -> np.ndarray:
    import soxr

    x = np.asarray(audio, dtype=np.float32)
    if src == dst:
        return np.array(x, dtype=np.float32, order="C", copy=True)
    if x.ndim == 1:
        return np.ascontiguousarray(soxr.resample(x, src, dst, quality=quality), dtype=np.float32)
    frames = np.ascontiguousarray(x.T)  # soxr wants [frames, channels]
    return np.ascontiguousarray(soxr.resample(frames, src, dst, quality=quality).T, dtype=np.float32)


def pitch_ratio(pitch_semitones, max_semitones: float = MAX_PITCH_SEMITONES) -> float:
    """Playback speed for ``pitch_semitones`` (``2 ** (s / 12)``), range-checked: the pad range
    [MIN_PITCH_SEMITONES, MAX_PITCH_SEMITONES], or ±``max_semitones`` when a caller allows more
    (an instrument's notes resampled from their root, engine/instrument_notes.py)."""
    low, high = (MIN_PITCH_SEMITONES, MAX_PITCH_SEMITONES) if max_semitones == MAX_PITCH_SEMITONES else (
        -max_semitones, max_semitones)
    pitch_semitones = check_float(pitch_semitones, "pitch_semitones", low, high)
    return math.pow(2.0, pitch_semitones / 12.0)


def pitch_shift_by_resampling(audio, pitch_semitones, sample_rate, to_rate=None,
                              max_semitones: float = MAX_PITCH_SEMITONES) -> np.ndarray:
    """Play ``audio`` (float[N] or [B, N] at ``sample_rate`` Hz) ``pitch_semitones`` higher.

    The buffer is treated as recorded at ``sample_rate·2**(s/12)`` and resampled to
    ``sample_rate``: +12 gives ``N/2`` samples (an octave up), -12 gives ``2N``. With
    ``to_rate``, the result is at ``to_rate`` Hz instead, in the same single soxr pass
    (one resampling, not two).
    """
    rate = _check_rate("sample_rate", sample_rate)
    out_rate = rate if to_rate is None else _check_rate("to_rate", to_rate)
    return _resample(_check_audio(audio), rate * pitch_ratio(pitch_semitones, max_semitones), out_rate)
