"""Figures for pitched bundles: pitch accuracy, silence and clipping, timbre consistency across the keyboard.

``ganshot evaluate`` of a pitched bundle (:mod:`ganshot.training.evaluate_pitched_run`) judges it
with the program classifier as drums are judged (Inception Score, Fréchet distance, probe) and
adds these figures of the generated notes::

    from ganshot.training.evaluate_pitched import pitched_figures, render_faults, note_table, keyboard_notes
    figures = pitched_figures(audio, requested_midi, 16000, labels=classes,
                              real=(real_audio, real_midi, real_classes))
    figures["pitch_accuracy"], figures["meets"]["pitch_accuracy"]
    faults = render_faults(audio)                     # per note: peak, rms_db, silent, clipped, non_finite
    rows = note_table(errors_cents, requested_midi, program_names, faults)   # one row per (program, note)
    keyboard_notes(36, 96, step=5)                    # 36, 41, ..., 91, 96: both ends always

Silence and clipping (:func:`render_faults`): a note is clipped when a sample exceeds
:data:`CLIP_PEAK` of full scale, silent when its RMS over its whole length is under
:data:`SILENCE_RMS_DB` dBFS; a note with a NaN/Inf sample is both.

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

__all__ = ["TARGETS", "TOLERANCE_CENTS", "ENVELOPE_COEFFICIENTS", "MAX_STEP_SEMITONES", "CLIP_PEAK", "SILENCE_RMS_DB",
           "timbre_envelopes", "timbre_step_db", "pitch_figures", "pitched_figures", "render_faults", "keyboard_notes",
           "note_name", "note_table"]  # fmt: skip

TARGETS = {"pitch_accuracy": 0.90}
TOLERANCE_CENTS = 50.0
ENVELOPE_COEFFICIENTS = 12  # c1..c12
N_MELS = 40
MEL_FMIN_HZ = 30.0
FRAME_S = 0.064
SUSTAIN_DB = 20.0
ENVELOPE_FLOOR_DB = -60.0  # re the loudest band: gaps between resolved harmonics are not timbre
MAX_STEP_SEMITONES = 3
CLIP_PEAK = 0.999  # a note with a sample beyond this (linear, full scale 1.0) is clipped
SILENCE_RMS_DB = -60.0  # a note whose RMS over its whole length is below this (dBFS) is silent
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


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


def _figures(audio, midi, labels, sample_rate, tolerance_cents, errors_cents=None) -> dict:
    audio = list(audio)
    midi = np.asarray(midi).reshape(-1)
    if len(audio) == 0 or len(audio) != midi.size:
        raise UserInputError(f"need one requested pitch per note: {len(audio)} notes, {midi.size} pitches")
    errors = pitch_errors_cents(audio, midi, sample_rate) if errors_cents is None else np.asarray(errors_cents, float)
    figures = pitch_figures(errors, midi, tolerance_cents)
    figures["timbre_step_db"] = _clean(timbre_step_db(timbre_envelopes(audio, sample_rate), midi, labels))
    return figures


def pitched_figures(audio, requested_midi, sample_rate: int, labels=None, real=None,
                    tolerance_cents: float = TOLERANCE_CENTS, errors_cents=None, real_errors_cents=None) -> dict:
    """Pitch and timbre figures of generated notes (JSON-ready dict; see the module docstring).

    audio: (notes, samples) array or a list of mono notes at ``sample_rate`` Hz.
    requested_midi: (notes,) the MIDI pitch each note was asked for. labels: (notes,)
    instrument of each note (class index or name), None = one instrument.
    real: optional (audio, midi, labels) of the real dataset, judged the same way
    (``figures["real"]``) for ``timbre_step_ratio`` and as the pitch estimator's own baseline.
    errors_cents, real_errors_cents: the notes' pitch errors when already measured
    (:func:`~ganshot.training.pitch.pitch_errors_cents`), so YIN does not run twice.
    """
    figures = _figures(audio, requested_midi, labels, sample_rate, tolerance_cents, errors_cents)
    if real is not None:
        real_audio, real_midi, real_labels = real
        figures["real"] = _figures(real_audio, real_midi, real_labels, sample_rate, tolerance_cents, real_errors_cents)
        gen_step, real_step = figures["timbre_step_db"], figures["real"]["timbre_step_db"]
        figures["timbre_step_ratio"] = gen_step / real_step if gen_step is not None and real_step else None
    figures["targets"] = dict(TARGETS)
    figures["meets"] = {"pitch_accuracy": figures["pitch_accuracy"] >= TARGETS["pitch_accuracy"]}
    return figures


def render_faults(audio) -> dict:
    """Per note of ``audio`` (notes, samples): ``peak`` (linear), ``rms_db`` (dBFS over the whole note),
    and the bool arrays ``clipped`` (peak > :data:`CLIP_PEAK`), ``silent`` (RMS < :data:`SILENCE_RMS_DB`)
    and ``non_finite`` (a NaN/Inf sample; such a note also counts as silent and clipped: it cannot play)."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        raise UserInputError(f"expected notes shaped (notes, samples), got {x.shape}")
    non_finite = ~np.isfinite(x).all(axis=1)
    clean = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    peak = np.abs(clean).max(axis=1)
    with np.errstate(divide="ignore"):
        rms_db = 10.0 * np.log10(np.maximum(np.mean(clean * clean, axis=1), 1e-30))
    return {"peak": peak, "rms_db": rms_db, "non_finite": non_finite,
            "clipped": (peak > CLIP_PEAK) | non_finite, "silent": (rms_db < SILENCE_RMS_DB) | non_finite}


