"""Figures for pitched bundles: pitch accuracy and timbre consistency across the keyboard.

``ganshot evaluate`` judges every bundle with the instrument (class) classifier as for drums
(Inception Score, Fréchet distance, probe accuracy over the program labels); for a pitched
bundle it adds :func:`pitched_figures` of the generated notes::

    from ganshot.training.evaluate_pitched import pitched_figures
    figures = pitched_figures(audio, requested_midi, 16000, labels=classes,
                              real=(real_audio, real_midi, real_classes))
    figures["pitch_accuracy"], figures["meets"]["pitch_accuracy"]

Pitch accuracy: the share of generated notes whose pitch (:func:`ganshot.training.pitch.note_pitch`,
YIN, median over the sustain) lies within ``tolerance_cents`` (50) of the requested MIDI pitch;
a note without a voiced sustain is a miss. Target: :data:`TARGETS` (>= 90 %). Also reported:
the same share when octave errors are forgiven (``pitch_accuracy_any_octave``: tells an
octave-jumping model, or an estimator octave error, from a mistuned one), the median
absolute error in cents, the share of unvoiced notes, and the accuracy per octave.

Timbre consistency: a note's timbre is its *cepstral envelope*, the first
:data:`ENVELOPE_COEFFICIENTS` DCT coefficients (without c0, the level) of its mean log-mel
power spectrum (dB, 40 bands from 30 Hz) over its sustain frames (within 20 dB of the
loudest); low-order cepstral coefficients follow the spectral envelope and not the
harmonic positions, so they move little with pitch in a real instrument. For one
instrument, the notes are averaged per MIDI pitch and ``timbre_step_db`` is the median
Euclidean distance (dB; the DCT is orthonormal) between the envelopes of neighbouring
pitches at most :data:`MAX_STEP_SEMITONES` apart. Across instruments it is the median over
their steps. With ``real`` data the same figure of the real notes is given and
``timbre_step_ratio`` = generated / real: near 1 means the model changes timbre along the
keyboard as smoothly as the instrument does; much above 1 means notes of neighbouring
pitches sound like different instruments.
"""

from __future__ import annotations

import math

import numpy as np

from ganshot.engine.errors import UserInputError
from ganshot.engine.mel import mel_filters
from ganshot.training.pitch import pitch_errors_cents

__all__ = ["TARGETS", "ENVELOPE_COEFFICIENTS", "MAX_STEP_SEMITONES", "timbre_envelopes", "timbre_step_db",
           "pitch_figures", "pitched_figures"]  # fmt: skip

TARGETS = {"pitch_accuracy": 0.90}
TOLERANCE_CENTS = 50.0
ENVELOPE_COEFFICIENTS = 12  # c1..c12
N_MELS = 40
MEL_FMIN_HZ = 30.0
FRAME_S = 0.064
SUSTAIN_DB = 20.0
ENVELOPE_FLOOR_DB = -60.0  # re the loudest band: gaps between resolved harmonics are not timbre
MAX_STEP_SEMITONES = 3


