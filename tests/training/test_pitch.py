"""YIN f0 estimation, note pitch and pitch accuracy on synthetic tones; the pitched evaluation figures."""

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.training.evaluate_pitched import pitched_figures, timbre_envelopes, timbre_step_db
from ganshot.training.pitch import (cents_error, estimate_f0, hz_to_midi, midi_to_hz, note_pitch, pitch_accuracy,
                                    pitch_errors_cents)  # fmt: skip
from tests.support import synth_tone

SR = 16000
N = 8000  # 0.5 s


def test_midi_hz_and_cents():
    assert midi_to_hz(69) == pytest.approx(440.0)
    assert midi_to_hz(60) == pytest.approx(261.6256, abs=1e-3)
    assert hz_to_midi(880.0) == pytest.approx(81.0)
    assert cents_error(440.0 * 2 ** (25 / 1200), 69) == pytest.approx(25.0)
    assert np.isnan(cents_error(np.nan, 60))
    np.testing.assert_allclose(cents_error([220.0, 440.0], [57, 57]), [0.0, 1200.0], atol=1e-9)


@pytest.mark.parametrize("midi", range(36, 97, 3))
@pytest.mark.parametrize("harmonics", [1, 8])
def test_steady_tones_within_a_few_cents(midi, harmonics):
    note = note_pitch(synth_tone(midi, N, SR, harmonics=harmonics), SR)
    assert note.stable and note.voiced_share == 1.0
    assert abs(cents_error(note.f0_hz, midi)) < 2.0


