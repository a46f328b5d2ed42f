"""Helpers of the record-tap and Recorder tests (tests/engine/test_recorder*.py): a seeded mixer
scenario, rendering in awkward blocks, and reading a recorded WAV back.

Cheat sheet::

    mixer = Mixer(SR); scenario(mixer, offset=70)   # seeded voices, a choke, a master-gain ramp
    out = render_blocks(mixer, BLOCKS)              # float32[sum(BLOCKS), 2]
    audio = read_wav(path)                          # float32[frames, 2], asserts SR and stereo
    tmp_path.glob(PARTIAL)                          # a Recorder's in-progress files
"""

from __future__ import annotations

import numpy as np
import soundfile as sf

from ganshot.engine.mixer import Mixer
from ganshot.engine.recorder import IN_PROGRESS_SUFFIX

__all__ = ["SR", "BLOCKS", "PARTIAL", "scenario", "render_blocks", "read_wav"]

SR = 48000
BLOCKS = [1, 65, 8193, 64, 1, 128, 8192, 65, 1]
PARTIAL = "*" + IN_PROGRESS_SUFFIX


def scenario(mixer: Mixer, offset: int = 0) -> None:
    """Seeded voices, a choke and a master-gain ramp, from stream frame ``offset`` on."""
    rng = np.random.default_rng(11)
    for _ in range(12):
        buf = rng.uniform(-0.5, 0.5, int(rng.integers(100, 6000))).astype(np.float32)
        mixer.play(buf, float(rng.uniform(0, 1)), float(rng.uniform(0, 1)),
                   start_frame=offset + int(rng.integers(0, 20000)), choke_group=int(rng.integers(0, 3)))
    mixer.choke(1, at_frame=offset + 9000)
    mixer.set_master_gain(0.7)


def render_blocks(mixer: Mixer, blocks) -> np.ndarray:
    return np.concatenate([mixer.render(n) for n in blocks])


def read_wav(path, sample_rate: int = SR) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == sample_rate and audio.shape[1] == 2
    return audio
