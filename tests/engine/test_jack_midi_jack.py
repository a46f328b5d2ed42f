"""The C mixer's JACK MIDI input on a real realtime JACK dummy server, measured in JACK frames.

A host process runs a Mixer, its PortAudio stream and a JackMidiInput whose note table maps
notes 36 and 38 to a short click. A probe process (tests/support/jack_midi_probe.py, a JACK
client of its own) writes note-ons at known JACK frames (offsets 0..127 into the period) and
captures PortAudio's output with the JACK frame of every period. Each note's click must begin
exactly one period after its send frame: frames, never wall-clock time, so a loaded machine
cannot make it flake; a period the probe lost (an xrun) is seen and the notes around it are
left out (most notes must remain). Also checked: a CC and a note the table does not map come
back to Python with their JACK frames; nothing is dropped; the late-note counter stays 0 for
the notes measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.jack_client import client_command

pytestmark = pytest.mark.jack

PROBE = str(Path(__file__).resolve().parents[1] / "support" / "jack_midi_probe.py")
OFFSETS = (0, 1, 17, 63, 64, 100, 126, 127)
NOTE_EVERY_CYCLES = 24  # 64 ms at 48 kHz / 128: the click (32 frames) has long ended
CLICK_FRAMES = 32

HOST = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
from jack_client import wait_until
import numpy as np
from ganshot.engine.audio_stream import AudioStream
from ganshot.engine.jack_midi import JackMidiInput, NoteSpec
from ganshot.engine.mixer import Mixer

args = json.loads(sys.argv[1])
mixer = Mixer(args["sample_rate"])
click = np.zeros(args["click_frames"], np.float32)
click[:] = 0.5
click.flags.writeable = False
stream = AudioStream(mixer, device="system", sample_rate=args["sample_rate"], block_size=args["block_size"])
stream.start()
wait_until(lambda: mixer.frame >= args["sample_rate"] // 4, 10, "the stream to run")
midi = JackMidiInput(mixer, port_name="in")
gains = np.ones(128, np.float32)
midi.publish({36: NoteSpec(click, 1.0, 1.0, 0, 0), 38: NoteSpec(click, 0.5, 0.5, 1, 1)}, gains)
print(json.dumps({"ready": True, "port": midi.port_name}), flush=True)
sys.stdin.readline()
time.sleep(0.2)
messages = [[m.data.hex(), m.jack_frame, m.pad] for m in midi.pop()]
report = {"counters": midi.counters(), "mixer": mixer.counters(), "messages": messages}
midi.close()
stream.close()
print(json.dumps(report), flush=True)
"""


def probe_plan(count: int):
    notes = []
    for k in range(count):
        notes.append([8 + k * NOTE_EVERY_CYCLES, OFFSETS[k % len(OFFSETS)], 0x90, 36 if k % 2 == 0 else 38, 100])
    last = notes[-1][0]
    notes.append([last + 4, 5, 0xB0, 21, 64])  # a CC: forwarded to Python
    notes.append([last + 5, 6, 0x90, 50, 64])  # a note the table does not map: forwarded
    return notes, last + NOTE_EVERY_CYCLES


def test_notes_start_one_period_after_their_send_frame(jack_server):
    server = jack_server(sync=True)
    host = subprocess.Popen(client_command(HOST, {"sample_rate": server.sample_rate, "block_size": server.block_size,
                                                  "click_frames": CLICK_FRAMES}),
                            env=server.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = host.stdout.readline()
        assert line, f"host failed (rc {host.wait(timeout=10)})"
        ready = json.loads(line)
        notes, cycles = probe_plan(16)
        probe = subprocess.run([sys.executable, PROBE, json.dumps(
            {"target": ready["port"], "source": "PortAudio:out_0", "notes": notes, "cycles": cycles})],
            env=server.env, capture_output=True, text=True, timeout=120)
        assert probe.returncode == 0, probe.stderr[-2000:]
        result = json.loads(probe.stdout.splitlines()[-1])
        host.stdin.write("done\n")
        host.stdin.flush()
        report = json.loads(host.stdout.readline())
        assert host.wait(timeout=30) == 0
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
    period, frames = result["period"], result["cycle_frames"]
    assert period == server.block_size
    lost = [b for a, b in zip(frames, frames[1:]) if (b - a) & 0xFFFFFFFF != period]
    note_sends = [s[0] for s in result["sends"] if s[1] == 0x90 and s[2] in (36, 38)]
    assert len(note_sends) == 16, result["sends"]
    onsets = set(result["onsets"])

    def clean(send):  # no lost period from one period before the note to two after its click
        return not any(send - period <= f <= send + 3 * period for f in lost)

    measured = [s for s in note_sends if clean(s)]
    assert len(measured) >= 12, f"too many notes next to lost periods: {len(lost)} lost"
    offsets = {s: sorted(((o - s) & 0xFFFFFFFF) for o in onsets if 0 <= ((o - s) & 0xFFFFFFFF) < 8 * period)[:1]
               for s in measured}
    wrong = {s: d for s, d in offsets.items() if d != [period]}
    assert not wrong, f"note -> onset in frames (want {period}): {wrong}; lost periods {lost[:5]}"
    counters = report["counters"]
    assert counters["notes_played"] == 16 and counters["note_ring_drops"] == 0
    assert counters["other_ring_drops"] == 0 and counters["garbage"] == 0
    forwarded = {(hexdata, pad) for hexdata, _frame, pad in report["messages"]}
    assert ("b01540", None) in forwarded and ("903240", None) in forwarded
    played = [m for m in report["messages"] if m[2] is not None]
    assert [m[1] for m in played] == note_sends  # played notes come back with their JACK frames
    assert {m[2] for m in played} == {0, 1}
