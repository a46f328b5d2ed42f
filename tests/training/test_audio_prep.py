"""audio_prep: one hit in, a (num_samples,) float32 one-shot out, or a Rejected reason."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.training import audio_prep as ap
from ganshot.training.audio_prep import REASONS, Rejected, db_to_gain, prepare_one_shot, to_mono

N = 16384


def decaying_noise(frames, sample_rate, decay_s=0.05, seed=0, level=0.5):
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / sample_rate
    return (level * rng.standard_normal(frames) * np.exp(-t / decay_s)).astype(np.float32)


def tone_burst(frames, sample_rate, freq=1000.0, delay_s=0.0, level=0.5):
    t = np.arange(frames) / sample_rate
    env = np.where(t >= delay_s, np.exp(-np.maximum(t - delay_s, 0) / 0.1), 0.0)
    return (level * np.sin(2 * np.pi * freq * t) * env).astype(np.float32)


def first_loud(x, threshold_db=-40.0):
    return int(np.flatnonzero(np.abs(x) >= np.abs(x).max() * db_to_gain(threshold_db))[0])


@pytest.mark.parametrize("frames", [1, 65])
def test_tiny_inputs_are_too_short(frames):
    with pytest.raises(Rejected) as info:
        prepare_one_shot(decaying_noise(frames, 16000), 16000)
    assert info.value.reason == "too short"


@pytest.mark.parametrize("frames", [8193, N, 3 * N + 1])
def test_output_contract(frames):
    out = prepare_one_shot(decaying_noise(frames, 16000), 16000, 16000, N)
    assert out.shape == (N,) and out.dtype == np.float32
    assert np.max(np.abs(out)) == pytest.approx(db_to_gain(-1.0), rel=1e-4)
    assert first_loud(out) <= 16 + 1  # onset at the start, ~1 ms pre-roll


def test_short_hit_is_zero_padded_without_fade():
    x = decaying_noise(8193, 16000, decay_s=1.0)  # still loud at its end
    out = prepare_one_shot(x, 16000, 16000, N)
    assert np.all(out[8193:] == 0)
    assert np.abs(out[8000:8193]).max() > 0.05  # no fade applied to a hit that was not cropped


def test_long_hit_is_cropped_with_raised_cosine_fade():
    x = decaying_noise(3 * N, 16000, decay_s=10.0)  # loud to the end: must be faded
    out = prepare_one_shot(x, 16000, 16000, N, fade_ms=10.0)
    assert out[-1] == 0.0
    fade = 160
    expected = x[: N] / np.abs(x[:N]).max() * db_to_gain(-1.0)  # onset is sample 0 here
    ramp = 0.5 * (1 + np.cos(np.pi * np.arange(1, fade + 1) / fade))
    np.testing.assert_allclose(out[-fade:], expected[-fade:] * ramp, atol=1e-5)
    np.testing.assert_allclose(out[: N - fade], expected[: N - fade], atol=1e-5)


def test_leading_silence_trimmed_with_pre_roll():
    x = np.concatenate([np.zeros(3000, np.float32), decaying_noise(8000, 16000)])
    out = prepare_one_shot(x, 16000, 16000, N, pre_roll_ms=1.0)
    assert first_loud(out) == 16
    assert np.all(out[:16] == 0)


def test_stereo_is_mean_of_channels():
    mono = decaying_noise(9000, 16000)
    stereo = np.stack([mono, np.zeros_like(mono)], axis=1)  # (frames, 2)
    np.testing.assert_allclose(prepare_one_shot(stereo, 16000), prepare_one_shot(mono, 16000), atol=1e-6)
    np.testing.assert_allclose(to_mono(np.stack([mono, -mono], axis=1)), 0.0)


@pytest.mark.parametrize("rate_in", [44100, 48000])
def test_resampled_to_16k_keeps_pitch_and_trims(rate_in):
    x = tone_burst(rate_in, rate_in, freq=1000.0, delay_s=0.2)  # 1 s, burst at 0.2 s
    out = prepare_one_shot(x, rate_in, 16000, N)
    assert out.shape == (N,)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(N)))
    assert np.fft.rfftfreq(N, 1 / 16000)[np.argmax(spectrum)] == pytest.approx(1000.0, abs=2.0)
    assert first_loud(out) <= 20


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_rejected(bad):
    x = decaying_noise(9000, 16000)
    x[100] = bad
    with pytest.raises(Rejected) as info:
        prepare_one_shot(x, 16000)
    assert info.value.reason == "non-finite"


@pytest.mark.parametrize("level_db", [None, -70.0])
def test_silence_rejected(level_db):
    x = np.zeros(9000, np.float32) if level_db is None else decaying_noise(9000, 16000, level=db_to_gain(level_db) / 3)
    with pytest.raises(Rejected) as info:
        prepare_one_shot(x, 16000)
    assert info.value.reason == "silent"


def test_quiet_but_not_silent_is_normalised():
    x = decaying_noise(9000, 16000, level=db_to_gain(-50.0) / 4)
    assert np.abs(prepare_one_shot(x, 16000, peak_db=-3.0)).max() == pytest.approx(db_to_gain(-3.0), rel=1e-4)


def test_click_is_too_short():
    x = np.zeros(9000, np.float32)
    x[4000:4080] = 0.8  # 5 ms of sound in a long file
    with pytest.raises(Rejected) as info:
        prepare_one_shot(x, 16000, min_sound_ms=10.0)
    assert info.value.reason == "too short"


@pytest.mark.parametrize("shape", [(0,), (0, 2)])
def test_empty_rejected(shape):
    with pytest.raises(Rejected) as info:
        prepare_one_shot(np.zeros(shape, np.float32), 16000)
    assert info.value.reason == "empty"
    assert isinstance(info.value, GanshotError)


def test_peak_db_none_keeps_level():
    x = decaying_noise(9000, 16000, level=0.1)
    out = prepare_one_shot(x, 16000, peak_db=None)
    assert np.abs(out).max() == pytest.approx(np.abs(x).max(), rel=1e-6)


@pytest.mark.parametrize("bad", [np.zeros(100, np.int16), np.zeros((2, 2, 100), np.float32), np.zeros((10, 100), np.float32)])
def test_bad_arrays_are_user_errors(bad):
    with pytest.raises(UserInputError) as info:
        prepare_one_shot(bad, 16000)
    assert not isinstance(info.value, Rejected)


def test_bad_rates():
    with pytest.raises(UserInputError):
        prepare_one_shot(decaying_noise(9000, 16000), 0)
    with pytest.raises(UserInputError):
        prepare_one_shot(decaying_noise(9000, 16000), 16000, sample_rate=True)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.integers(0, 3000), elements=st.floats(-2, 2, width=32)))
def test_any_finite_input_is_a_one_shot_or_a_known_rejection(x):
    try:
        out = prepare_one_shot(x, 16000, 16000, 1024)
    except Rejected as err:
        assert err.reason in REASONS
        return
    assert out.shape == (1024,) and np.isfinite(out).all()
    assert np.abs(out).max() == pytest.approx(db_to_gain(-1.0), rel=1e-4)


def _decaying_noise(seconds=1.0, rate=16000, tau_s=0.08, seed=3):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * rng.standard_normal(t.size) * np.exp(-t / tau_s)


def _last_nonzero(x):
    nz = np.flatnonzero(x)
    return int(nz[-1]) if nz.size else -1


def test_tail_below_the_gate_becomes_exact_zeros():
    x = _decaying_noise()  # falls 54 dB per 0.5 s: crosses -70 dB re peak near 0.65 s
    gated = prepare_one_shot(x, 16000, 16000, 16384, peak_db=None)
    raw = prepare_one_shot(x, 16000, 16000, 16384, peak_db=None, tail_gate_db=None)
    end = _last_nonzero(gated)
    assert 0.5 * 16000 < end < 0.8 * 16000
    assert np.all(gated[end + 1 :] == 0.0) and _last_nonzero(raw) > 0.95 * 16000
    keep = end - int(ap.TAIL_FADE_MS * 16)  # before the fade the hit is untouched
    np.testing.assert_array_equal(gated[:keep], raw[:keep])
    # what was removed is below the gate: its level re the peak is under -70 dB
    removed = raw[end + 1 :]
    assert 20 * np.log10(np.sqrt(np.mean(removed**2)) / np.abs(raw).max()) < ap.TAIL_GATE_DB


def test_noise_floor_of_a_recording_is_gated_only_when_measured():
    rng = np.random.default_rng(9)
    hiss = 10 ** (-50 / 20) * rng.standard_normal(16000)  # RMS -50 dBFS
    x = _decaying_noise(seed=4) + hiss
    plain = prepare_one_shot(x, 16000, 16000, 16384)
    assert _last_nonzero(plain) >= 16000 - 2  # the hiss (~-60 dB re peak) is above the fixed -70 dB gate: kept
    expected_db = -50 - 20 * np.log10(np.abs(x).max())
    assert ap.tail_floor_db(x, 16000) == pytest.approx(expected_db, abs=1.5)
    measured = prepare_one_shot(x, 16000, 16000, 16384, measure_floor=True)
    end = _last_nonzero(measured)
    assert 0.2 * 16000 < end < 0.6 * 16000 and np.all(measured[end + 1 :] == 0.0)


def test_a_ringing_tail_is_not_a_floor():
    t = np.arange(16000) / 16000
    ring = 0.5 * np.sin(2 * np.pi * 440 * t) * np.exp(-t / 0.2)  # -43 dB re peak at the end, falling 4 dB per 100 ms
    assert ap.tail_floor_db(ring, 16000) == -np.inf
