"""Spot duplicate drum hits across kits and SoundFonts before they are written to a dataset.

Many kits of a GM SoundFont share samples (in FluidR3 most notes of the 30 kits are the
"Standard" sample), MuseScore General reuses FluidR3's kick and snare (Ogg-compressed), and
velocity layers often change only the level, which peak normalisation removes. Such copies
add no information but would weigh the shared samples many times over, so a plain hit whose
first :data:`DEDUPE_WINDOW_S` seconds are within :data:`DEDUPE_REL_DIFF` (relative L2, -26 dB)
of a hit already kept for the same note, at a lag of up to :data:`DEDUPE_MAX_LAG` samples, is
a duplicate.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HitFingerprints", "DEDUPE_WINDOW_S", "DEDUPE_REL_DIFF", "DEDUPE_MAX_LAG"]

DEDUPE_WINDOW_S = 0.25
DEDUPE_REL_DIFF = 0.05  # -26 dB: FluidR3's shared samples differ by < 0.01, distinct ones by > 0.07
DEDUPE_MAX_LAG = 2  # samples: renders of one sample may start a sample apart after onset trimming


class HitFingerprints:
    """Remembers the first 250 ms of each kept plain hit, per note, to spot duplicates.

    Many kits of a GM SoundFont share samples (in FluidR3 most notes of the 30
    kits are the "Standard" sample) and velocity often changes only the level,
    which peak normalisation removes; such copies add no information but would
    weigh the shared samples many times over.
    """

    def __init__(self, sample_rate: int, num_samples: int):
        self.length = min(num_samples, int(DEDUPE_WINDOW_S * sample_rate))
        self.by_note: dict[int, list[np.ndarray]] = {}

    def is_duplicate(self, note: int, hit: np.ndarray) -> bool:
        """True if ``hit`` is within -26 dB of a remembered hit of ``note`` (lag <= 2 samples); else remember it."""
        head = hit[: self.length].astype(np.float64)
        m = DEDUPE_MAX_LAG
        for other in self.by_note.get(note, []):
            limit = DEDUPE_REL_DIFF * np.linalg.norm(other)
            for lag in range(-m, m + 1):
                a, b = head[m + lag : self.length - m + lag], other[m : self.length - m]
                if np.linalg.norm(a - b) <= limit:
                    return True
        self.by_note.setdefault(note, []).append(head)
        return False
