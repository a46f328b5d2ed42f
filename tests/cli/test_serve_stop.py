"""Stopping ``ganshot serve``: SIGTERM and SIGHUP stop it like Ctrl-C, the recording is finished,
a second signal cannot cut the clean-up short; settings the device cannot play are refused before
the warm-up, in one line.

StopSignals in-process first (no device), then ``serve`` on a private JACK dummy server. How
long a stop takes is printed (``-s`` shows it) and gathered by bench/stop.py, never asserted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ganshot._signals import StopSignals

RATE = 48000


# -- StopSignals, in this process ----------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_the_first_stop_signal_is_a_keyboard_interrupt_and_later_ones_are_counted(signum):
    before = signal.getsignal(signum)
    with StopSignals() as stop:
        with pytest.raises(KeyboardInterrupt, match=signal.Signals(signum).name):
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the handler runs here, in the main thread
        assert stop.is_stopping
        os.kill(os.getpid(), signal.SIGTERM)  # while cleaning up: ignored
        os.kill(os.getpid(), signum)
        time.sleep(0.01)
    assert stop.received == [signal.Signals(signum).name, "SIGTERM", signal.Signals(signum).name]
    assert signal.getsignal(signum) is before  # handlers restored


def test_after_stopping_no_signal_interrupts():
    with StopSignals() as stop:
        stop.stopping()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
    assert stop.received == ["SIGTERM"] and "SIGTERM" in repr(stop)


# -- ganshot serve on JACK -------------------------------------------------------------------

@pytest.fixture(scope="module")
def kit_path(tiny_bundle, tmp_path_factory):
    from ganshot.engine.kit import save_kit
    from ganshot.engine.presets import seeded_kit

    kit = seeded_kit(tiny_bundle, range(1, 5), name="tiny four", model_path=str(tiny_bundle.path))
    return save_kit(kit, tmp_path_factory.mktemp("kit") / "kit.json")


def serve(env, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ganshot", "serve", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(proc, needle: str, timeout_s: float = 60) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if needle in line or not line:
            break
    return lines


@pytest.mark.jack
@pytest.mark.slow
@pytest.mark.parametrize("signals", [["SIGTERM"], ["SIGHUP"], ["SIGTERM", "SIGTERM", "SIGINT"]],
                         ids=["term", "hup", "term-term-int"])
def test_a_stop_signal_finishes_the_recording(jack_server, kit_path, tmp_path, signals):
    import soundfile as sf

    server = jack_server(sample_rate=RATE, block_size=128)
    record = tmp_path / "take.wav"
    proc = serve(server.env, "--kit", kit_path, "--backend", "onnx", "--device", "system", "--demo",
                 "--osc-port", 0, "--no-midi", "--record", record)
    try:
        lines = wait_for_line(proc, "underflows")  # the first status line: playing and recording
        time.sleep(1.0)
        sent = time.monotonic()
        for name in signals:  # a burst: an impatient service manager
            proc.send_signal(getattr(signal, name))
            time.sleep(0.02)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(lines) + err
    print(f"\nstop after {'+'.join(signals)}: {took:.2f} s")
    assert proc.returncode == 0, err
    assert f"ganshot: stopped ({signals[0]}" in err and "Traceback" not in err, err
    assert "recording to" in err and "ganshot: recorded" in err
    audio, rate = sf.read(record, dtype="float32")  # finished and moved into place
    assert rate == RATE and len(audio) > RATE // 2 and np.abs(audio).max() > 0
    assert not list(tmp_path.glob("*.recording.wav"))


@pytest.mark.jack
@pytest.mark.parametrize("block_size", [7, 0, 16385])
def test_an_unplayable_block_size_is_refused_in_one_line(jack_server, kit_path, block_size):
    server = jack_server(sample_rate=RATE, block_size=128)
    proc = serve(server.env, "--kit", kit_path, "--device", "system", "--block-size", block_size, "--no-midi",
                 "--osc-port", 0)
    _, err = proc.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, err
    assert "block size" in lines[0] and "[16, 16384]" in lines[0] and f"got {block_size}" in lines[0]


@pytest.mark.jack
def test_a_sample_rate_the_device_cannot_open_names_its_rate_before_the_warm_up(jack_server, kit_path):
    server = jack_server(sample_rate=RATE, block_size=128)
    proc = serve(server.env, "--kit", kit_path, "--backend", "auto", "--device", "system", "--sample-rate", 44100,
                 "--no-midi", "--osc-port", 0)
    _, err = proc.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, err  # no "ganshot: model ..." line: nothing was warmed up
    assert "cannot play at 44100 Hz" in lines[0] and "--sample-rate 48000" in lines[0] and "'system'" in lines[0]


def test_serve_fixes_glibcs_mmap_threshold_where_there_is_one():
    import platform

    from ganshot._engine_cli import _fixed_mmap_threshold

    fixed = _fixed_mmap_threshold()
    assert isinstance(fixed, bool)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert fixed
