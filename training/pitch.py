"""Fundamental frequency (f0) of notes: a vectorised numpy YIN, note-level pitch and pitch accuracy.

::

    from ganshot.training.pitch import estimate_f0, note_pitch, cents_error, pitch_accuracy
    f0_hz, voiced = estimate_f0(audio, 16000)        # per 10 ms frame; NaN where unvoiced
    note = note_pitch(audio, 16000)                  # NotePitch(f0_hz, voiced_share, spread_cents)
    cents_error(note.f0_hz, 60)                      # signed cents re MIDI 60 (C4 = 261.63 Hz)
    pitch_accuracy(batch, requested_midi, 16000)     # share of notes within 50 cents

Method (de Cheveigné & Kawahara 2002, "YIN"): each frame's difference function
``d(tau) = sum_j (x_j - x_{j+tau})^2`` over an integration window of ``tau_max`` samples
(one period of ``fmin_hz``) is computed for every frame at once with one batched FFT
(``d = e(0) + e(tau) - 2 r(tau)``), normalised by its cumulative mean (``d'``), and the
period is the first local minimum of ``d'`` whose depth (read off a parabola through its
three lags, so short periods that fall between integer lags are not missed) is below
:data:`YIN_THRESHOLD` (when none is, the first dip within :data:`FALLBACK_SLACK` of the deepest: in a
noisy note every multiple of the period dips about as deep, and the deepest is a coin toss), refined by parabolic interpolation
on the raw ``d`` and then on its dips at 2, 4, 8, ... periods. A frame is voiced when that minimum is below :data:`VOICING_THRESHOLD`
and the frame is louder than ``silence_db`` dBFS.

A note's pitch (:func:`note_pitch`) is the median, in log frequency, of the voiced frames
of its sustain: frames within :data:`SUSTAIN_DB` of its loudest frame, after the first
:data:`ATTACK_S` (onset transients carry no stable pitch). It is *stable* when at least
half of those frames are voiced and the middle half of their f0 spans at most
:data:`STABLE_SPREAD_CENTS`. A note with no voiced sustain frame has f0 NaN and counts
as a miss in :func:`pitch_accuracy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganshot.engine.errors import UserInputError

__all__ = ["DEFAULT_FMIN_HZ", "DEFAULT_FMAX_HZ", "HOP_S", "YIN_THRESHOLD", "VOICING_THRESHOLD", "SILENCE_DB",
           "SUSTAIN_DB", "ATTACK_S", "STABLE_SPREAD_CENTS", "NotePitch", "midi_to_hz", "hz_to_midi",
           "estimate_f0", "note_pitch", "cents_error", "pitch_errors_cents", "pitch_accuracy"]  # fmt: skip

DEFAULT_FMIN_HZ = 30.0  # below MIDI 24 (C1, 32.7 Hz)
DEFAULT_FMAX_HZ = 4200.0  # above MIDI 108 (C8, 4186 Hz); capped below Nyquist
HOP_S = 0.01
YIN_THRESHOLD = 0.15  # d' below this: a period (the paper's 0.1-0.15)
VOICING_THRESHOLD = 0.35  # the best d' of a voiced frame is below this
FALLBACK_SLACK = 0.05  # with no dip below YIN_THRESHOLD: the first dip at most this much above the deepest
SILENCE_DB = -70.0  # dBFS: quieter frames are unvoiced whatever their shape
SUSTAIN_DB = 20.0  # dB below the loudest frame that still counts as the note's sustain
ATTACK_S = 0.05
STABLE_SPREAD_CENTS = 50.0
A4_HZ, A4_MIDI = 440.0, 69


@dataclass(frozen=True)
class NotePitch:
    """A note's f0 (Hz, NaN when none of its sustain is voiced), voiced share of its sustain frames,
    and the interquartile spread of the voiced frames' f0 in cents."""

    f0_hz: float
    voiced_share: float
    spread_cents: float

    @property
    def midi(self) -> float:
        """Fractional MIDI pitch (NaN when unvoiced)."""
        return float(hz_to_midi(self.f0_hz))

    @property
    def stable(self) -> bool:
        return bool(np.isfinite(self.f0_hz) and self.voiced_share >= 0.5 and self.spread_cents <= STABLE_SPREAD_CENTS)


