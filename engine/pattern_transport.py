"""The live transport's bar grid in stream frames, and which hits of a loop fall in a bar: pure code.

Bars are 4/4 (:data:`BEATS_PER_BAR` quarter notes). The grid is a run of tempo segments: a
segment starts at a bar line (bar ``start_bar`` at frame ``start_frame``, an integer) and plays
``tempo_bpm`` until the next change, which also starts at a bar line. Within a segment a point
``beats`` quarter notes after its start sounds at ``start_frame + round(beats * 60 * sample_rate /
tempo_bpm)``: one rounding per hit, none accumulated, so every bar line and hit of a constant
tempo lies exactly on ``origin + round(beat * frames_per_beat)`` however long it plays.

Cheat sheet::

    grid = BarGrid(48000, tempo_bpm=120.0, origin_frame=9600)
    grid.frame_of(2)                 # 9600 + 2 * 96000: bar 2's first frame
    grid.frame_of(2, 1.5)            # a dotted quarter into bar 2
    grid.change_tempo(4, 90.0)       # from bar 4 on (its start frame stays where 120 bpm put it)
    bar_hits(loop, start_bar=1, bar=3)   # [(beat in bar 0..4, note, velocity), ...] of the loop's 3rd bar
"""

from __future__ import annotations

import math

from .limits import MAX_TEMPO_BPM, MIN_TEMPO_BPM, check_float, check_int

__all__ = ["BarGrid", "bar_hits", "BEATS_PER_BAR"]

BEATS_PER_BAR = 4  # the transport's bars are 4/4; a loop of another meter loops over its own length


class BarGrid:
    """Bar lines of a running transport (see the module docstring). Not thread-safe: the pattern
    player holds its lock around every use."""

    def __init__(self, sample_rate: int, tempo_bpm: float, origin_frame: int):
        self.sample_rate = check_int(sample_rate, "sample_rate", 1, 10**7)
        self.tempo_bpm = check_float(tempo_bpm, "tempo (bpm)", MIN_TEMPO_BPM, MAX_TEMPO_BPM)
        self.start_bar, self.start_frame = 0, int(origin_frame)

    @property
    def frames_per_beat(self) -> float:
        return 60.0 * self.sample_rate / self.tempo_bpm

    def frame_of(self, bar: int, beat: float = 0.0) -> int:
        """The stream frame of ``beat`` quarter notes into ``bar`` (bar >= the segment's start bar)."""
        beats = (bar - self.start_bar) * BEATS_PER_BAR + beat
        return self.start_frame + int(round(beats * self.frames_per_beat))

    def bar_at(self, frame: int) -> int:
        """The bar sounding at ``frame`` (bar lines belong to the bar they start)."""
        bar = self.start_bar + max(0, math.floor((frame - self.start_frame) / (self.frames_per_beat * BEATS_PER_BAR)))
        while self.frame_of(bar + 1) <= frame:  # rounding at the edge
            bar += 1
        while bar > self.start_bar and self.frame_of(bar) > frame:
            bar -= 1
        return bar

    def change_tempo(self, bar: int, tempo_bpm: float) -> None:
        """Play ``tempo_bpm`` from bar line ``bar`` on (a bar of this segment or later)."""
        tempo_bpm = check_float(tempo_bpm, "tempo (bpm)", MIN_TEMPO_BPM, MAX_TEMPO_BPM)
        self.start_frame, self.start_bar, self.tempo_bpm = self.frame_of(bar), int(bar), tempo_bpm

    def __repr__(self) -> str:
        return (f"BarGrid(sample_rate={self.sample_rate}, tempo_bpm={self.tempo_bpm:g}, "
                f"start_bar={self.start_bar}, start_frame={self.start_frame})")


def bar_hits(loop, start_bar: int, bar: int) -> list[tuple[float, int, float]]:
    """The hits of ``loop`` (started at bar line ``start_bar``, looping over its own length) that
    fall in transport bar ``bar``, as ``(beat into the bar 0 <= b < 4, note, velocity)``, in order."""
    first = (bar - start_bar) * BEATS_PER_BAR  # beats since the loop started
    if first + BEATS_PER_BAR <= 0 or not loop.hits:
        return []
    length = loop.loop_beats
    out = []
    for repeat in range(max(0, math.floor(first / length)), math.floor((first + BEATS_PER_BAR) / length) + 1):
        for beat, note, velocity in loop.hits:
            at = round(repeat * length + beat - first, 9)  # a hit on a bar line lands in exactly one bar
            if 0 <= at < BEATS_PER_BAR:
                out.append((at, note, velocity))
    return sorted(out)
