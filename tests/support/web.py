"""Helpers for the web page's tests: plain HTTP requests, an event-stream reader, the engine's
counters over OSC (an observer independent of the page), polling for state, a headless Chromium.

Cheat sheet::

    status, headers, body = http(url + "api/command", "POST", {"address": "/panic"})
    events = EventReader(url + "events"); events.wait_for("fail", timeout_s=30); events.close()
    counters = osc_status_json(osc_port)["engine"]        # /status.json over UDP
    poll(lambda: osc_status_json(port)["engine"]["triggers"] >= 1, "the trigger")
    driver = chromium(tmp_path)                           # skips (with the reason) without chromium
"""

from __future__ import annotations

import http.client as httpclient
import json
import os
import queue
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from . import missing

__all__ = ["http", "EventReader", "osc_status_json", "poll", "chromium", "artefacts_dir", "CHROMIUM", "CHROMEDRIVER"]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
POLL_TIMEOUT_S = 60.0  # generous: the machine may be busy; only state is asserted, never time


def http(url: str, method: str = "GET", data=None, headers=None, raw: bytes | None = None, timeout_s: float = 30.0):
    """One request -> (status, headers dict with lower-case names, body bytes); ``data`` is sent as JSON."""
    parts = urlsplit(url)
    conn = httpclient.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
    body = raw if raw is not None else (None if data is None else json.dumps(data).encode())
    sent = {"Content-Type": "application/json"} if body is not None else {}
    sent.update(headers or {})
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=sent)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class EventReader:
    """Reads a Server-Sent Events stream on a thread; ``wait_for(event, match)`` returns the first
    event of that name whose data satisfies ``match`` (events read before the call count too)."""

    def __init__(self, url: str, timeout_s: float = 30.0):
        parts = urlsplit(url)
        self._conn = httpclient.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
        self._conn.request("GET", parts.path)
        self.response = self._conn.getresponse()
        self.events: queue.Queue = queue.Queue()
        self.seen: list = []
        self.ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, data = None, []
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line and name is not None:
                    self.events.put((name, json.loads("\n".join(data))))
                    name, data = None, []
        except (OSError, ValueError):
            pass
        finally:
            self.ended.set()

    def wait_for(self, event: str, match=lambda data: True, timeout_s: float = POLL_TIMEOUT_S):
        for name, data in self.seen:
            if name == event and match(data):
                return data
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                name, data = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append((name, data))
            if name == event and match(data):
                return data
        raise AssertionError(f"no {event!r} event matched within {timeout_s} s; saw {[n for n, _ in self.seen][-20:]}")

    def close(self) -> None:
        try:
            self._conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self._conn.close()


def osc_status_json(port: int, host: str = "127.0.0.1", timeout_s: float = 30.0) -> dict:
    """``/status.json`` from the OSC server at ``port``: {"engine": {...}, "osc": {...}}."""
    from ganshot.bridges.osc.validate import encode_message, parse_datagram

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(1.0)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:  # a datagram may be lost on a busy machine: ask again
            sock.sendto(encode_message("/status.json", "", ()), (host, port))
            try:
                data, _ = sock.recvfrom(65536)
            except socket.timeout:
                continue
            message = parse_datagram(data)
            if message.address == "/status.json":
                return json.loads(message.args[0])
    raise AssertionError(f"no /status.json reply from OSC port {port} within {timeout_s} s")


def poll(check, what: str, timeout_s: float = POLL_TIMEOUT_S, every_s: float = 0.1):
    """Call ``check()`` until it returns something true; AssertionError naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout_s} s")
        time.sleep(every_s)


def artefacts_dir(tmp_path: Path, name: str) -> Path:
    """Where a test keeps pictures for people: $GANSHOT_TEST_ARTEFACTS/NAME, else tmp_path/artefacts."""
    root = os.environ.get("GANSHOT_TEST_ARTEFACTS")
    folder = Path(root) / name if root else Path(tmp_path) / "artefacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium(width_px: int = 1280, height_px: int = 1000):
    """A headless Chromium under selenium's Chrome driver; skips (CI: fails) with the reason when
    chromium, chromedriver or selenium is missing."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.access(path, os.X_OK) or shutil.which(Path(path).name)):
            missing(f"needs {path} (Debian: {package})")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("needs selenium (pip install selenium; the dev extra has it)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width_px},{height_px}", "--disable-background-networking",
                 "--disable-extensions", "--mute-audio"):
        options.add_argument(flag)
    service = Service(CHROMEDRIVER if os.access(CHROMEDRIVER, os.X_OK) else shutil.which("chromedriver"))
    return webdriver.Chrome(service=service, options=options)
