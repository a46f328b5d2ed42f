"""liblo's oscsend plays a pad on ``ganshot serve`` running on a private JACK server (dummy driver,
synchronous: no cycle lost under load); tests/support/period_capture.py records ganshot's outputs,
and the hit in it is the pad, sample for sample.

The set-up (:class:`Served`, :func:`single_hit`) lives in tests/support/osc_jack.py, shared with
test_pd_headless.py, which drives it from Pure Data.
"""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from tests.support.jack_client import period_captured
from tests.support.osc_jack import BLOCK, RATE, Served, assert_hit_at, hit_onsets, saved_kit_for, single_hit
from tests.support.period_capture import read_period_capture

pytestmark = pytest.mark.needs("oscsend", hint="Debian: liblo-tools")


@pytest.fixture(scope="module")
def saved_kit(tiny_bundle, tmp_path_factory):
    """kit_for(tiny_bundle) (4 pads) with its model path, saved; -> (Kit, path)."""
    return saved_kit_for(tiny_bundle, tmp_path_factory.mktemp("kit"))


@pytest.mark.jack
@pytest.mark.slow
def test_oscsend_plays_a_pad_on_ganshot_serve_on_jack(jack_server, tiny_bundle, saved_kit, tmp_path):
    kit, kit_path = saved_kit
    server = jack_server(sample_rate=RATE, block_size=BLOCK, sync=True)
    served = Served(server.env, kit_path, tmp_path / "renders")
    try:
        with period_captured(str(tmp_path / "capture.npz"), 30, env=server.env):
            sent = subprocess.run(["oscsend", "localhost", str(served.port), "/pad/trigger", "if", "0", "1.0"],
                                  capture_output=True, text=True, timeout=10)
            assert sent.returncode == 0, sent.stderr
            time.sleep(0.3)  # the hit (6144 frames, 0.13 s) plays out
    finally:
        said = served.stop()
    assert "Traceback" not in said and "ganshot: stopped" in said, said

    recorded = read_period_capture(tmp_path / "capture.npz")
    assert recorded.lost_periods == 0  # a synchronous server loses no cycle of any client
    audio = recorded.audio
    hit, lead = single_hit(tiny_bundle, kit, 0)
    onsets = hit_onsets(audio)
    assert len(onsets) == 1, f"hit onsets {onsets} in {len(audio)} captured frames; serve said:\n{said}"
    assert_hit_at(audio, onsets[0], hit, lead, "the oscsend hit")
    assert not np.any(audio[onsets[0] - lead + len(hit):])  # nothing else played
