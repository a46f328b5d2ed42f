"""Instrument pads for tests: kits with a pitched pad, and the exact audio the C mixer makes of a
held note and its release fade (what tests/engine/test_instrument_voices.py and the OSC, MIDI and
JACK tests compare captures with).

Cheat sheet::

    kit = instrument_kit(bundle, low=48, high=72, release_ms=5.0)     # pad 0 a drum on 36, pad 1 an instrument
    expected = held_note(buffer, gain=0.7, start=100, release_at=900, release_frames=240, total=5000)
"""

from __future__ import annotations

import numpy as np

__all__ = ["instrument_kit", "held_note", "release_gains"]


def instrument_kit(bundle, low: int = 48, high: int = 72, note: int = 60, class_name=None, path=None, **instrument):
    """A valid version-2 Kit for ``bundle``: pad 0 a drum pad on note 36 (seed 1), pad 1 an instrument
    on ``note`` over ``low..high`` (seed 3) with ``instrument`` fields (release_ms, polyphony, ...)."""
    from ganshot.engine.kit import ModelRef, parse_kit

    extra = {} if class_name is None else {"class_name": class_name}
    data = {"format": "ganshot-kit", "version": 2, "name": "pitched",
            "model": {"name": bundle.name, "path": path, "sha256": bundle.sha256},
            "pads": [{"note": 36, "name": "kick", "seed": 1, **extra},
                     {"note": note, "name": "keys", "seed": 3, **extra,
                      "instrument": {"low": low, "high": high, **instrument}}]}
    kit = parse_kit(data)
    assert kit.model == ModelRef(bundle.name, bundle.sha256, path)
    return kit


def release_gains(release_frames: int) -> np.ndarray:
    """The C mixer's linear release fade, float32[release_frames]: (F-1)/F, (F-2)/F, ..., 0."""
    frames = np.float32(release_frames)
    return (np.arange(release_frames - 1, -1, -1, dtype=np.float32) / frames).astype(np.float32)


def held_note(buffer: np.ndarray, gain: float, start: int, release_at: int | None, release_frames: int,
              total: int) -> np.ndarray:
    """float32[total] of one channel: ``buffer`` times ``gain`` from frame ``start``, fading out over
    ``release_frames`` from frame ``release_at`` (None: to its end), as the C mixer computes it."""
    out = np.zeros(total, np.float32)
    x = np.asarray(buffer, np.float32) * np.float32(gain)
    end = start + len(x) if release_at is None else min(start + len(x), release_at)
    out[start:end] = x[:end - start]
    if release_at is not None and release_at < start + len(x):
        tail = x[release_at - start:release_at - start + release_frames]
        out[release_at:release_at + len(tail)] = tail * release_gains(release_frames)[:len(tail)]
    return out