def _frames_power(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    n_fft = 1 << int(np.ceil(np.log2(FRAME_S * sample_rate)))
    if x.size < n_fft:
        x = np.concatenate([x, np.zeros(n_fft - x.size)])
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[:: n_fft // 4]
    return np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2, n_fft


def timbre_envelopes(audio_batch, sample_rate: int) -> np.ndarray:
    """Cepstral envelopes (notes, ENVELOPE_COEFFICIENTS) in dB of a batch of mono notes (see module docstring)."""
    notes = list(audio_batch)
    out = np.zeros((len(notes), ENVELOPE_COEFFICIENTS))
    basis = None
    for row, note in enumerate(notes):
        x = np.asarray(note, dtype=np.float64)
        if x.ndim != 1 or not np.isfinite(x).all():
            raise UserInputError(f"note {row}: expected finite mono audio shaped (samples,), got shape {x.shape}")
        power, n_fft = _frames_power(x, sample_rate)
        if basis is None:
            mel = mel_filters(sample_rate, n_fft, N_MELS, MEL_FMIN_HZ).astype(np.float64)
            k = np.arange(N_MELS)
            dct = np.sqrt(2.0 / N_MELS) * np.cos(np.pi / N_MELS * (k[None, :] + 0.5) * np.arange(1, ENVELOPE_COEFFICIENTS + 1)[:, None])
            basis = (mel, dct)
        energy = power.sum(axis=1)
        loud = energy >= energy.max() * 10.0 ** (-SUSTAIN_DB / 10.0) if energy.max() > 0 else np.ones(energy.size, bool)
        mel_power = basis[0] @ power[loud].mean(axis=0)
        floor = max(float(mel_power.max()), 1e-20) * 10.0 ** (ENVELOPE_FLOOR_DB / 10.0)
        out[row] = basis[1] @ (10.0 * np.log10(np.maximum(mel_power, floor)))
    return out


def timbre_step_db(envelopes: np.ndarray, midi, labels=None) -> float:
    """Median distance (dB) between the mean envelopes of neighbouring pitches (<= MAX_STEP_SEMITONES apart)
    of the same label; NaN when no label has two such pitches."""
    midi = np.asarray(midi).reshape(-1)
    labels = np.zeros(midi.size, int) if labels is None else np.asarray(labels).reshape(-1)
    if not (envelopes.shape[0] == midi.size == labels.size):
        raise UserInputError(f"{envelopes.shape[0]} notes, {midi.size} pitches and {labels.size} labels do not match")
    steps = []
    for label in np.unique(labels):
        mine = labels == label
        pitches = np.unique(midi[mine])
        means = np.stack([envelopes[mine & (midi == p)].mean(axis=0) for p in pitches])
        close = np.diff(pitches) <= MAX_STEP_SEMITONES
        steps.extend(np.linalg.norm(np.diff(means, axis=0), axis=1)[close])
    return float(np.median(steps)) if steps else float("nan")


def _clean(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def pitch_figures(errors_cents: np.ndarray, midi, tolerance_cents: float = TOLERANCE_CENTS) -> dict:
    """Accuracy figures of per-note pitch errors (cents, NaN = unvoiced) for requested ``midi``."""
    errors = np.asarray(errors_cents, dtype=np.float64)
    midi = np.asarray(midi).reshape(-1)
    missing = ~np.isfinite(errors)
    hit = np.where(missing, False, np.abs(np.nan_to_num(errors)) <= tolerance_cents)
    folded = (np.nan_to_num(errors) + 600.0) % 1200.0 - 600.0
    octave_free = np.where(missing, False, np.abs(folded) <= tolerance_cents)
    by_octave = {}
    for octave in np.unique(midi // 12 - 1):
        mine = (midi // 12 - 1) == octave
        by_octave[f"C{int(octave)}-B{int(octave)}"] = float(hit[mine].mean())
    return {
        "notes": int(errors.size),
        "pitch_accuracy": float(hit.mean()),
        "pitch_accuracy_any_octave": float(octave_free.mean()),
        "median_abs_cents": _clean(float(np.median(np.abs(errors[~missing])))) if (~missing).any() else None,
        "unvoiced_share": float(missing.mean()),
        "pitch_accuracy_by_octave": by_octave,
        "tolerance_cents": tolerance_cents,
    }


def _figures(audio, midi, labels, sample_rate, tolerance_cents) -> dict:
    audio = list(audio)
    midi = np.asarray(midi).reshape(-1)
    if len(audio) == 0 or len(audio) != midi.size:
        raise UserInputError(f"need one requested pitch per note: {len(audio)} notes, {midi.size} pitches")
    figures = pitch_figures(pitch_errors_cents(audio, midi, sample_rate), midi, tolerance_cents)
    figures["timbre_step_db"] = _clean(timbre_step_db(timbre_envelopes(audio, sample_rate), midi, labels))
    return figures


def pitched_figures(audio, requested_midi, sample_rate: int, labels=None, real=None,
                    tolerance_cents: float = TOLERANCE_CENTS) -> dict:
    """Pitch and timbre figures of generated notes (JSON-ready dict; see the module docstring).

    audio: (notes, samples) array or a list of mono notes at ``sample_rate`` Hz.
    requested_midi: (notes,) the MIDI pitch each note was asked for. labels: (notes,)
    instrument of each note (class index or name), None = one instrument.
    real: optional (audio, midi, labels) of the real dataset, judged the same way
    (``figures["real"]``) for ``timbre_step_ratio`` and as the pitch estimator's own baseline.
    """
    figures = _figures(audio, requested_midi, labels, sample_rate, tolerance_cents)
    if real is not None:
        real_audio, real_midi, real_labels = real
        figures["real"] = _figures(real_audio, real_midi, real_labels, sample_rate, tolerance_cents)
        gen_step, real_step = figures["timbre_step_db"], figures["real"]["timbre_step_db"]
        figures["timbre_step_ratio"] = gen_step / real_step if gen_step is not None and real_step else None
    figures["targets"] = dict(TARGETS)
    figures["meets"] = {"pitch_accuracy": figures["pitch_accuracy"] >= TARGETS["pitch_accuracy"]}
    return figures
