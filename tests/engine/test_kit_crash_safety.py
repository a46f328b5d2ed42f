"""save_kit under SIGKILL: the kit on disk is always the old or the new one, never torn.

A child process saves two versions of a kit in a tight loop and is killed at a
random moment, again and again. After every kill the kit (and its ``.bak``) must
load and equal one of the two versions, and at most one abandoned temp file may
be left: the next save (here, the next child's first save) deletes it.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ganshot.engine.kit import kit_to_json, load_kit, parse_kit, save_kit

KILLS = 30
CHILD = """
import sys
from ganshot.engine.kit import load_kit, save_kit
path, versions = sys.argv[1], [load_kit(p) for p in sys.argv[2:]]
save_kit(versions[0], path)
print("ready", flush=True)
i = 0
while True:
    i += 1
    save_kit(versions[i % 2], path)
"""


def big_kit(name: str, seed: int):
    """128 pads x 100-float z: about 300 kB of JSON, so kills often land mid-write."""
    rng = np.random.default_rng(seed)
    pads = [{"note": n, "name": f"pad {n}", "z": rng.standard_normal(100).tolist()} for n in range(128)]
    model = {"name": "drums-v0", "path": None, "sha256": "0" * 64}
    return parse_kit({"format": "ganshot-kit", "version": 1, "name": name, "model": model, "pads": pads})


def temp_files(folder) -> list[str]:
    return [name for name in os.listdir(folder) if re.fullmatch(r"\.k\.json\.(bak\.)?[a-z0-9_]{8}\.tmp", name)]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_during_save_never_tears_the_kit(tmp_path):
    versions = [big_kit("old", 1), big_kit("new", 2)]
    sources = []
    for i, kit in enumerate(versions):
        sources.append(str(save_kit(kit, tmp_path / "src" / f"v{i}.json")))
    folder = tmp_path / "live"
    folder.mkdir()
    path = folder / "k.json"
    rng = random.Random(1234)
    left_behind = 0
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), *sources], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            line = child.stdout.readline()
            assert line == b"ready\n", (line, child.stderr.read() if child.poll() is not None else b"")
            time.sleep(rng.uniform(0.0, 0.08))
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=10)
            child.stdout.close()
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        assert load_kit(path) in versions
        backup = folder / "k.json.bak"
        if backup.exists():
            assert load_kit(backup) in versions
        stale = temp_files(folder)
        assert len(stale) <= 1, stale  # the previous kill's leftover was cleaned by this child's first save
        left_behind += len(stale)
    save_kit(versions[0], path)
    assert temp_files(folder) == [] and load_kit(path) == versions[0]
    assert sorted(os.listdir(folder)) == ["k.json", "k.json.bak"]
    print(f"{KILLS} kills, {left_behind} left a temp file behind")  # shown with -s


def test_big_kit_round_trips(tmp_path):
    kit = big_kit("x", 3)
    assert load_kit(save_kit(kit, tmp_path / "k.json"), latent_dim=100) == kit
    assert parse_kit(kit_to_json(kit)) == kit
