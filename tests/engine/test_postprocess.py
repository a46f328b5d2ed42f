"""Post-processing: NaN guard, DC, fade, peak limit at awkward sizes; resampling; pitch."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.postprocess import (
    PostProcess,
    fade_out_ramp,
    pitch_ratio,
    pitch_shift_by_resampling,
    postprocess,
    resample,
)

OFF = PostProcess(remove_dc=False, fade_out_ms=0.0, peak_limit_db=None)
LIMIT = 10 ** (-0.5 / 20)


def _noise(shape, seed=0, scale=2.0, offset=0.3):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + offset).astype(np.float32)


def _peak_hz(x, sample_rate):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spectrum) * sample_rate / len(x)


@pytest.mark.parametrize("size", [1, 64, 65, 8193])
@pytest.mark.parametrize("batch", [None, 3])
def test_default_chain_at_awkward_sizes(size, batch):
    x = _noise((size,) if batch is None else (batch, size))
    original = x.copy()
    y, nonfinite = postprocess(x, 48000)
    assert nonfinite == 0 and y.shape == x.shape and y.dtype == np.float32 and y.flags["C_CONTIGUOUS"]
    assert np.array_equal(x, original)  # the input is never modified
    assert np.abs(y).max() <= LIMIT
    assert np.all(y[..., -1] == 0.0)  # the fade ends on exactly 0 (also for one sample)


def test_nan_guard_counts_and_zeroes():
    x = _noise((2, 100))
    x[0, 5], x[1, 7], x[1, 8] = np.nan, np.inf, -np.inf
    y, nonfinite = postprocess(x, 16000, OFF)
    assert nonfinite == 3 and np.isfinite(y).all() and y[0, 5] == y[1, 7] == y[1, 8] == 0.0
    y, _ = postprocess(x, 16000)
    assert np.isfinite(y).all()


def test_dc_is_removed_per_row():
    x = np.stack([_noise(1000, 1, 0.1, 0.4), _noise(1000, 2, 0.1, -0.2)])
    y, _ = postprocess(x, 16000, PostProcess(fade_out_ms=0.0, peak_limit_db=None))
    assert np.allclose(y.mean(axis=1), 0.0, atol=1e-6)
    assert np.allclose(y, x - x.mean(axis=1, keepdims=True), atol=1e-6)


def test_fade_out_length_and_shape():
    x = np.ones(1000, np.float32)
    y, _ = postprocess(x, 16000, PostProcess(remove_dc=False, fade_out_ms=5.0, peak_limit_db=None))
    fade = 80  # 5 ms at 16 kHz
    assert np.array_equal(y[:-fade], x[:-fade]) and y[-1] == 0.0
    assert np.all(np.diff(y[-fade:]) < 0) and y[-fade] > 0.99
    assert np.array_equal(fade_out_ramp(1), [0.0])
    y, _ = postprocess(np.ones(10, np.float32), 16000, PostProcess(remove_dc=False, fade_out_ms=50.0, peak_limit_db=None))
    assert y[-1] == 0.0 and y[0] > 0.9  # a fade longer than the buffer covers the whole buffer


def test_peak_limit_scales_loud_rows_only():
    loud, quiet = _noise(500, 3, 1.0, 0.0), _noise(500, 4, 0.1, 0.0)
    y, _ = postprocess(np.stack([loud, quiet]), 16000, PostProcess(remove_dc=False, fade_out_ms=0.0))
    assert np.isclose(np.abs(y[0]).max(), LIMIT, rtol=1e-6)
    assert np.allclose(y[0] * (np.abs(loud).max() / LIMIT), loud, atol=1e-5)  # scaled, not clipped
    assert np.array_equal(y[1], quiet)
    y, _ = postprocess(np.zeros(10, np.float32), 16000)
    assert not y.any()  # silence stays silent


def test_postprocess_params_are_a_cache_key():
    assert PostProcess(fade_out_ms=5) == PostProcess(fade_out_ms=5.0)
    assert hash(PostProcess(fade_out_ms=5)) == hash(PostProcess())
    assert PostProcess() != OFF and "peak_limit_db=-0.5" in repr(PostProcess())
    with pytest.raises(Exception):
        PostProcess().fade_out_ms = 1.0  # frozen
    for kwargs in ({"fade_out_ms": -1}, {"peak_limit_db": 3.0}, {"remove_dc": 1}, {"peak_limit_db": float("nan")}):
        with pytest.raises(UserInputError):
            PostProcess(**kwargs)


def test_postprocess_bad_input():
    for bad in (np.zeros((2, 2, 2), np.float32), np.zeros(0, np.float32), np.zeros(4, np.int16), "x"):
        with pytest.raises(UserInputError):
            postprocess(bad, 16000)
    with pytest.raises(UserInputError):
        postprocess(np.zeros(4, np.float32), 0)


@pytest.mark.parametrize("to_rate, expected", [(44100, 45158), (48000, 49152), (16000, 16384), (8000, 8192)])
def test_resample_lengths_and_frequency(to_rate, expected):
    t = np.arange(16384) / 16000
    x = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    y = resample(x, 16000, to_rate)
    assert y.shape == (expected,) and y.dtype == np.float32 and y.flags["C_CONTIGUOUS"]
    assert abs(_peak_hz(y, to_rate) - 1000) < 5
    batch = resample(np.stack([x, -x]), 16000, to_rate)
    assert batch.shape == (2, expected) and np.allclose(batch[0], y, atol=1e-6) and np.allclose(batch[1], -y, atol=1e-6)


@pytest.mark.parametrize("size", [1, 65, 8193])
def test_resample_awkward_sizes(size):
    y = resample(_noise(size), 16000, 48000)
    assert y.shape == (3 * size,)


def test_pitch_shift_by_resampling():
    t = np.arange(16384) / 16000
    x = np.sin(2 * np.pi * 500 * t).astype(np.float32)
    up = pitch_shift_by_resampling(x, 12.0, 16000)
    assert up.shape == (8192,) and abs(_peak_hz(up, 16000) - 1000) < 5
    down = pitch_shift_by_resampling(x, -12.0, 16000)
    assert down.shape == (32768,) and abs(_peak_hz(down, 16000) - 250) < 5
    assert np.array_equal(pitch_shift_by_resampling(x, 0.0, 16000), x)
    both = pitch_shift_by_resampling(x, 12.0, 16000, to_rate=48000)  # one pass: pitch and rate
    assert both.shape == (24576,) and abs(_peak_hz(both, 48000) - 1000) < 5
    assert pitch_ratio(7) == pytest.approx(2 ** (7 / 12))
    for bad in (100.0, float("nan"), "up"):
        with pytest.raises(UserInputError):
            pitch_shift_by_resampling(x, bad, 16000)
