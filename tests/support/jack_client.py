"""Helpers for the JACK client scripts that the jack tests run in subprocesses.

Each script is started with :func:`client_command`, which passes this folder as
``sys.argv[2]``; the script's first lines put it on ``sys.path`` and import from here::

    import json, sys
    sys.path.insert(0, sys.argv[2])
    from jack_client import start_capture, wait_until

    args = json.loads(sys.argv[1])

Only the standard library here: the scripts import it before anything of ganshot.
:func:`start_capture` runs jack_capture (a WAV of what reached the outputs);
:func:`start_period_capture` runs period_capture.py (every period with its JACK frame time,
so a period lost on a loaded machine is a hole, not a shift: use it to measure distances).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

TESTS_DIR = str(Path(__file__).resolve().parent)


def client_command(script: str, args) -> list[str]:
    """The argv that runs ``script`` (a ``python -c`` program) with ``args`` as JSON in argv[1]."""
    return [sys.executable, "-c", script, json.dumps(args), TESTS_DIR]


def wait_until(predicate, timeout_s: float, what: str, poll_s: float = 0.01) -> None:
    """Poll ``predicate`` every ``poll_s`` until true; exit the script with a message after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(poll_s)


def capture_connected() -> bool:
    """True once jack_capture's two inputs are connected to PortAudio's two outputs (and nothing else)."""
    links, port = {}, None
    for line in subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith(" "):
            links.setdefault(port, []).append(line.strip())
        else:
            port = line
    return all(links.get(f"jack_capture:input{i}") == [f"PortAudio:out_{i - 1}"] for i in (1, 2))


def start_capture(duration_s, wav: str, poll_s: float = 0.01) -> subprocess.Popen:
    """Start jack_capture (at most ``duration_s`` seconds of WAV into ``wav``), wait until it is
    connected to PortAudio's outputs and let the graph settle; returns its process."""
    capture = subprocess.Popen(["jack_capture", "--daemon", "-d", str(duration_s), "-f", "wav", wav])
    wait_until(capture_connected, 10, "jack_capture to connect", poll_s)
    time.sleep(0.2)  # let the graph settle after jack_capture joined
    return capture


PERIOD_CAPTURE = str(Path(__file__).resolve().parent / "period_capture.py")
PORTAUDIO_OUTPUTS = ("PortAudio:out_0", "PortAudio:out_1")


def start_period_capture(out: str, seconds: float, sources=PORTAUDIO_OUTPUTS, timeout_s: float = 120.0,
                         settle_s: float = 0.2, env: dict | None = None) -> subprocess.Popen:
    """Start period_capture.py (every period with its JACK frame time, into ``out`` .npz; read it
    with ``tests.support.period_capture.read_period_capture``) on ``sources``, in its own process
    on the JACK server of this environment. Returns once its first period is in and ``settle_s``
    passed; it stops by itself after ``seconds``, or at SIGINT/SIGTERM (then ``wait()`` for it).
    ``timeout_s`` only guards against a hang: a starved machine can take a minute to start Python.
    ``env``: the JACK server's environment (default: this process's)."""
    capture = subprocess.Popen([sys.executable, PERIOD_CAPTURE, str(out), str(seconds), *sources],
                               stdout=subprocess.PIPE, text=True, env=env)
    ready = threading.Timer(timeout_s, capture.terminate)  # a client that never gets a period is stopped
    ready.start()
    try:
        line = capture.stdout.readline()
    finally:
        ready.cancel()
    if line.strip() != "ready":
        capture.kill()
        capture.wait(5)
        raise SystemExit(f"period_capture did not start on {', '.join(sources)} (exit {capture.returncode})")
    time.sleep(settle_s)  # let the graph settle after the capture joined
    return capture


@contextlib.contextmanager
def period_captured(out: str, seconds: float, env: dict | None = None, **kwargs):
    """``with period_captured(path, 30, env=server.env):`` a :func:`start_period_capture` for the
    block's duration: stopped (SIGINT) and waited for when the block ends, however it ends."""
    capture = start_period_capture(str(out), seconds, env=env, **kwargs)
    try:
        yield capture
    finally:
        capture.send_signal(signal.SIGINT)
        capture.wait(timeout=30)
