"""Real MIDI ports on a private JACK server (dummy driver), recorded with jack_capture.

A host process runs an Engine, its PortAudio stream (the C mixer) and the MIDI bridge started
from the serve flags (``--midi-in none --midi-channel 10``: only the virtual input "ganshot").
A player process opens a JACK MIDI output through python-rtmidi, connects it to "ganshot" by
name, plays notes (one on another channel, one unmapped, a note-off), bad input (sysex, clock,
active sensing, garbage bytes) and a fast CC 21 sweep on the pad it played last. Checks:

* jack_capture holds one hit per played note and nothing else; the two hits of pad 0 differ
  only by the velocity gain (127 vs 64, square law), sample for sample;
* the bad input is counted, never dropped or raised; no underflow is ours (the server is
  synchronous: a late client delays the cycle and loses none of its MIDI);
* the sweep changed the focused pad and its buffer is the render of the sweep's last position;
* ``midi-ports`` run by the player lists the player's own output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.support import kit_for
from tests.support.jack import assert_underflows_not_ours, hit_onsets
from tests.support.jack_client import client_command

JACK_ENV = {"MIDO_BACKEND": "mido.backends.rtmidi/UNIX_JACK"}
SWEEP = list(range(0, 128)) + list(range(127, 39, -1))  # ends on 40
LAST = SWEEP[-1]
CLOCKS_PER_NOTE_GAP = 6

HOST = r"""
import argparse, json, os, signal, sys, time
sys.path.insert(0, sys.argv[2])
import functools, jack_client
wait_until = functools.partial(jack_client.wait_until, poll_s=0.005)
start_capture = functools.partial(jack_client.start_capture, poll_s=0.005)
import numpy as np
from ganshot.bridges.midi.cli import add_midi_arguments, start_midi
from ganshot.engine.audio_stream import AudioStream
from ganshot.engine.bundle import load_bundle
from ganshot.engine.engine import Engine
from ganshot.engine.kit import load_kit

args = json.loads(sys.argv[1])
sr, block = args["sample_rate"], args["block_size"]

engine = Engine(load_bundle(args["bundle"]), load_kit(args["kit"]), sample_rate=sr, backend="onnx")
mixer = engine.mixer
stream = AudioStream(mixer, device="system", sample_rate=sr, block_size=block)
engine.stream = stream
stream.start()
wait_until(lambda: mixer.frame >= sr // 4, 10, "the stream to run")
parser = argparse.ArgumentParser()
add_midi_arguments(parser)
midi = start_midi(engine, parser.parse_args(args["midi_args"]))
capture = start_capture(args["capture_limit_s"], args["wav"])
mixer.reset_peaks()
before, log_from = mixer.counters(), os.path.getsize(args["jack_log"])
pad1_before = np.array(engine.pad_buffer(1))
print(json.dumps({"ready": True, "api": midi.backend.api}), flush=True)
sys.stdin.readline()  # the player is done
time.sleep(0.1)  # the last messages cross the poller
idle = midi.server.wait_idle(10) and engine.wait_ready(10)
time.sleep(0.3)  # the last hit has rung out and reached jack_capture
after, log_to = mixer.counters(), os.path.getsize(args["jack_log"])
capture.send_signal(signal.SIGINT)
capture.wait(timeout=30)
final = engine.pad_buffer(1)
fresh = engine.render(engine.pad_latent(1), engine.kit.pads[1].pitch_semitones)
report = {"idle": idle, "before": before, "after": after, "jack_log_window": [log_from, log_to],
          "capture_rc": capture.returncode, "midi": midi.counters(), "status": engine.status(),
          "directions": list(engine.kit.pads[1].directions), "focus": engine.focus,
          "last_rendered": bool(np.array_equal(final, fresh)), "changed": not np.array_equal(final, pad1_before),
          "renders": engine.worker.stats()["renders_done"], "hit_frames": engine.longest_buffer_frames()}
midi.close()
engine.close()
print(json.dumps(report), flush=True)
"""

PLAYER = r"""
import argparse, io, json, sys, time
import mido, rtmidi
from ganshot.bridges.midi.cli import cmd_midi_ports

plan = json.loads(sys.argv[1])
out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="player")
names = out.get_ports()
index = [i for i, name in enumerate(names) if name.split(":", 1)[-1] == "ganshot"]
if len(index) != 1:
    raise SystemExit(f"no single 'ganshot' input among {names}")
