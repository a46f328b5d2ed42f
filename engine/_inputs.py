"""What every generator backend (ONNX Runtime, torch) shares: input checks and the bundle's sizes.

``check_inputs(bundle, z, labels)`` returns ``(z float32[B, latent_dim], labels int64[B] | None)``,
both C-contiguous, or raises a one-line :class:`UserInputError`; ``check_pitches(bundle, pitches,
batch)`` does the same for a pitch-conditional bundle's MIDI notes (int64[B] in its range, else None). :class:`BundleSizes` gives a
class with a ``bundle`` attribute its ``latent_dim``, ``num_samples`` and ``sample_rate``.
"""

from __future__ import annotations

import numpy as np

from .errors import UserInputError

__all__ = ["MAX_BATCH", "BundleSizes", "check_inputs", "check_pitches"]

MAX_BATCH = 4096


def check_z(z, latent_dim: int) -> np.ndarray:
    """``z`` as float32[B, latent_dim] (finite, 1 <= B <= MAX_BATCH); UserInputError otherwise."""
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        raise UserInputError(f"z must be floating point (float32), got {z.dtype}")
    if z.ndim != 2 or z.shape[1] != latent_dim or not 1 <= z.shape[0] <= MAX_BATCH:
        raise UserInputError(
            f"z must have shape [batch, {latent_dim}] with 1 <= batch <= {MAX_BATCH}, got {list(z.shape)}"
        )
    z = np.ascontiguousarray(z, dtype=np.float32)
    if not np.isfinite(z).all():
        raise UserInputError("z contains NaN or infinite values")
    return z


def _integer_rows(values, name: str, kind: str, batch: int) -> np.ndarray:
    """``values`` as an integer array of shape [batch] (``kind`` names the dtype wanted in the error)."""
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.integer):
        raise UserInputError(f"{name} must be {kind}, got {values.dtype}")
    if values.shape != (batch,):
        raise UserInputError(f"{name} must have shape [{batch}] to match z, got {list(values.shape)}")
    return values


def check_labels(bundle, labels, batch: int) -> np.ndarray | None:
    """``labels`` as int64[batch] in [0, classes) for a conditional bundle, None for an unconditional one."""
    if not bundle.conditional:
        if labels is not None:
            raise UserInputError("this model is unconditional: labels must be None")
        return None
    if labels is None:
        raise UserInputError(f"this model is conditional ({len(bundle.classes)} classes): pass labels")
    labels = _integer_rows(labels, "labels", "integers (int64)", batch)
    count = len(bundle.classes)
    if labels.size and (labels.min() < 0 or labels.max() >= count):
        raise UserInputError(f"labels must be in [0, {count}), got {labels.min()}..{labels.max()}")
    return np.ascontiguousarray(labels, dtype=np.int64)


def check_inputs(bundle, z, labels) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate ``z`` float[B, latent_dim] (finite) and ``labels`` int[B]; UserInputError otherwise."""
    z = check_z(z, bundle.latent_dim)
    return z, check_labels(bundle, labels, z.shape[0])


def check_pitches(bundle, pitches, batch: int) -> np.ndarray | None:
    """``pitches`` as int64[batch] MIDI notes in the bundle's pitch range, or None for a bundle without one."""
    pitch_range = bundle.pitch_range
    if pitch_range is None:
        if pitches is not None:
            raise UserInputError("this model has no pitch input: pitches must be None")
        return None
    low, high = pitch_range
    if pitches is None:
        raise UserInputError(f"this model is pitch-conditional (MIDI {low}-{high}): pass pitches")
    pitches = _integer_rows(pitches, "pitches", "integer MIDI notes (int64)", batch)
    if pitches.size and (pitches.min() < low or pitches.max() > high):
        raise UserInputError(f"pitches must be MIDI notes in [{low}, {high}] (this model's range), "
                             f"got {pitches.min()}..{pitches.max()}")
    return np.ascontiguousarray(pitches, dtype=np.int64)


class BundleSizes:
    """``latent_dim``, ``num_samples`` and ``sample_rate`` read from ``self.bundle``."""

    bundle = None  # a ModelBundle, set by the subclass

    @property
    def latent_dim(self) -> int:
        return self.bundle.latent_dim

    @property
    def num_samples(self) -> int:
        return self.bundle.num_samples

    @property
    def sample_rate(self) -> int:
        """The generator's output rate in Hz (the bundle's)."""
        return self.bundle.sample_rate
