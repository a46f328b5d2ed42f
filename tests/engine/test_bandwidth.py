"""Bandwidth extension (engine/bandwidth.py) and its place in postprocess() and the render worker."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.bandwidth import extend_bandwidth
from ganshot.engine.errors import UserInputError
from ganshot.engine.postprocess import PostProcess, postprocess, resample

SR = 48000


def band_db(x: np.ndarray, low: float, high: float) -> float:
    """Mean power per bin in [low, high) Hz, dB."""
    power = np.abs(np.fft.rfft(np.atleast_2d(x).astype(np.float64), axis=1)) ** 2
    freqs = np.fft.rfftfreq(np.atleast_2d(x).shape[1], 1.0 / SR)
    return float(10 * np.log10(power[:, (freqs >= low) & (freqs < high)].mean() + 1e-30))


def through_16k(x: np.ndarray) -> np.ndarray:
    """What a 16 kHz model's one-shot looks like at 48 kHz: nothing above 8 kHz."""
    return resample(resample(x, SR, 16000), 16000, SR)[..., :x.shape[-1]]


def noise(n: int = 24000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def test_a_flat_spectrum_is_continued_flat_through_the_top_octave():
    cut = through_16k(noise())[None]
    assert band_db(cut, 9000, 15000) < band_db(cut, 4000, 7000) - 55  # empty before (the resampler leaks a little)
    out = extend_bandwidth(cut, SR, 8000.0, correction_db=0.0)  # (the calibrated default takes 1 dB off)
    for low in (8500, 10000, 12000, 14000):
        assert band_db(out, low, low + 1000) == pytest.approx(band_db(cut, 4000, 7000), abs=1.5), low
    assert band_db(out, 17000, 23000) < band_db(cut, 4000, 7000) - 40  # and nothing past an octave
    np.testing.assert_allclose(band_db(out, 100, 7000), band_db(cut, 100, 7000), atol=0.1)  # below: as it was


def test_a_steep_spectrum_gains_next_to_nothing():
    spectrum = np.fft.rfft(noise(seed=1))
    freqs = np.fft.rfftfreq(24000, 1.0 / SR)
    spectrum *= np.minimum(1.0, (1000.0 / np.maximum(freqs, 1.0)) ** 4)  # -24 dB per octave above 1 kHz
    kick = through_16k(np.fft.irfft(spectrum, n=24000).astype(np.float32))[None]
    out = extend_bandwidth(kick, SR, 8000.0)
    assert band_db(out, 8500, 16000) < band_db(out, 4000, 7000) - 15  # it keeps falling, at least 24 dB/oct
    assert band_db(out, 8500, 16000) < band_db(out, 50, 1000) - 60  # far under the body


def test_the_copies_keep_the_hits_time_envelope():
    x = np.zeros(24000, np.float32)
    x[12000:] = noise(12000, seed=2) * np.exp(-np.arange(12000) / 800.0)
    out = extend_bandwidth(through_16k(x)[None], SR, 8000.0)[0]
    high = np.fft.irfft(np.fft.rfft(out) * (np.fft.rfftfreq(24000, 1 / SR) > 8500), n=24000)
    before, during = np.sqrt(np.mean(high[:11800] ** 2)), np.sqrt(np.mean(high[12000:12800] ** 2))
    assert during > 0 and before < during * 10 ** (-40 / 20)  # no pre-echo worth the name
    assert np.sqrt(np.mean(high[20000:] ** 2)) < during * 10 ** (-30 / 20)  # it decays with the hit


def test_the_correction_moves_what_is_added_by_that_many_db():
    cut = through_16k(noise(seed=3))[None]
    plain, louder = (extend_bandwidth(cut, SR, 8000.0, correction_db=c) for c in (0.0, 6.0))
    assert band_db(louder, 9000, 15000) - band_db(plain, 9000, 15000) == pytest.approx(6.0, abs=0.1)


@pytest.mark.parametrize("rows, source_nyquist", [
    (np.zeros((2, 4800), np.float32), 8000.0),  # silence stays silence (and finite)
    (noise(4800)[None], 24000.0),  # a full-band source: nothing to add
    (noise(100)[None], 8000.0),  # too short to analyse
    (np.zeros((0, 4800), np.float32), 8000.0),
])
def test_what_cannot_be_extended_comes_back_unchanged(rows, source_nyquist):
    out = extend_bandwidth(rows, SR, source_nyquist)
    assert out.shape == rows.shape and np.all(np.isfinite(out))
    np.testing.assert_allclose(out, rows, atol=1e-6)


def test_postprocess_extends_only_when_told_the_source_nyquist():
    cut = through_16k(noise(seed=4))
    plain, _ = postprocess(cut, SR, PostProcess(tail_gate_db=None))
    told, _ = postprocess(cut, SR, PostProcess(tail_gate_db=None), source_nyquist_hz=8000.0)
    off, _ = postprocess(cut, SR, PostProcess(tail_gate_db=None, extend_bandwidth=False), source_nyquist_hz=8000.0)
    assert band_db(told, 9000, 15000) > band_db(plain, 9000, 15000) + 40
    assert np.array_equal(off, plain)
    assert np.abs(told).max() <= 10 ** (-0.5 / 20) + 1e-6  # the peak limit comes after it
    with pytest.raises(UserInputError, match="extend_bandwidth"):
        PostProcess(extend_bandwidth="yes")
    with pytest.raises(UserInputError, match="source_nyquist_hz"):
        postprocess(cut, SR, source_nyquist_hz=float("nan"))


@pytest.mark.parametrize("pitch, top_hz", [(0.0, 16000), (-12.0, 8000)])
def test_the_render_worker_extends_a_16k_model_by_an_octave_of_its_pitch(tiny_bundle, pitch, top_hz):
    from ganshot.engine.engine import Engine
    from tests.support import kit_for

    for extend in (True, False):
        kit = kit_for(tiny_bundle, pitch_semitones=pitch)
        with Engine(tiny_bundle, kit, sample_rate=SR, backend="onnx",
                    post=PostProcess(extend_bandwidth=extend, tail_gate_db=None)) as engine:
            assert engine.wait_ready(30)
            buffer = np.asarray(engine.pad_buffer(0))
        source = 8000 * 2 ** (pitch / 12)
        above = band_db(buffer, source * 1.05, top_hz * 0.95) - band_db(buffer, source * 0.5, source * 0.9)
        if extend:
            assert above > -30, above  # the random tiny model is noise-like: a strong top octave
            assert band_db(buffer, top_hz * 1.1, min(top_hz * 1.4, 21000)) < band_db(buffer, source * 0.5, source * 0.9) - 40
        else:
            assert above < -50, above
