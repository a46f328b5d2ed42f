"""The real thing: ``ganshot serve`` with a tiny instrument kit on a private JACK server (dummy driver,
synchronous), notes sent with liblo's ``oscsend`` (/note/on, then /note/off), recorded by
tests/support/period_capture.py. The captured note is the offline note buffer sample for sample up
to its release, which starts on the first frame of a block (an untimed message plays at the next
block) and is the instrument's exact linear release fade; nothing else sounds."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from tests.support.instruments import held_note, instrument_kit
from tests.support.jack_client import period_captured
from tests.support.osc_jack import BLOCK, RATE, Served
from tests.support.period_capture import read_period_capture
from tests.support.web import osc_status_json, poll

pytestmark = pytest.mark.needs("oscsend", hint="Debian: liblo-tools")
NOTE, RELEASE_MS = 37, 20.0  # two octaves under the root: the tiny model's 0.13 s hit lasts 0.5 s
CENTRE = float(np.cos(np.pi / 4))


def _oscsend(port: int, *args: str) -> None:
    sent = subprocess.run(["oscsend", "localhost", str(port), *args], capture_output=True, text=True, timeout=10)
    assert sent.returncode == 0, sent.stderr


@pytest.mark.jack
@pytest.mark.slow
def test_oscsend_holds_and_releases_a_note_on_ganshot_serve_on_jack(jack_server, tiny_bundle, tmp_path):
    from ganshot.engine.engine import Engine
    from ganshot.engine.kit import save_kit

    kit = instrument_kit(tiny_bundle, low=37, high=61, note=61, release_ms=RELEASE_MS, path=str(tiny_bundle.path))
    kit_path = save_kit(kit, tmp_path / "keys.json")
    with Engine(tiny_bundle, kit, sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(60)
        note = np.array(engine.instrument_note_buffer(1, NOTE))
    release_frames = int(round(RELEASE_MS * RATE / 1000))

    server = jack_server(sample_rate=RATE, block_size=BLOCK, sync=True)
    served = Served(server.env, kit_path, tmp_path / "renders")
    try:
        ready = lambda: (lambda e: e["instrument_notes_total"] > 0 and  # noqa: E731
                         e["instrument_notes_ready"] == e["instrument_notes_total"])(osc_status_json(served.port)["engine"])
        poll(ready, "every instrument note rendered ahead")  # however loaded the machine is
        with period_captured(str(tmp_path / "capture.npz"), 30, env=server.env):
            _oscsend(served.port, "/note/on", "if", str(NOTE), "1.0")
            time.sleep(0.1)
            _oscsend(served.port, "/note/off", "i", str(NOTE))
            time.sleep(0.7)  # the release and the rest of the buffer play out
    finally:
        said = served.stop()
    assert "Traceback" not in said and "ganshot: stopped" in said, said

    recorded = read_period_capture(tmp_path / "capture.npz")
    assert recorded.lost_periods == 0
    audio = recorded.audio[:, 0]
    expected_gain = np.float32(CENTRE)
    sounding = np.flatnonzero(audio)
    assert len(sounding), f"nothing was heard; serve said:\n{said}"
    lead = int(np.flatnonzero(note)[0])
    start = int(sounding[0]) - lead
    assert start % BLOCK == 0  # an untimed note-on starts on the first frame of the next block
    live = audio[start:start + len(note)]
    unfaded = note[:len(live)] * expected_gain
    differ = np.flatnonzero(live != unfaded)
    assert len(differ), "the note was never released"
    release_at = int(differ[0])
    assert (start + release_at) % BLOCK == 0  # the release, too, starts on a block's first frame
    assert 0.05 * RATE < release_at < len(note) - release_frames  # after the 0.1 s between the two oscsends
    expected = held_note(note, CENTRE, 0, release_at, release_frames, len(live))
    np.testing.assert_array_equal(live, expected)  # sample for sample: the note, then the exact release fade
    assert not np.any(audio[start + release_at + release_frames:])  # and nothing after it
