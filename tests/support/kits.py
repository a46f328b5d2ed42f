"""Kit data for the kit tests: one valid kit as decoded JSON, with knobs to bend it.

Cheat sheet::

    from tests.support.kits import SHA, LATENT, kit_data
    data = kit_data()                         # 4 pads (2 seeded, 2 with z of LATENT floats), 3 controllers
    data = kit_data(name="two")               # top-level fields overridden
    kit = parse_kit(kit_data())               # the model it names: "drums-v0", sha256 SHA

Shared by tests/engine/test_kit.py (the format), test_kit_file.py (files on disk) and
test_kit_model.py (the model a kit belongs to).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SHA", "LATENT", "kit_data"]

#: The sha256 the kit's model reference carries.
SHA = "ab" * 32
#: The latent size of the kit's ``z`` pads.
LATENT = 8


def kit_data(**top) -> dict:
    """A valid kit dict; ``top`` overrides top-level fields."""
    rng = np.random.default_rng(0)
    data = {
        "format": "ganshot-kit",
        "version": 1,
        "name": "test kit",
        "model": {"name": "drums-v0", "path": "drums-v0", "sha256": SHA},
        "pads": [
            {"note": 36, "name": "Kick", "seed": 7, "directions": [0.5, -1], "gain_db": -3, "choke_group": 0},
            {"note": 38, "name": "Snare", "z": rng.standard_normal(LATENT).tolist(), "pan": 0.25},
            {"note": 42, "name": "Closed Hat", "seed": 0, "choke_group": 1, "pitch_semitones": -2.5},
            {"note": 46, "name": "Open Hat", "z": rng.uniform(-1, 1, LATENT).tolist(), "choke_group": 1},
        ],
        "controllers": [
            {"type": "cc", "channel": None, "number": 74, "target": "focused.direction.0", "curve": "exp"},
            {"type": "cc", "channel": 9, "number": 7, "target": "pad.3.gain_db", "min": -30, "max": 0},
            {"number": 1, "target": "master.gain_db", "min": 6, "max": -60, "curve": "log"},
        ],
        "master_gain_db": -1.5,
    }
    data.update(top)
    return data
