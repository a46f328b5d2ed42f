"""The master limiter of the C mixer, offline: the output never passes the ceiling, whatever
the block size; below it nothing changes, bit for bit; hits still start on their frames;
what it took away is reported (counters and Engine.status)."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.mixer import LIMITER_RELEASE_MS, MAX_CEILING_DB, MIN_CEILING_DB, Mixer

SR = 48000
BLOCK_SIZES = [1, 64, 65, 128, 8192, 8193]


def loud_scene(mixer: Mixer, seed: int = 4, voices: int = 24) -> None:
    """Overlapping noise bursts and impulses, summing to ~+14 dBFS."""
    rng = np.random.default_rng(seed)
    for _ in range(voices):
        buf = rng.uniform(-0.9, 0.9, int(rng.integers(200, 6000))).astype(np.float32)
        mixer.play(buf, float(rng.uniform(0.2, 1.0)), float(rng.uniform(0.2, 1.0)),
                   start_frame=int(rng.integers(0, 12000)))


def render_blocks(mixer: Mixer, total: int, block: int) -> np.ndarray:
    parts, done = [], 0
    while done < total:
        parts.append(mixer.render(min(block, total - done)))
        done += parts[-1].shape[0]
    return np.concatenate(parts)


@pytest.mark.parametrize("block", BLOCK_SIZES)
def test_the_output_never_passes_0_dbfs_and_is_the_same_at_every_block_size(block):
    reference = Mixer(SR)
    loud_scene(reference)
    expected = reference.render(20000)
    mixer = Mixer(SR)
    loud_scene(mixer)
    out = render_blocks(mixer, 20000, block)
    assert np.abs(out).max() <= 1.0 and np.array_equal(out, expected)
    counters = mixer.counters()
    assert counters["peak_db"] > 6.0 and counters["peak_out_db"] <= 0.0  # it had work to do
    assert counters["limited_frames"] > 0 and counters["limiter_max_reduction_db"] > 6.0


def test_below_the_ceiling_nothing_changes_bit_for_bit():
    rng = np.random.default_rng(1)
    buf = rng.uniform(-0.6, 0.6, 3000).astype(np.float32)
    mixer = Mixer(SR)
    mixer.play(buf, 0.9, -0.7, start_frame=17)
    mixer.play(np.ones(5, np.float32), 1.0, 1.0, start_frame=5000)  # exactly 0 dBFS: still untouched
    out = mixer.render(6000)
    assert np.array_equal(out[17:3017, 0], buf * np.float32(0.9))
    assert np.array_equal(out[17:3017, 1], buf * np.float32(-0.7))
    assert np.all(out[5000:5005] == 1.0)
    counters = mixer.counters()
    assert counters["limited_frames"] == 0 and counters["limiter_max_reduction_db"] == 0.0
    assert counters["limiter_reduction_db"] == 0.0 and counters["peak_db"] == 0.0


def test_a_loud_hit_starts_on_its_frame_and_both_channels_go_down_together():
    mixer = Mixer(SR)
    hit = np.zeros(200, np.float32)
    hit[0] = 4.0  # +12 dBFS on the left
    hit[1:] = 0.5
    mixer.play(hit, 1.0, 0.25, start_frame=1234)
    out = mixer.render(2000)
    assert np.flatnonzero(out[:, 0]).tolist()[0] == 1234  # no look-ahead delay
    assert out[1234, 0] == 1.0 and out[1234, 1] == pytest.approx(0.25)  # linked: the same gain on both
    counters = mixer.counters()
    assert counters["limiter_max_reduction_db"] == pytest.approx(12.04, abs=0.01)
    assert counters["peak_db"] == pytest.approx(12.04, abs=0.01)


def test_the_gain_recovers_over_the_release_time():
    mixer = Mixer(SR)
    mixer.play(np.array([2.0], np.float32), start_frame=0)  # one frame 6 dB over
    mixer.render(1)
    assert mixer.counters()["limiter_reduction_db"] == pytest.approx(6.02, abs=0.01)
    mixer.render(int(SR * LIMITER_RELEASE_MS / 1000))  # one time constant: 1 - gain falls to 1/e
    assert mixer.counters()["limiter_reduction_db"] == pytest.approx(-20 * np.log10(1 - 0.5 / np.e), rel=0.01)
    mixer.render(2 * SR)
    assert mixer.counters()["limiter_reduction_db"] == 0.0  # back to exactly 1: bit-exact again
    buf = np.full(10, 0.5, np.float32)
    mixer.play(buf)
    assert np.array_equal(mixer.render(10)[:, 0], buf)


def test_a_lower_ceiling_and_reset_peaks():
    mixer = Mixer(SR)
    mixer.set_limiter_ceiling(-6.0)
    loud_scene(mixer)
    out = mixer.render(20000)
    ceiling = np.float32(10 ** (-6 / 20))
    assert np.abs(out).max() <= ceiling and mixer.counters()["peak_out_db"] <= -6.0 + 1e-5
    mixer.render(4 * SR)  # silence: the gain is back at 1
    assert mixer.counters()["limiter_max_reduction_db"] > 6.0  # until reset_peaks()
    mixer.reset_peaks()
    mixer.render(1)  # the first block after the reset restarts the peaks
    counters = mixer.counters()
    assert counters["peak_db"] == float("-inf") and counters["limiter_max_reduction_db"] == 0.0


@pytest.mark.parametrize("ceiling_db", [0.5, -30, float("nan"), "loud", None, True])
def test_bad_ceilings_are_refused(ceiling_db):
    with pytest.raises(UserInputError, match=f"ceiling_db must be .*{MIN_CEILING_DB}..{MAX_CEILING_DB}|number"):
        Mixer(SR).set_limiter_ceiling(ceiling_db)
