"""kill -9 bench: kit saves interrupted by SIGKILL at random points; the file on disk must always be
the old or the new kit, never torn. Not a test (tests/engine/test_kit_crash_safety.py runs 30).

A forked child (so a kill costs milliseconds, not an interpreter start) saves two ~300 kB
versions of a 128-pad kit in turn, as fast as it can, and is killed with SIGKILL after a
random 0..``--max-delay-ms``. After every kill the kit and its ``.bak`` must load and equal
one of the two versions (a missing kit counts as torn too); the temp files a kill leaves are
counted, and one save after the last kill must remove them all. SIGKILL ends the process, not
the machine: what the page cache held still reaches the disk, so this is not a power-cut test.

    python bench/kill_saves.py                 # 1,000 kills
    python bench/kill_saves.py --kills 200
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def big_kit(name: str, seed: int):
    from ganshot.engine.kit import parse_kit

    rng = np.random.default_rng(seed)
    pads = [{"note": n, "name": f"pad {n}", "z": rng.standard_normal(100).tolist()} for n in range(128)]
    model = {"name": "drums-v0", "path": None, "sha256": "0" * 64}
    return parse_kit({"format": "ganshot-kit", "version": 1, "name": name, "model": model, "pads": pads})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--max-delay-ms", type=float, default=500.0, help="a save of the 300 kB kit takes 130-210 ms here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from ganshot.engine.kit import load_kit, save_kit

    versions = [big_kit("old", 1), big_kit("new", 2)]
    folder = Path(tempfile.mkdtemp(prefix="ganshot-kill-"))
    path = folder / "k.json"
    save_kit(versions[0], path)
    rng = random.Random(args.seed)
    torn = missing = kit_old = kit_new = left = 0
    saves_seen = 0
    started = time.monotonic()
    for _ in range(args.kills):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: save, save, save ... until killed
            os.close(read_end)
            os.write(write_end, b"r")
            i = 0
            while True:
                i += 1
                save_kit(versions[i % 2], path)
        os.close(write_end)
        os.read(read_end, 1)  # the child runs
        os.close(read_end)
        time.sleep(rng.uniform(0.0, args.max_delay_ms / 1000))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        for candidate in (path, folder / "k.json.bak"):
            if not candidate.exists():
                missing += candidate == path  # the kit itself must always be there
                continue
            try:
                kit = load_kit(candidate)
            except Exception:  # noqa: BLE001 - what the bench counts
                torn += 1
                continue
            if kit == versions[0]:
                kit_old += candidate == path
            elif kit == versions[1]:
                kit_new += candidate == path
            else:
                torn += 1
        left += len([n for n in os.listdir(folder) if re.fullmatch(r"\.k\.json\.(bak\.)?[a-z0-9_]{8}\.tmp", n)])
        saves_seen += 1
    took = time.monotonic() - started
    save_kit(versions[0], path)
    after = [n for n in os.listdir(folder) if n.endswith(".tmp")]
    load = os.getloadavg()[0]
    print(f"ganshot kill -9 bench: {args.kills} kit saves killed at random (0..{args.max_delay_ms:g} ms), "
          f"{took:.1f} s, load average {load:.1f}")
    print(f"  kit after a kill: old {kit_old}, new {kit_new}, torn or unreadable (kit or .bak) {torn}, "
          f"kit missing {missing}")
    print(f"  temp files seen after kills: {left}; left after one more save: {len(after)}")
    return 1 if torn or missing or after else 0


if __name__ == "__main__":
    sys.exit(main())
