"""A private JACK server (dummy driver) per test: the real audio device on machines without one.

``jack_server(sample_rate, block_size)`` starts ``jackd -n NAME -R -d dummy`` under a name
unique to this test run and returns a JackServer whose ``env`` every JACK client of the
test must use (JACK_DEFAULT_SERVER=NAME, no autostart, no device reservation). The server is killed
by its pid when the test ends, pass or fail. sounddevice caches PortAudio's device list
when it is imported, so run PortAudio clients in a subprocess started with that env
(tests/jack_client.py: the helpers those client scripts share).

Helpers for what comes back: ``onsets`` (where a captured channel crosses a threshold) and
``jack_late_lines`` (jackd's xrun reports while the client measured).
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

JACK_TOOLS = ("jackd", "jack_lsp", "jack_capture")
_names = itertools.count()


@dataclass(frozen=True)
class JackServer:
    name: str
    env: dict  # run every JACK client of the test with this environment
    log_path: Path  # jackd's stdout+stderr: xrun reports name the late client
    sample_rate: int
    block_size: int


def _wait_for_ports(proc: subprocess.Popen, env: dict, log_path, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jackd exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            ports = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True, timeout=5).stdout
        except subprocess.TimeoutExpired:
            ports = ""
        if "system:playback_2" in ports:
            return
        time.sleep(0.1)
    raise RuntimeError(f"jackd did not answer jack_lsp within {timeout_s} s: {log_path.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def jack_server(tmp_path):
    """jack_server(sample_rate=48000, block_size=128) -> JackServer (a fresh jackd)."""
    missing = [tool for tool in JACK_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"needs {', '.join(missing)} (Debian: jackd2 jack-capture; `make test` installs them)")
    started: list[subprocess.Popen] = []

    def start(sample_rate: int = 48000, block_size: int = 128) -> JackServer:
        name = f"ganshot{os.getpid()}x{next(_names)}"
        env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1")
        log_path = tmp_path / f"{name}.log"
        # Realtime (-R) where the system allows it: on a loaded machine a non-realtime
        # dummy driver misses its own deadlines every few cycles. -r is the fallback.
        for mode in ("-R", "-r"):
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    ["jackd", "-n", name, mode, "-d", "dummy", "-r", str(sample_rate), "-p", str(block_size)],
                    env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            started.append(proc)
            try:
                _wait_for_ports(proc, env, log_path)
            except RuntimeError:
                _stop(proc)
                if mode == "-r":
                    raise
                continue
            return JackServer(name, env, log_path, sample_rate, block_size)
        raise AssertionError("unreachable")

    try:
        yield start
    finally:
        for proc in started:
            _stop(proc)


def onsets(channel: np.ndarray, threshold: float) -> list[int]:
    """First sample of each run above ``threshold`` (in absolute value)."""
    above = np.abs(channel) > threshold
    return np.flatnonzero(above & ~np.concatenate([[False], above[:-1]])).tolist()


def jack_late_lines(server: JackServer, window) -> list[str]:
    """jackd's xrun reports ("was not finished", "XRun") between the log offsets ``window = [start, end]``."""
    start, end = window
    said = server.log_path.read_bytes()[start:end].decode(errors="replace").splitlines()
    return [line for line in said if "was not finished" in line or "XRun" in line]
