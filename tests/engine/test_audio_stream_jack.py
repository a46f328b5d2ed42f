"""AudioStream against a real JACK server (dummy driver), recorded period by period.

Two hits scheduled GAP frames apart by the frame counter must land exactly GAP frames
apart in what PortAudio's outputs played, on JACK's frame timeline (period_capture stamps
every period with its JACK frame time), with the C callback far inside its deadline (also with
a busy Python thread holding the GIL). The server is synchronous (tests/support/jack.py: a
preempted client makes the cycle late, nothing is lost), so the case measures the mixer, not
the load. A second case runs the asynchronous server users run by default and stalls the
player (SIGSTOP) between the hits, as a loaded machine does: JACK runs the cycles of the stall
without it, and the mixer's JACK clock lock must still land the second hit GAP after the first.
Each case runs its PortAudio client in a subprocess: sounddevice caches the device list
of the JACK server it first saw. Device choice is tested against a fake device list.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.jack import assert_callback_never_waited, assert_underflows_not_ours, jack_late_lines
from tests.support.jack_client import client_command
from tests.support.period_capture import read_period_capture

GAP = 12345  # frames between the hits: not a multiple of any block size below
THRESHOLD = 0.5
CAPTURE_S = 30  # the capture's own limit; the player stops it once the hits played
WAIT_S = 120  # a guard against a hang, not a timing claim: a starved machine is slow to start Python
ATTEMPTS = 5
STALL_S = 0.03  # the player's stop between the hits: 20 periods of 64 frames at 44.1 kHz

PLAYER = r"""
import json, os, signal, sys, threading, time
sys.path.insert(0, sys.argv[2])
from jack_client import start_period_capture, wait_until
import numpy as np
from ganshot.engine.audio_stream import AudioStream
from ganshot.engine.errors import UserInputError
from ganshot.engine.mixer import Mixer

args = json.loads(sys.argv[1])
sr, block, gap = args["sample_rate"], args["block_size"], args["gap"]

other_rate = 48000 if sr == 44100 else 44100
try:  # JACK runs at sr: another rate must be refused in one line
    AudioStream(Mixer(other_rate), device="system", sample_rate=other_rate, block_size=block).close()
    wrong_rate = None
except UserInputError as err:
    wrong_rate = str(err)

