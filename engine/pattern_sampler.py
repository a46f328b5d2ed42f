"""Patterns from a bundle: ONNX Runtime -> piano-rolls -> notes (no torch: numpy and onnxruntime).

The live pattern player (engine.pattern_player) and the offline tools (``ganshot patterns
generate``, ``ganshot render --pattern``, ganshot.training.patterns.generate) share this sampler, so
a seed makes the same notes live and offline. A pattern of ``bars`` bars is made of
``ceil(bars / bundle.bars)`` windows whose latents walk from the seed's ``z`` (``z_k = cos(a)
z_(k-1) + sin(a) e_k``, a = :data:`WALK_RADIANS`), so consecutive windows stay related; notes are
cut at the last bar. Times are musical: step ``s`` sounds at ``s * 60 / (4 * tempo_bpm)`` s.

Cheat sheet::

    sampler = PatternSampler(load_pattern_bundle("models/grooves"))
    pattern = sampler.pattern(seed=3, bars=4)                  # Pattern: onset[64, 16], hold None, notes
    events = pattern_events(sampler.bundle, pattern.notes, tempo_bpm=120, start_bar=0)  # (time_s, note, vel)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .limits import MAX_SEED, MAX_TEMPO_BPM, MIN_TEMPO_BPM, check_float, check_int
from .pattern_bundle import PatternBundle
from .pattern_midi import roll_notes

__all__ = ["PatternSampler", "Pattern", "pattern_events", "check_tempo", "MIN_TEMPO_BPM", "MAX_TEMPO_BPM",
           "MAX_PATTERN_BARS", "WALK_RADIANS", "DRUM_VELOCITY", "MELODIC_VELOCITY"]

MAX_PATTERN_BARS = 512
WALK_RADIANS = 0.6
#: velocity by position: downbeats, other beats, off-beats (drums); melodic notes all get MELODIC_VELOCITY
DRUM_VELOCITY = {"bar": 112, "beat": 96, "off": 76}
MELODIC_VELOCITY = 90


@dataclass(frozen=True)
class Pattern:
    """One generated pattern: ``onset`` uint8[steps, rows], ``hold`` (melodic) or None, ``notes``
    [(step, row, duration_steps, velocity)], ``seed``."""

    seed: int
    onset: np.ndarray
    hold: np.ndarray | None
    notes: list


def _velocity(bundle: PatternBundle, step: int) -> int:
    if not bundle.drums:
        return MELODIC_VELOCITY
    if step % bundle.steps_per_bar == 0:
        return DRUM_VELOCITY["bar"]
    return DRUM_VELOCITY["beat" if step % 4 == 0 else "off"]


class PatternSampler:
    """Runs a bundle's generator with ONNX Runtime (one intra-op thread: the right default on 2 cores)."""

    def __init__(self, bundle: PatternBundle) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.bundle = bundle
        self.session = ort.InferenceSession(bundle.onnx_path.read_bytes(), options, providers=["CPUExecutionProvider"])
        io_names = bundle.meta["onnx"]
        self._input, self._output = io_names["input"], io_names["output"]

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """float32[B, channels, steps, rows] for ``z`` float32[B, latent_dim]."""
        return self.session.run([self._output], {self._input: np.asarray(z, np.float32)})[0]

    def pattern(self, seed: int, bars: int) -> Pattern:
        check_int(seed, "--seed", 0, MAX_SEED)
        check_int(bars, "--bars", 1, MAX_PATTERN_BARS)
        b = self.bundle
        windows = -(-bars // b.bars)
        rng = np.random.default_rng(seed)
        z = [rng.standard_normal(b.latent_dim)]
        for _ in range(windows - 1):
            z.append(np.cos(WALK_RADIANS) * z[-1] + np.sin(WALK_RADIANS) * rng.standard_normal(b.latent_dim))
        probs = self.probabilities(np.stack(z).astype(np.float32)) > b.meta["threshold"]
        steps = bars * b.steps_per_bar
        onset = np.concatenate(list(probs[:, 0]), axis=0)[:steps].astype(np.uint8)
        hold = None if b.drums else np.concatenate(list(probs[:, 1]), axis=0)[:steps].astype(np.uint8)
        notes = [(s, r, d, _velocity(b, s)) for s, r, d, _ in roll_notes(onset, hold)]
        return Pattern(seed, onset, hold, notes)

    def __repr__(self) -> str:
        return f"PatternSampler({self.bundle.name!r}, {self.bundle.mode}, {self.bundle.bars} bars a window)"


def check_tempo(tempo_bpm) -> float:
    """``tempo_bpm`` as a float in [MIN_TEMPO_BPM, MAX_TEMPO_BPM], or UserInputError naming the range."""
    return check_float(tempo_bpm, "--tempo (bpm)", MIN_TEMPO_BPM, MAX_TEMPO_BPM)


def pattern_events(bundle: PatternBundle, notes, tempo_bpm: float, start_bar: int = 0) -> list[tuple[float, int, int]]:
    """``(time_s, MIDI note, velocity)`` note-ons of ``notes``, the pattern's first step at ``start_bar``."""
    step_s = 60.0 / (4 * check_tempo(tempo_bpm))
    offset = start_bar * bundle.steps_per_bar
    return [((offset + step) * step_s, bundle.row_notes[row], vel) for step, row, _, vel in notes]
