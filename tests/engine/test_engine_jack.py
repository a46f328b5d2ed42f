"""The Engine served on a real JACK server (dummy driver), recorded period by period.

One PortAudio client per (sample rate, block size) runs in a subprocess (sounddevice
caches the device list of the JACK server it first saw). Through the command API it plays,
inside one capture (period_capture: float32, every period stamped with its JACK frame time, so
a period the loaded machine lost is a hole on the timeline and never shifts the hits after it):

1. two scheduled triggers ``GAP`` frames apart, then one immediate trigger (at_frame=None);
2. an event list (four pads with their own gains and pans, velocities, two chokes, one
   unmapped note) scheduled from one base frame with ``trigger_note``.

The capture must hold every hit at the frame it was scheduled for (one constant frame ->
capture offset for all of them), the immediate hit within one block of the mixer frame at
the call, and part 2 sample-identical to ``engine.offline.render_events`` of the same
events rendered in this process. The server runs in JACK's synchronous mode (tests/support/jack.py):
a client the loaded machine preempts makes the cycle late instead of losing it, so the capture has
no holes and nothing shifts, whatever the load. Underflows after start-up (PortAudio flags every
late cycle) are accepted while our callback stayed far inside its period
(assert_underflows_not_ours).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess

import numpy as np
import pytest

from tests.support import kit_for
from tests.support.jack import assert_callback_never_waited, assert_underflows_not_ours
from tests.support.jack_client import client_command
from tests.support.period_capture import read_period_capture

GAP = 7001  # frames between the scheduled hits: no multiple of a block size below, > a hit
CAPTURE_LIMIT_S = 60  # the capture's own limit; the player stops it once everything played
#: (time_s, GM note, velocity 0..127). Pads 2 and 3 (notes 38, 39) share choke group 1:
#: 39 at 0.08 s cuts 38 from 0.03 s, 39 at 0.26 s cuts 38 from 0.2 s. Note 41 has no pad.
EVENTS = [(0.0, 36, 127), (0.03, 38, 100), (0.05, 37, 64), (0.08, 39, 90), (0.125, 36, 40),
          (0.125, 37, 127), (0.2, 38, 127), (0.26, 39, 20), (0.3, 41, 100), (0.31, 36, 90)]
PAD_MIX = {0: {"pan": -0.6, "gain_db": -3.0}, 1: {"pan": 0.5}, 2: {"pan": 0.25, "gain_db": 2.0},
           3: {"pan": -0.2, "gain_db": -6.0}}

PLAYER = r"""
import json, os, signal, sys, time
sys.path.insert(0, sys.argv[2])
import functools, jack_client
wait_until = functools.partial(jack_client.wait_until, poll_s=0.005)
start_period_capture = jack_client.start_period_capture
from ganshot.engine.audio_stream import AudioStream
from ganshot.engine.bundle import load_bundle
from ganshot.engine.engine import Engine
from ganshot.engine.kit import load_kit

args = json.loads(sys.argv[1])
sr, block, gap = args["sample_rate"], args["block_size"], args["gap"]

