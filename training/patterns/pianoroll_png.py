"""Piano-roll sheets a musician can read: a title, a caption per pattern, labelled rows (drum classes or
note names), bar numbers on the time axis and the axes named; numpy and the built-in 5x7 font only.

Cheat sheet::

    image = pianoroll_sheet([(onset, hold), ...], row_labels, title="grooves, seeds 0-3, 120 bpm",
                            captions=["seed 0", ...], steps_per_bar=16, y_name="GM drum class")
    write_png("patterns.png", image)                    # from ganshot.engine.spectrogram

Each roll is ``onset`` uint8/bool[steps, rows] (and ``hold`` or None): a note is a dark bar from its
onset over the steps it is held, its onset a black tick; bar lines are grey, beats lighter. Tiles
are at least :data:`MIN_TILE_HEIGHT_PX` high; melodic rolls label every C.
"""

from __future__ import annotations

import numpy as np

from ganshot.engine._font import GLYPH_H, text_mask, text_size
from ganshot.engine.errors import UserInputError

from .midi_windows import roll_notes

__all__ = ["pianoroll_sheet", "MIN_TILE_HEIGHT_PX"]

MIN_TILE_HEIGHT_PX = 160
MARGIN, GAP, TICK = 12, 10, 4
PAPER, INK, NOTE, BAR_LINE, BEAT_LINE, ROW_LINE = 255, 0, 70, 150, 215, 238
MAX_WIDTH_PX = 4000


def _draw(image: np.ndarray, text: str, x: int, y: int, scale: int = 1) -> None:
    mask = text_mask(text, scale)
    h, w = mask.shape
    h, w = min(h, image.shape[0] - y), min(w, image.shape[1] - x)
    if h > 0 and w > 0:
        region = image[y:y + h, x:x + w]
        region[mask[:h, :w]] = INK


def _labelled_rows(labels: list[str]) -> list[int]:
    """Which rows carry a label: every row of a small table, every C (or every 12th) of a pitch range."""
    if len(labels) <= 24:
        return list(range(len(labels)))
    cs = [i for i, label in enumerate(labels) if label.startswith("C") and not label.startswith("C#")]
    return cs or list(range(0, len(labels), 12))


def pianoroll_sheet(rolls, row_labels, title: str, captions, steps_per_bar: int, y_name: str,
                    x_name: str = "bar (16th-note steps)") -> np.ndarray:
    """uint8[H, W] greyscale sheet of ``rolls`` [(onset [steps, rows], hold or None), ...], one tile per roll."""
    if not rolls or len(captions) != len(rolls):
        raise UserInputError("a piano-roll sheet needs at least one roll and one caption per roll")
    steps, rows = np.asarray(rolls[0][0]).shape
    if rows != len(row_labels) or steps_per_bar < 1:
        raise UserInputError(f"rolls have {rows} rows, {len(row_labels)} labels given")
    row_px = max(3, -(-MIN_TILE_HEIGHT_PX // rows))
    step_px = max(2, min(10, (MAX_WIDTH_PX - 300) // steps))
    tile_h, tile_w = rows * row_px, steps * step_px
    label_w = max(text_size(label)[0] for label in row_labels) + 2 * TICK
    line = GLYPH_H + 6
    title_h = 2 * GLYPH_H + 8
    block_h = line + tile_h + TICK + line + GAP  # caption, tile, ticks, bar numbers, gap
    width = MARGIN * 2 + label_w + tile_w
    width = max(width, MARGIN * 2 + text_size(title, 2)[0], MARGIN * 2 + text_size(x_name)[0] + label_w)
    height = MARGIN + title_h + line + block_h * len(rolls) + line + MARGIN
    image = np.full((height, width), PAPER, np.uint8)
    _draw(image, title, MARGIN, MARGIN, 2)
    _draw(image, f"y: {y_name}   x: {x_name}", MARGIN, MARGIN + title_h)
    x0 = MARGIN + label_w
    for index, ((onset, hold), caption) in enumerate(zip(rolls, captions)):
        top = MARGIN + title_h + line + index * block_h
        _draw(image, caption, x0, top)
        y0 = top + line
        tile = image[y0:y0 + tile_h, x0:x0 + tile_w]
        for row in range(rows):
            tile[(rows - 1 - row) * row_px, :] = ROW_LINE
        for step in range(0, steps, 4):
            tile[:, step * step_px] = BAR_LINE if step % steps_per_bar == 0 else BEAT_LINE
        for step, row, length, _ in roll_notes(onset, hold):
            y = (rows - 1 - row) * row_px
            tile[y + 1:y + row_px, step * step_px + 1:(step + length) * step_px] = NOTE
            tile[y + 1:y + row_px, step * step_px + 1:step * step_px + max(2, step_px // 3)] = INK
        image[y0:y0 + tile_h, x0 - 1] = INK  # y axis
        image[y0 + tile_h, x0 - 1:x0 + tile_w] = INK  # x axis
        for row in _labelled_rows(list(row_labels)):
            y = y0 + (rows - 1 - row) * row_px + row_px // 2 - GLYPH_H // 2
            text = row_labels[row]
            _draw(image, text, x0 - TICK - text_size(text)[0] - 1, max(y0 - 2, y))
            image[y0 + (rows - 1 - row) * row_px + row_px // 2, x0 - TICK:x0 - 1] = INK
        for bar in range(0, -(-steps // steps_per_bar)):
            x = x0 + bar * steps_per_bar * step_px
            image[y0 + tile_h:y0 + tile_h + TICK, x] = INK
            _draw(image, str(bar + 1), x + 2, y0 + tile_h + TICK)
    _draw(image, x_name, x0, height - MARGIN - GLYPH_H)
    return image
