"""The WaveGAN generator (Donahue, McAuley & Puckette 2019), shared by runtime and training.

Shapes and units::

    z       float32[B, latent_dim]       latent vector, usually N(0, 1) or U(-1, 1)
    labels  int64[B] in [0, num_classes) only when num_classes > 0 (conditional)
    output  float32[B, num_samples]      audio in [-1, 1] (before the optional post-filter)

Layout (:func:`generator_layout`): a dense layer makes ``(16d, 16)`` (or ``(32d, 16)`` for
the 6-layer stacks), then ConvTranspose1d layers with kernel 25, ReLU between, tanh last:

* 16384 samples: five stride-4 layers, 16·4⁵.
* 32768 samples: five stride-4 layers and a sixth of stride 2.
* 65536 samples: six stride-4 layers.
* Any other length (the "seed article" variant, 64000 samples at 16 kHz): the stack
  whose output is the shortest one ≥ ``num_samples``, with the initial length
  ``ceil(num_samples / prod(strides))``; the output is then cropped to its first
  ``num_samples`` samples. 64000 → initial length 63, five stride-4 layers, 64512
  samples, crop 512.

Channels halve at each layer and the last layer outputs one channel. Padding is chosen
so each layer multiplies the length by exactly its stride (``2·padding − output_padding
= kernel − stride``), so shapes are fixed and the module exports to ONNX (opset 17,
dynamic batch) without shape tricks.

Conditioning (``num_classes > 0``): a learned label embedding of
:data:`LABEL_EMBED_DIM` values is concatenated with ``z`` before the dense layer.

Post-filter (``post_filter_length > 0``): a learned FIR (one Conv1d without bias) with
"same" padding applied after tanh, as in the paper's post-processing filter (512 taps).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from .errors import FormatError, UserInputError

__all__ = ["GeneratorSpec", "WaveGANGenerator", "generator_layout", "LABEL_EMBED_DIM"]

LABEL_EMBED_DIM = 50
MIN_NUM_SAMPLES = 1024
MAX_NUM_SAMPLES = 1 << 20
MAX_LATENT_DIM = 4096
MAX_D = 512
MAX_NUM_CLASSES = 4096
MAX_POST_FILTER_LENGTH = 4096
MIN_KERNEL_SIZE, MAX_KERNEL_SIZE = 4, 101

# The three stacks of the paper; other lengths take the one that wastes least.
_STACKS = ((4, 4, 4, 4, 4), (4, 4, 4, 4, 4, 2), (4, 4, 4, 4, 4, 4))


@dataclass(frozen=True)
class GeneratorSpec:
    """Everything needed to rebuild a :class:`WaveGANGenerator` (stored in checkpoints and bundles).

    ``num_classes=0`` means unconditional; ``post_filter_length=0`` means no post-filter.
    """

    latent_dim: int = 100
    d: int = 64
    num_samples: int = 16384
    num_classes: int = 0
    post_filter_length: int = 0
    kernel_size: int = 25

    def __post_init__(self) -> None:
        limits = {
            "latent_dim": (1, MAX_LATENT_DIM),
            "d": (1, MAX_D),
            "num_samples": (MIN_NUM_SAMPLES, MAX_NUM_SAMPLES),
            "num_classes": (0, MAX_NUM_CLASSES),
            "post_filter_length": (0, MAX_POST_FILTER_LENGTH),
            "kernel_size": (MIN_KERNEL_SIZE, MAX_KERNEL_SIZE),
        }
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise FormatError(f"generator spec: {name} must be an integer in [{low}, {high}], got {value!r}")

    def to_dict(self) -> dict:
        """Plain dict of ints (JSON/TOML friendly)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GeneratorSpec":
        """Strict inverse of :meth:`to_dict`: unknown keys or bad values raise FormatError."""
        if not isinstance(data, dict):
            raise FormatError(f"generator spec must be a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FormatError(f"generator spec: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        return cls(**data)

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0


def generator_layout(num_samples: int) -> tuple[int, tuple[int, ...]]:
    """``(initial_length, strides)`` of the transposed-conv stack for ``num_samples``.

    ``initial_length * prod(strides) >= num_samples``; equality for 16384, 32768, 65536
    (and any ``n * 1024``). Otherwise the output is cropped (see the module docstring).
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < MIN_NUM_SAMPLES:
        raise UserInputError(f"num_samples must be an integer >= {MIN_NUM_SAMPLES}, got {num_samples!r}")
    standard = {16384: _STACKS[0], 32768: _STACKS[1], 65536: _STACKS[2]}
    if num_samples in standard:
        return 16, standard[num_samples]
    best = None
    for strides in _STACKS:  # ordered by depth, so ties keep the shallower stack
        initial = math.ceil(num_samples / math.prod(strides))
        total = initial * math.prod(strides)
        if best is None or total < best[0]:
            best = (total, initial, strides)
    return best[1], best[2]


def _transpose_padding(kernel_size: int, stride: int) -> tuple[int, int]:
    """``(padding, output_padding)`` such that the output length is exactly ``stride * L``."""
    padding = math.ceil((kernel_size - stride) / 2)
    return padding, 2 * padding - (kernel_size - stride)


class WaveGANGenerator(nn.Module):
    """WaveGAN generator: ``forward(z[B, latent_dim], labels[B] | None) -> audio[B, num_samples]``."""

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        if not isinstance(spec, GeneratorSpec):
            raise TypeError("WaveGANGenerator needs a GeneratorSpec")
        self.spec = spec
        self.initial_length, self.strides = generator_layout(spec.num_samples)
        width = 16 if len(self.strides) == 5 else 32
        channels = [width * spec.d // (2**i) for i in range(len(self.strides))] + [1]
        channels = [max(c, 1) for c in channels]
        self.initial_channels = channels[0]
        self.label_embedding = nn.Embedding(spec.num_classes, LABEL_EMBED_DIM) if spec.conditional else None
        in_features = spec.latent_dim + (LABEL_EMBED_DIM if spec.conditional else 0)
        self.dense = nn.Linear(in_features, self.initial_length * channels[0])
        self.convs = nn.ModuleList()
        for index, stride in enumerate(self.strides):
            padding, output_padding = _transpose_padding(spec.kernel_size, stride)
            self.convs.append(
                nn.ConvTranspose1d(
                    channels[index], channels[index + 1], spec.kernel_size, stride=stride,
                    padding=padding, output_padding=output_padding,
                )
            )
        taps = spec.post_filter_length
        self.post_filter = nn.Conv1d(1, 1, taps, padding=taps // 2, bias=False) if taps > 0 else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights and zero biases, like the TensorFlow original."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d, nn.ConvTranspose1d)):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=1.0)

    @property
    def output_length(self) -> int:
        """Samples produced by the conv stack before cropping (``>= num_samples``)."""
        return self.initial_length * math.prod(self.strides)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``z`` float32[B, latent_dim], ``labels`` int64[B] (conditional only) -> float32[B, num_samples]."""
        if self.label_embedding is not None:
            if labels is None:
                raise UserInputError(f"this generator is conditional ({self.spec.num_classes} classes): pass labels")
            z = torch.cat([z, self.label_embedding(labels)], dim=1)
        elif labels is not None:
            raise UserInputError("this generator is unconditional: labels must be None")
        x = self.dense(z).reshape(-1, self.initial_channels, self.initial_length)
        x = F.relu(x)
        last = len(self.convs) - 1
        for index, conv in enumerate(self.convs):
            x = conv(x)
            x = torch.tanh(x) if index == last else F.relu(x)
        if self.output_length != self.spec.num_samples:
            x = x[:, :, : self.spec.num_samples]
        if self.post_filter is not None:
            x = self.post_filter(x)
            if self.spec.post_filter_length % 2 == 0:
                # Even taps: padding taps/2 on both sides gives one extra sample; dropping the
                # first matches TF "same" (pad (taps-1)//2 left, taps//2 right).
                x = x[:, :, 1:]
        return x.reshape(-1, self.spec.num_samples)

    def __repr__(self) -> str:
        s = self.spec
        return (
            f"WaveGANGenerator(latent_dim={s.latent_dim}, d={s.d}, num_samples={s.num_samples}, "
            f"num_classes={s.num_classes}, post_filter_length={s.post_filter_length}, "
            f"kernel_size={s.kernel_size}, strides={self.strides}, initial_length={self.initial_length})"
        )
