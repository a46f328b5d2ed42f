"""Labelled spectrogram sheets: layout (title, named rows, captions, axes, 160 px tiles) and pixels."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.sheet import MIN_TILE_HEIGHT_PX, labelled_sheet, sheet_layout
from ganshot.engine.spectrogram import spectrogram_tile

RATE = 16000


def hits(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(4096) / RATE
    return [rng.standard_normal(t.size) * np.exp(-t * 30) for _ in range(count)]


def test_the_layout_has_a_title_a_label_per_row_captions_and_tall_tiles():
    layout = sheet_layout(["model m, seeds 0..9", "second line"], ["kick", "closed_hat", "snare"],
                          [["real", "seed 1", "seed 2"], ["real", "seed 5", ""], ["real", "", ""]], 8.0, 1.0)
    assert len(layout.title) == 2 and all(box.w > 0 for box in layout.title)
    assert len(layout.row_labels) == 3 and len(layout.tiles) == 3
    assert all(tile.h >= MIN_TILE_HEIGHT_PX for row in layout.tiles for tile in row)
    assert layout.height >= 3 * MIN_TILE_HEIGHT_PX + layout.title[-1].y + layout.title[-1].h
    for label, row in zip(layout.row_labels, layout.tiles):  # each label sits left of its row, vertically inside it
        assert label.x + label.w < row[0].x and row[0].y <= label.y and label.y + label.h <= row[0].y + row[0].h
    for row, captions in zip(layout.tiles, layout.captions):  # captions directly under their tiles
        for tile, caption in zip(row, captions):
            assert caption.x == tile.x and tile.y + tile.h <= caption.y < tile.y + tile.h + 20
    texts = [text for text, _ in layout.texts]
    assert {"kHz", "time (s)", "kick", "closed_hat", "seed 5", "8", "0", "0.5", "1"} <= set(texts)
    top = max(b.y + b.h for row in layout.tiles for b in row)
    assert max(b.y + b.h for _, b in layout.texts) <= layout.height and top <= layout.height


def test_a_rendered_sheet_matches_its_layout_and_draws_text_where_it_says():
    images, layout = labelled_sheet([hits(3), hits(1, seed=1) + [None]], RATE, "title here",
                                    ["snare", "hat"], [["s 0", "s 1", "s 2"], ["s 3", "blank"]])
    assert images.dtype == np.uint8 and images.shape == (layout.height, layout.width)
    for box in layout.title + layout.row_labels:
        assert (images[box.y:box.y + box.h, box.x:box.x + box.w] == 0).any()  # ink where the text is
    blank = layout.tiles[1][1]
    assert (images[blank.y:blank.y + blank.h, blank.x:blank.x + blank.w] == 225).all()
    with pytest.raises(UserInputError, match="at least 160 px"):
        sheet_layout(["t"], ["a"], [["x"]], 8.0, 1.0, tile_height_px=88)
    with pytest.raises(UserInputError, match="one label per row"):
        labelled_sheet([hits(1)], RATE, "t", ["a", "b"], [["x"], ["y"]])


def test_a_tile_puts_a_sine_at_its_frequency_row():
    t = np.arange(8192) / RATE
    tile = spectrogram_tile(np.sin(2 * np.pi * 2000 * t), RATE, height_px=160, width_px=100)
    assert tile.shape == (160, 100)
    brightest = int(np.argmax(tile[:, 50]))
    assert abs(brightest - (159 - 2000 / 8000 * 159)) <= 2  # row 0 is the top (Nyquist), 2 kHz a quarter up
    t48 = np.arange(24000) / 48000
    half = spectrogram_tile(np.sin(2 * np.pi * 2000 * t48), 48000, height_px=160, width_px=100, max_hz=4000)
    assert abs(int(np.argmax(half[:, 50])) - (159 - 2000 / 4000 * 159)) <= 2


def test_a_log_frequency_tile_and_its_axis_agree_on_where_a_sine_sits():
    from ganshot.engine.spectrogram import frequency_position

    t = np.arange(8192) / RATE
    tile = spectrogram_tile(np.sin(2 * np.pi * 1000 * t), RATE, height_px=160, width_px=100, min_hz=40)
    expected_row = 159 - float(frequency_position(1000, 8000, 40)) * 159
    assert abs(int(np.argmax(tile[:, 50])) - expected_row) <= 3
    layout = sheet_layout(["t"], ["a"], [["x"]], 8.0, 0.5, min_khz=0.04)
    tile_box = layout.tiles[0][0]
    ticks = {text for text, box in layout.texts if box.x + box.w < tile_box.x and box.y >= tile_box.y
             and box.y + box.h <= tile_box.y + tile_box.h} - {"a"}
    assert ticks == {"0.1", "0.5", "1", "2", "5"}
    one_khz = next(box for text, box in layout.texts if text == "1" and box.x < tile_box.x)
    assert abs(one_khz.y + one_khz.h / 2 - (tile_box.y + expected_row)) <= 2  # the label sits at the sine's row
