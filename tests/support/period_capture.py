"""A JACK capture that stamps every period: what the engine produced, on JACK's frame timeline.

jack_capture writes what it hears through a ring buffer and a disk thread; on a loaded machine
that thread starves and a whole period goes missing from the WAV without a word, so two hits
12345 frames apart were measured 12217 (block 128) or 12280 (block 65) apart. This client
keeps every period in memory with ``jack_last_frame_time`` (the JACK frame at which that
period starts), so a lost period leaves a visible hole on the timeline instead of pulling the
later frames early, and distances are read in JACK frames, as the engine produced them.

Run as a script (by :func:`jack_client.start_period_capture`, in its own process so a busy
Python thread of the player cannot hold the GIL its JACK callback needs; on a ``jackd -R``
server that callback runs on a realtime thread)::

    python period_capture.py OUT.npz SECONDS PortAudio:out_0 PortAudio:out_1

It connects one input per source, prints ``ready`` once its first period is in, and stops
after SECONDS of periods or at SIGINT/SIGTERM, writing OUT.npz atomically. A period is kept
as "in time" only when the callback finished before its cycle ended (``frames_since_cycle_start``
below one block); a late one may hold the next cycle's data and counts as lost. On a synchronous
server (``GANSHOT_TEST_JACK_SYNC=1`` in the environment, set by tests/support/jack.py) every cycle
waits for every client, so a late callback still reads its own cycle and is kept.

Read it in the test (numpy only)::

    capture = read_period_capture(path)
    capture.onsets(0.5, channel=0)         # JACK frames where channel 0 first goes above 0.5
    capture.hits()                          # first frames of hits separated by SILENCE zero frames
    capture.complete(start, stop)           # every frame of [start, stop) captured in time?
    capture.lost_periods, capture.xruns     # what went missing, and JACK's xrun callbacks
    capture.unix_at(frame)                  # time.time() of a JACK frame (JACK's frame clock)
    capture.audio, capture.present          # float32[frames, channels], bool[frames] from first_frame
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

SILENCE = 256  # zero frames that separate two hits (as tests/support/jack.py)
CLOCK_PAIRS = 64  # read at the end, as well as one every CLOCK_EVERY_S while capturing
CLOCK_EVERY_S = 0.02
NEAREST_PAIRS = 9

__all__ = ["PeriodCapture", "read_period_capture", "SILENCE"]


@dataclass(frozen=True)
class PeriodCapture:
    """A capture laid on JACK's frame timeline. ``audio[i]`` is JACK frame ``first_frame + i``;
    ``present[i]`` is False where its period was lost or read late (``audio`` is 0 there)."""

    audio: np.ndarray
    present: np.ndarray
    first_frame: int
    sample_rate: int
    block_size: int
    periods: int  # captured in time
    lost_periods: int  # missing or late between the first and the last period
    xruns: int  # JACK's xrun callbacks while capturing
    clock: tuple = ()  # ((frame, unix offset of first_frame) pairs as arrays, xrun frames), see unix_at

    def unix_at(self, frame: int) -> float:
        """The wall-clock time (``time.time()``) of JACK frame ``frame``, by JACK's own frame clock:
        pairs of (jack_frame_time, time.time()) read side by side every 20 ms while capturing. An
        xrun restarts the dummy driver's timeline (the late time is never caught up), so only pairs
        between the same two xruns as ``frame`` count; of those the median of the nearest 9."""
        if not self.clock or not len(self.clock[0]):
            raise AssertionError("this capture holds no clock pairs")
        frames, offsets, xruns = self.clock
        segment = lambda f: np.searchsorted(xruns, f, side="right")  # noqa: E731
        same = segment(frames) == segment(frame)
        pool = np.flatnonzero(same) if same.any() else np.arange(len(frames))
        nearest = pool[np.argsort(np.abs(frames[pool] - frame))[:NEAREST_PAIRS]]
        return float(np.median(offsets[nearest])) + (frame - self.first_frame) / self.sample_rate

    def onsets(self, threshold: float, channel: int = 0) -> list[int]:
        """JACK frames where ``channel`` goes above ``threshold`` (absolute value) from a captured
        frame at or below it; a run that starts right after a hole is not an onset one can place."""
        above = (np.abs(self.audio[:, channel]) > threshold) & self.present
        quiet_before = np.concatenate([[False], self.present[:-1] & ~above[:-1]])
        return (np.flatnonzero(above & quiet_before) + self.first_frame).tolist()

    def hits(self, silence: int = SILENCE) -> list[int]:
        """JACK frames of the first non-zero frame of each run that follows >= ``silence``
        captured zero frames (a hole in between does not count as silence)."""
        sounding = np.any(self.audio != 0, axis=1) & self.present
        quiet = np.convolve(~sounding & self.present, np.ones(silence, int), "full")[:len(sounding)] == silence
        starts = np.flatnonzero(sounding & np.concatenate([[False], quiet[:-1]]))
        return (starts + self.first_frame).tolist()

    def complete(self, start: int, stop: int) -> bool:
        """Every JACK frame of [start, stop) captured in time."""
        lo, hi = start - self.first_frame, stop - self.first_frame
        return 0 <= lo <= hi <= len(self.present) and bool(self.present[lo:hi].all())

    def frames(self, start: int, stop: int) -> np.ndarray:
        """``audio`` for JACK frames [start, stop) (which must lie inside the capture)."""
        lo, hi = start - self.first_frame, stop - self.first_frame
        if not 0 <= lo <= hi <= len(self.audio):
            raise ValueError(f"frames {start}..{stop} are outside the capture "
                             f"{self.first_frame}..{self.first_frame + len(self.audio)}")
        return self.audio[lo:hi]


def read_period_capture(path) -> PeriodCapture:
    """Load what the script wrote and lay its periods on the frame timeline."""
    with np.load(path) as data:
        frames, audio, late = data["frames"], data["audio"], data["late"]
        rate, block, xruns = int(data["sample_rate"]), int(data["block_size"]), int(data["xruns"])
        clock = (data["clock_frames"], data["clock_unix"], data["xrun_frames"]) if "clock_frames" in data else None
    if not len(frames):
        raise AssertionError(f"{path}: the capture holds no period")
    first = int(frames[0])
    offsets = (frames - first).astype(np.int64)  # 32-bit JACK frame times do not wrap in a test's seconds
    length = int(offsets[-1]) + block
    timeline = np.zeros((length, audio.shape[2]), np.float32)
    present = np.zeros(length, bool)
    for offset, period, was_late in zip(offsets, audio, late):
        if not was_late:
            timeline[offset:offset + block] = period
            present[offset:offset + block] = True
    kept = int(np.count_nonzero(~late))
    pairs = ()
    if clock is not None and len(clock[0]):
        def since(f):  # 32-bit JACK frames relative to the first captured one
            d = (np.asarray(f, np.int64) - first) % 2**32
            return np.where(d >= 2**31, d - 2**32, d)
        rel = since(clock[0])
        pairs = (rel + first, clock[1] - rel / rate, np.sort(since(clock[2]) + first))
    return PeriodCapture(timeline, present, first, rate, block, kept, length // block - kept, xruns, pairs)


def _main(argv) -> int:
    here = os.path.dirname(os.path.abspath(__file__))  # run as a script, its folder is on sys.path,
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]  # and tests/support/jack.py
    import jack  # the JACK-Client package

    out, seconds, sources = argv[0], float(argv[1]), argv[2:]
    client = jack.Client("period_capture", no_start_server=True)
    ports = [client.inports.register(f"in_{i + 1}") for i in range(len(sources))]
    block, rate = client.blocksize, client.samplerate
    total = int(math.ceil(seconds * rate / block))
    audio = np.zeros((total, block, len(ports)), np.float32)  # all memory up front: the callback only copies
    frames, late = np.zeros(total, np.int64), np.zeros(total, bool)
    state = {"n": 0, "xruns": 0}
    sync = os.environ.get("GANSHOT_TEST_JACK_SYNC") == "1"  # late callbacks still read their own cycle
    done = threading.Event()

    @client.set_process_callback
    def process(nframes):
        n = state["n"]
        if n >= total or nframes != block:
            done.set()
            return
        frames[n] = client.last_frame_time
        for channel, port in enumerate(ports):
            audio[n, :, channel] = port.get_array()
        late[n] = not sync and client.frames_since_cycle_start >= nframes
        state["n"] = n + 1

    clock, xrun_frames = [], []  # (jack_frame_time, time.time()) pairs; JACK frame times of xruns

    @client.set_xrun_callback
    def xrun(delay_us):
        state["xruns"] += 1
        xrun_frames.append(client.frame_time)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with client:
        for port, source in zip(ports, sources):
            client.connect(source, port)
        while state["n"] == 0 and not done.is_set():
            time.sleep(0.002)
        print("ready", flush=True)
        while not done.wait(CLOCK_EVERY_S):  # JACK's frame clock against the wall clock, side by side
            clock.append((client.frame_time, time.time()))
        clock += [(client.frame_time, time.time()) for _ in range(CLOCK_PAIRS)]
    n = state["n"]
    tmp = f"{out}.tmp.npz"
    np.savez(tmp, frames=frames[:n], audio=audio[:n], late=late[:n], sample_rate=rate, block_size=block,
             xruns=state["xruns"], clock_frames=np.array([c[0] for c in clock], np.int64),
             clock_unix=np.array([c[1] for c in clock], np.float64), xrun_frames=np.array(xrun_frames, np.int64))
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
