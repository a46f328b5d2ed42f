"""The pictures of a pitched evaluation, drawn with numpy and the built-in 5x7 font (no matplotlib).

::

    from ganshot.training.evaluate_pitched_plots import accuracy_figure, cents_figure
    accuracy_figure(report, programs, midi, errors, real_programs, real_midi, real_errors, "pitch_accuracy.png")
    cents_figure(report, errors, real_errors, "cents_error.png")

``pitch_accuracy.png``: one panel per program, the share of renderings within the tolerance
(%) against the MIDI note (generated: blue line and dots; real notes of the dataset: grey
squares; the 90 % target: a green line; notes with a silent or clipped rendering: red marks
under the axis). ``cents_error.png``: the histogram of the signed pitch errors (share of notes
per 25-cent bin, errors beyond +-1250 cents in the end bins, unvoiced notes in their own bar),
generated as blue bars, real as a grey outline, the tolerance as green lines. Both carry a
title, axis names with units and tick labels; panels are at least 160 px high.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganshot.engine._font import text_mask, text_size
from ganshot.engine.spectrogram import write_png

from .evaluate_pitched import note_name

__all__ = ["accuracy_figure", "cents_figure", "PANEL_HEIGHT_PX", "PANEL_WIDTH_PX", "BIN_CENTS", "RANGE_CENTS"]

PANEL_HEIGHT_PX, PANEL_WIDTH_PX = 180, 720
BIN_CENTS, RANGE_CENTS = 25, 1250
SCALE = 2
LINE_H = 7 * SCALE + 8
LEFT, RIGHT, TOP, GAP = 96, 24, 16, 64
COLOURS = {"ink": (0, 0, 0), "paper": (255, 255, 255), "grid": (225, 225, 225), "generated": (31, 90, 200),
           "real": (130, 130, 130), "target": (20, 150, 60), "fault": (210, 30, 30)}


class _Canvas:
    """An RGB picture with text, lines, boxes and markers in :data:`COLOURS`."""

    def __init__(self, width: int, height: int) -> None:
        self.image = np.full((height, width, 3), COLOURS["paper"], np.uint8)

    def text(self, x: int, y: int, text: str, colour: str = "ink", centre: bool = False) -> None:
        if centre:
            x -= text_size(text, SCALE)[0] // 2
        x = max(0, x)
        mask = text_mask(text, SCALE)[:, : max(0, self.image.shape[1] - x)][: max(0, self.image.shape[0] - y)]
        self.image[y:y + mask.shape[0], x:x + mask.shape[1]][mask] = COLOURS[colour]

    def box(self, x0: float, y0: float, x1: float, y1: float, colour: str) -> None:
        xa, xb = sorted((int(round(x0)), int(round(x1))))
        ya, yb = sorted((int(round(y0)), int(round(y1))))
        self.image[max(ya, 0):yb + 1, max(xa, 0):xb + 1] = COLOURS[colour]

    def line(self, x0: float, y0: float, x1: float, y1: float, colour: str, dash: int = 0) -> None:
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        xs, ys = np.linspace(x0, x1, steps).round().astype(int), np.linspace(y0, y1, steps).round().astype(int)
        keep = np.ones(steps, bool) if not dash else (np.arange(steps) // dash) % 2 == 0
        self.image[ys[keep], xs[keep]] = COLOURS[colour]

    def legend(self, x: int, y: int, entries) -> None:
        for label, colour in entries:
            self.box(x, y + 3, x + 14, y + 10, colour)
            self.text(x + 20, y, label)
            x += 20 + text_size(label, SCALE)[0] + 24


def _axes(canvas: _Canvas, left: int, top: int, x_span, y_span, x_ticks, y_ticks, x_name: str, y_name: str):
    """Draw a panel's frame, grid, ticks and axis names; returns (x -> px, y -> px)."""
    width, height = PANEL_WIDTH_PX, PANEL_HEIGHT_PX
    x_at = lambda v: left + (v - x_span[0]) / max(x_span[1] - x_span[0], 1e-9) * (width - 1)  # noqa: E731
    y_at = lambda v: top + height - 1 - (v - y_span[0]) / max(y_span[1] - y_span[0], 1e-9) * (height - 1)  # noqa: E731
    for value, label in y_ticks:
        canvas.line(left, y_at(value), left + width - 1, y_at(value), "grid")
        canvas.line(left - 5, y_at(value), left - 1, y_at(value), "ink")
        canvas.text(left - 8 - text_size(label, SCALE)[0], int(y_at(value)) - 7, label)
    for value, label in x_ticks:
        canvas.line(x_at(value), top + height, x_at(value), top + height + 4, "ink")
        canvas.text(int(x_at(value)), top + height + 8, label, centre=True)
    canvas.line(left, top, left, top + height - 1, "ink")
    canvas.line(left, top + height - 1, left + width - 1, top + height - 1, "ink")
    canvas.text(left + width // 2, top + height + 8 + LINE_H, x_name, centre=True)
    canvas.text(8, top - LINE_H - 6, y_name)
    return x_at, y_at


def _note_ticks(low: int, high: int) -> list[tuple[int, str]]:
    """Ticks at the Cs (named C4 etc.), or at a few evenly spaced notes when the span holds fewer than two."""
    cs = [m for m in range(low, high + 1) if m % 12 == 0]
    if len(cs) >= 2:
        return [(m, note_name(m)) for m in cs]
    step = max(1, (high - low) // 6)
    return [(m, note_name(m)) for m in range(low, high + 1, step)]


def _width(lines, plot_width: int) -> int:
    """Picture width: the plot's, or the longest title line's when that is wider."""
    return max(plot_width, 20 + max(text_size(line, SCALE)[0] for line in lines))


def _title(canvas: _Canvas, lines) -> int:
    y = 10
    for line in lines:
        canvas.text(10, y, line)
        y += LINE_H
    return y


def _share_within(errors, midi, tolerance: float) -> dict[int, float]:
    hit = np.abs(np.nan_to_num(np.asarray(errors, float), nan=np.inf)) <= tolerance
    midi = np.asarray(midi)
    return {int(m): float(hit[midi == m].mean()) for m in np.unique(midi)}


def accuracy_figure(report: dict, programs, midi, errors, real_programs, real_midi, real_errors, path) -> Path:
    """``pitch_accuracy.png``: share within the tolerance against MIDI note, one panel per program."""
    tolerance = report["pitch"]["tolerance_cents"]
    target = report["targets"]["pitch_accuracy"]["limit"]
    programs, real_programs = np.asarray(programs, dtype=object), np.asarray(real_programs, dtype=object)
    midi, real_midi = np.asarray(midi), np.asarray(real_midi)
    names = sorted(set(programs.tolist()))
    low, high = int(midi.min()), int(midi.max())
    span = (low - 0.5, high + 0.5)
    faulty = {(row["program"], row["midi"]) for row in report["per_note"] if row["silent"] or row["clipped"]}
    g = report["generated"]
    title = [f"{report['model']['name']}: pitch accuracy per MIDI note (share of renderings within {tolerance:g} cents "
             f"of the requested pitch, YIN)",
             f"{g['per_note']} seeds per note from seed {g['first_seed']}, every {g['notes_step']} semitone(s); "
             f"one panel per program"]
    height = 10 + LINE_H * (len(title) + 1) + GAP + len(names) * (PANEL_HEIGHT_PX + LINE_H * 3 + GAP)
    canvas = _Canvas(_width(title, LEFT + PANEL_WIDTH_PX + RIGHT + 40), height)
    y = _title(canvas, title)
    canvas.legend(LEFT, y, [("generated", "generated"), ("real notes", "real"), (f"{target:.0%} target", "target"),
                            ("silent/clipped", "fault")])
    y += LINE_H + GAP
    y_ticks = [(v, f"{v:g}") for v in (0, 25, 50, 75, 100)]
    for name in names:
        mine, real_mine = programs == name, real_programs == name
        gen = _share_within(np.asarray(errors)[mine], midi[mine], tolerance)
        real = _share_within(np.asarray(real_errors)[real_mine], real_midi[real_mine], tolerance)
        overall = report["pitch"]["per_program"]["generated"][name]["pitch_accuracy"]
        canvas.text(LEFT + PANEL_WIDTH_PX // 2, y - 2 * LINE_H - 12, f"{name}: {overall:.0%} of renderings within "
                    f"{tolerance:g} cents", centre=True)
        x_at, y_at = _axes(canvas, LEFT, y, span, (0, 100), _note_ticks(low, high), y_ticks,
                           "MIDI note (C4 = 60)", "within (%)")
        canvas.line(LEFT, y_at(100 * target), LEFT + PANEL_WIDTH_PX - 1, y_at(100 * target), "target", dash=6)
        for note, share in real.items():
            canvas.box(x_at(note) - 3, y_at(100 * share) - 3, x_at(note) + 3, y_at(100 * share) + 3, "real")
        points = sorted(gen.items())
        for (a, sa), (b, sb) in zip(points, points[1:]):
            canvas.line(x_at(a), y_at(100 * sa), x_at(b), y_at(100 * sb), "generated")
        for note, share in points:
            canvas.box(x_at(note) - 2, y_at(100 * share) - 2, x_at(note) + 2, y_at(100 * share) + 2, "generated")
            if (name, note) in faulty:
                canvas.line(x_at(note) - 4, y + PANEL_HEIGHT_PX + 1, x_at(note) + 4, y + PANEL_HEIGHT_PX + 7, "fault")
                canvas.line(x_at(note) - 4, y + PANEL_HEIGHT_PX + 7, x_at(note) + 4, y + PANEL_HEIGHT_PX + 1, "fault")
        y += PANEL_HEIGHT_PX + LINE_H * 3 + GAP
    return write_png(path, canvas.image)


def _histogram(errors) -> tuple[np.ndarray, float]:
    """(share of notes per bin, share unvoiced) with errors beyond the range in the end bins."""
    e = np.asarray(errors, dtype=np.float64)
    voiced = e[np.isfinite(e)]
    edges = np.arange(-RANGE_CENTS, RANGE_CENTS + BIN_CENTS, BIN_CENTS)
    counts, _ = np.histogram(np.clip(voiced, -RANGE_CENTS, RANGE_CENTS - 1e-9), bins=edges)
    return counts / max(e.size, 1), float((~np.isfinite(e)).mean()) if e.size else 0.0


def cents_figure(report: dict, errors, real_errors, path) -> Path:
    """``cents_error.png``: histogram of signed pitch errors (cents), generated bars, real outline."""
    tolerance = report["pitch"]["tolerance_cents"]
    gen, gen_unvoiced = _histogram(errors)
    real, real_unvoiced = _histogram(real_errors)
    p = report["pitch"]
    title = [f"{report['model']['name']}: pitch error of each note re its requested MIDI pitch (cents, YIN)",
             f"generated {len(errors)} notes, {p['generated']['pitch_accuracy']:.0%} within +-{tolerance:g} cents; "
             f"real {len(real_errors)} notes, {p['real']['pitch_accuracy']:.0%}; end bins hold errors beyond "
             f"+-{RANGE_CENTS}"]
    canvas = _Canvas(_width(title, LEFT + PANEL_WIDTH_PX + RIGHT + 140), 10 + LINE_H * 4 + GAP + PANEL_HEIGHT_PX
                     + LINE_H * 3)
    y = _title(canvas, title)
    canvas.legend(LEFT, y, [("generated", "generated"), ("real", "real"), (f"+-{tolerance:g} cents", "target")])
    y += LINE_H + GAP
    top = max(float(gen.max(initial=0)), float(real.max(initial=0)), gen_unvoiced, real_unvoiced, 0.01)
    y_max = 100 * top * 1.1
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50) if y_max / s <= 5)
    y_ticks = [(v, f"{v:g}") for v in np.arange(0, y_max + 1e-9, step)]
    x_ticks = [(v, f"{v:+d}" if v else "0") for v in range(-1200, 1201, 600)]
    x_at, y_at = _axes(canvas, LEFT, y, (-RANGE_CENTS, RANGE_CENTS), (0, y_max), x_ticks, y_ticks,
                       "pitch error (cents; 100 = one semitone)", "notes (%)")
    edges = np.arange(-RANGE_CENTS, RANGE_CENTS + BIN_CENTS, BIN_CENTS)
    for share, a, b in zip(gen, edges, edges[1:]):
        if share > 0:
            canvas.box(x_at(a) + 1, y_at(100 * share), x_at(b) - 1, y_at(0) - 1, "generated")
    heights = [y_at(100 * s) for s in real]
    for h, prev, a in zip(heights, [y_at(0)] + heights[:-1], edges):
        canvas.line(x_at(a), prev, x_at(a), h, "real")
    for h, a, b in zip(heights, edges, edges[1:]):
        canvas.line(x_at(a), h, x_at(b), h, "real")
    for cents in (-tolerance, tolerance):
        canvas.line(x_at(cents), y, x_at(cents), y + PANEL_HEIGHT_PX - 1, "target", dash=4)
    bar = LEFT + PANEL_WIDTH_PX + 70  # the unvoiced notes, beside the axis
    canvas.box(bar, y_at(100 * gen_unvoiced), bar + 14, y_at(0) - 1, "generated")
    canvas.box(bar + 18, y_at(100 * real_unvoiced), bar + 32, y_at(0) - 1, "real")
    canvas.text(bar + 16, y + PANEL_HEIGHT_PX + 8, "unvoiced", centre=True)
    return write_png(path, canvas.image)
