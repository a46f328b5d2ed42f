"""The tail gate (engine/tail_gate.py) and its place in postprocess()."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.postprocess import PostProcess, postprocess
from ganshot.engine.tail_gate import GATE_FADE_MS, gate_points

SR = 16000
N = 16384


def decay(tau_s: float = 0.05, floor_db: float | None = -60.0, seed: int = 0, n: int = N) -> np.ndarray:
    """A noise hit decaying with time constant ``tau_s``, over a steady hiss ``floor_db`` re its peak."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    hit = rng.standard_normal(n) * np.exp(-t / tau_s)
    hit /= np.abs(hit).max()
    if floor_db is not None:
        hit += rng.standard_normal(n) * 10 ** (floor_db / 20)
    return hit.astype(np.float32)


def level_db(x: np.ndarray, start: int, stop: int) -> float:
    return 10 * np.log10(np.mean(np.square(x[start:stop], dtype=np.float64)) + 1e-30)


def test_a_decay_into_hiss_ends_in_exact_zeros_where_it_meets_the_floor():
    x = decay()
    start = int(gate_points(x[None], SR, 6.0)[0])
    # the decay (e^-t/50ms: -8.7 dB per 50 ms from 0 dB) meets -60 + 6 dB after about 0.31 s
    assert 0.25 * SR < start < 0.40 * SR
    out, _ = postprocess(x, SR, PostProcess(remove_dc=False, fade_out_ms=0.0, peak_limit_db=None))
    ramp = int(round(GATE_FADE_MS * SR / 1000))
    assert np.array_equal(out[:start], x[:start])  # the sound up to there is untouched
    assert not np.any(out[start + ramp:]) and np.any(out[start:start + ramp])  # then a ramp, then silence
    assert level_db(x, start - 800, start) < -50  # what was cut lay in the hiss, ~60 dB under the peak


@pytest.mark.parametrize("name, x", [
    ("sustained: a floor only 20 dB down", decay(tau_s=0.02, floor_db=-20.0)),
    ("still decaying at the end, no floor", decay(tau_s=0.25, floor_db=None)),
    ("a real tail: digital silence", np.where(np.arange(N) < 6000, decay(floor_db=None), 0).astype(np.float32)),
    ("all silence", np.zeros(N, np.float32)),
    ("shorter than ten frames", decay(n=700)),
    ("one sample", np.ones(1, np.float32)),
])
def test_what_has_no_floor_of_its_own_passes_unchanged(name, x):
    assert gate_points(x[None], SR, 6.0)[0] == len(x), name
    # (without DC removal: the mean taken off a tail of digital silence leaves a flat offset there,
    # which the gate then rightly takes back to 0)
    gate, plain = PostProcess(remove_dc=False), PostProcess(remove_dc=False, tail_gate_db=None)
    assert np.array_equal(postprocess(x, SR, gate)[0], postprocess(x, SR, plain)[0]), name


@pytest.mark.parametrize("length", [N, N - 37, 4097])  # not a multiple of the 80-sample frame
def test_rows_are_gated_each_on_their_own(length):
    tau_s = 0.05 * length / N  # the hits meet their floors two thirds of the way through
    rows = np.stack([decay(tau_s, seed=1, n=length), decay(tau_s=0.02, floor_db=-20.0, n=length),
                     decay(tau_s, floor_db=-70.0, seed=2, n=length)])
    starts = gate_points(rows, SR, 6.0)
    assert starts[1] == length and starts[0] < length and starts[2] < length
    out, _ = postprocess(rows, SR, PostProcess(remove_dc=False))  # the gate sees the rows as given here
    for row, start in enumerate(starts):
        if start < length:
            assert not np.any(out[row, start + int(GATE_FADE_MS * SR / 1000):])
    assert np.array_equal(out[1], postprocess(rows[1], SR, PostProcess(remove_dc=False))[0])  # neighbours change nothing


def test_a_wider_margin_gates_earlier():
    x = decay()[None]
    assert gate_points(x, SR, 12.0)[0] < gate_points(x, SR, 6.0)[0] < gate_points(x, SR, 2.0)[0]


@pytest.mark.parametrize("bad", [0.5, 30.0, float("nan"), "6", True])
def test_the_margin_is_checked(bad):
    with pytest.raises(UserInputError, match="tail_gate_db"):
        PostProcess(tail_gate_db=bad)


def test_the_gate_is_part_of_the_render_cache_key():
    assert PostProcess() != PostProcess(tail_gate_db=None) and hash(PostProcess()) != hash(PostProcess(tail_gate_db=9))
    assert PostProcess(tail_gate_db=6) == PostProcess()  # 6 and 6.0 make one key


def test_a_deep_floor_that_still_fades_is_gated_too():
    """Hiss that fades with the envelope is not flat, but 60 dB under the hit it is gated all the same."""
    rng = np.random.default_rng(7)
    t = np.arange(N) / SR
    hit = rng.standard_normal(N) * np.exp(-t / 0.03)
    hit /= np.abs(hit).max()
    hiss = rng.standard_normal(N) * 10 ** (-68 / 20) * np.exp(-t / 1.5)  # fading: ~3 dB across the last fifth
    x = (hit + hiss).astype(np.float32)
    start = int(gate_points(x[None], SR, 6.0)[0])
    assert start < 0.6 * N
    shallow = (hit + hiss * 10 ** (25 / 20)).astype(np.float32)  # the same fade only 43 dB down: left alone
    assert gate_points(shallow[None], SR, 6.0)[0] == N
