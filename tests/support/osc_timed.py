"""Timed OSC for tests without a sound card: a fake running stream clock and bundle datagrams.

    engine.stream = FakeStream(engine.mixer.frame)        # frame0 heard now, 48 kHz
    sock.sendto(bundle(time.time() + 0.2, "/pad/trigger", 0, 1.0), ("127.0.0.1", port))
"""

from __future__ import annotations

import time

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

__all__ = ["FakeStream", "bundle"]


class FakeStream:
    """A running stream's clock: frame ``frame0`` is heard at ``t0`` (monotonic), ``rate`` frames a second."""

    active = True

    def __init__(self, frame0: int, rate: int = 48000):
        self.t0, self.frame0, self.rate, self.given = time.monotonic(), frame0, rate, []

    def frame_at_monotonic(self, t: float) -> int:
        self.given.append(self.frame0 + int(round((t - self.t0) * self.rate)))
        return self.given[-1]


def bundle(at_unix_s: float, address: str, *args) -> bytes:
    """One OSC bundle datagram timed ``at_unix_s`` holding one message to ``address``."""
    message = OscMessageBuilder(address)
    for value in args:
        message.add_arg(value)
    builder = OscBundleBuilder(at_unix_s)
    builder.add_content(message.build())
    return builder.build().dgram