out.open_port(index[0], "out")
listing = io.StringIO()
cmd_midi_ports(argparse.Namespace(midi_api="auto"), out=listing)
time.sleep(0.3)  # the connection is made in the JACK graph
for raw, wait_s in plan:
    out.send_message(raw)
    if wait_s:
        time.sleep(wait_s)
time.sleep(0.1)
out.close_port()
print(json.dumps({"listing": listing.getvalue()}))
"""


def msg(kind, **fields) -> list[int]:
    import mido

    return mido.Message(kind, **fields).bytes()


def player_plan():
    """(raw bytes, seconds to wait after) in order, and what the host must count."""
    # Notes play at their arrival time + a fixed lead; one seen later than that (the first, on a
    # loaded machine, by up to ~0.25 s) plays at once, so the gap leaves room for that before two
    # hits of the same pad could run together in the capture.
    gap = 0.6
    clocks = [([0xF8], gap / CLOCKS_PER_NOTE_GAP)] * CLOCKS_PER_NOTE_GAP
    plan = [(msg("note_on", channel=9, note=36, velocity=127), 0.0), *clocks,
            (msg("note_on", channel=9, note=36, velocity=64), 0.0), *clocks,
            (msg("note_on", channel=0, note=38, velocity=127), 0.0),  # channel 1: filtered
            (msg("note_on", channel=9, note=60, velocity=127), 0.0),  # no pad on note 60
            (msg("note_off", channel=9, note=36), 0.0),
            ([0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF7], 0.0), ([0xFE], 0.0),  # sysex, active sensing
            ([0x12, 0x34], 0.0), ([0x99, 200, 3], 0.0), *clocks,  # garbage
            (msg("note_on", channel=9, note=37, velocity=100), gap)]  # pad 1: focus
    for i, value in enumerate(SWEEP):
        plan.append((msg("control_change", channel=0, control=21, value=value), 0.001))
        if i % 16 == 0:
            plan.append(([0xF8], 0.0))
    clock_count = sum(raw == [0xF8] for raw, _ in plan)
    return plan, clock_count


@pytest.mark.jack
@pytest.mark.slow
@pytest.mark.parametrize("note_path", ["c", "python"])
def test_notes_and_a_knob_sweep_through_real_jack_midi(jack_server, tiny_bundle, tmp_path, note_path):
    """``c``: notes played by the C mixer's own JACK MIDI input (serve's default on JACK), the rest
    forwarded to the Python server; ``python``: everything through rtmidi and the server."""
    import rtmidi
    import soundfile as sf

    from ganshot.engine.kit import ModelRef, save_kit
    from ganshot.engine.latent import velocity_gain

    if rtmidi.API_UNIX_JACK not in rtmidi.get_compiled_api():
        pytest.fail("python-rtmidi lacks JACK MIDI (Debian: apt install libjack-jackd2-dev, then reinstall "
                    "python-rtmidi)")
    server = jack_server(sample_rate=48000, block_size=256, sync=True)  # no MIDI lost to a late cycle
    env = dict(server.env, **JACK_ENV)
    kit = kit_for(tiny_bundle)
    kit = kit.__class__(name="jack", model=ModelRef.of(tiny_bundle, path=str(tiny_bundle.path)), pads=kit.pads)
    wav = tmp_path / "capture.wav"
    host_args = {"sample_rate": 48000, "block_size": 256, "bundle": str(tiny_bundle.path),
                 "kit": str(save_kit(kit, tmp_path / "kit.json")), "wav": str(wav), "capture_limit_s": 20,
                 "jack_log": str(server.log_path),
                 "midi_args": ["--midi-in", "none", "--midi-channel", "10", "--midi-api", "jack",
                               "--midi-notes", note_path]}
    host = subprocess.Popen(client_command(HOST, host_args), env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready = json.loads(host.stdout.readline() or "null")
        assert ready and ready["api"] == "jack", host.stderr.read()[-3000:] if host.poll() is not None else ready
        plan, clock_count = player_plan()
        player = subprocess.run([sys.executable, "-c", PLAYER, json.dumps(plan)], env=env, capture_output=True,
                                text=True, timeout=60)
        assert player.returncode == 0, player.stderr[-3000:]
        host_out, host_err = host.communicate("done\n", timeout=60)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait(timeout=10)
    assert host.returncode == 0, host_err[-3000:]
    report = json.loads(host_out.strip().splitlines()[-1])
    assert "player:out" in json.loads(player.stdout)["listing"]  # midi-ports lists what can be opened
    assert report["idle"] and report["capture_rc"] == 0

    midi = report["midi"]
    assert midi["dropped"] == 0 and midi["errors"] == 0 and midi["feed_errors"] == 0, midi
    assert (midi["sysex"], midi["active_sensing"], midi["clock"], midi["garbage"]) == (1, 1, clock_count, 2), midi
    in_c = midi.get("c_notes_played", 0)  # these never reach the Python server
    assert midi["note_path"] == note_path and in_c == (3 if note_path == "c" else 0), midi
    assert (midi.get("map_notes", 0) + in_c, midi["map_notes_filtered"], midi["map_notes_unmapped"],
            midi["map_note_offs"]) == (3, 1, 1, 1), midi
    assert midi["received"] + in_c == 6 + len(SWEEP) + 1, midi  # channel messages (+ the short garbage one)
    assert report["status"]["triggers"] == 3 and report["focus"] == 1

    # the sweep: rate-limited, its last position applied and rendered
    assert report["directions"][0] == pytest.approx(-1.0 + 2.0 * LAST / 127, abs=1e-12)
    assert report["changed"] and report["last_rendered"], report
    assert 0 < midi["knob_applied"] < len(SWEEP) // 2 and midi["knob_coalesced"] > 0, midi

    # the audio: one hit per note, velocity as gain, no glitch of ours
    audio, rate = sf.read(wav, dtype="float32", always_2d=True)
    assert rate == 48000
    onsets = hit_onsets(audio)
    assert len(onsets) == 3, f"hits at {onsets}"
    frames = report["hit_frames"]
    first, second = audio[onsets[0]:onsets[0] + frames], audio[onsets[1]:onsets[1] + frames]
    ratio = velocity_gain(64 / 127) / velocity_gain(1.0)
    np.testing.assert_allclose(second, first * ratio, rtol=1e-5, atol=1e-7)
    assert_underflows_not_ours(server, report)


@pytest.mark.jack
@pytest.mark.parametrize("poll", [True, False], ids=["polled", "callback"])
def test_jack_ports_that_appear_and_vanish(jack_server, monkeypatch, poll):
    """The watcher opens a real JACK MIDI output when it appears and closes it when it goes.
    ``callback`` runs rtmidi's callback path (what ALSA and CoreMIDI use) on JACK."""
    from ganshot.bridges.midi.ports import PortWatcher, RtMidiBackend

    server = jack_server(sample_rate=48000, block_size=256)
    for key, value in server.env.items():
        if key.startswith("JACK"):
            monkeypatch.setitem(os.environ, key, value)  # libjack reads them at client open
    got, lines = [], []
    backend = RtMidiBackend("jack", client_name="ganshot-test")
    backend.poll = poll
    watcher = PortWatcher(backend, ["hotplug"], lambda data, arrival_s: got.append(data), virtual_name=None,
                          interval_s=0.1, report=lines.append).start()
    code = ("import rtmidi, sys, time; o = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name='hotplug'); "
            "o.open_virtual_port('out'); print('up', flush=True); sys.stdin.readline(); "
            "o.send_message([0x99, 36, 100]); time.sleep(0.3)")
    try:
        peer = subprocess.Popen([sys.executable, "-c", code], env=server.env, text=True, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        assert peer.stdout.readline().strip() == "up"
        deadline = time.monotonic() + 10
        while watcher.opened != ["hotplug:out"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert watcher.opened == ["hotplug:out"]
        time.sleep(0.2)  # the connection is made in the JACK graph
        peer.communicate("go\n", timeout=30)
        deadline = time.monotonic() + 10
        while len(lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert watcher.opened == [] and got == [[0x99, 36, 100]]
        assert lines == ["MIDI input: hotplug:out", "MIDI input gone: hotplug:out"]
    finally:
        watcher.close()
        backend.close()