def keyboard_notes(low: int, high: int, step: int = 1) -> list[int]:
    """MIDI notes ``low, low + step, ...`` up to ``high``, and ``high`` itself (both ends are always judged)."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise UserInputError(f"the note step must be a positive integer (semitones), got {step!r}")
    if not 0 <= low <= high <= 127:
        raise UserInputError(f"note range must be MIDI 0 <= low <= high <= 127, got {low}-{high}")
    notes = list(range(low, high + 1, step))
    return notes if notes[-1] == high else notes + [high]


def note_name(midi: int) -> str:
    """Scientific pitch name of a MIDI note: 60 -> "C4", 61 -> "C#4", 21 -> "A0"."""
    return f"{NOTE_NAMES[int(midi) % 12]}{int(midi) // 12 - 1}"


def note_table(errors_cents, midi, programs, faults: dict, tolerance_cents: float = TOLERANCE_CENTS) -> list[dict]:
    """One row per (program, MIDI note) of the judged notes, sorted by program then note.

    errors_cents, midi, programs: (notes,) signed pitch errors (NaN = unvoiced), requested MIDI
    pitches and program names; ``faults``: :func:`render_faults` of the same notes. Each row:
    program, midi, note, renders, within (share within ``tolerance_cents``), median_cents (signed),
    median_abs_cents (None when no render is voiced), unvoiced, silent, clipped (counts), peak_db.
    """
    errors = np.asarray(errors_cents, dtype=np.float64)
    midi, programs = np.asarray(midi).reshape(-1), np.asarray(programs, dtype=object).reshape(-1)
    rows = []
    for program in sorted(set(programs.tolist())):
        for pitch in np.unique(midi[programs == program]):
            mine = (programs == program) & (midi == pitch)
            e = errors[mine]
            voiced = e[np.isfinite(e)]
            rows.append({
                "program": str(program), "midi": int(pitch), "note": note_name(pitch), "renders": int(mine.sum()),
                "within": float(np.mean(np.abs(np.nan_to_num(e, nan=np.inf)) <= tolerance_cents)),
                "median_cents": float(np.median(voiced)) if voiced.size else None,
                "median_abs_cents": float(np.median(np.abs(voiced))) if voiced.size else None,
                "unvoiced": int((~np.isfinite(e)).sum()), "silent": int(faults["silent"][mine].sum()),
                "clipped": int(faults["clipped"][mine].sum()),
                "peak_db": float(20.0 * np.log10(max(float(faults["peak"][mine].max()), 1e-15))),
            })
    return rows
