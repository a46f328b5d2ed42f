"""The pattern GAN: a convolutional generator over 16th-note steps and its critic.

A pattern is a piano-roll ``float[B, channels, steps, rows]``: channel 0 is note onsets, channel 1
(melodic mode only) is "a note sounds" (hold); rows are drum classes or MIDI pitches
(:mod:`.midi_windows`). Pitch rows ride as the channels of 1-D convolutions over time, the
C-RNN-GAN / MuseGAN idea at the size a 2-core CPU trains in minutes:

    z[B, latent_dim] -> Linear -> [4d, steps/8] -> 3 x (nearest upsample x2, Conv1d k3, LeakyReLU)
      -> Conv1d k1 -> logits [channels * rows, steps] -> [B, channels, steps, rows]

:meth:`PatternGenerator.forward` returns probabilities (sigmoid) — what the ONNX file outputs and
generation thresholds at 0.5. Training feeds the critic binary rolls with a straight-through
gradient (:func:`straight_through`, MuseGAN's deterministic binary neurons), so fakes cannot be
told from reals by being grey. The critic: Conv1d k3, three stride-2 Conv1d k4, a minibatch
standard-deviation channel, Linear -> one score.

Cheat sheet::

    spec = PatternSpec(rows=16, channels=1, steps=32)
    g, d = PatternGenerator(spec), PatternCritic(spec)
    probs = g(torch.randn(4, spec.latent_dim))        # float[4, 1, 32, 16] in (0, 1)
    score = d(straight_through(probs))                # float[4]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from ganshot.engine.errors import FormatError

__all__ = ["PatternSpec", "PatternGenerator", "PatternCritic", "straight_through", "MAX_STEPS", "MAX_ROWS"]

MAX_STEPS = 256  # 16 bars of 4/4
MAX_ROWS = 128
MAX_WIDTH = 1024
MAX_LATENT = 1024


@dataclass(frozen=True)
class PatternSpec:
    """Everything that shapes the generator; stored in checkpoints and model.json ``hyperparameters``.

    ``channels``: 1 (onsets: drums) or 2 (onsets + hold: melodic). ``steps`` must be a multiple of 8.
    """

    rows: int = 16
    channels: int = 1
    steps: int = 32
    latent_dim: int = 64
    d: int = 64  # width of the generator's last layer; the critic mirrors it

    def __post_init__(self):
        for name, low, high in (("rows", 1, MAX_ROWS), ("channels", 1, 2), ("steps", 8, MAX_STEPS),
                                ("latent_dim", 1, MAX_LATENT), ("d", 1, MAX_WIDTH)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise FormatError(f"pattern model: {name} must be an integer in [{low}, {high}], got {value!r:.40}")
        if self.steps % 8:
            raise FormatError(f"pattern model: steps must be a multiple of 8, got {self.steps}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> "PatternSpec":
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - known:
            extra = sorted(set(data) - known) if isinstance(data, dict) else type(data).__name__
            raise FormatError(f"pattern model: unknown hyperparameters {extra}")
        return cls(**data)


def straight_through(probs: torch.Tensor) -> torch.Tensor:
    """0/1 forward, the sigmoid's gradient backward."""
    hard = (probs > 0.5).to(probs.dtype)
    return hard + probs - probs.detach()


class PatternGenerator(nn.Module):
    """z float[B, latent_dim] -> note probabilities float[B, channels, steps, rows]."""

    def __init__(self, spec: PatternSpec) -> None:
        super().__init__()
        self.spec = spec
        d = spec.d
        self.fc = nn.Linear(spec.latent_dim, 4 * d * (spec.steps // 8))
        layers = []
        for cin, cout in ((4 * d, 2 * d), (2 * d, 2 * d), (2 * d, d)):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(cin, cout, 3, padding=1),
                       nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.out = nn.Conv1d(d, spec.channels * spec.rows, 1)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        s = self.spec
        x = nn.functional.leaky_relu(self.fc(z), 0.2).view(z.shape[0], 4 * s.d, s.steps // 8)
        x = self.out(self.body(x))  # [B, channels * rows, steps]
        return x.view(z.shape[0], s.channels, s.rows, s.steps).transpose(2, 3)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(z))

    def __repr__(self) -> str:
        return f"PatternGenerator({self.spec})"


class PatternCritic(nn.Module):
    """rolls float[B, channels, steps, rows] -> score float[B] (higher: more like the corpus)."""

    def __init__(self, spec: PatternSpec) -> None:
        super().__init__()
        self.spec = spec
        d = spec.d
        self.body = nn.Sequential(
            nn.Conv1d(spec.channels * spec.rows, d, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(d, 2 * d, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(2 * d, 4 * d, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(4 * d, 4 * d, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear((4 * d + 1) * (spec.steps // 8), 1)

    def forward(self, rolls: torch.Tensor) -> torch.Tensor:
        batch = rolls.shape[0]
        x = rolls.transpose(2, 3).reshape(batch, -1, self.spec.steps)
        x = self.body(x)
        std = x.std(dim=0, unbiased=False).mean() if batch > 1 else x.new_zeros(())
        x = torch.cat([x, std.expand(batch, 1, x.shape[2])], dim=1)  # minibatch std: collapse shows
        return self.head(x.flatten(1)).squeeze(1)

    def __repr__(self) -> str:
        return f"PatternCritic({self.spec})"
