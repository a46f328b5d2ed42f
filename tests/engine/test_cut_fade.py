"""The cut fade (engine/tail_gate.py cut_rows/cut_fade) and its place in postprocess(): a one-shot the
buffer's end cuts while it still rings falls 60 dB evenly in dB over its last cut_fade_ms; one that
has decayed by its end is not touched."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.postprocess import PostProcess, postprocess
from ganshot.engine.tail_gate import CUT_DEPTH_DB, cut_fade, cut_rows

SR = 16000
N = 16384
BARE = dict(remove_dc=False, fade_out_ms=0.0, peak_limit_db=None, tail_gate_db=None, extend_bandwidth=False)


def ringing(tau_s: float, n: int = N, seed: int = 0) -> np.ndarray:
    """Noise decaying with time constant ``tau_s`` from a peak of 1: a crash (0.5 s) or a drum (0.03 s)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * np.exp(-np.arange(n) / SR / tau_s)
    return (x / np.abs(x).max()).astype(np.float32)


def test_a_cymbal_cut_by_the_buffer_falls_60_db_over_the_fade_and_nothing_before_it_changes():
    x = ringing(0.5)  # -17 dB at the end of a 1.024 s buffer: cut while it rings
    assert cut_rows(x[None], SR).tolist() == [True]
    out, _ = postprocess(x, SR, PostProcess(**BARE, cut_fade_ms=250.0))
    cut = int(round(0.25 * SR))
    assert np.array_equal(out[:-cut], x[:-cut])
    np.testing.assert_array_equal(out[-cut:], x[-cut:] * cut_fade(cut))
    end = 10 * np.log10(np.mean(np.square(out[-160:], dtype=np.float64)))
    before = 10 * np.log10(np.mean(np.square(x[-160:], dtype=np.float64)))
    assert end < before - 50  # the last 10 ms now lie about 57 dB under where the cut left them


@pytest.mark.parametrize("name, x", [
    ("a drum decayed by its end", ringing(0.03)),
    ("digital silence after the hit", np.where(np.arange(N) < 4000, ringing(0.03), 0).astype(np.float32)),
    ("all silence", np.zeros(N, np.float32)),
    ("shorter than two probes", ringing(0.5, n=1500)),
    ("one sample", np.ones(1, np.float32)),
])
def test_what_has_ended_or_is_too_short_passes_unchanged(name, x):
    assert not cut_rows(x[None], SR).any(), name
    on, off = PostProcess(**BARE), PostProcess(**{**BARE, "cut_fade_ms": 0.0})
    assert np.array_equal(postprocess(x, SR, on)[0], postprocess(x, SR, off)[0]), name


@pytest.mark.parametrize("length", [N, N - 37, 4097, 1601])
def test_rows_are_judged_each_on_their_own(length):
    rows = np.stack([ringing(0.5, length), ringing(0.01, length, seed=1)])  # a crash, a short click
    assert cut_rows(rows, SR).tolist() == [True, False]
    out, _ = postprocess(rows, SR, PostProcess(**BARE))
    assert np.array_equal(out[1], rows[1]) and not np.array_equal(out[0], rows[0])


@pytest.mark.parametrize("length", [0, 1, 2, 7, 4000])
def test_the_curve_starts_at_0_db_and_falls_evenly_in_db(length):
    gains = cut_fade(length)
    assert gains.shape == (length,) and gains.dtype == np.float32
    if length >= 2:
        db = 20 * np.log10(gains.astype(np.float64))
        assert db[0] == 0 and db[-1] == pytest.approx(-CUT_DEPTH_DB, abs=1e-3)
        np.testing.assert_allclose(np.diff(db), -CUT_DEPTH_DB / (length - 1), rtol=1e-3)


@pytest.mark.parametrize("bad", [-1.0, 1000.5, float("nan"), "250"])
def test_the_fade_length_is_checked(bad):
    with pytest.raises(UserInputError, match="cut_fade_ms"):
        PostProcess(cut_fade_ms=bad)


def test_the_cut_fade_is_part_of_the_render_cache_key():
    assert PostProcess() == PostProcess(cut_fade_ms=250) and hash(PostProcess()) == hash(PostProcess(cut_fade_ms=250))
    assert PostProcess(cut_fade_ms=0) != PostProcess()
