"""Tail noise floor and tonal lines on synthetic one-shots with known noise and known sines."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.training.artefacts import SILENCE_DB, line_frequencies_hz, tail_floor_db, tonal_lines_db

RATE, LENGTH = 16000, 16384


def decays(noise_db: float | None, count: int = 6, seed: int = 0) -> np.ndarray:
    """Decaying 120 Hz hits (gone by the last quarter) plus white noise ``noise_db`` dB re the peak."""
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH) / RATE
    hits = np.sin(2 * np.pi * 120 * t) * np.exp(-t * 25) * rng.uniform(0.2, 1.0, (count, 1))
    if noise_db is not None:
        peaks = np.abs(hits).max(axis=1, keepdims=True)
        hits = hits + peaks * 10 ** (noise_db / 20) * rng.standard_normal((count, LENGTH))
    return hits


@pytest.mark.parametrize("noise_db", [-30.0, -60.0, -90.0])
def test_tail_floor_reads_the_known_noise_level_whatever_the_loudness(noise_db):
    floors = tail_floor_db(decays(noise_db))
    assert floors.shape == (6,)
    np.testing.assert_allclose(floors, noise_db, atol=1.0)


def test_a_tail_of_digital_silence_is_the_silence_floor_and_bad_input_is_refused():
    hits = decays(None)
    hits[:, -LENGTH // 4:] = 0.0
    assert (tail_floor_db(hits) == SILENCE_DB).all()
    assert tail_floor_db(np.zeros((2, 100))).tolist() == [SILENCE_DB, SILENCE_DB]
    with pytest.raises(UserInputError, match="tail_share"):
        tail_floor_db(hits, tail_share=0.0)
    with pytest.raises(UserInputError, match="audio must be"):
        tail_floor_db(np.zeros((2, 3, 4)))


def test_the_lines_are_the_multiples_of_fs_over_16():
    assert line_frequencies_hz(16000) == [1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0, 7000.0]
    assert 44100 / 4 in line_frequencies_hz(44100)


def test_a_sine_at_fs_over_4_stands_out_and_clean_noise_has_no_lines():
    rng = np.random.default_rng(0)
    t = np.arange(LENGTH) / RATE
    noise = rng.standard_normal((8, LENGTH)) * np.exp(-t * 4)
    clean = tonal_lines_db(noise, RATE)
    assert max(abs(v) for v in clean.values()) < 2.0
    lined = tonal_lines_db(noise + 0.05 * np.sin(2 * np.pi * RATE / 4 * t), RATE)
    assert lined[4000.0] > 12.0
    assert all(abs(lined[f] - clean[f]) < 0.5 for f in clean if f != 4000.0)  # only its own line moves
    with pytest.raises(UserInputError, match="multiple of 16"):
        tonal_lines_db(noise, RATE, n_fft=1000)
