"""Differentiable augmentation for small data, applied to everything a critic sees.

Real and generated batches get the same *distribution* of transforms (DiffAugment,
Zhao et al. 2020; ADA, Karras et al. 2020), in the critic steps and the generator step
alike, so the critic cannot tell them apart by the augmentation and the generator is
never pushed to produce augmented sounds. Draws come from torch's global RNG, which the
train loop re-seeds from ``(seed, rank, step)`` every step, so runs stay reproducible.

Per example, each with probability :data:`AUGMENT_PROBABILITY`:

* shift: delay by 0 .. ``MAX_SHIFT_S`` seconds (zeros in front, the end cropped);
* gain: ``± MAX_GAIN_DB`` dB;
* EQ tilt: ``y[t] = x[t] + a · (x[t] - x[t-1])`` with ``a`` in ``± MAX_TILT`` (a first-order
  high-frequency tilt, about ±6 dB at Nyquist for 0.5).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["augment", "AUGMENT_PROBABILITY", "MAX_SHIFT_S", "MAX_GAIN_DB", "MAX_TILT"]

AUGMENT_PROBABILITY = 0.5
MAX_SHIFT_S = 0.004
MAX_GAIN_DB = 6.0
MAX_TILT = 0.5


def _chosen(batch: int, device) -> torch.Tensor:
    return (torch.rand(batch, 1, device=device) < AUGMENT_PROBABILITY).float()


def augment(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """float[B, N] -> float[B, N], differentiable in ``audio``."""
    batch, length = audio.shape
    device = audio.device
    max_shift = max(0, int(round(MAX_SHIFT_S * sample_rate)))
    if max_shift > 0:
        shifts = (torch.randint(0, max_shift + 1, (batch,), device=device) * _chosen(batch, device).squeeze(1)).long()
        padded = F.pad(audio, (max_shift, 0))
        index = torch.arange(length, device=device).unsqueeze(0) + (max_shift - shifts).unsqueeze(1)
        audio = torch.gather(padded, 1, index)
    gain_db = (torch.rand(batch, 1, device=device) * 2 - 1) * MAX_GAIN_DB * _chosen(batch, device)
    audio = audio * torch.pow(10.0, gain_db / 20)
    tilt = (torch.rand(batch, 1, device=device) * 2 - 1) * MAX_TILT * _chosen(batch, device)
    previous = F.pad(audio, (1, 0))[:, :-1]
    return audio + tilt * (audio - previous)
