"""``ganshot serve`` on a private JACK server, driven over OSC (the tests record it with
tests/support/period_capture.py): the set-up the oscsend and Pure Data tests share
(:class:`Served`, :func:`single_hit`, :func:`assert_hit_at`, :func:`saved_kit_for`)."""

from __future__ import annotations

import dataclasses
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from . import kit_for
from .jack import hit_onsets  # noqa: F401 - re-exported: the OSC and Pd tests find hits with it

RATE, BLOCK = 48000, 128


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen, sig=signal.SIGINT, timeout: float = 15.0) -> None:
    """Stop a process this test started, by its pid: ``sig`` first, SIGKILL if it does not go."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class Served:
    """``python -m ganshot serve`` on the JACK server of ``env``, with OSC on a free port.

    ``port`` is read from its "OSC on HOST:PORT" line; ``stop()`` ends it with Ctrl-C (SIGINT),
    as a user would, and returns everything it wrote to stderr. ``--no-midi``: the MIDI bridge
    has tests of its own, and its JACK MIDI clients would only add scheduling load here.
    """

    def __init__(self, env: dict, kit_path, render_dir, *extra: str, duration_s: float = 60.0):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ganshot", "serve", "--kit", str(kit_path), "--backend", "onnx", "--device",
             "system", "--sample-rate", str(RATE), "--block-size", str(BLOCK), "--osc-port", "0",
             "--osc-render-dir", str(render_dir), "--duration", str(duration_s), "--no-midi", *extra],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._seen: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._wait_for_port()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))
            self._seen.put(line)

    def _wait_for_port(self, timeout_s: float = 30.0) -> int:
        found = self.wait_for(r"OSC on [\d.]+:(\d+)", timeout_s)
        if found is None:
            _stop(self.process)
            raise AssertionError("ganshot serve did not start its OSC server:\n" + "\n".join(self.lines[-20:]))
        return int(found.group(1))

    def wait_for(self, pattern: str, timeout_s: float = 30.0):
        """The match of the next stderr line that ``pattern`` (a regex) finds; None when serve
        exits or ``timeout_s`` passes first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._seen.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            found = re.search(pattern, line)
            if found:
                return found
        return None

    def stop(self) -> str:
        _stop(self.process)
        time.sleep(0.05)  # the reader thread drains the pipe
        return "\n".join(self.lines)


def playback_latency_frames(env: dict) -> int:
    """JACK's playback latency of system:playback_1: frames between the graph and the (dummy) DAC."""
    listing = subprocess.run(["jack_lsp", "-l", "system:playback_1"], env=env, capture_output=True, text=True,
                             timeout=5).stdout
    return int(re.search(r"port playback latency = \[ (\d+)", listing).group(1))


def single_hit(bundle, kit, pad: int) -> tuple[np.ndarray, int]:
    """(the offline render of one velocity-1 hit of ``pad`` up to its last sound, float32[frames, 2];
    its first non-zero frame)."""
    from ganshot.engine.engine import Engine
    from ganshot.engine.offline import render_events

    with Engine(bundle, kit, sample_rate=RATE, backend="onnx") as engine:
        audio = render_events(engine, [(0.0, kit.pads[pad].note, 127)])
    sounding = np.flatnonzero(np.any(audio != 0, axis=1))
    return audio[:sounding[-1] + 1], int(sounding[0])


def assert_hit_at(capture: np.ndarray, onset: int, hit: np.ndarray, lead: int, what: str) -> None:
    """The capture holds ``hit`` exactly, starting ``lead`` frames before ``onset``."""
    start = onset - lead
    live = capture[start:start + len(hit)]
    assert len(live) == len(hit), f"{what}: the capture ends {len(hit) - len(live)} frames early"
    differ = np.flatnonzero(np.any(live != hit, axis=1))
    assert not len(differ), (f"{what}: {len(differ)} frames differ from the offline render, first at "
                             f"{differ[0]}: {live[differ[0]]} vs {hit[differ[0]]}")


def saved_kit_for(bundle, folder: Path):
    """kit_for(bundle) (4 pads) with its model path, saved in ``folder``; -> (Kit, path)."""
    from ganshot.engine.kit import ModelRef, save_kit

    kit = dataclasses.replace(kit_for(bundle), model=ModelRef.of(bundle, path=str(bundle.path)))
    return kit, save_kit(kit, Path(folder) / "kit.json")
