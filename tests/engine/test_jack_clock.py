"""The JACK clock lock (engine/_cmixer_jack_clock.h) with a fake JACK clock: no server needed.

The callback is driven by hand, one call per JACK wake-up, and what it returns is laid on a
JACK timeline the way JACK hears it: the block of a wake-up in cycle T plays at T..T+period, a
later wake-up in the same cycle overwrites it. A stall (JACK wakes a late client once for several
cycles, then once more at once, or not) must not move what is scheduled after it. The lock
against a real server, stalled by SIGSTOP: tests/engine/test_audio_stream_jack.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine._cmixer import ffi, lib
from ganshot.engine.mixer import Mixer, callbacks_over

SR = 48000


class FakeJack:
    """A mixer driven by hand with a fake JACK clock; ``heard`` is JACK's timeline (left channel)."""

    def __init__(self, period: int, frames: int = 40000):
        self.mixer = Mixer(SR)
        self.period = period
        self.clock = lib.ganshot_jack_clock_fake(self.mixer._state, period)
        assert self.clock != ffi.NULL
        self.heard = np.zeros(frames, np.float32)
        self.out = np.zeros((16384, 2), np.float32)
        self.cycle = 1000  # JACK's frame clock does not start at 0

    def wake(self, cycle: int | None = None, frames: int | None = None) -> None:
        """One PortAudio callback inside the JACK cycle starting at ``cycle`` (default: the next)."""
        self.cycle = self.cycle + self.period if cycle is None else cycle
        frames = self.period if frames is None else frames
        lib.ganshot_jack_clock_fake_cycle(self.clock, self.cycle)
        lib.ganshot_callback(ffi.NULL, ffi.from_buffer("float[]", self.out), frames, ffi.NULL, 0,
                             self.mixer._state)
        at = self.cycle - 1000
        self.heard[at:at + frames] = self.out[:frames, 0]  # JACK reads what the cycle's last wake-up wrote

    def stall(self, periods: int, second_wake: bool) -> None:
        """Preempted for ``periods`` cycles: one wake-up for all of them (then one more at once, or not)."""
        self.wake(self.cycle + periods * self.period)
        if second_wake:
            self.wake(self.cycle)

    def close(self) -> None:
        lib.ganshot_jack_clock_detach(self.mixer._state, self.clock)
        lib.ganshot_jack_clock_close(self.clock)


def hit(frames: int = 64) -> np.ndarray:
    audio = np.zeros(frames, np.float32)
    audio[0] = 0.5
    return audio


@pytest.fixture
def jack():
    fakes = []

    def make(period: int) -> FakeJack:
        fakes.append(FakeJack(period))
        return fakes[-1]

    yield make
    for fake in fakes:
        fake.close()


