"""AudioStream's clock mapping (frame_at) without a device: scripted callback snapshots stand in
for PortAudio's. Across an xrun (time runs on while frames are lost), timed hits must still map
to their frames within 1 sample; before the fit restarted on a jump it lagged for 2 s."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import numpy as np
import pytest

from ganshot.engine.audio_stream import AudioStream

RATE, BLOCK = 48000, 128
JITTER_FRAMES = 5  # PortAudio's per-block DAC time jitter on JACK


class ScriptedMixer:
    """The one thing frame_at reads from a mixer: its latest callback snapshot."""

    def __init__(self):
        self.clock = None

    def _read_clock(self):
        return self.clock


def bare_stream(mixer) -> AudioStream:
    stream = object.__new__(AudioStream)  # the clock code only; no PortAudio stream
    stream.mixer, stream.sample_rate, stream.block_size = mixer, RATE, BLOCK
    stream._points, stream.clock_resets, stream._stream = deque(maxlen=64), 0, None
    return stream


def run_blocks(stream, mixer, first_block: int, count: int, offset_s: float, rng) -> None:
    """Blocks whose frame f is heard at offset_s + f / RATE (plus jitter); frame_at is polled after each."""
    for k in range(first_block, first_block + count):
        frame = k * BLOCK
        dac = offset_s + (frame + rng.integers(-JITTER_FRAMES, JITTER_FRAMES + 1)) / RATE
        mixer.clock = SimpleNamespace(callbacks=k + 1, block_start_frame=frame, block_frames=BLOCK,
                                      dac_time=dac, current_time=dac - 0.005)
        stream._calibrate()


@pytest.mark.parametrize("lost_blocks", [1, 8, 94])
def test_timed_hits_land_on_their_frames_right_after_an_xrun(lost_blocks):
    errors = {}
    for fixed in (True, False):
        rng = np.random.default_rng(7)
        mixer = ScriptedMixer()
        stream = bare_stream(mixer)
        if not fixed:
            stream._follow_jump = lambda *args: None  # the fit as it was: it ignored xruns
        run_blocks(stream, mixer, 0, 600, offset_s=100.0, rng=rng)  # 1.6 s of steady clock
        gap_s = lost_blocks * BLOCK / RATE  # the xrun: JACK lost whole periods
        run_blocks(stream, mixer, 600, 3, offset_s=100.0 + gap_s, rng=rng)
        # a timed hit 50 ms ahead, as an OSC timetag would ask: which frame is heard then?
        target_frame = 603 * BLOCK + 2400
        target_s = 100.0 + gap_s + target_frame / RATE
        errors[fixed] = abs(stream.frame_at(target_s) - target_frame)
        if fixed:
            assert stream.clock_resets == 1
    assert errors[True] <= 1, errors  # within one sample of its frame
    assert errors[False] > 1, errors  # what the restart fixed (the test can fail)


def test_jitter_alone_never_restarts_the_fit():
    mixer = ScriptedMixer()
    stream = bare_stream(mixer)
    run_blocks(stream, mixer, 0, 2000, offset_s=5.0, rng=np.random.default_rng(3))
    assert stream.clock_resets == 0
    assert abs(stream.frame_at(5.0 + 2000 * BLOCK / RATE) - 2000 * BLOCK) <= 1


def test_a_jump_of_no_whole_blocks_restarts_the_fit_from_the_new_offset():
    mixer = ScriptedMixer()
    stream = bare_stream(mixer)
    rng = np.random.default_rng(5)
    run_blocks(stream, mixer, 0, 600, offset_s=1.0, rng=rng)
    run_blocks(stream, mixer, 600, 9, offset_s=1.0 + 0.0173, rng=rng)  # 830.4 frames: not whole blocks
    assert stream.clock_resets == 1 and len(stream._points) == 9
    frame = 609 * BLOCK + 4800
    assert abs(stream.frame_at(1.0173 + frame / RATE) - frame) <= JITTER_FRAMES  # the jitter of 9 snapshots
