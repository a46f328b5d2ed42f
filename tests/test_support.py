"""The test support's own contract: a missing program skips a test with its reason in a
developer's run and fails it in CI (CI=true), so CI cannot go green by skipping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFTEST = "from tests.conftest import pytest_runtest_setup  # noqa: F401 - the hook under test\n"
NEEDY = '''
import pytest


@pytest.mark.needs("ganshot-no-such-program", hint="Debian: nothing")
def test_needs_a_missing_program():
    pass
'''


def run_needy(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_needy.py").write_text(NEEDY)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-c", os.devnull,
                           "--rootdir", str(tmp_path), str(tmp_path / "test_needy.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_a_missing_program_is_a_skip_with_its_reason_for_a_developer(tmp_path):
    run = run_needy(tmp_path, None)
    assert run.returncode == 0 and "1 skipped" in run.stdout, run.stdout + run.stderr
    assert "needs ganshot-no-such-program (Debian: nothing)" in run.stdout


@pytest.mark.slow
def test_a_missing_program_fails_in_ci(tmp_path):
    run = run_needy(tmp_path, "true")
    assert run.returncode == 1 and "1 error" in run.stdout, run.stdout + run.stderr  # fails in setup
    assert "CI=true and needs ganshot-no-such-program" in run.stdout


@pytest.mark.jack
def test_a_killed_jack_server_is_reclaimed_from_the_registry(tmp_path):
    """A jackd killed by SIGKILL stays in JACK's registry; jack.py's _reclaim frees that entry, and
    only it (the registry keeps a name per entry: only this server's name goes)."""
    from tests.support import need_tools
    from tests.support.jack import _reclaim, _wait_for_ports

    need_tools("jackd", "jack_lsp", hint="Debian: jackd2")
    name = f"ganshotkilled{os.getpid()}"
    env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1")
    log_path = tmp_path / "jackd.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(["jackd", "-n", name, "-R", "-d", "dummy"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_for_ports(proc, env, log_path)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    registry = Path("/dev/shm/jack-shm-registry")
    assert name.encode() in registry.read_bytes()  # the killed server is still registered
    _reclaim(name, env, log_path)
    assert name.encode() not in registry.read_bytes()
    assert not [entry for entry in os.listdir("/dev/shm") if name in entry]  # nor its sockets, semaphores
