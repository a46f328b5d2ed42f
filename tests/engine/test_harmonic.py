"""The harmonic-plus-noise generator: spec checks, notes in tune by construction, no partial above
the Nyquist share, long notes keep their phase (float64 frame starts), determinism per latent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganshot.engine.errors import FormatError
from ganshot.engine.generators import build_generator, spec_from_dict
from ganshot.engine.harmonic import NYQUIST_SHARE, HarmonicGenerator, HarmonicSpec, midi_to_hz

SR = 16000


def _generator(**fields) -> HarmonicGenerator:
    spec = HarmonicSpec(**{"latent_dim": 8, "d": 2, "num_samples": 8192, "harmonics": 12, "noise_bands": 4,
                           "frames": 16, "pitch_low": 21, "pitch_high": 108, "sample_rate": SR, **fields})
    torch.manual_seed(0)
    return build_generator(spec).eval()


def _only(gen: HarmonicGenerator, partial: int, noise: bool = False) -> HarmonicGenerator:
    """Weights set so one partial carries all the loudness (and the noise is silent unless asked)."""
    with torch.no_grad():
        for head in (gen.partials_head, gen.noise_head, gen.loudness_head):
            head.weight.zero_()
        bias = torch.full((gen.spec.frames + 1, gen.spec.harmonics), -30.0)
        bias[:, partial - 1] = 0.0
        gen.partials_head.bias.copy_(bias.flatten())
        gen.noise_head.bias.fill_(0.0 if noise else -30.0)
        gen.loudness_head.bias.fill_(0.0)
    return gen


def _peak_hz(audio: np.ndarray) -> float:
    window = np.hanning(len(audio))
    spectrum = np.abs(np.fft.rfft(audio * window, n=8 * len(audio)))
    return float(np.argmax(spectrum) * SR / (8 * len(audio)))


@pytest.mark.parametrize("note", [21, 45, 60, 69, 81, 100])
def test_the_fundamental_is_the_requested_note(note):
    gen = _only(_generator(), partial=1)
    audio = gen(torch.randn(1, 8), None, torch.tensor([note]))[0].detach().numpy()
    expected = 440.0 * 2 ** ((note - 69) / 12)
    assert abs(1200 * np.log2(_peak_hz(audio) / expected)) < 10  # cents (FFT bin leakage at 27.5 Hz)


def test_partials_at_or_above_the_nyquist_share_are_silent():
    gen = _only(_generator(), partial=12)
    low = gen(torch.randn(1, 8), None, torch.tensor([45]))[0].detach().numpy()  # 12 x 110 Hz = 1320 Hz
    assert abs(_peak_hz(low) - 12 * 110.0) < 2.0
    # at MIDI 100 (2637 Hz) only partials 1 and 2 lie below 0.45 x 16 kHz: the loudness goes to them
    high = gen(torch.randn(1, 8), None, torch.tensor([100]))[0].detach().numpy()
    spectrum = np.abs(np.fft.rfft(high * np.hanning(len(high))))
    freqs = np.fft.rfftfreq(len(high), 1.0 / SR)
    assert high.std() > 0.01
    assert spectrum[freqs >= NYQUIST_SHARE * SR].max() < 1e-3 * spectrum.max()  # -60 dB: only tanh's soft clip


def test_a_long_note_keeps_its_phase():
    gen = _only(_generator(num_samples=1 << 18, frames=256), partial=1)  # 16.4 s
    audio = np.arctanh(gen(torch.randn(1, 8), None, torch.tensor([93]))[0].detach().double().numpy())  # undo tanh
    n = np.arange(len(audio), dtype=np.float64)
    f0 = 440.0 * 2 ** ((93 - 69) / 12)
    reference = np.sin(2 * np.pi * np.mod(f0 * n / SR, 1.0))
    scale = np.dot(audio, reference) / np.dot(reference, reference)
    assert np.max(np.abs(audio[-4096:] - scale * reference[-4096:])) < 1e-3 * abs(scale)


def test_noise_is_its_latent_own_and_the_same_each_time():
    gen = _only(_generator(), partial=1, noise=True)
    z = torch.randn(2, 8)
    pitches = torch.tensor([60, 60])
    first, again = gen(z, None, pitches), gen(z, None, pitches)
    assert torch.equal(first, again)
    assert (first[0] - first[1]).abs().max() > 1e-3


def test_conditional_spec_round_trip_and_refusals():
    spec = HarmonicSpec(num_classes=3, pitch_low=36, pitch_high=96)
    assert spec_from_dict("harmonic", spec.to_dict()) == spec
    gen = HarmonicGenerator(HarmonicSpec(latent_dim=4, d=1, num_samples=2048, num_classes=3, harmonics=4,
                                         noise_bands=2, frames=8, pitch_low=40, pitch_high=50))
    assert gen(torch.randn(2, 4), torch.tensor([0, 2]), torch.tensor([40, 50])).shape == (2, 2048)
    for fields, message in [({}, "needs a pitch range"),
                            ({"pitch_low": 40, "pitch_high": 50, "frames": 7}, "frames=7 must divide"),
                            ({"pitch_low": 40, "pitch_high": 50, "harmonics": 0}, "harmonics must be an integer"),
                            ({"pitch_low": 50, "pitch_high": 40}, "low < high")]:
        with pytest.raises(FormatError, match=message):
            HarmonicSpec(**fields)
    with pytest.raises(FormatError, match="unknown key"):
        spec_from_dict("harmonic", {**spec.to_dict(), "vibrato": 1})


def test_the_controls_are_smoothed_over_frames():
    from ganshot.engine.harmonic import SMOOTHING_FRAMES, smoothing_matrix

    m = smoothing_matrix(20).double()
    assert torch.allclose(m.sum(dim=1), torch.ones(20, dtype=torch.float64))
    assert torch.allclose(m @ torch.full((20,), 3.0, dtype=torch.float64), torch.full((20,), 3.0, dtype=torch.float64))
    assert int((m[10] > 0).sum()) == SMOOTHING_FRAMES and int((m[0] > 0).sum()) == SMOOTHING_FRAMES // 2 + 1
    alternating = torch.tensor([(-1.0) ** i for i in range(20)], dtype=torch.float64)
    assert (m @ alternating)[3:-3].abs().max() < 0.1  # a frame-rate tremolo is all but gone