def midi_to_hz(midi_pitch):
    """Equal temperament, A4 = MIDI 69 = 440 Hz; arrays broadcast."""
    return A4_HZ * 2.0 ** ((np.asarray(midi_pitch, dtype=np.float64) - A4_MIDI) / 12.0)


def hz_to_midi(f0_hz):
    """Fractional MIDI pitch of ``f0_hz`` (NaN for NaN or non-positive)."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f0 > 0, A4_MIDI + 12.0 * np.log2(np.where(f0 > 0, f0, 1.0) / A4_HZ), np.nan)


def cents_error(f0_hz, midi_pitch):
    """Signed cents of ``f0_hz`` above MIDI ``midi_pitch`` (NaN where f0 is NaN); arrays broadcast."""
    return 100.0 * (hz_to_midi(f0_hz) - np.asarray(midi_pitch, dtype=np.float64))


def _check_audio(audio, sample_rate) -> np.ndarray:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or not 1000 <= sample_rate <= 384000:
        raise UserInputError(f"sample_rate must be an integer number of Hz in 1000..384000, got {sample_rate!r}")
    x = np.asarray(audio)
    if x.ndim != 1 or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise UserInputError(f"expected mono audio shaped (samples,) of floats, got shape {x.shape} dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if not np.isfinite(x).all():
        raise UserInputError(f"audio holds {int(np.size(x) - np.isfinite(x).sum())} NaN/Inf samples; pitch needs finite audio")
    return x


def _yin(x: np.ndarray, sample_rate: int, fmin_hz: float, fmax_hz: float, hop_s: float, silence_db: float):
    """(f0_hz, voiced, rms_db, starts) per frame of mono float64 ``x`` (see the module docstring)."""
    if not 0 < fmin_hz < fmax_hz:
        raise UserInputError(f"need 0 < fmin_hz < fmax_hz, got {fmin_hz!r}, {fmax_hz!r}")
    tau_max = int(np.ceil(sample_rate / fmin_hz))
    tau_min = max(2, int(np.floor(sample_rate / min(fmax_hz, 0.45 * sample_rate))))
    if tau_min + 2 > tau_max:
        raise UserInputError(f"f0 range {fmin_hz:g}..{fmax_hz:g} Hz is too narrow at {sample_rate} Hz")
    window = tau_max
    span = window + tau_max
    hop = max(1, int(round(hop_s * sample_rate)))
    if x.size == 0:
        empty = np.zeros(0)
        return empty, empty.astype(bool), empty, empty.astype(int)
    if x.size < span:
        x = np.concatenate([x, np.zeros(span - x.size)])
    frames = np.lib.stride_tricks.sliding_window_view(x, span)[::hop]
    starts = np.arange(frames.shape[0]) * hop
    n_fft = 1 << int(np.ceil(np.log2(span)))
    head = np.fft.rfft(frames[:, :window], n_fft)
    corr = np.fft.irfft(np.conj(head) * np.fft.rfft(frames, n_fft), n_fft)[:, : tau_max + 1]
    energy = np.concatenate([np.zeros((frames.shape[0], 1)), np.cumsum(frames * frames, axis=1)], axis=1)
    taus = np.arange(tau_max + 1)
    e_tau = energy[:, taus + window] - energy[:, taus]
    diff = np.maximum(e_tau[:, :1] + e_tau - 2.0 * corr, 0.0)
    running = np.cumsum(diff[:, 1:], axis=1)
    norm = np.ones_like(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm[:, 1:] = np.where(running > 0, diff[:, 1:] * taus[1:] / running, 1.0)

    # the depth of each dip of d' read off a parabola through its three lags: at short periods
    # the integer lags straddle the true dip, and their own values would hide it
    left, mid, right = norm[:, tau_min - 1 : tau_max - 1], norm[:, tau_min:tau_max], norm[:, tau_min + 1 : tau_max + 1]
    curve = left - 2.0 * mid + right
    is_dip = (mid <= left) & (mid < right)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(is_dip & (curve > 0), mid - (left - right) ** 2 / (8.0 * curve), mid)
    depth = np.where(is_dip, np.maximum(depth, 0.0), np.inf)
    below = depth < YIN_THRESHOLD
    first = np.argmax(below, axis=1)
    # no dip that deep (a noisy note: every multiple of the period dips about as deep): the first dip
    # within FALLBACK_SLACK of the deepest, not the deepest itself, which noise puts on any multiple
    deepest = np.min(np.where(is_dip, depth, mid), axis=1, keepdims=True)
    fallback = np.argmax(is_dip & (depth <= deepest + FALLBACK_SLACK), axis=1)
    pick = np.where(below.any(axis=1), first, fallback)
    rows = np.arange(norm.shape[0])
    best = pick + tau_min
    centre = np.minimum(depth[rows, pick], mid[rows, pick])
    period = _refine(diff, best + _parabola(diff, best))  # on the raw d: d' bends the dip's shape
    with np.errstate(divide="ignore"):
        rms_db = 10.0 * np.log10(np.maximum(e_tau[:, 0] / window, 1e-30))
    voiced = (centre < VOICING_THRESHOLD) & (rms_db > silence_db)
    f0 = np.where(voiced, sample_rate / period, np.nan)
    return f0, voiced, rms_db, starts


def _parabola(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Sub-sample offset (-0.5..0.5) of the minimum of ``values[row]`` near integer index ``at[row]``."""
    rows = np.arange(values.shape[0])
    left, centre, right = values[rows, at - 1], values[rows, at], values[rows, at + 1]
    curve = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.where(curve > 0, 0.5 * (left - right) / curve, 0.0), -0.5, 0.5)