@pytest.mark.parametrize("period", [64, 65, 128])
@pytest.mark.parametrize("stall_periods", [2, 3, 14])
@pytest.mark.parametrize("second_wake", [True, False])
def test_a_stall_does_not_move_what_comes_after_it(jack, period, stall_periods, second_wake):
    fake = jack(period)
    for _ in range(4):
        fake.wake()
    first = fake.mixer.frame  # mixer frame of the next block = JACK frame fake.cycle + period
    offset = (fake.cycle + period - 1000) - first  # JACK timeline index of a mixer frame, before the stall
    fake.mixer.play(hit(), 1.0, 1.0, start_frame=first + 10)
    fake.mixer.play(hit(), 1.0, 1.0, start_frame=first + 12345)
    for _ in range(20):
        fake.wake()
    fake.stall(stall_periods, second_wake)
    for _ in range(12345 // period + 20):
        fake.wake()
    onsets = np.flatnonzero(fake.heard == 0.5)
    assert list(onsets) == [first + 10 + offset, first + 12345 + offset]
    counters = fake.mixer.counters()
    # JACK ran (stall_periods - 1) cycles without us: the lock mixed them unheard, all but the one
    # that the extra wake-up mixes (its block is overwritten in JACK's buffer by the next one)
    assert counters["frames_caught_up"] == (stall_periods - 1 - second_wake) * period
    assert counters["clock_rebases"] == 0


def test_a_late_wake_that_catches_up_by_itself_changes_nothing(jack):
    fake = jack(128)
    for _ in range(3):
        fake.wake()
    fake.stall(1, second_wake=True)  # late by one cycle: the extra wake-up mixes it
    fake.wake()
    assert fake.mixer.counters()["frames_caught_up"] == 0


def test_scheduled_events_in_the_lost_cycles_start_there_unheard(jack):
    fake = jack(64)
    for _ in range(2):
        fake.wake()
    inside = fake.mixer.frame + 64 * 3  # falls in a cycle JACK ran without us
    fake.mixer.play(hit(640), 1.0, 1.0, start_frame=inside)
    fake.stall(8, second_wake=True)
    counters = fake.mixer.counters()
    assert counters["late_starts"] == 0 and counters["frames_caught_up"] == 6 * 64


@pytest.mark.parametrize("jump", ["backwards", "too far"])
def test_a_clock_that_jumps_starts_the_lock_afresh(jack, jump):
    fake = jack(64)
    for _ in range(3):
        fake.wake()
    target = fake.cycle - 64 * 10 if jump == "backwards" else fake.cycle + lib.GANSHOT_CLOCK_MAX_CATCH_UP + 6400
    fake.wake(target)
    frame = fake.mixer.frame
    fake.wake()
    counters = fake.mixer.counters()
    assert counters["clock_rebases"] == 1 and counters["frames_caught_up"] == 0
    assert fake.mixer.frame == frame + 64  # and plays on from there


def test_blocks_other_than_the_period_leave_the_clock_alone(jack):
    fake = jack(64)
    for _ in range(3):
        fake.wake(frames=32)
    fake.wake(fake.cycle + 64 * 5, frames=32)
    assert fake.mixer.counters()["frames_caught_up"] == 0


def test_the_lock_mixes_nothing_offline(jack):
    fake = jack(64)
    fake.mixer.render(256)  # render() never consults the JACK clock
    assert fake.mixer.counters()["frames_caught_up"] == 0 and fake.mixer.frame == 256


def test_the_callback_measures_its_own_cpu_per_heard_block_and_never_blocks(jack):
    """The real-time contract's figures: CPU time per block heard (a catch-up's frames divided out,
    so a stall's unheard mixing does not read as a slow callback) and callbacks that blocked."""
    fake = jack(128)
    rng = np.random.default_rng(0)
    for _ in range(32):  # voices to mix, so a block costs measurable CPU
        fake.mixer.play(rng.uniform(-0.01, 0.01, 60000).astype(np.float32), 0.5, 0.5)
    for _ in range(20):
        fake.wake()
    fake.mixer.reset_peaks()
    fake.wake()
    steady = fake.mixer.counters()
    assert steady["callback_waits"] == 0  # no lock, no GIL, no page wait inside the callback
    assert 0 < steady["max_callback_cpu_ns"] <= steady["max_callback_ns"]
    assert sum(steady["callback_cpu_hist"]) == steady["callbacks"] == 21  # every callback in one bin
    assert callbacks_over(steady["callback_cpu_hist"], 1) == 21 and callbacks_over(steady["callback_cpu_hist"], 1e9) == 0
    fake.mixer.reset_peaks()
    fake.stall(100, second_wake=False)  # one wake-up mixes 98 unheard periods and the one heard
    stalled = fake.mixer.counters()
    assert stalled["frames_caught_up"] - steady["frames_caught_up"] == 98 * 128
    assert stalled["callback_waits"] == 0
    # wall time holds all 99 blocks' mixing; CPU per heard block holds one (preemption only adds wall)
    assert stalled["max_callback_cpu_ns"] * 20 < stalled["max_callback_ns"], stalled
    # the stall's callback lands in the histogram by its CPU per heard block, not by its 99 blocks' work
    added = [b - a for a, b in zip(steady["callback_cpu_hist"], stalled["callback_cpu_hist"])]
    (bin_,) = [k for k, n in enumerate(added) if n]  # the one callback of the stall
    assert added[bin_] == 1
    assert 2 ** bin_ * 1e3 <= stalled["max_callback_cpu_ns"] < 2 ** (bin_ + 1) * 1e3 or bin_ == 0
    fake.mixer.reset_peaks()
    assert fake.mixer.counters()["max_callback_cpu_ns"] == 0
