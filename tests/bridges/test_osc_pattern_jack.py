"""Live patterns for real: ``ganshot serve`` on a private synchronous JACK server (dummy driver),
loops started and switched with liblo's oscsend, ganshot's outputs recorded period by period
(tests/support/period_capture.py). Every hit lands on the bar grid to the frame, is the pad's
offline render sample for sample, and the switch happens on a bar line."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.support.jack_client import period_captured
from tests.support.osc_jack import BLOCK, RATE, Served, assert_hit_at, saved_kit_for, single_hit
from tests.support.patterns import write_midi
from tests.support.period_capture import read_period_capture

pytestmark = pytest.mark.needs("oscsend", hint="Debian: liblo-tools")

TEMPO_BPM = 240.0
BEAT = int(60 * RATE / TEMPO_BPM)  # 12000 frames
BAR = 4 * BEAT


def loop(path, note, beats):
    events = [e for b in beats for e in ((b * 480, "note_on", 9, note, 127), (b * 480 + 60, "note_off", 9, note, 0))]
    return write_midi(path, [events + [(1920, "note_off", 9, 0, 0)]])


def oscsend(port: int, *words: str) -> None:
    sent = subprocess.run(["oscsend", "localhost", str(port), *words], capture_output=True, text=True, timeout=10)
    assert sent.returncode == 0, sent.stderr


@pytest.mark.jack
@pytest.mark.slow
def test_oscsend_loops_and_switches_patterns_on_the_bar_grid(jack_server, tiny_bundle, tmp_path):
    kit, kit_path = saved_kit_for(tiny_bundle, tmp_path)
    patterns = tmp_path / "patterns"
    loop(patterns / "every-beat.mid", kit.pads[0].note, [0, 1, 2, 3])
    loop(patterns / "half-time.mid", kit.pads[1].note, [0, 2])
    server = jack_server(sample_rate=RATE, block_size=BLOCK, sync=True)
    served = Served(server.env, kit_path, tmp_path / "renders", "--patterns-root", str(patterns),
                    "--tempo", str(TEMPO_BPM))
    try:
        with period_captured(str(tmp_path / "capture.npz"), 30, env=server.env):
            oscsend(served.port, "/pattern/play", "isi", "0", "every-beat.mid", "0")
            time.sleep(2.3)  # two bars and some
            oscsend(served.port, "/pattern/play", "is", "0", "half-time.mid")  # from the next free bar line
            time.sleep(2.2)
            oscsend(served.port, "/pattern/stop")
            time.sleep(1.5)  # the stop waits for a bar line; the last hit plays out
    finally:
        said = served.stop()
    assert "Traceback" not in said and "ganshot: stopped" in said, said

    recorded = read_period_capture(tmp_path / "capture.npz")
    assert recorded.lost_periods == 0
    onsets = recorded.hits()
    kick, kick_lead = single_hit(tiny_bundle, kit, 0)
    snare, snare_lead = single_hit(tiny_bundle, kit, 1)
    origin = onsets[0] - kick_lead  # bar 0: where the first hit's buffer starts
    starts = []
    for onset in onsets:  # which pad each hit is, and where its buffer starts
        live = recorded.audio[onset - recorded.first_frame - kick_lead:][:len(kick)]
        is_kick = len(live) == len(kick) and (live == kick).all()
        starts.append((onset - (kick_lead if is_kick else snare_lead), "kick" if is_kick else "snare"))
    assert all((start - origin) % BEAT == 0 for start, _ in starts), (origin, starts)  # on the beat grid, exactly
    beats = [((start - origin) // BEAT, pad) for start, pad in starts]
    switch = next(beat for beat, pad in beats if pad == "snare")
    assert switch % 4 == 0 and switch >= 8, beats  # at a bar line, after at least two bars of the first loop
    assert beats == [(b, "kick") for b in range(switch)] + [(b, "snare") for b in range(switch, beats[-1][0] + 1, 2)]
    for start, pad in starts:
        hit, lead = (kick, kick_lead) if pad == "kick" else (snare, snare_lead)
        assert_hit_at(recorded.audio, start - recorded.first_frame + lead, hit, lead, f"the {pad} at {start}")
