"""Labelled spectrogram sheets a musician can read: a title, named rows, a caption under each tile,
frequency (kHz, log by default) and time (s) axes, tiles at least 160 px high; numpy and the built-in
5x7 font only.

Cheat sheet::

    from ganshot.engine.sheet import labelled_sheet, sheet_layout
    image, layout = labelled_sheet([[kick_a, kick_b], [snare_a, None]], 16000,
                                   title="drums-v1, seeds 0-99", row_labels=["kick", "snare"],
                                   captions=[["seed 3", "seed 7"], ["seed 9", ""]])
    write_png("classes.png", image)           # from ganshot.engine.spectrogram
    layout.tiles[1][0]                         # Box(x, y, w, h) of a tile; None audio draws a blank tile

:func:`sheet_layout` computes every box (title, row labels, tiles, captions, axis labels) from
the text and sizes alone, so tests check the layout without reading pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._font import GLYPH_H, GLYPH_W, SPACING, text_mask, text_size
from .errors import UserInputError
from .spectrogram import frequency_position, spectrogram_tile

__all__ = ["Box", "SheetLayout", "sheet_layout", "labelled_sheet", "MIN_TILE_HEIGHT_PX", "LOW_HZ"]

MIN_TILE_HEIGHT_PX = 160
LOW_HZ = 40.0  # the bottom of a log-frequency tile: below a kick's fundamental
LOG_TICKS_KHZ = (0.1, 0.5, 1, 2, 5, 10, 20)
TILE_WIDTH_PX = 200
SCALE = 2  # font scale: 10x14 px glyphs
CHAR_W, CHAR_H = (GLYPH_W + SPACING) * SCALE, GLYPH_H * SCALE
LINE_H = CHAR_H + 8
MARGIN, GUTTER, ROW_GAP, TICK = 12, 18, 8, 5
PAPER, INK, BLANK_TILE = 255, 0, 225


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class SheetLayout:
    """Where everything sits on a sheet; ``texts`` pairs each drawn string with its box."""

    width: int
    height: int
    title: tuple[Box, ...]
    row_labels: tuple[Box, ...]
    tiles: tuple[tuple[Box, ...], ...]
    captions: tuple[tuple[Box, ...], ...]
    texts: tuple[tuple[str, Box], ...]
    marks: tuple[Box, ...]


def _nice_step(span: float, max_ticks: int) -> float:
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50):
        if span / step <= max_ticks:
            return float(step)
    return span


def _ticks(span: float, max_ticks: int) -> list[tuple[float, str]]:
    step = _nice_step(span, max_ticks)
    values = np.arange(0.0, span + step * 1e-6, step)
    return [(float(v), f"{v:.2f}".rstrip("0").rstrip(".") if v else "0") for v in values]


def _fit(text: str, width_px: int) -> str:
    room = max(1, (width_px + SPACING * SCALE) // CHAR_W)
    return text if len(text) <= room else text[:max(1, room - 1)] + "~"


def _frequency_ticks(max_khz: float, min_khz: float | None) -> list[tuple[float, str]]:
    if min_khz is None:
        return _ticks(max_khz, 4)
    return [(k, f"{k:g}") for k in LOG_TICKS_KHZ if min_khz <= k <= max_khz]


def sheet_layout(title_lines, row_labels, captions, max_khz: float, duration_s: float,
                 tile_height_px: int = MIN_TILE_HEIGHT_PX, tile_width_px: int = TILE_WIDTH_PX,
                 min_khz: float | None = None) -> SheetLayout:
    """The boxes of a sheet with ``len(row_labels)`` rows of ``len(captions[r])`` tiles each; the
    frequency axis runs linearly from 0 to ``max_khz``, or logarithmically from ``min_khz``."""
    if tile_height_px < MIN_TILE_HEIGHT_PX:
        raise UserInputError(f"tiles must be at least {MIN_TILE_HEIGHT_PX} px high, got {tile_height_px}")
    if not row_labels or len(captions) != len(row_labels) or not any(captions):
        raise UserInputError("a sheet needs one caption list per labelled row and at least one tile")
    texts, marks, title = [], [], []
    y = MARGIN
    for line in title_lines:
        box = Box(MARGIN, y, text_size(line, SCALE)[0], CHAR_H)
        title.append(box)
        texts.append((line, box))
        y += LINE_H
    freq_ticks = _frequency_ticks(max_khz, min_khz)
    label_w = max(text_size(label, SCALE)[0] for label in row_labels)
    axis_w = max(text_size(label, SCALE)[0] for _, label in freq_ticks + [(0, "kHz")])
    tiles_x = MARGIN + label_w + GUTTER + axis_w + TICK + 3
    texts.append(("kHz", Box(tiles_x - TICK - 3 - text_size("kHz", SCALE)[0], y, *text_size("kHz", SCALE))))
    y += LINE_H
    rows, caps, labels = [], [], []
    for label, row_caps in zip(row_labels, captions):
        box = Box(MARGIN, y + (tile_height_px - CHAR_H) // 2, *text_size(label, SCALE))
        labels.append(box)
        texts.append((label, box))
        for khz, tick_label in freq_ticks:
            mark_y = y + tile_height_px - 1 - int(round(float(frequency_position(khz, max_khz, min_khz))
                                                        * (tile_height_px - 1)))
            w, h = text_size(tick_label, SCALE)
            texts.append((tick_label, Box(tiles_x - TICK - 3 - w, min(max(mark_y - h // 2, y), y + tile_height_px - h), w, h)))
            marks.append(Box(tiles_x - TICK - 1, mark_y, TICK, 1))
        row_tiles, row_cap_boxes = [], []
        for c, caption in enumerate(row_caps):
            tile = Box(tiles_x + c * (tile_width_px + GUTTER), y, tile_width_px, tile_height_px)
            cap = Box(tile.x, y + tile_height_px + 4, tile_width_px, CHAR_H)
            row_tiles.append(tile)
            row_cap_boxes.append(cap)
            if caption:
                texts.append((_fit(caption, tile_width_px), Box(cap.x, cap.y, *text_size(_fit(caption, tile_width_px), SCALE))))
        rows.append(tuple(row_tiles))
        caps.append(tuple(row_cap_boxes))
        y += tile_height_px + LINE_H + ROW_GAP
    columns = max(len(r) for r in captions)
    texts.append(("time (s)", Box(MARGIN, y + TICK + 2, *text_size("time (s)", SCALE))))
    for c in range(columns):
        left = tiles_x + c * (tile_width_px + GUTTER)
        for seconds, tick_label in _ticks(duration_s, 3):
            mark_x = left + int(round(seconds / max(duration_s, 1e-9) * (tile_width_px - 1)))
            w, h = text_size(tick_label, SCALE)
            marks.append(Box(mark_x, y, 1, TICK))
            texts.append((tick_label, Box(min(max(mark_x - w // 2, left), left + tile_width_px - w), y + TICK + 2, w, h)))
    y += TICK + 2 + LINE_H
    width = max(tiles_x + columns * (tile_width_px + GUTTER) - GUTTER, max(b.x + b.w for b in title)
                if title else 0) + MARGIN
    return SheetLayout(width, y + MARGIN - 8, tuple(title), tuple(labels), tuple(rows), tuple(caps),
                       tuple(texts), tuple(marks))


def _draw_text(image: np.ndarray, text: str, box: Box) -> None:
    mask = text_mask(text, SCALE)[:, : max(0, image.shape[1] - box.x)]
    image[box.y:box.y + mask.shape[0], box.x:box.x + mask.shape[1]][mask] = INK


def labelled_sheet(audio_rows, sample_rate: int, title: str, row_labels, captions, max_hz: float | None = None,
                   tile_height_px: int = MIN_TILE_HEIGHT_PX, tile_width_px: int = TILE_WIDTH_PX,
                   log_frequency: bool = True) -> tuple[np.ndarray, SheetLayout]:
    """(uint8[H, W] greyscale picture, its layout): one spectrogram tile per one-shot of ``audio_rows``.

    ``audio_rows[r][c]`` is mono float audio at ``sample_rate`` or None (a blank tile);
    ``captions[r][c]`` is printed under it, ``row_labels[r]`` left of the row, ``title`` on top
    (``\\n`` starts a new line). Tiles show :data:`LOW_HZ` .. ``max_hz`` (default Nyquist) on a
    log-frequency axis, or 0 Hz .. ``max_hz`` linearly (``log_frequency=False``), over the one-shot's length.
    """
    found = [a for row in audio_rows for a in row if a is not None]
    if not found or len(audio_rows) != len(row_labels):
        raise UserInputError("labelled_sheet needs one label per row and at least one one-shot")
    max_hz = sample_rate / 2 if max_hz is None else min(float(max_hz), sample_rate / 2)
    duration_s = max(np.asarray(a).size for a in found) / sample_rate
    min_hz = LOW_HZ if log_frequency else None
    layout = sheet_layout(title.split("\n"), list(row_labels), [list(c) for c in captions], max_hz / 1000,
                          duration_s, tile_height_px, tile_width_px, None if min_hz is None else min_hz / 1000)
    image = np.full((layout.height, layout.width), PAPER, np.uint8)
    for row_audio, row_boxes in zip(audio_rows, layout.tiles):
        for audio, box in zip(row_audio, row_boxes):
            image[box.y:box.y + box.h, box.x:box.x + box.w] = BLANK_TILE if audio is None else \
                spectrogram_tile(audio, sample_rate, box.h, box.w, max_hz, min_hz)
    for mark in layout.marks:
        image[mark.y:mark.y + mark.h, mark.x:mark.x + mark.w] = INK
    for text, box in layout.texts:
        _draw_text(image, text, box)
    return image, layout
