"""Spectrogram thumbnails of pad buffers for the web page: small colour PNGs, made once per buffer.

Cheat sheet::

    digest = buffer_digest(engine.pad_buffer(3))         # 16 hex digits; "none" before a render
    png = thumbnail_png(buffer, 48000)                   # bytes of a HEIGHT_PX x WIDTH_PX PNG
    cache = ThumbCache(48000); cache.png(buffer)         # (digest, png), the same buffer drawn once

A thumbnail is :func:`~ganshot.engine.spectrogram.spectrogram_tile` of the whole one-shot on a
log-frequency axis (:data:`~ganshot.engine.sheet.LOW_HZ` to Nyquist, as the labelled sheets draw
it), normalised to the one-shot's own peak (the pad's gain slider shows its level), through a
dark-to-warm colour ramp, :data:`HEIGHT_PX` high (the house's readable tile height;
the page shows it smaller and the browser scales it). The digest names a buffer by its bytes, so
the page asks for a picture again only when the pad's sound changed, and a knob moved back to
where it was finds its picture still cached.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from ganshot.engine.sheet import LOW_HZ
from ganshot.engine.spectrogram import png_bytes, spectrogram_tile

__all__ = ["ThumbCache", "thumbnail_png", "buffer_digest", "HEIGHT_PX", "WIDTH_PX", "NO_BUFFER", "MAX_CACHED"]

HEIGHT_PX, WIDTH_PX = 160, 200
NO_BUFFER = "none"
MAX_CACHED = 64  # thumbnails kept (16 pads, and a few sounds back on each)
#: The colour ramp: (level 0..255, R, G, B) anchors, interpolated (black -> violet -> orange -> pale yellow).
RAMP = ((0, 8, 6, 20), (70, 60, 20, 110), (140, 190, 55, 90), (200, 250, 140, 40), (255, 252, 250, 190))
_LUT = np.stack([np.interp(np.arange(256), [a[0] for a in RAMP], [a[c] for a in RAMP]) for c in (1, 2, 3)],
                axis=1).astype(np.uint8)  # uint8[256, 3]


def buffer_digest(buffer) -> str:
    """16 hex digits naming a pad buffer by its samples; :data:`NO_BUFFER` for None."""
    if buffer is None:
        return NO_BUFFER
    data = np.ascontiguousarray(buffer, dtype=np.float32)
    return hashlib.blake2b(data.tobytes(), digest_size=8).hexdigest()


def thumbnail_png(buffer, sample_rate: int, height_px: int = HEIGHT_PX, width_px: int = WIDTH_PX) -> bytes:
    """The PNG of a pad buffer float32[frames] (mono, at ``sample_rate`` Hz); None draws a blank tile."""
    if buffer is None or len(buffer) == 0:
        return png_bytes(np.full((height_px, width_px, 3), _LUT[0], np.uint8))
    audio = np.asarray(buffer, np.float32)
    peak = float(np.max(np.abs(audio)))
    if peak > 0 and np.isfinite(peak):
        audio = audio / peak  # the shape of the sound, not its level: a quiet pad is not a black tile
    levels = spectrogram_tile(audio, int(sample_rate), height_px=height_px, width_px=width_px, min_hz=LOW_HZ)
    return png_bytes(_LUT[levels])


class ThumbCache:
    """Thumbnails by buffer digest, the newest :data:`MAX_CACHED` kept; any thread may ask."""

    def __init__(self, sample_rate: int, max_cached: int = MAX_CACHED):
        self.sample_rate, self.max_cached = int(sample_rate), int(max_cached)
        self._lock = threading.Lock()
        self._pngs: OrderedDict[str, bytes] = OrderedDict()
        self.drawn = 0  # thumbnails made (a cache miss each)

    def png(self, buffer) -> tuple[str, bytes]:
        """``(digest, png bytes)`` of ``buffer``, drawn on the first request for that sound."""
        digest = buffer_digest(buffer)
        with self._lock:
            png = self._pngs.get(digest)
            if png is not None:
                self._pngs.move_to_end(digest)
                return digest, png
        png = thumbnail_png(buffer, self.sample_rate)  # outside the lock: two threads may both draw it once
        with self._lock:
            self._pngs[digest] = png
            self.drawn += 1
            while len(self._pngs) > self.max_cached:
                self._pngs.popitem(last=False)
        return digest, png

    def __repr__(self) -> str:
        return f"ThumbCache(sample_rate={self.sample_rate}, cached={len(self._pngs)}, drawn={self.drawn})"
