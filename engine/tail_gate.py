"""The tail gate: a generated one-shot's decay ends in exact zeros where it sinks into its own noise floor.

A GAN's one-shots decay into a floor of their own (broadband hiss, tonal lines) that real drums
do not have: after the hit has died away, what is left is the generator's noise, heard as hiss
over every decay, and a sampler playing many hits stacks it up. Samplers trim such tails by
hand; this does it per render, before the one-shot reaches the mixer:

1. the level of each :data:`GATE_HOP_MS` frame (mean power, dB);
2. the *floor*: the median level of the last :data:`FLOOR_SHARE` of the frames. It counts when
   it lies at least :data:`MIN_RANGE_DB` under the peak (a sustained sound, a shaker, has no decay
   to end) and is flat (its two halves within :data:`FLAT_DB`: a sound still decaying there is the
   sound, not a floor), or, flat or not, when it lies :data:`DEEP_DB` or more under the peak (what
   still falls down there, a generator's hiss fading with its envelope, is inaudible next to the
   hit; real one-shots of the dataset are digital silence there);
3. the gate point: just after the last frame louder than ``floor + margin_db``; from there the
   one-shot falls to exactly 0 along a :data:`GATE_FADE_MS` raised-cosine ramp, and stays 0.

What it removes lies within ``margin_db`` of the floor, so the decay itself is untouched down to
where the hiss masks it. One-shots without such a floor (real recordings gone to digital
silence, sustained sounds, still-decaying cymbals) pass unchanged.

The opposite case, a one-shot the model's length cuts while it still rings (a crash or an open hat
at -25 dB when a 1.024 s buffer ends): a 5 ms fade-out stops it dead, which no cymbal does. Such a
row (its last :data:`CUT_PROBE_MS` within :data:`CUT_LEVEL_DB` of its loudest frame) gets a *cut
fade* instead: its last ``cut_fade_ms`` fall :data:`CUT_DEPTH_DB`, evenly in dB (an exponential
decay, as a choked cymbal dies), before the final fade-out takes it to 0. A one-shot that has
decayed by its end, as every drum of the data has, is not touched.

Cheat sheet (postprocess() applies both: PostProcess(tail_gate_db=6.0, cut_fade_ms=250.0), the defaults)::

    starts = gate_points(rows, 48000, margin_db=6.0)  # int64[B]: where each row's ramp to 0 starts (N: none)
    cut = cut_rows(rows, 48000)                        # bool[B]: still ringing at its end
    rows[cut, -n:] *= cut_fade(n)                      # float32[n]: 0 dB down to -CUT_DEPTH_DB, even in dB
"""

from __future__ import annotations

import numpy as np

__all__ = ["gate_points", "cut_rows", "cut_fade", "CUT_PROBE_MS", "CUT_LEVEL_DB", "CUT_DEPTH_DB",
           "DEFAULT_CUT_FADE_MS", "MAX_CUT_FADE_MS", "GATE_HOP_MS", "GATE_FADE_MS", "FLOOR_SHARE", "FLAT_DB", "MIN_RANGE_DB",
           "MIN_MARGIN_DB", "MAX_MARGIN_DB", "DEFAULT_MARGIN_DB", "DEEP_DB"]

GATE_HOP_MS = 5.0  # level frames
GATE_FADE_MS = 10.0  # the ramp to zero at the gate point (postprocess applies it)
FLOOR_SHARE = 0.2  # the last fifth of the frames holds the floor
FLAT_DB = 3.0  # a floor's two halves differ by less than this; more is a decay still going on
MIN_RANGE_DB = 45.0  # peak over floor: less is a sustained sound (or a long cymbal), left alone
DEEP_DB = 60.0  # peak over floor: this deep, a floor need not be flat
MIN_MARGIN_DB, MAX_MARGIN_DB = 1.0, 24.0
DEFAULT_MARGIN_DB = 6.0  # PostProcess's default: the tail counts as floor within 6 dB of it
CUT_PROBE_MS = 50.0  # the end of a row whose level tells whether the buffer cut the sound
CUT_LEVEL_DB = 40.0  # that end within this of the loudest frame: still ringing (real drums: 60 dB and more down)
CUT_DEPTH_DB = 60.0  # how far a cut fade falls, evenly in dB, before the final fade-out
DEFAULT_CUT_FADE_MS, MAX_CUT_FADE_MS = 250.0, 1000.0
_MIN_FRAMES = 10  # shorter one-shots are left alone
_SILENT_POWER = 1e-20  # -200 dB: digital silence
_SILENT_DB = 10.0 * np.log10(_SILENT_POWER)


def gate_points(rows: np.ndarray, sample_rate: float, margin_db: float) -> np.ndarray:
    """int64[B]: for each row of ``rows[B, N]`` at ``sample_rate`` Hz, the sample where its ramp to
    zero starts, or N where the row has no floor to gate."""
    count, length = rows.shape
    starts = np.full(count, length, np.int64)
    hop = max(1, int(round(sample_rate * GATE_HOP_MS / 1000.0)))
    frames = length // hop
    if frames < _MIN_FRAMES or count == 0:
        return starts
    level_db = _frame_levels_db(rows, hop, frames)
    tail = level_db[:, frames - max(2, int(frames * FLOOR_SHARE)):]
    half = tail.shape[1] // 2
    floor_db = np.median(tail, axis=1)
    flat = np.abs(np.median(tail[:, :half], axis=1) - np.median(tail[:, half:], axis=1)) < FLAT_DB
    depth = level_db.max(axis=1) - floor_db
    flat |= depth >= DEEP_DB
    deep = depth >= MIN_RANGE_DB
    audible = floor_db > _SILENT_DB  # a floor of digital silence needs no gate
    for row in np.flatnonzero(flat & deep & audible):
        above = np.flatnonzero(level_db[row] > floor_db[row] + margin_db)
        starts[row] = min(length, (int(above[-1]) + 1) * hop if len(above) else 0)
    return starts


def _frame_levels_db(rows: np.ndarray, hop: int, frames: int) -> np.ndarray:
    count = rows.shape[0]
    return _power_db(np.square(rows[:, :frames * hop], dtype=np.float64).reshape(count, frames, hop).mean(axis=2))


def _power_db(power: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(power, _SILENT_POWER))


def cut_rows(rows: np.ndarray, sample_rate: float) -> np.ndarray:
    """bool[B]: the rows of ``rows[B, N]`` at ``sample_rate`` Hz whose last :data:`CUT_PROBE_MS` lie
    within :data:`CUT_LEVEL_DB` of their loudest :data:`GATE_HOP_MS` frame (cut while ringing)."""
    count, length = rows.shape
    hop = max(1, int(round(sample_rate * GATE_HOP_MS / 1000.0)))
    probe = max(1, int(round(sample_rate * CUT_PROBE_MS / 1000.0)))
    frames = length // hop
    if frames < _MIN_FRAMES or count == 0 or length < 2 * probe:
        return np.zeros(count, bool)
    peak_db = _frame_levels_db(rows, hop, frames).max(axis=1)
    end_db = _power_db(np.square(rows[:, -probe:], dtype=np.float64).mean(axis=1))
    return (end_db >= peak_db - CUT_LEVEL_DB) & (peak_db > _SILENT_DB)


def cut_fade(length: int) -> np.ndarray:
    """float32[length]: gains from 1 (0 dB) falling evenly in dB to -:data:`CUT_DEPTH_DB` at the last sample."""
    if length <= 1:
        return np.ones(max(0, length), np.float32)
    return (10.0 ** (-CUT_DEPTH_DB / 20.0 * np.arange(length) / (length - 1))).astype(np.float32)
