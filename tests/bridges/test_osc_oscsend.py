"""A real OSC peer: liblo's oscsend plays a pad, oscdump sees the /status.reply and /fail replies."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import threading
import time

import numpy as np
import pytest

from ganshot.bridges.osc.addresses import STATUS_FIELDS
from ganshot.bridges.osc.server import OscServer
from ganshot.engine.engine import Engine
from tests.support import kit_for

RATE = 48000
pytestmark = pytest.mark.needs("oscsend", "oscdump", hint="Debian: liblo-tools")


@pytest.fixture
def engine(tiny_bundle):
    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=RATE, backend="onnx") as eng:
        yield eng


def oscsend(port: int, *words: str) -> None:
    subprocess.run(["oscsend", "localhost", str(port), *words], check=True, timeout=10, capture_output=True)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_oscsend_triggers_a_pad(engine, tmp_path):
    with OscServer(engine, port=0, render_dir=tmp_path) as server:
        oscsend(server.port, "/pad/trigger", "if", "0", "1.0")
        end = time.monotonic() + 5
        while server.counters()["accepted"] < 1 and time.monotonic() < end:
            time.sleep(0.01)
        assert engine.status()["triggers"] == 1 and server.counters()["accepted"] == 1
    out = engine.mixer.render(len(engine.pad_buffer(0)) + 1024)
    assert engine.status()["voices"] == 0 and np.abs(out).max() > 0  # the hit sounded through the mixer


class OscDump:
    """``oscdump -L PORT`` in the background; lines arrive on a queue. Stopped by its pid."""

    def __init__(self, port: int):
        self.process = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def wait_for(self, needle: str, resend, timeout: float = 10.0) -> str:
        """Call ``resend()`` until a line containing ``needle`` arrives (oscdump may still be starting)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            resend()
            try:
                while True:
                    line = self.lines.get(timeout=0.3)
                    if needle in line:
                        return line.split(None, 1)[1]  # drop oscdump's timestamp
            except queue.Empty:
                continue
        raise AssertionError(f"oscdump printed no {needle!r} line within {timeout} s")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def test_oscsend_status_and_fail_replies_reach_oscdump(engine, tmp_path):
    dump_port = free_udp_port()
    dump = OscDump(dump_port)
    try:
        with OscServer(engine, port=0, reply_port=dump_port, render_dir=tmp_path) as server:
            line = dump.wait_for("/status.reply", lambda: oscsend(server.port, "/status"))
            assert line.split()[1] == "".join(tag for _, tag, _ in STATUS_FIELDS) and '"onnx-cpu"' in line and " 48000 " in line
            line = dump.wait_for("/fail", lambda: oscsend(server.port, "/pad/gain", "if", "0", "40"))
            assert line.startswith('/fail ss "/pad/gain" "gain_db must be in [-60, 12], got 40"')
            assert engine.kit.pads[0].gain_db == 0.0
    finally:
        dump.stop()