@pytest.mark.parametrize("sample_rate", [16000, 44100, 48000])
def test_other_sample_rates(sample_rate):
    for midi in (36, 69, 96):
        tone = synth_tone(midi, sample_rate // 2, sample_rate, harmonics=4)
        assert abs(cents_error(note_pitch(tone, sample_rate).f0_hz, midi)) < 2.0


@pytest.mark.parametrize("midi", [36, 57, 81, 96])
def test_vibrato_note_pitch_is_the_centre_and_frames_follow_it(midi):
    tone = synth_tone(midi, 2 * SR, SR, harmonics=3, vibrato_cents=40.0)
    note = note_pitch(tone, SR)
    assert abs(cents_error(note.f0_hz, midi)) < 5.0
    f0, voiced = estimate_f0(tone, SR)
    assert voiced.all()
    spread = np.ptp(cents_error(f0, midi))
    assert 40.0 < spread < 100.0  # the frames see the +-40 cent swing


@pytest.mark.parametrize("midi", [40, 60, 90])
def test_noise_at_minus_30_db(midi):
    tone = synth_tone(midi, N, SR, harmonics=5, noise_db=-30.0, seed=midi)
    note = note_pitch(tone, SR)
    assert note.stable and abs(cents_error(note.f0_hz, midi)) < 3.0


def test_decaying_note_is_judged_on_its_sustain():
    tone = synth_tone(64, SR, SR, harmonics=4, decay_per_s=6.0)
    assert abs(cents_error(note_pitch(tone, SR).f0_hz, 64)) < 2.0


def test_silence_and_noise_are_unvoiced():
    f0, voiced = estimate_f0(np.zeros(N), SR)
    assert not voiced.any() and np.isnan(f0).all()
    note = note_pitch(np.zeros(N), SR)
    assert np.isnan(note.f0_hz) and not note.stable
    noise = np.random.default_rng(0).standard_normal(N) * 0.3
    assert not note_pitch(noise, SR).stable
    assert pitch_accuracy(np.stack([np.zeros(N), synth_tone(60, N, SR)]), [60, 60], SR) == 0.5


@pytest.mark.parametrize("size", [0, 1, 64, 65, 1023, 1025, 8193])
def test_awkward_sizes(size):
    x = synth_tone(69, max(size, 1), SR)[:size]
    f0, voiced = estimate_f0(x, SR)
    assert f0.shape == voiced.shape and f0.ndim == 1
    assert (f0.size == 0) == (size == 0)
    if size >= 8193:
        assert abs(cents_error(np.nanmedian(f0), 69)) < 2.0
    note_pitch(x, SR)  # never raises for short input


@pytest.mark.parametrize("bad, needle", [
    (np.array([0.0, np.nan, 0.1]), "NaN"),
    (np.array([0.0, np.inf]), "NaN/Inf"),
    (np.zeros((10, 2)), "mono"),
])  # fmt: skip
def test_bad_input_is_refused_in_one_line(bad, needle):
    with pytest.raises(UserInputError, match=needle):
        estimate_f0(bad, SR)


def test_bad_arguments():
    with pytest.raises(UserInputError, match="sample_rate"):
        estimate_f0(np.zeros(100), 0)
    with pytest.raises(UserInputError, match="requested pitches"):
        pitch_errors_cents([np.zeros(100)], [60, 61], SR)
    with pytest.raises(UserInputError, match="0..127"):
        pitch_accuracy([np.zeros(100)], [200], SR)
    with pytest.raises(UserInputError, match="tolerance"):
        pitch_accuracy([np.zeros(100)], [60], SR, tolerance_cents=0)


def test_accuracy_counts_mistuned_notes():
    midi = np.arange(48, 60)
    batch = np.stack([synth_tone(m + (0.8 if m % 4 == 0 else 0.2), N, SR, harmonics=3) for m in midi])
    assert pitch_accuracy(batch, midi, SR) == pytest.approx(9 / 12)  # 80 cents off: a miss; 20: a hit
    assert pitch_accuracy(batch, midi, SR, tolerance_cents=90) == 1.0


def test_pitched_figures_and_timbre_steps():
    midi = np.arange(48, 72)
    real = np.stack([synth_tone(m, N, SR, harmonics=6) for m in midi])
    octave_up = np.stack([synth_tone(m + 12 * (m % 2), N, SR, harmonics=6) for m in midi])
    figures = pitched_figures(octave_up, midi, SR, real=(real, midi, None))
    assert figures["pitch_accuracy"] == 0.5 and figures["pitch_accuracy_any_octave"] == 1.0
    assert figures["real"]["pitch_accuracy"] == 1.0 and figures["real"]["unvoiced_share"] == 0.0
    assert figures["meets"] == {"pitch_accuracy": False} and figures["targets"]["pitch_accuracy"] == 0.9
    assert set(figures["pitch_accuracy_by_octave"]) == {"C3-B3", "C4-B4"}
    # alternating sine-like and buzzy notes jump in timbre where the real ones do not
    mixed = np.stack([synth_tone(m, N, SR, harmonics=1 if m % 2 else 12) for m in midi])
    env_mixed, env_real = timbre_envelopes(mixed, SR), timbre_envelopes(real, SR)
    assert timbre_step_db(env_mixed, midi) > 3 * timbre_step_db(env_real, midi)
    ratio = pitched_figures(mixed, midi, SR, real=(real, midi, None))["timbre_step_ratio"]
    assert ratio > 3
    # per instrument: two labels, each smooth on its own
    labels = ["a"] * 12 + ["b"] * 12
    both = np.concatenate([real[:12], mixed[12:]])
    assert np.isfinite(timbre_step_db(timbre_envelopes(both, SR), midi, labels))


def test_short_periods_stay_in_tune_beside_long_period_frames():
    """Regression: the refinement once searched every frame's multiples around a centre clipped to the
    widest frame's window, so a 1318.5 Hz note after a 100 Hz stretch read an octave low (659 Hz)."""
    rate = 16000
    t = np.arange(rate // 2) / rate
    low, high = 0.3 * np.sin(2 * np.pi * 100.0 * t), 0.3 * np.sin(2 * np.pi * 1318.5 * np.arange(3 * rate // 2) / rate)
    f0, voiced = estimate_f0(np.concatenate([low, high]), rate)
    late = f0[len(f0) // 2:][voiced[len(f0) // 2:]]
    assert late.size > 10 and np.all(np.abs(1200 * np.log2(late / 1318.5)) < 5)
    early = f0[: len(f0) // 5][voiced[: len(f0) // 5]]
    assert early.size > 5 and np.all(np.abs(1200 * np.log2(early / 100.0)) < 5)


def test_a_noisy_note_is_read_at_its_period_not_a_multiple():
    """With a quarter of the energy in noise no dip of d' reaches the threshold and every multiple of
    the period dips about as deep; the first of those near-equal dips is the period."""
    rate, f0 = 16000, 1174.66
    t = np.arange(2 * rate) / rate
    tone = 0.4 * np.sin(2 * np.pi * f0 * t) + 0.9 * np.sin(2 * np.pi * 2 * f0 * t) + 0.15 * np.sin(2 * np.pi * 3 * f0 * t)
    noise = np.random.default_rng(7).standard_normal(t.size)
    noise *= np.sqrt(0.3 * np.mean(tone ** 2) / np.mean(noise ** 2))
    note = note_pitch(tone + noise, rate)
    assert abs(cents_error(note.f0_hz, 86)) < 50, note
