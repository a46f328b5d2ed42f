"""The MIDI bench's instruments (bench/midi.py): the sender process and the pollers that time what it sent.

Cheat sheet::

    subprocess.Popen([sys.executable, "-c", SENDER, json.dumps(plan)], ...)   # JACK MIDI out -> "ganshot"
    sampler = ClockSampler(stream, mixer, notes)     # every 0.5 ms: (time, frame heard, mixer frame, offset)
    sampler.at(t)                                    # the last sample at or before monotonic t
    watch = BufferWatch(engine, pad, poll_s)         # the monotonic time of each new pad buffer
    changes = watch.stop(); next_after(np.asarray(changes), t)
    stats(values_ms)                                 # "p50 / p99 / max ms"

``SENDER`` runs in its own process (its own GIL) with python-rtmidi: it prints the probe
note-on send times as one JSON line, waits for a line on stdin ("go"), then sends the lone CC
moves and the sweeps and prints their send times. Both sides read ``time.monotonic()``.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np

__all__ = ["SENDER", "ClockSampler", "BufferWatch", "next_after", "percentile", "stats"]

SENDER = r"""
import json, random, sys, time
import rtmidi

a = json.loads(sys.argv[1])
out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="bench")
names = out.get_ports()
index = [i for i, name in enumerate(names) if name.split(":", 1)[-1] == "ganshot"]
if len(index) != 1:
    raise SystemExit(f"no single 'ganshot' input among {names}")
out.open_port(index[0], "out")
time.sleep(0.3)  # the connection is made in the JACK graph
rng = random.Random(1)

sends = []
for _ in range(a["probes"]):
    sends.append(time.monotonic())
    out.send_message([0x99, a["note"], 127])  # channel 10
    time.sleep(a["probe_gap_s"] * rng.uniform(0.9, 1.1))
print(json.dumps({"probe_sends": sends}), flush=True)
sys.stdin.readline()  # "go": the host polls the buffer now

cc = 0xB0
moves, value = [], 64
for _ in range(a["moves"]):
    value = (value + rng.randrange(20, 100)) % 128  # a new position each time: no render cache hit
    moves.append((time.monotonic(), value))
    out.send_message([cc, a["cc"], value])
    time.sleep(a["move_gap_s"])
sweeps = []
for k in range(a["sweeps"]):
    n = a["sweep_values"]
    lo = rng.randrange(0, 128 - n) if n < 128 else 0
    values = list(range(lo, lo + n)) if k % 2 == 0 else list(range(lo + n - 1, lo - 1, -1))
    sent = []
    for v in values:
        sent.append((time.monotonic(), v))
        out.send_message([cc, a["cc"], v])
        time.sleep(a["sweep_step_s"])
    sweeps.append(sent)
    time.sleep(a["sweep_gap_s"])
out.close_port()
print(json.dumps({"moves": moves, "sweeps": sweeps}), flush=True)
"""


def percentile(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def stats(values, digits: int = 2) -> str:
    return (f"{percentile(values, 50):.{digits}f} / {percentile(values, 99):.{digits}f} / "
            f"{max(values, default=math.nan):.{digits}f} ms")


class ClockSampler:
    """Every ``poll_s``: (monotonic time, stream frame heard then, mixer frame, C input's mixer - JACK frame)."""

    def __init__(self, stream, mixer, notes, poll_s: float = 0.0005):
        self.stream, self.mixer, self.notes, self.poll_s = stream, mixer, notes, poll_s
        self.samples: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-clock", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.poll_s):
            now = time.monotonic()
            offset = self.notes.input.counters().get("mixer_minus_jack", 0) if self.notes else 0
            self.samples.append((now, self.stream.frame_at_monotonic(now), self.mixer.frame, offset))

    def at(self, t: float) -> tuple:
        """The last sample taken at or before ``t``."""
        times = [s[0] for s in self.samples]
        i = max(0, int(np.searchsorted(times, t, side="right")) - 1)
        return self.samples[i]

    def stop(self):
        self._stop.set()
        self._thread.join(5)


class BufferWatch:
    """Polls ``engine.pad_buffer(pad)`` and notes the monotonic time of each new buffer object."""

    def __init__(self, engine, pad: int, poll_s: float):
        self.engine, self.pad, self.poll_s = engine, pad, poll_s
        self.changes: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-buffer-watch", daemon=True)
        self._thread.start()

    def _run(self):
        last = self.engine.pad_buffer(self.pad)
        while not self._stop.wait(self.poll_s):
            buffer = self.engine.pad_buffer(self.pad)
            if buffer is not last:
                self.changes.append(time.monotonic())
                last = buffer

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(5)
        return self.changes


def next_after(changes: np.ndarray, t: float) -> float | None:
    i = int(np.searchsorted(changes, t, side="right"))
    return float(changes[i]) if i < len(changes) else None
