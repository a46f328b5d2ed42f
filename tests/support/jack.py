"""A private JACK server (dummy driver) per test: the real audio device on machines without one.

``jack_servers(tmp_path)`` (the body of tests/conftest.py's ``jack_server`` fixture) starts
``jackd -n NAME -R -d dummy`` (realtime: without it a loaded machine's scheduler, not the
code, makes most xruns) under a name unique to this test run. ``sync=True`` adds ``-S``, JACK's
synchronous mode, for the tests that compare what they capture sample for sample or count MIDI
messages: each cycle waits until every client has run, so a client the
loaded machine preempted makes the cycle late instead of losing it (in the default asynchronous
mode a client preempted for k periods is woken once for all of them: its MIDI input of k - 1
cycles is gone, a capture has holes, a player's later output moves). What a test captures is then
what the code produced, whatever the load. The default is the asynchronous server that users run
(also for tests that stop clients abruptly: a synchronous server waits for a dead client). the JackServer it returns
has the ``env`` every JACK client of the test must use (JACK_DEFAULT_SERVER=NAME, no
autostart, no device reservation). Every server is stopped by its pid when the test ends,
pass or fail: SIGTERM, and a wait, so it leaves JACK's registry in /dev/shm itself. One that
does not stop must be killed, which leaves its entry behind (past 8 such, every jackd fails
with "Too many servers already active"); then a server of the same name is started and
stopped cleanly once, which reclaims that entry and only that one (JACK reuses an entry
whose name matches and whose pid is gone), so no other server's entry is touched. sounddevice caches PortAudio's device list when it is imported, so run
PortAudio clients in a subprocess started with that env (:mod:`.jack_client`).

Helpers for what comes back: :func:`onsets`, :func:`hit_onsets` (hits separated by silence),
:func:`jack_late_lines` (jackd's xrun reports while the client measured) and
:func:`assert_underflows_not_ours`.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import missing, need_tools

SILENCE = 256  # zero frames that separate two hits in a capture

JACK_TOOLS = ("jackd", "jack_lsp", "jack_capture")
# How long a synchronous cycle waits for a late client (jackd -t; the driver waits 10x this). Left
# unset, jackd takes two periods (x10: 27 ms at 64 frames), which a loaded machine exceeds: the
# cycles run on without the late client, as in asynchronous mode.
SYNC_TIMEOUT_MS = 2000
_names = itertools.count()


@dataclass(frozen=True)
class JackServer:
    name: str
    env: dict  # run every JACK client of the test with this environment
    log_path: Path  # jackd's stdout+stderr: xrun reports name the late client
    sample_rate: int
    block_size: int


def _wait_for_ports(proc: subprocess.Popen, env: dict, log_path, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jackd exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            ports = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True, timeout=5).stdout
        except subprocess.TimeoutExpired:
            ports = ""
        if "system:playback_2" in ports:
            return
        time.sleep(0.1)
    raise RuntimeError(f"jackd did not answer jack_lsp within {timeout_s} s: {log_path.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen, timeout_s: float = 15.0) -> bool:
    """SIGTERM and wait; SIGKILL only if it does not stop. True when it stopped cleanly."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
        return False


def _reclaim(name: str, env: dict, log_path) -> None:
    """After a killed server ``name``: start one of the same name and stop it cleanly, which
    frees the registry entry the killed one left (and its sockets and semaphores)."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(["jackd", "-n", name, "-d", "dummy"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        _wait_for_ports(proc, env, log_path)
    except RuntimeError:
        pass  # it may not come up; stop it either way
    _stop(proc)


def onsets(channel: np.ndarray, threshold: float) -> list[int]:
    """First sample of each run above ``threshold`` (in absolute value)."""
    above = np.abs(channel) > threshold
    return np.flatnonzero(above & ~np.concatenate([[False], above[:-1]])).tolist()


def jack_late_lines(server: JackServer, window) -> list[str]:
    """jackd's xrun reports ("was not finished", "XRun") between the log offsets ``window = [start, end]``."""
    start, end = window
    said = server.log_path.read_bytes()[start:end].decode(errors="replace").splitlines()
    return [line for line in said if "was not finished" in line or "XRun" in line]