engine = Engine(load_bundle(args["bundle"]), load_kit(args["kit"]), sample_rate=sr, backend="onnx")
mixer, hit = engine.mixer, engine.longest_buffer_frames()
stream = AudioStream(mixer, device="system", sample_rate=sr, block_size=block)
engine.stream = stream
stream.start()
wait_until(lambda: mixer.frame >= sr // 4, 120, "the stream to run")
capture = start_period_capture(args["capture"], args["capture_limit_s"])
mixer.reset_peaks()
before, log_from = mixer.counters(), os.path.getsize(args["jack_log"])
lead = stream.lead_frames

# 1. two scheduled triggers, then an immediate one
first = mixer.frame + lead + sr // 2  # a margin a starved player cannot overrun
tokens = [engine.trigger(0, 1.0, at_frame=first), engine.trigger_note(36, 1.0, at_frame=first + gap)]
wait_until(lambda: mixer.frame > first + gap + hit + sr // 50, 120, "the scheduled hits to play")  # then silence
frame_before = mixer.frame
tokens.append(engine.trigger(1, 1.0))  # at_frame=None: the next mixed block
frame_after = mixer.frame
wait_until(lambda: mixer.frame > frame_after + hit + lead, 120, "the immediate hit to play")

# 2. an event list scheduled from one base frame
base = mixer.frame + lead + sr // 2
for time_s, note, velocity in args["events"]:
    tokens.append(engine.trigger_note(note, velocity / 127.0, at_frame=base + int(round(time_s * sr))))
end = base + int(round(args["events"][-1][0] * sr)) + hit
wait_until(lambda: mixer.frame > end + lead + 2 * block, 120, "the events to play")
after, log_to = mixer.counters(), os.path.getsize(args["jack_log"])
clock = mixer._read_clock()
time.sleep(0.1)  # what was mixed has reached the capture
capture.send_signal(signal.SIGINT)  # it stops and writes its file on Ctrl-C
capture.wait(timeout=120)
latency_s = stream.latency_s
engine.close()
print(json.dumps({"before": before, "after": after, "tokens": tokens, "first": first, "base": base,
                  "frame_before": frame_before, "frame_after": frame_after, "block_frames": clock.block_frames,
                  "latency_s": latency_s, "lead_frames": lead, "capture_rc": capture.returncode,
                  "jack_log_window": [log_from, log_to], "unmapped": engine.triggers_unmapped}))
"""


def first_sound(audio: np.ndarray) -> int:
    return int(np.flatnonzero(np.any(audio != 0, axis=1))[0])


@pytest.fixture(scope="module")
def live_runs():
    """(sample_rate, block_size) -> (server, report, PeriodCapture): one JACK run serves both tests."""
    return {}


def _mixed_kit(bundle, folder):
    from ganshot.engine.kit import ModelRef, save_kit

    kit = dataclasses.replace(kit_for(bundle), model=ModelRef.of(bundle, path=str(bundle.path)))
    for index, changes in PAD_MIX.items():
        kit = kit.with_pad(index, **changes)
    return kit, save_kit(kit, folder / "mixed.json")


@pytest.fixture(scope="module")
def mixed_kit(tiny_bundle, tmp_path_factory):
    """kit_for(tiny_bundle) with its own gain and pan per pad, saved; -> (Kit, path)."""
    return _mixed_kit(tiny_bundle, tmp_path_factory.mktemp("kit"))


def live_run(live_runs, jack_server, tmp_path, tiny_bundle, mixed_kit, sample_rate, block_size):
    key = (sample_rate, block_size, str(tiny_bundle.path))
    if key not in live_runs:
        server = jack_server(sample_rate=sample_rate, block_size=block_size, sync=True)  # nothing is lost
        path = tmp_path / "capture.npz"
        args = {"sample_rate": sample_rate, "block_size": block_size, "gap": GAP, "capture": str(path),
                "capture_limit_s": CAPTURE_LIMIT_S, "jack_log": str(server.log_path), "events": EVENTS,
                "bundle": str(tiny_bundle.path), "kit": str(mixed_kit[1])}
        run = subprocess.run(client_command(PLAYER, args), env=server.env, capture_output=True, text=True,
                             timeout=360)
        assert run.returncode == 0, run.stderr[-3000:]
        report = json.loads(run.stdout.strip().splitlines()[-1])
        assert report["capture_rc"] == 0, report
        capture = read_period_capture(path)
        assert (capture.sample_rate, capture.block_size) == (sample_rate, block_size)
        live_runs[key] = (server, report, capture)
    return live_runs[key]


RATES_AND_BLOCKS = [(rate, block) for rate in (44100, 48000) for block in (64, 65, 128, 1024)]


@pytest.mark.jack
@pytest.mark.slow
@pytest.mark.parametrize("sample_rate, block_size", RATES_AND_BLOCKS)
def test_served_triggers_land_on_their_frames(live_runs, jack_server, tmp_path, tiny_bundle, mixed_kit,
                                              sample_rate, block_size):
    server, report, capture = live_run(live_runs, jack_server, tmp_path, tiny_bundle, mixed_kit, sample_rate,
                                       block_size)
    assert all(report["tokens"][:3]), report["tokens"]
    assert capture.lost_periods == 0  # a synchronous server loses no cycle of any client
    onsets = capture.hits()  # JACK frames
    assert len(onsets) >= 4, (f"hit onsets {onsets} in {len(capture.audio)} captured frames "
                              f"({capture.lost_periods} periods lost by the capture); {report}")
    # the scheduled pair: exactly GAP apart; it fixes the frame -> capture offset
    assert onsets[1] - onsets[0] == GAP
    offset = onsets[0] - report["first"]
    # the immediate trigger: the first frame of the block mixed after the call
    start = onsets[2] - offset
    block = report["block_frames"]
    assert block == block_size
    assert report["frame_before"] <= start <= report["frame_after"] + block, report
    latency_ms = ((start - report["frame_before"]) / sample_rate + report["latency_s"]) * 1e3
    print(f"{sample_rate} Hz, block {block_size}: immediate trigger started {start - report['frame_before']} "
          f"frames after the mixer frame at the call; + output latency {report['latency_s'] * 1e3:.2f} ms "
          f"= {latency_ms:.2f} ms")
    # the event list starts exactly on its base frame, by the same offset
    assert onsets[3] - offset == report["base"]

    after = report["after"]
    assert after["late_starts"] == 0 and after["commands_dropped"] == 0
    assert after["buffers_held"] == 0  # every buffer came back from the audio thread
    # the contract: our callback never blocked (a GIL wait would show here) and its own work stayed far
    # inside the deadline
    assert_callback_never_waited(after, block_size / sample_rate * 1e9, report)
    assert_underflows_not_ours(server, report)


@pytest.mark.jack
@pytest.mark.slow
@pytest.mark.parametrize("sample_rate, block_size", RATES_AND_BLOCKS)
def test_live_events_equal_the_offline_render(live_runs, jack_server, tmp_path, tiny_bundle, mixed_kit,
                                              sample_rate, block_size):
    _check_live_equals_offline(live_runs, jack_server, tmp_path, tiny_bundle, mixed_kit, sample_rate, block_size)


@pytest.mark.jack
@pytest.mark.slow
def test_a_specgan_kit_plays_live_as_offline(live_runs, jack_server, tmp_path, tiny_specgan_bundle, tmp_path_factory):
    """The same served run with a SpecGAN bundle (2-D generator, inverse STFT inside its ONNX graph)."""
    kit = _mixed_kit(tiny_specgan_bundle, tmp_path_factory.mktemp("specgan-kit"))
    _check_live_equals_offline(live_runs, jack_server, tmp_path, tiny_specgan_bundle, kit, 48000, 128)
    server, report, capture = live_runs[(48000, 128, str(tiny_specgan_bundle.path))]
    assert report["after"]["late_starts"] == 0 and report["after"]["buffers_held"] == 0


def _check_live_equals_offline(live_runs, jack_server, tmp_path, tiny_bundle, mixed_kit, sample_rate, block_size):
    from ganshot.engine.engine import Engine
    from ganshot.engine.offline import render_events

    server, report, capture = live_run(live_runs, jack_server, tmp_path, tiny_bundle, mixed_kit, sample_rate,
                                       block_size)
    with Engine(tiny_bundle, mixed_kit[0], sample_rate=sample_rate, backend="onnx") as engine:
        offline = render_events(engine, EVENTS)
        assert engine.triggers_unmapped == report["unmapped"] == 1
    assert all(report["tokens"][3:][i] for i, e in enumerate(EVENTS) if e[1] != 41)

    onsets = capture.hits()  # JACK frames
    assert len(onsets) >= 4, f"hit onsets {onsets} ({capture.lost_periods} periods lost by the capture)"
    start = onsets[3] - first_sound(offline)  # the first onset of the event list, aligned
    end = capture.first_frame + len(capture.audio)
    assert start + len(offline) <= end, f"the capture ends {start + len(offline) - end} frames too early"
    live = capture.frames(start, start + len(offline))
    assert capture.complete(start, end), f"the capture lost {capture.lost_periods} period(s)"
    assert_underflows_not_ours(server, report)
    differ = np.flatnonzero(np.any(live != offline, axis=1))
    assert not len(differ), (f"{len(differ)} frames differ, first at {differ[0]}: "
                             f"live {live[differ[0]]} vs offline {offline[differ[0]]}")
    assert np.abs(offline).max() > 0 and not np.any(capture.frames(start + len(offline), end))  # nothing else
