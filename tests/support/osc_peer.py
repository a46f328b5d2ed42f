"""OSC server tests over real UDP on 127.0.0.1: an engine, servers on ephemeral ports, peers.

    with osc_engine(tiny_bundle) as engine:                    # 48 kHz, ONNX, a 4-pad kit
        with server_maker(tmp_path) as make_server:            # closes every server it made
            server = make_server(engine, max_ahead_s=5.0)      # started, port 0, renders in tmp_path
            with peer_maker() as peer_for:
                peer = peer_for(server)
                peer.send("/status"); status_values(peer.expect("/status.reply"))["received"]
    wait_for(lambda: engine.status()["triggers"] == 1)         # polls, 3 s
    dgram("/pad/gain", 0, -3.0)                                # one python-osc message's bytes

The same three as pytest fixtures (``engine``, ``make_server``, ``peer_for``) for a test module
that imports them: ``from tests.support.osc_peer import OSC_FIXTURES``, then
``engine_fixture, make_server_fixture, peer_for_fixture = OSC_FIXTURES``.
"""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from ganshot.bridges.osc.addresses import STATUS_FIELDS
from ganshot.bridges.osc.server import OscServer
from ganshot.engine.engine import Engine
from tests.support import kit_for

__all__ = ["RATE", "Peer", "osc_engine", "server_maker", "peer_maker", "status_values", "wait_for", "dgram",
           "OSC_FIXTURES"]

RATE = 48000


@contextmanager
def osc_engine(bundle):
    """An Engine for ``bundle`` at :data:`RATE` (ONNX); a FakeStream a test set is dropped at the end."""
    with Engine(bundle, kit_for(bundle), sample_rate=RATE, backend="onnx") as eng:
        yield eng
        eng.stream = None  # a FakeStream has nothing to close


@contextmanager
def server_maker(tmp_path):
    """Yields ``make(engine, **kwargs)``: a started OscServer (port 0, renders and kits under ``tmp_path``)."""
    servers = []

    def _make(engine, **kwargs):
        kwargs.setdefault("port", 0)
        kwargs.setdefault("render_dir", tmp_path / "renders")
        kwargs.setdefault("kit_dir", tmp_path)
        server = OscServer(engine, **kwargs).start()
        servers.append(server)
        return server

    try:
        yield _make
    finally:
        for server in servers:
            server.close()


class Peer:
    """A UDP socket on 127.0.0.1 that sends python-osc messages or raw bytes and reads the replies."""

    def __init__(self, port: int):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def send(self, address: str, *args) -> None:
        self.send_raw(dgram(address, *args))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def expect(self, address: str, timeout: float = 2.0) -> OscMessage:
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                message = OscMessage(self.sock.recv(65536))
            except socket.timeout:
                break
            if message.address == address:
                return message
        raise AssertionError(f"no {address} reply within {timeout} s")

    def close(self):
        self.sock.close()


@contextmanager
def peer_maker():
    """Yields ``peer_for(server)``: a :class:`Peer` sending to ``server``; all closed at the end."""
    peers = []

    def _peer(server):
        peers.append(Peer(server.port))
        return peers[-1]

    try:
        yield _peer
    finally:
        for peer in peers:
            peer.close()


def dgram(address: str, *args) -> bytes:
    """One OSC message to ``address``, built by python-osc (its types from the Python values)."""
    builder = OscMessageBuilder(address)
    for value in args:
        builder.add_arg(value)
    return builder.build().dgram


def status_values(reply: OscMessage) -> dict:
    """A /status.reply's arguments by their STATUS_FIELDS names."""
    return dict(zip((name for name, _, _ in STATUS_FIELDS), reply.params, strict=True))


def wait_for(predicate, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


@pytest.fixture(name="engine")
def _engine_fixture(tiny_bundle):
    with osc_engine(tiny_bundle) as eng:
        yield eng


@pytest.fixture(name="make_server")
def _make_server_fixture(tmp_path):
    with server_maker(tmp_path) as make:
        yield make


@pytest.fixture(name="peer_for")
def _peer_for_fixture():
    with peer_maker() as make:
        yield make


OSC_FIXTURES = (_engine_fixture, _make_server_fixture, _peer_for_fixture)  # bound to module names, pytest finds them
