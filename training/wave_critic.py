"""The WaveGAN waveform critic (discriminator) and phase shuffle (Donahue et al. 2019), for training only.

Shapes and units::

    audio   float32[B, num_samples] (or [B, 1, num_samples]), samples in [-1, 1]
    labels  int64[B] in [0, num_classes) when num_classes > 0
    output  float32[B]               critic score (unbounded, WGAN)

The discriminator mirrors :class:`~ganshot.engine.wavegan.WaveGANGenerator`: Conv1d
layers with kernel 25 and the generator's strides (five of stride 4; for 32768 samples a
sixth of stride 2, for 65536 one of stride 4, last as in the TF original), channels
``d, 2d, 4d, ...`` (ending at 16d or 32d), LeakyReLU(0.2) and :class:`PhaseShuffle` after each conv but the last, then
flatten → linear 1. Padding is "same" (``(kernel - 1) // 2``), so each layer divides the
length by its stride, rounding up.

Class conditioning uses the projection discriminator (Miyato & Koyama 2018):
``score = linear(h) + <embed(y), h>`` with ``h`` the flattened features. Pitch conditioning
(``pitch_range=(low, high)``, MIDI) adds a second projection term ``<W·enc(p), h>``, ``enc`` the
generator's fixed sinusoidal pitch encoding (:mod:`ganshot.engine.pitch_conditioning`) and ``W``
learned, so the critic judges "is this a convincing note of *this* pitch" with the same smoothness
across notes as the generator's input.

The generator names are re-exported here so training code imports one module.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganshot.engine.errors import UserInputError
from ganshot.engine.pitch_conditioning import PitchEmbedding
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator, generator_layout

__all__ = [
    "GeneratorSpec",
    "WaveGANGenerator",
    "generator_layout",
    "WaveGANDiscriminator",
    "PhaseShuffle",
    "phase_shift",
]


def phase_shift(x: torch.Tensor, shifts: torch.Tensor, n: int) -> torch.Tensor:
    """Shift each example of ``x`` float[B, C, L] in time by ``shifts`` int64[B] (|shift| <= n).

    ``out[b, :, t] = x[b, :, t - shifts[b]]``, with reflect padding where ``t - shift``
    leaves ``[0, L)``. Differentiable twice (one gather), so it is safe inside the
    gradient penalty.
    """
    if n == 0:
        return x
    length = x.shape[-1]
    padded = F.pad(x, (n, n), mode="reflect")  # padded[t + n] = x[t] (reflected outside)
    start = (n - shifts).view(-1, 1, 1)
    index = (torch.arange(length, device=x.device).view(1, 1, -1) + start).expand(x.shape[0], x.shape[1], length)
    return torch.gather(padded, 2, index)


class PhaseShuffle(nn.Module):
    """Random per-example time shift in ``[-n, n]`` with reflect padding; identity in eval mode.

    Draws the shifts from torch's global RNG (seed it for reproducible runs).
    """

    def __init__(self, n: int = 2) -> None:
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise UserInputError(f"phase shuffle radius must be an integer >= 0, got {n!r}")
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` float[B, C, L] -> float[B, C, L]."""
        if not self.training or self.n == 0:
            return x
        shifts = torch.randint(-self.n, self.n + 1, (x.shape[0],), device=x.device)
        return phase_shift(x, shifts, self.n)

    def extra_repr(self) -> str:
        return f"n={self.n}"


class WaveGANDiscriminator(nn.Module):
    """WaveGAN critic: ``forward(audio[B, num_samples], labels[B] | None) -> score[B]``."""

    def __init__(
        self,
        d: int = 64,
        num_samples: int = 16384,
        num_classes: int = 0,
        phase_shuffle: int = 2,
        kernel_size: int = 25,
        pitch_range: tuple | list | None = None,
    ) -> None:
        super().__init__()
        # Reuse the generator's validation of the shared hyper-parameters.
        GeneratorSpec(d=d, num_samples=num_samples, num_classes=num_classes, kernel_size=kernel_size)
        self.d, self.num_samples, self.num_classes = d, num_samples, num_classes
        self.phase_shuffle_n, self.kernel_size = phase_shuffle, kernel_size
        _, strides = generator_layout(num_samples)
        self.strides = strides  # like the TF original, the extra layer (stride 2 or 4) comes last
        channels = [1] + [d * 2**i for i in range(len(strides))]
        self.convs = nn.ModuleList(
            nn.Conv1d(channels[i], channels[i + 1], kernel_size, stride=s, padding=(kernel_size - 1) // 2)
            for i, s in enumerate(self.strides)
        )
        self.shuffle = PhaseShuffle(phase_shuffle)
        length = num_samples
        for s in self.strides:
            length = math.floor((length + 2 * ((kernel_size - 1) // 2) - kernel_size) / s) + 1
        self.feature_shape = (channels[-1], length)
        features = channels[-1] * length
        self.fc = nn.Linear(features, 1)
        self.projection = nn.Embedding(num_classes, features) if num_classes > 0 else None
        self.pitch_range = tuple(pitch_range) if pitch_range else None
        self.pitch_projection = PitchEmbedding(*self.pitch_range, features, bias=False) if self.pitch_range else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights, zero biases; small projection embeddings."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d)):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        if self.projection is not None:
            nn.init.xavier_uniform_(self.projection.weight)

    def forward(self, audio: torch.Tensor, labels: torch.Tensor | None = None,
                pitches: torch.Tensor | None = None) -> torch.Tensor:
        """``audio`` float[B, num_samples] or [B, 1, num_samples]; ``labels`` int64[B]; ``pitches`` int64[B]
        MIDI (pitch-conditional only) -> float[B]."""
        x = audio.unsqueeze(1) if audio.dim() == 2 else audio
        last = len(self.convs) - 1
        for index, conv in enumerate(self.convs):
            x = F.leaky_relu(conv(x), 0.2)
            if index != last:
                x = self.shuffle(x)
        h = x.flatten(1)
        score = self.fc(h).squeeze(1)
        if self.projection is not None:
            if labels is None:
                raise UserInputError(f"this discriminator is conditional ({self.num_classes} classes): pass labels")
            score = score + (self.projection(labels) * h).sum(dim=1)
        if self.pitch_projection is not None:
            if pitches is None:
                raise UserInputError(f"this discriminator is pitch-conditional (MIDI {self.pitch_range}): pass pitches")
            score = score + (self.pitch_projection(pitches) * h).sum(dim=1)
        return score

    def __repr__(self) -> str:
        return (
            f"WaveGANDiscriminator(d={self.d}, num_samples={self.num_samples}, num_classes={self.num_classes}, "
            f"phase_shuffle={self.phase_shuffle_n}, kernel_size={self.kernel_size}, strides={self.strides}, "
            f"pitch_range={self.pitch_range})"
        )
