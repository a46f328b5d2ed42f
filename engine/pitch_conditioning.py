"""Pitch conditioning: the MIDI-pitch input that generators and critics share.

Shapes and units::

    pitches   int64[B]                MIDI note numbers (C4 = 60) in the model's [low, high]
    encoding  float32[B, PITCH_FEATURES]  fixed, see :class:`PitchEncoding`
    embedding float32[B, out_features]    encoding -> one learned Linear

Why a fixed sinusoidal encoding plus a learned projection, and not ``nn.Embedding`` (one free
vector per note): a pitched dataset rarely holds every note of every program (SoundFonts
are sampled every few semitones, ``dataset soundfont`` may step its pitch range), and a
per-note embedding leaves the notes it never saw at their random initial values. The
encoding below is a smooth function of the note number (sines and cosines at periods of
3 to 192 semitones, plus the note's position in the range), so neighbouring notes start
close and a note between two trained ones lands between them; the 12-semitone pair lets
the model tie octaves together if that helps it. The learned Linear on top (like the
class embedding, :data:`PITCH_EMBED_DIM` values) costs a few hundred parameters and
exports to ONNX as Cast, Mul, Sin, Cos, Concat and one Gemm.

The range is the model's own (model.json ``pitch``: ``{"input", "low", "high"}``); notes
outside it are refused by the runtimes before the graph runs
(:func:`~.limits.check_pitch_range` defines what a valid range is, once, for specs, configs and bundles).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .errors import FormatError
from .limits import check_pitch_range

__all__ = ["PITCH_EMBED_DIM", "PITCH_PERIODS_SEMITONES", "PITCH_FEATURES", "PitchEncoding", "PitchEmbedding"]

PITCH_EMBED_DIM = 32  # what the generator appends to z (after the class embedding)
PITCH_PERIODS_SEMITONES = (3.0, 6.0, 12.0, 24.0, 48.0, 96.0, 192.0)
PITCH_FEATURES = 2 * len(PITCH_PERIODS_SEMITONES) + 1  # sin and cos per period, and the position


class PitchEncoding(nn.Module):
    """Fixed features of MIDI pitch: ``forward(pitches int64[B]) -> float32[B, PITCH_FEATURES]``.

    Features: ``sin(2π p / P), cos(2π p / P)`` for each period P of
    :data:`PITCH_PERIODS_SEMITONES`, then ``(p - centre) / half_span`` (-1 at ``low``, +1 at ``high``).
    Nothing here is learned or stored in the weights.
    """

    def __init__(self, low: int, high: int) -> None:
        super().__init__()
        self.low, self.high = check_pitch_range(low, high, "pitch encoding: the range", FormatError)
        angular = torch.tensor([2.0 * math.pi / period for period in PITCH_PERIODS_SEMITONES], dtype=torch.float32)
        self.register_buffer("angular", angular, persistent=False)
        self.centre = (low + high) / 2.0
        self.half_span = (high - low) / 2.0

    def forward(self, pitches: torch.Tensor) -> torch.Tensor:
        p = pitches.to(self.angular.dtype).unsqueeze(1)  # [B, 1]
        phase = p * self.angular  # [B, K]
        return torch.cat([torch.sin(phase), torch.cos(phase), (p - self.centre) / self.half_span], dim=1)

    def extra_repr(self) -> str:
        return f"low={self.low}, high={self.high}"


class PitchEmbedding(nn.Module):
    """``forward(pitches int64[B]) -> float32[B, out_features]``: :class:`PitchEncoding`, then a Linear."""

    def __init__(self, low: int, high: int, out_features: int = PITCH_EMBED_DIM, bias: bool = True) -> None:
        super().__init__()
        self.encoding = PitchEncoding(low, high)
        self.linear = nn.Linear(PITCH_FEATURES, out_features, bias=bias)

    @property
    def low(self) -> int:
        return self.encoding.low

    @property
    def high(self) -> int:
        return self.encoding.high

    def forward(self, pitches: torch.Tensor) -> torch.Tensor:
        return self.linear(self.encoding(pitches))