def _refine(diff: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Periods refined on the dips of ``diff`` at 2, 4, 8, ... periods while they fit in the lag range.

    A parabola through three lags of one dip is off by up to a few tenths of a sample, i.e.
    tens of cents for an 8-sample period (2 kHz at 16 kHz); the same error on the dip at
    k periods costs k times fewer cents. Each step looks within a quarter period of where
    the dip should be, so it cannot jump to a neighbouring multiple.
    """
    tau_max = diff.shape[1] - 1
    rows = np.arange(diff.shape[0])
    multiple = np.ones_like(period)
    while True:
        target = 2.0 * multiple * period
        half = np.maximum(1, np.floor(period / 4.0)).astype(int)
        fits = np.round(target).astype(int) + half + 1 < tau_max
        if not fits.any():
            return period
        width = int(half[fits].max())
        offsets = np.arange(-width, width + 1)
        centre = np.round(target).astype(int)
        # each row looks around its own centre: lags are clipped one by one (a centre clipped to the
        # widest row's window would shift a short period's search onto another multiple)
        lags = np.clip(centre[:, None] + offsets[None, :], 1, tau_max - 1)
        window = np.where(np.abs(offsets)[None, :] <= half[:, None], diff[rows[:, None], lags], np.inf)
        lag = centre + offsets[np.argmin(window, axis=1)]
        lag = np.clip(lag, 1, tau_max - 1)
        refined = (lag + _parabola(diff, lag)) / (2.0 * multiple)
        period = np.where(fits, refined, period)
        multiple = np.where(fits, 2.0 * multiple, multiple)


def estimate_f0(audio, sample_rate: int, *, fmin_hz: float = DEFAULT_FMIN_HZ, fmax_hz: float = DEFAULT_FMAX_HZ,
                hop_s: float = HOP_S, silence_db: float = SILENCE_DB) -> tuple[np.ndarray, np.ndarray]:
    """YIN f0 of mono ``audio`` (samples,) at ``sample_rate`` Hz -> (f0_hz, voiced), one value per frame.

    Frame ``i`` starts at sample ``i * round(hop_s * sample_rate)`` and spans two periods of
    ``fmin_hz``; input shorter than one frame is zero-padded to one frame, empty input gives
    empty arrays. f0_hz is NaN where ``voiced`` is False. NaN/Inf samples raise UserInputError.
    """
    f0, voiced, _, _ = _yin(_check_audio(audio, sample_rate), sample_rate, fmin_hz, fmax_hz, hop_s, silence_db)
    return f0, voiced


def note_pitch(audio, sample_rate: int, **yin_options) -> NotePitch:
    """The pitch of one note (see the module docstring); ``yin_options`` go to :func:`estimate_f0`."""
    x = _check_audio(audio, sample_rate)
    opts = {"fmin_hz": DEFAULT_FMIN_HZ, "fmax_hz": DEFAULT_FMAX_HZ, "hop_s": HOP_S, "silence_db": SILENCE_DB}
    opts.update(yin_options)
    f0, voiced, rms_db, starts = _yin(x, sample_rate, opts["fmin_hz"], opts["fmax_hz"], opts["hop_s"], opts["silence_db"])
    loud = rms_db > max(float(rms_db.max(initial=-np.inf)) - SUSTAIN_DB, opts["silence_db"])
    if not loud.any():
        return NotePitch(float("nan"), 0.0, float("nan"))
    onset = starts[np.argmax(loud)]
    sustain = loud & (starts >= onset + ATTACK_S * sample_rate)
    if not (sustain & voiced).any():  # a note shorter than its attack: judge what there is
        sustain = loud
    picked = f0[sustain & voiced]
    share = float(picked.size / sustain.sum())
    if picked.size == 0:
        return NotePitch(float("nan"), share, float("nan"))
    cents = 1200.0 * np.log2(picked)
    q25, q50, q75 = np.percentile(cents, [25, 50, 75])
    return NotePitch(float(2.0 ** (q50 / 1200.0)), share, float(q75 - q25))


def _batch(audio_batch) -> list:
    if isinstance(audio_batch, np.ndarray):
        if audio_batch.ndim != 2:
            raise UserInputError(f"expected a batch of notes shaped (notes, samples), got {audio_batch.shape}")
        return list(audio_batch)
    return list(audio_batch)


def pitch_errors_cents(audio_batch, requested_midi, sample_rate: int, **yin_options) -> np.ndarray:
    """Signed cents of each note's pitch re its requested MIDI pitch, (notes,) float64; NaN = unvoiced note."""
    notes = _batch(audio_batch)
    midi = np.asarray(requested_midi, dtype=np.float64).reshape(-1)
    if midi.size != len(notes):
        raise UserInputError(f"{len(notes)} notes but {midi.size} requested pitches")
    if not np.isfinite(midi).all() or (midi < 0).any() or (midi > 127).any():
        raise UserInputError("requested MIDI pitches must be finite numbers in 0..127")
    f0 = np.array([note_pitch(note, sample_rate, **yin_options).f0_hz for note in notes], dtype=np.float64)
    return cents_error(f0, midi)


def pitch_accuracy(audio_batch, requested_midi, sample_rate: int, tolerance_cents: float = 50.0, **yin_options) -> float:
    """Share of notes whose pitch is within ``tolerance_cents`` of the requested MIDI pitch (unvoiced: a miss)."""
    if not np.isfinite(tolerance_cents) or tolerance_cents <= 0:
        raise UserInputError(f"tolerance_cents must be a positive number, got {tolerance_cents!r}")
    errors = pitch_errors_cents(audio_batch, requested_midi, sample_rate, **yin_options)
    if errors.size == 0:
        raise UserInputError("no notes to judge")
    return float(np.mean(np.abs(np.nan_to_num(errors, nan=np.inf)) <= tolerance_cents))