hit = np.zeros(256, np.float32)
hit[0] = 0.9            # the onset: one clear impulse
hit[1:200] = 0.05       # a quiet body, far under the threshold
mixer = Mixer(sr)
with AudioStream(mixer, device="system", sample_rate=sr, block_size=block) as stream:
    wait_until(lambda: mixer.frame >= sr // 4, args["wait_s"], "the stream to run")
    capture = start_period_capture(args["capture"], args["capture_s"])
    hogging = threading.Event()
    def hog():  # a busy pure-Python thread: it would starve any callback that needs the GIL
        spins = 0
        while not hogging.is_set():
            spins += 1
    if args["hog"]:
        threading.Thread(target=hog, daemon=True).start()
    mixer.reset_peaks()
    before, log_from = mixer.counters(), os.path.getsize(args["jack_log"])
    first = mixer.frame + sr // 4
    tokens = [mixer.play(hit, 1.0, 0.8, start_frame=first), mixer.play(hit, 1.0, 0.8, start_frame=first + gap)]
    if args["stall_s"]:  # stopped between the hits, like a client the machine preempts
        wait_until(lambda: mixer.frame > first + len(hit) + 8 * block, args["wait_s"], "the first hit to play")
        import subprocess
        subprocess.Popen(["sh", "-c", f"sleep {args['stall_s']}; kill -CONT {os.getpid()}"])
        caught_before = mixer.counters()["frames_caught_up"]
        frame_stop, stop_s = mixer.frame, time.monotonic()
        os.kill(os.getpid(), signal.SIGSTOP)
        # the first callback after the stop has caught up: how long JACK ran without us, at most
        wait_until(lambda: mixer.frame > frame_stop, args["wait_s"], "the stream to run after the stop", 0.0005)
        stalled_s = time.monotonic() - stop_s
        stall_caught_up = mixer.counters()["frames_caught_up"] - caught_before
    else:
        stalled_s, stall_caught_up = 0.0, 0
    wait_until(lambda: mixer.frame > first + gap + len(hit) + 4 * block, args["wait_s"], "the hits to play")
    after, log_to = mixer.counters(), os.path.getsize(args["jack_log"])
    clock_lock, clock_lock_why = stream.clock_lock, stream.clock_lock_why
    hogging.set()
    frame_before, now_frame, frame_after = mixer.frame, stream.now_frame(), mixer.frame
    # the best of 50 reads: a preemption between the two calls (a loaded machine) is not the clock's error
    from_monotonic = min((stream.frame_at_monotonic(time.monotonic()) - stream.now_frame() for _ in range(50)),
                         key=abs)
    time.sleep(0.05)  # what was mixed has reached the capture
    capture.send_signal(signal.SIGINT)
    capture.wait(timeout=args["wait_s"])
print(json.dumps({"before": before, "after": after, "tokens": tokens, "now_frame": now_frame,
                  "clock_lock": clock_lock, "clock_lock_why": clock_lock_why,
                  "frame_before": frame_before, "frame_after": frame_after, "lead_frames": stream.lead_frames,
                  "from_monotonic": from_monotonic, "stalled_s": stalled_s,
                  "stall_caught_up": stall_caught_up, "capture_rc": capture.returncode, "wrong_rate": wrong_rate,
                  "jack_log_window": [log_from, log_to]}))
"""


@pytest.mark.jack
@pytest.mark.slow
@pytest.mark.parametrize("sample_rate, block_size, hog", [
    *[(rate, block, False) for rate in (44100, 48000) for block in (64, 65, 128, 1024)],
    (48000, 128, True),  # with a busy Python thread holding the GIL
])
def test_two_hits_land_exactly_gap_samples_apart(jack_server, tmp_path, sample_rate, block_size, hog):
    server = jack_server(sample_rate=sample_rate, block_size=block_size, sync=True)
    report, capture = _play_two_hits(server, tmp_path, hog=hog, stall_s=0.0)
    assert capture.lost_periods == 0  # a synchronous server loses no cycle of any client
    _check_two_hits(server, report, capture)


@pytest.mark.jack
@pytest.mark.slow
@pytest.mark.parametrize("sample_rate, block_size", [(44100, 64), (48000, 128)])
def test_a_stall_between_the_hits_does_not_move_the_second(jack_server, tmp_path, sample_rate, block_size):
    server = jack_server(sample_rate=sample_rate, block_size=block_size, sync=False)
    # The player is stopped for STALL_S between the hits: JACK runs those cycles without it. The
    # capture, another process, may itself lose a period on a loaded machine (a hole, detected):
    # a hit in one is looked for again in a new run.
    for attempt in range(1, ATTEMPTS + 1):
        report, capture = _play_two_hits(server, tmp_path / f"try{attempt}", hog=False, stall_s=STALL_S)
        if len(capture.onsets(THRESHOLD, 0)) == 2 or not capture.lost_periods:
            break
    assert report["clock_lock"], report["clock_lock_why"]
    # What the stop's first callback caught up: the cycles JACK ran without the player, less the one
    # its extra wake-up mixes. At least about the stop asked for, at most what the player measured from
    # its stop to its first callback after it (longer than asked on a loaded machine: that is the
    # machine, and the lock must follow it). Catch-ups elsewhere in the run (a loaded machine's late
    # wake-ups) are the lock's ordinary work, not this stop's.
    caught_up = report["stall_caught_up"]
    stalled_at_most = report["stalled_s"] * sample_rate + 2 * block_size
    assert caught_up % block_size == 0 and 0.5 * STALL_S * sample_rate <= caught_up <= stalled_at_most, report
    _check_two_hits(server, report, capture, underflows_expected=True)


def _play_two_hits(server, tmp_path, hog, stall_s):
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "capture.npz"
    args = {"sample_rate": server.sample_rate, "block_size": server.block_size, "gap": GAP, "capture": str(path),
            "capture_s": CAPTURE_S, "wait_s": WAIT_S, "jack_log": str(server.log_path), "hog": hog,
            "stall_s": stall_s}
    run = subprocess.run(client_command(PLAYER, args), env=server.env, capture_output=True, text=True,
                         timeout=3 * WAIT_S)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["capture_rc"] == 0 and all(report["tokens"])
    assert report["wrong_rate"] and "\n" not in report["wrong_rate"] and "'system'" in report["wrong_rate"]
    capture = read_period_capture(path)
    assert (capture.sample_rate, capture.block_size) == (server.sample_rate, server.block_size)
    return report, capture


def _check_two_hits(server, report, capture, underflows_expected=False):
    sample_rate, block_size = server.sample_rate, server.block_size
    left, right = capture.onsets(THRESHOLD, 0), capture.onsets(THRESHOLD, 1)
    assert len(left) == 2, (f"onsets {left} in {len(capture.audio)} frames, {capture.lost_periods} periods lost, "
                            f"{capture.xruns} xruns")
    assert left[1] - left[0] == GAP  # on JACK's frame timeline
    assert right == left
    first = capture.frames(left[0], left[0] + 1)[0]
    assert first[0] == pytest.approx(0.9) and first[1] == pytest.approx(0.72)

    before, after = report["before"], report["after"]
    assert after["late_starts"] == 0 and after["commands_dropped"] == 0
    assert after["buffers_held"] == 0  # both buffers came back from the audio thread
    if after["clock_rebases"]:  # the lock starts afresh only when JACK's cycles and ours came apart (an xrun):
        # a callback woken past the next cycle's start reads that cycle's frame time (seen once, loaded box)
        assert jack_late_lines(server, report["jack_log_window"]), f"the clock lock started afresh with no xrun: {report}"
    # the clock: the frame heard now lies behind the frames mixed, by about the lead
    assert report["frame_before"] - report["lead_frames"] <= report["now_frame"] <= report["frame_after"], report
    assert abs(report["from_monotonic"]) <= report["lead_frames"], report  # time.monotonic() maps alike
    # the contract: our callback never blocked (a GIL wait would show here) and its own work stayed far
    # inside the deadline
    assert_callback_never_waited(after, block_size / sample_rate * 1e9, report)
    if not underflows_expected:
        assert_underflows_not_ours(server, report)


FAKE_DEVICES = [
    {"index": 0, "name": "HDA Intel PCH: ALC257 Analog (hw:0,0)", "hostapi": "ALSA", "channels": 2,
     "default_sample_rate": 48000.0, "default": False},
    {"index": 1, "name": "mono speaker", "hostapi": "ALSA", "channels": 1, "default_sample_rate": 48000.0,
     "default": True},
    {"index": 2, "name": "system", "hostapi": "JACK Audio Connection Kit", "channels": 2,
     "default_sample_rate": 48000.0, "default": False},
    {"index": 3, "name": "system monitor", "hostapi": "PulseAudio", "channels": 2,
     "default_sample_rate": 44100.0, "default": False},
]


@pytest.mark.parametrize("device, index", [
    (None, 0), (2, 2), ("2", 2), ("system", 2), ("JACK", 2), ("alc257", 0), ("monitor", 3),
    ("ALSA", 0),  # the mono ALSA device does not count
])
def test_devices_are_chosen_by_number_or_name(monkeypatch, device, index):
    from ganshot.engine import audio_stream

    monkeypatch.setattr(audio_stream, "list_output_devices", lambda: FAKE_DEVICES)
    assert audio_stream.resolve_output_device(device) == index


@pytest.mark.parametrize("device, words", [
    (1, "not a stereo output"), (9, "not a stereo output"), ("sys", "several"), ("nope", "matches no"),
    (2.5, "must be a number"),
])
def test_unusable_devices_are_refused_in_one_line(monkeypatch, device, words):
    from ganshot.engine import audio_stream
    from ganshot.engine.errors import UserInputError

    monkeypatch.setattr(audio_stream, "list_output_devices", lambda: FAKE_DEVICES)
    with pytest.raises(UserInputError, match=words) as err:
        audio_stream.resolve_output_device(device)
    assert "\n" not in str(err.value)


def test_no_device_at_all_suggests_jack(monkeypatch):
    from ganshot.engine import audio_stream
    from ganshot.engine.errors import UserInputError

    monkeypatch.setattr(audio_stream, "list_output_devices", lambda: [])
    with pytest.raises(UserInputError, match=r"found: none.*--device.*jackd -d dummy"):
        audio_stream.resolve_output_device(None)
