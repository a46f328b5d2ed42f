"""MIDI clock in for real: ``ganshot serve --midi-clock-in virtual`` on a private JACK server; a
JACK MIDI client (python-rtmidi, in its own process) sends Start and 24 ticks a beat at 150 bpm to
ganshot's "ganshot clock in" port; /pattern/status (asked over a UDP socket) shows the transport
running, following the external clock, at 150 bpm."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from ganshot.bridges.osc.validate import encode_message, parse_datagram
from tests.support.osc_jack import Served, saved_kit_for

SENDER = r"""
import sys, time
import rtmidi
out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="clock-source")
ports = out.get_ports()
wanted = [i for i, name in enumerate(ports) if "ganshot clock in" in name]
if len(wanted) != 1:
    raise SystemExit(f"no ganshot clock input among {ports}")
out.open_port(wanted[0])
time.sleep(0.3)  # the connection settles
period = 60.0 / (24 * float(sys.argv[1]))
out.send_message([0xFA])
start = time.monotonic()
for k in range(24 * 8):  # eight beats
    delay = start + k * period - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    out.send_message([0xF8])
time.sleep(0.2)
out.close_port()
print("sent")
"""


def pattern_status(port: int) -> dict:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(encode_message("/pattern/status", "", ()), ("127.0.0.1", port))
        reply = parse_datagram(sock.recv(65536))
    assert reply.address == "/pattern/status.reply", reply
    return json.loads(reply.args[0])


@pytest.mark.jack
@pytest.mark.slow
def test_serve_follows_a_jack_midi_clock(jack_server, tiny_bundle, tmp_path):
    pytest.importorskip("rtmidi")
    kit, kit_path = saved_kit_for(tiny_bundle, tmp_path)
    server = jack_server()
    served = Served(server.env, kit_path, tmp_path / "renders", "--midi-clock-in", "virtual", "--tempo", "100")
    try:
        before = pattern_status(served.port)
        assert before["external"] and not before["running"] and before["tempo_bpm"] == 100.0
        sent = subprocess.run([sys.executable, "-c", SENDER, "150"], env=server.env, capture_output=True, text=True,
                              timeout=60)
        assert sent.returncode == 0 and "sent" in sent.stdout, sent.stderr
        after = pattern_status(served.port)
    finally:
        said = served.stop()
    assert "Traceback" not in said and "MIDI clock in: ganshot clock in" in said, said
    assert after["running"] and abs(after["tempo_bpm"] - 150.0) < 1.0, after
