"""The Recorder's files: life cycle, an older file kept until close(), write failures, the umask,
crash safety (kill -9 mid-recording) and bad paths and settings, offline (Mixer.render).

That the recorded audio equals the mixer's output is tested in test_recorder.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.mixer import Mixer
from ganshot.engine.atomic import atomic_write_text, umask_mode
from ganshot.engine.recorder import Recorder
from tests.support.recording import PARTIAL, SR, read_wav, scenario


# -- life cycle ----------------------------------------------------------------------------

def test_start_and_close_twice_and_close_without_start(tmp_path):
    mixer = Mixer(SR)
    never = Recorder(mixer, tmp_path / "never.wav")
    never.close()
    never.close()
    assert not (tmp_path / "never.wav").exists() and not list(tmp_path.iterdir())
    with pytest.raises(RuntimeError, match="closed"):
        never.start()

    rec = Recorder(mixer, tmp_path / "twice.wav")
    rec.start()
    with pytest.raises(RuntimeError, match="already recording"):
        rec.start()
    mixer.render(100)
    rec.close()
    rec.close()
    assert len(read_wav(tmp_path / "twice.wav")) == 100
    with pytest.raises(RuntimeError, match="closed"):
        rec.start()
    assert "twice.wav" in repr(rec) and "closed" in repr(rec)


def test_an_older_file_stays_whole_until_close_replaces_it(tmp_path):
    path = tmp_path / "take.wav"
    path.write_bytes(b"old take")
    mixer = Mixer(SR)
    rec = Recorder(mixer, path)
    rec.start()
    mixer.render(500)
    assert path.read_bytes() == b"old take"  # a crash now would leave the old file
    parts = list(tmp_path.glob(PARTIAL))
    assert parts == [rec.partial_path]
    rec.close()
    assert len(read_wav(path)) == 500 and not parts[0].exists()


def test_a_write_failure_is_one_line_and_leaves_no_file(tmp_path, monkeypatch):
    path = tmp_path / "full.wav"
    path.write_bytes(b"old take")
    mixer = Mixer(SR)
    rec = Recorder(mixer, path)
    rec.start()

    _fill_the_disk(monkeypatch, rec)
    mixer.render(100)
    with pytest.raises(UserInputError, match="No space left") as err:
        rec.close()
    assert "\n" not in str(err.value)
    assert path.read_bytes() == b"old take" and not list(tmp_path.glob(PARTIAL))  # nothing was written
    assert mixer.record_info()["capacity_frames"] == 0
    mixer.render(10)  # the mixer plays on


def test_the_file_on_disk_is_readable_while_recording_and_after_a_late_write_failure(tmp_path, monkeypatch):
    mixer = Mixer(SR)
    scenario(mixer)
    path = tmp_path / "long.wav"
    rec = Recorder(mixer, path, drain_interval_s=0.005, header_interval_s=0.01)
    rec.start()
    out = mixer.render(4800)
    deadline = time.monotonic() + 30
    while rec.frames_on_disk < 4800 and time.monotonic() < deadline:  # the writer thread catches up
        time.sleep(0.005)
    assert rec.frames_on_disk == 4800 and rec.header_updates >= 1
    assert np.array_equal(read_wav(rec.partial_path), out)  # a crash now keeps all of it
    partial = rec.partial_path

    _fill_the_disk(monkeypatch, rec)
    mixer.render(100)
    with pytest.raises(UserInputError, match="No space left.*what was recorded is in") as err:
        rec.close()
    assert str(partial) in str(err.value) and "\n" not in str(err.value)
    assert not path.exists() and np.array_equal(read_wav(partial)[:4800], out)


def test_files_take_the_umask_not_a_private_mode(tmp_path):
    old = os.umask(0o027)
    try:
        assert umask_mode() == 0o640
        mixer = Mixer(SR)
        with Recorder(mixer, tmp_path / "u.wav"):
            mixer.render(10)
        atomic_write_text(tmp_path / "kit.json", "{}")  # kits, reports, WAVs: every atomic write
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "u.wav").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "kit.json").stat().st_mode) == 0o640


KILLED = r"""
import json, sys, time
import numpy as np
from ganshot.engine.mixer import Mixer
from ganshot.engine.recorder import Recorder

mixer = Mixer(48000)
rec = Recorder(mixer, sys.argv[1], drain_interval_s=0.005, header_interval_s=0.02)
rec.start()
rng = np.random.default_rng(3)
blocks = []
while rec.frames_on_disk < 48000:  # paced like a stream: one 480-frame block per 10 ms
    mixer.play(rng.uniform(-0.5, 0.5, 480).astype(np.float32), 1.0, 1.0)
    blocks.append(mixer.render(480))
    np.save(sys.argv[2], np.concatenate(blocks))
    time.sleep(0.01)
print(json.dumps({"partial": str(rec.partial_path), "on_disk": rec.frames_on_disk}), flush=True)
time.sleep(60)  # killed here, mid-recording
"""


def test_kill_9_mid_recording_leaves_a_readable_file_up_to_the_last_header(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path / "take.wav"), str(tmp_path / "out.npy")],
                            stdout=subprocess.PIPE, text=True)
    try:
        report = json.loads(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait()
    audio = read_wav(report["partial"])
    out = np.load(tmp_path / "out.npy")
    assert len(audio) >= report["on_disk"] >= 48000
    assert np.array_equal(audio, out[:len(audio)])  # exact, as far as it goes
    assert not (tmp_path / "take.wav").exists()


@pytest.mark.parametrize("make_path, words", [
    (lambda d: d / "missing" / "x.wav", "does not exist"),
    (lambda d: d, "must end in .wav"),
    (lambda d: d / "dir.wav", "is a folder"),
    (lambda d: d / "take.flac", "must end in .wav"),
    (lambda d: "", "must be a file name"),
    (lambda d: 42, "must be a file name"),
])
def test_bad_paths_are_refused_in_one_line(tmp_path, make_path, words):
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(UserInputError, match=words) as err:
        Recorder(Mixer(SR), make_path(tmp_path))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kwargs, words", [
    ({"subtype": "MP3"}, "subtype"), ({"buffer_s": 0}, "buffer_s"), ({"buffer_s": float("nan")}, "buffer_s"),
    ({"buffer_s": 1e6}, "buffer_s"), ({"drain_interval_s": 0}, "drain_interval_s"),
    ({"header_interval_s": 0}, "header_interval_s"), ({"header_interval_s": True}, "header_interval_s"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path, kwargs, words):
    with pytest.raises(UserInputError, match=words) as err:
        Recorder(Mixer(SR), tmp_path / "x.wav", **kwargs)
    assert "\n" not in str(err.value)


def _fill_the_disk(monkeypatch, rec) -> None:
    """Make every later write of the recorder's file fail as a full disk does."""

    def full(_frames):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rec._file, "write", full)