def jack_servers(tmp_path):
    """The body of the ``jack_server`` fixture: yields ``start(sample_rate=48000, block_size=128) ->
    JackServer`` (a fresh jackd each call) and stops every server it started, pass or fail."""
    need_tools(*JACK_TOOLS, hint="Debian: jackd2 jack-capture; `make test` installs them")
    started: list[subprocess.Popen] = []

    def start(sample_rate: int = 48000, block_size: int = 128, sync: bool = False) -> JackServer:
        name = f"ganshot{os.getpid()}x{next(_names)}"
        env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1",
                   GANSHOT_TEST_JACK_SYNC="1" if sync else "0")  # period_capture reads it
        log_path = tmp_path / f"{name}.log"
        # Realtime (-R) only: on a loaded machine a non-realtime dummy driver misses its own
        # deadlines every few cycles, and the tests would measure the scheduler.
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                ["jackd", "-n", name, "-R", *(["-S", "-t", str(SYNC_TIMEOUT_MS)] if sync else []), "-d", "dummy", "-r", str(sample_rate),
                 "-p", str(block_size)],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        started.append((proc, name, env, log_path))
        try:
            _wait_for_ports(proc, env, log_path)
        except RuntimeError as err:
            missing(f"a realtime JACK server (jackd -R) did not start here: {str(err)[-300:]}")
        return JackServer(name, env, log_path, sample_rate, block_size)

    try:
        yield start
    finally:
        for proc, name, env, log_path in started:
            if not _stop(proc):
                _reclaim(name, env, log_path)


def hit_onsets(audio: np.ndarray, silence: int = SILENCE) -> list[int]:
    """First frame of each run of non-zero frames that follows >= ``silence`` zero frames."""
    sounding = np.flatnonzero(np.any(audio != 0, axis=1))
    if not len(sounding):
        return []
    return [int(sounding[0])] + [int(b) for a, b in zip(sounding[:-1], sounding[1:]) if b - a > silence]


def assert_underflows_not_ours(server, report, sample_rate: int | None = None, block_size: int | None = None) -> None:
    """PortAudio on JACK flags every graph xrun as an output underflow, whoever was late, and
    jackd's words do not say whose work made it late (in synchronous mode it names nobody; a
    client it names "Running" may have been preempted inside its callback by the machine). What the
    code answers for is its own callback (:func:`assert_callback_never_waited`): it must never
    block (``callback_waits``: voluntary context switches or major page faults inside it, i.e. a
    wait for the GIL, a lock or a page) and its own work must stay inside half a period in all but
    a rare callback (``callback_cpu_hist``, the thread's CPU clock, which a preempting load does
    not inflate the way it inflates the wall-clock ``max_callback_ns``). How often a loaded machine makes JACK late is the benchmarks' business
    (bench/realtime.py, bench/soak.py)."""
    before, after = report["before"], report["after"]
    underflows = after["underflows"] - before["underflows"]
    if not underflows:
        return
    sample_rate = sample_rate or server.sample_rate
    block_size = block_size or server.block_size
    late = jack_late_lines(server, report["jack_log_window"])
    assert_callback_never_waited(after, block_size / sample_rate * 1e9,
                                 f"{underflows} underflow(s) after start-up; jackd said: {late[:4]}")


#: Of the callbacks, at most this share may use half a period of CPU or more: on a VM the kernel
#: charges interrupt work to whichever thread it interrupts (seen here: 3 callbacks of 22,500 read
#: 0.8-1.5 ms of CPU with no page fault, under a render load, while the median callback takes 20 us).
MAX_SLOW_CALLBACK_SHARE = 0.01


def assert_callback_never_waited(counters: dict, period_ns: float, context: object = "") -> None:
    """The real-time contract, as the mixer measures it on every callback: the audio thread never
    blocked, and its CPU time per block stayed under half a period in all but a rare callback
    (:data:`MAX_SLOW_CALLBACK_SHARE`). Wall time is not asserted: on a loaded machine a preempted
    callback takes long without waiting for anything."""
    from ganshot.engine.mixer import callbacks_over

    assert counters["callback_waits"] == 0, (
        f"the audio thread blocked in {counters['callback_waits']} callback(s) (a lock, the GIL or a page); {context}")
    hist = counters["callback_cpu_hist"]
    slow, total = callbacks_over(hist, period_ns / 2e3), sum(hist)
    assert total and slow <= MAX_SLOW_CALLBACK_SHARE * total, (
        f"{slow} of {total} callbacks used half a {period_ns / 1e3:.0f} us period of CPU or more (the most: "
        f"{counters['max_callback_cpu_ns'] / 1e3:.0f} us; wall: {counters['max_callback_ns'] / 1e3:.0f} us); {context}")
