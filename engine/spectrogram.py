"""Spectrogram pictures without matplotlib: numpy STFT -> uint8 image -> PNG.

Cheat sheet::

    image = spectrogram_image(audio)                  # uint8[freq_bins, frames], low frequencies at the bottom
    tile = spectrogram_tile(audio, 16000, height_px=160, width_px=200, max_hz=8000)   # resized, 0..max_hz
    tile = spectrogram_tile(audio, 16000, min_hz=50)  # log frequency, 50 Hz .. Nyquist
    sheet = contact_sheet([image, ...], columns=8)    # one uint8 picture, 2-pixel gutters
    write_png("sheet.png", sheet)                     # greyscale PNG, written atomically
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from .atomic import atomic_write_bytes
from .errors import UserInputError

__all__ = ["spectrogram_image", "spectrogram_tile", "frequency_position", "contact_sheet", "write_png", "png_bytes"]

FLOOR_DB = -80.0


def spectrogram_image(audio: np.ndarray, n_fft: int = 256, hop: int = 128, floor_db: float = FLOOR_DB) -> np.ndarray:
    """Log-magnitude spectrogram of mono ``audio`` float[N] as uint8[n_fft // 2 + 1, frames].

    0 dB (full scale) is white, ``floor_db`` and below black; row 0 is the highest frequency.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size < n_fft:
        audio = np.pad(audio, (0, n_fft - audio.size))
    frames = 1 + (audio.size - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    window = np.hanning(n_fft).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(audio[index] * window, axis=1)) / (window.sum() / 2)
    db = 20 * np.log10(np.maximum(spectrum, 1e-12))
    scaled = np.clip((db - floor_db) / -floor_db, 0.0, 1.0)
    return (scaled.T[::-1] * 255).astype(np.uint8)


def frequency_position(freq_hz, max_hz: float, min_hz: float | None = None):
    """Height (0 = bottom, 1 = top) of ``freq_hz`` on a tile: linear from 0 Hz, or logarithmic from ``min_hz``."""
    freq = np.asarray(freq_hz, dtype=np.float64)
    if min_hz is None:
        return freq / max_hz
    return np.log(np.maximum(freq, min_hz) / min_hz) / np.log(max_hz / min_hz)


def _row_frequencies_hz(height_px: int, max_hz: float, min_hz: float | None) -> np.ndarray:
    """float64[height_px]: the frequency each tile row shows, top row first (the inverse of frequency_position)."""
    up = (np.arange(height_px)[::-1] + 0.5) / height_px
    return up * max_hz if min_hz is None else min_hz * (max_hz / min_hz) ** up


def spectrogram_tile(audio: np.ndarray, sample_rate: int, height_px: int = 160, width_px: int = 200,
                     max_hz: float | None = None, min_hz: float | None = None,
                     floor_db: float = FLOOR_DB) -> np.ndarray:
    """uint8[height_px, width_px]: the spectrogram of ``audio`` up to ``max_hz`` (top row, default Nyquist)
    over the whole one-shot (left to right), resized by nearest neighbour.

    Rows run linearly from 0 Hz, or, with ``min_hz``, logarithmically from ``min_hz`` (a musician's
    view: kicks and hats both get room). The FFT size is the power of two that gives at least
    ``height_px`` bins below ``max_hz`` (linear), or about 32 ms (log; at least 256); the hop
    spreads about ``width_px`` frames over the one-shot.
    """
    if height_px < 1 or width_px < 1 or sample_rate <= 0:
        raise UserInputError(f"a tile needs a positive size and rate, got {height_px}x{width_px} at {sample_rate} Hz")
    nyquist = sample_rate / 2
    max_hz = nyquist if max_hz is None else min(float(max_hz), nyquist)
    if min_hz is not None and not 0 < min_hz < max_hz:
        raise UserInputError(f"min_hz must be in (0, {max_hz:g}), got {min_hz!r}")
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    n_fft = 256
    while n_fft < 8192 and ((n_fft // 2) * max_hz / nyquist < height_px if min_hz is None
                            else n_fft < sample_rate / 32):
        n_fft *= 2
    hop = max(1, (max(audio.size, n_fft) - n_fft) // max(1, width_px - 1))
    image = spectrogram_image(audio, n_fft=n_fft, hop=hop, floor_db=floor_db)[::-1]  # row 0 = 0 Hz here
    rows = np.minimum(np.round(_row_frequencies_hz(height_px, max_hz, min_hz) / nyquist * (n_fft // 2)),
                      image.shape[0] - 1).astype(int)
    cols = np.minimum((np.arange(width_px) + 0.5) / width_px * image.shape[1], image.shape[1] - 1).astype(int)
    return np.ascontiguousarray(image[rows][:, cols])


def contact_sheet(images: list[np.ndarray], columns: int = 8, gutter: int = 2) -> np.ndarray:
    """Tile equally sized uint8 images into one picture, row by row."""
    if not images:
        raise UserInputError("contact_sheet needs at least one image")
    height, width = images[0].shape
    rows = -(-len(images) // columns)
    cols = min(columns, len(images))
    sheet = np.full((rows * (height + gutter) - gutter, cols * (width + gutter) - gutter), 40, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        sheet[r * (height + gutter): r * (height + gutter) + height, c * (width + gutter): c * (width + gutter) + width] = image
    return sheet


def png_bytes(image: np.ndarray) -> bytes:
    """An 8-bit PNG of uint8[height, width] (greyscale) or uint8[height, width, 3] (RGB)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    rgb = image.ndim == 3 and image.shape[2] == 3
    if not (image.ndim == 2 or rgb) or 0 in image.shape:
        raise UserInputError(f"png needs a non-empty uint8 image [H, W] or [H, W, 3], got shape {list(image.shape)}")
    height, width = image.shape[:2]
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2 if rgb else 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def write_png(path, image: np.ndarray):
    """Write ``image`` uint8[height, width] (or [height, width, 3], RGB) as a PNG file atomically; returns the path."""
    return atomic_write_bytes(path, png_bytes(image))
