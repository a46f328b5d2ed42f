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
Pitch conditioning (``pitch_low < pitch_high``, MIDI notes): a third input ``pitches``
int64[B] in that range; its :class:`~.pitch_conditioning.PitchEmbedding` (fixed sinusoidal
encoding + a learned Linear, :data:`~.pitch_conditioning.PITCH_EMBED_DIM` values) is appended
after the class embedding. ``pitch_low = pitch_high = 0`` (the default) means no pitch input.

Post-filter (``post_filter_length > 0``): a learned FIR (one Conv1d without bias) with
"same" padding applied after tanh, as in the paper's post-processing filter (512 taps).

Upsampling (``nearest_layers = k``): the last ``k`` layers upsample by nearest-neighbour
repetition and then apply a Conv1d of ``nearest_kernel_size`` taps ("same" padding) instead
of a transposed convolution. Transposed stride-4 stacks leave tonal lines at fs/4 and
fs/16 (Pons et al. 2021); nearest + conv does not. ``k = 0`` is the original WaveGAN.

Envelope (``envelope = 1``): the waveform is multiplied by a learned amplitude envelope
``env(t) = ramp(t / attack) · exp(-t / decay) · clamp((end - t) / fade, 0, 1)`` whose
``attack`` (0.1-20 ms), ``decay`` (10 ms - 4 s) and ``end`` (50 ms - the whole length) come from
a small linear head on the latent (and class). It is monotone after the attack and reaches
exact zeros after ``end`` (fade :data:`ENVELOPE_FADE_S`), so tails fall to digital silence.
Times are computed in samples of the model's own sample rate given by ``sample_rate``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .errors import FormatError, UserInputError
from .limits import MAX_LATENT_DIM, MAX_NOTE, MIN_NOTE, check_pitch_range  # one definition for bundles, kits and the generator
from .pitch_conditioning import PITCH_EMBED_DIM, PitchEmbedding

__all__ = ["GeneratorSpec", "WaveGANGenerator", "generator_layout", "LABEL_EMBED_DIM", "conditioned", "input_features"]

LABEL_EMBED_DIM = 50
MIN_NUM_SAMPLES = 1024
MAX_NUM_SAMPLES = 1 << 20
MAX_D = 512
MAX_NUM_CLASSES = 4096
MAX_POST_FILTER_LENGTH = 4096
MIN_KERNEL_SIZE, MAX_KERNEL_SIZE = 4, 101
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 384000
# Envelope ranges (seconds); sigmoid(head) maps into [low, high] on a log scale.
ENVELOPE_ATTACK_S = (0.0001, 0.02)
ENVELOPE_DECAY_S = (0.01, 4.0)
ENVELOPE_END_MIN_S = 0.05
ENVELOPE_FADE_S = 0.005
ENVELOPE_INIT_LOGITS = (-3.0, 2.0, 3.0)  # attack, decay, end before the sigmoid

# Fields added after the first bundles: to_dict() omits them while the model uses none of them.
_OPTIONAL_FIELDS = ("nearest_layers", "nearest_kernel_size", "envelope", "sample_rate")
PITCH_FIELDS = ("pitch_low", "pitch_high")  # left out of to_dict() by every spec without a pitch input

# The three stacks of the paper; other lengths take the one that wastes least.
_STACKS = ((4, 4, 4, 4, 4), (4, 4, 4, 4, 4, 2), (4, 4, 4, 4, 4, 4))



def strict_spec(cls, data, label: str):
    """``cls(**data)`` for a generator spec dataclass, refusing a non-mapping or an unknown key with
    one FormatError line naming ``label`` (the field checks are the dataclass's own)."""
    if not isinstance(data, dict):
        raise FormatError(f"{label} must be a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise FormatError(f"{label}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return cls(**data)


def conditioned(label_embedding, z: torch.Tensor, labels, pitch_embedding=None, pitches=None) -> torch.Tensor:
    """The generator's input: ``z``, with the class embedding of ``labels`` appended when the
    generator is conditional (``label_embedding`` not None) and then the pitch embedding of
    ``pitches`` when it is pitch-conditional; a missing or stray label or pitch is one error."""
    parts = [z]
    if label_embedding is not None:
        if labels is None:
            raise UserInputError(f"this generator is conditional ({label_embedding.num_embeddings} classes): pass labels")
        parts.append(label_embedding(labels))
    elif labels is not None:
        raise UserInputError("this generator is unconditional: labels must be None")
    if pitch_embedding is not None:
        if pitches is None:
            raise UserInputError(f"this generator is pitch-conditional (MIDI {pitch_embedding.low}-"
                                 f"{pitch_embedding.high}): pass pitches")
        parts.append(pitch_embedding(pitches))
    elif pitches is not None:
        raise UserInputError("this generator has no pitch input: pitches must be None")
    return torch.cat(parts, dim=1) if len(parts) > 1 else z


class ConditioningFields:
    """What a generator spec's ``num_classes``, ``pitch_low`` and ``pitch_high`` mean, for every
    architecture's spec dataclass: a class input when there are classes, a pitch input when the
    pitch range is not empty."""

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    @property
    def pitch_conditional(self) -> bool:
        return self.pitch_high > self.pitch_low


def check_pitch_fields(spec, label: str) -> None:
    """A spec's ``pitch_low``/``pitch_high``: both 0 (no pitch input) or a valid MIDI range."""
    low, high = spec.pitch_low, spec.pitch_high
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_NOTE <= value <= MAX_NOTE:
            raise FormatError(f"{label}: pitch_low and pitch_high must be MIDI notes in [{MIN_NOTE}, {MAX_NOTE}], got {value!r}")
    if (low, high) != (0, 0):
        check_pitch_range(low, high, f"{label}: pitch_low, pitch_high", FormatError)


def pitch_embedding_of(spec) -> PitchEmbedding | None:
    """The generator's pitch embedding module for ``spec`` (None without a pitch input)."""
    return PitchEmbedding(spec.pitch_low, spec.pitch_high, PITCH_EMBED_DIM) if spec.pitch_conditional else None


def input_features(spec, label_embed_dim: int = LABEL_EMBED_DIM) -> int:
    """Width of :func:`conditioned`'s output for ``spec``: z, class and pitch embeddings."""
    return (spec.latent_dim + (label_embed_dim if spec.conditional else 0)
            + (PITCH_EMBED_DIM if spec.pitch_conditional else 0))


def drop_unused_pitch_fields(spec, data: dict) -> dict:
    """``data`` (a spec's asdict) without the pitch fields when the spec has no pitch input, so
    bundles written before pitch conditioning keep their exact hyperparameters."""
    if not spec.pitch_conditional:
        for name in PITCH_FIELDS:
            data.pop(name, None)
    return data

@dataclass(frozen=True)
class GeneratorSpec(ConditioningFields):
    """Everything needed to rebuild a :class:`WaveGANGenerator` (stored in checkpoints and bundles).

    ``num_classes=0`` means unconditional; ``post_filter_length=0`` means no post-filter.
    """

    architecture: ClassVar[str] = "wavegan"  # the name model.json records (engine.generators table)

    latent_dim: int = 100
    d: int = 64
    num_samples: int = 16384
    num_classes: int = 0
    post_filter_length: int = 0
    kernel_size: int = 25
    nearest_layers: int = 0  # the last k layers upsample by nearest + conv (0 = all transposed)
    nearest_kernel_size: int = 9
    envelope: int = 0  # 1 = learned decay envelope (see the module docstring)
    sample_rate: int = 16000  # Hz; only the envelope's times depend on it
    pitch_low: int = 0  # MIDI; pitch_low < pitch_high adds the pitch input (0, 0 = none)
    pitch_high: int = 0

    def __post_init__(self) -> None:
        limits = {
            "latent_dim": (1, MAX_LATENT_DIM),
            "d": (1, MAX_D),
            "num_samples": (MIN_NUM_SAMPLES, MAX_NUM_SAMPLES),
            "num_classes": (0, MAX_NUM_CLASSES),
            "post_filter_length": (0, MAX_POST_FILTER_LENGTH),
            "kernel_size": (MIN_KERNEL_SIZE, MAX_KERNEL_SIZE),
            "nearest_layers": (0, 6),
            "nearest_kernel_size": (1, MAX_KERNEL_SIZE),
            "envelope": (0, 1),
            "sample_rate": (MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
        }
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise FormatError(f"generator spec: {name} must be an integer in [{low}, {high}], got {value!r}")
        check_pitch_fields(self, "generator spec")

    def to_dict(self) -> dict:
        """Plain dict of ints (JSON/TOML friendly). A model without nearest layers and envelope
        leaves out the fields added for them, so original WaveGAN bundles keep their exact
        hyperparameters."""
        data = asdict(self)
        if not (self.nearest_layers or self.envelope):  # then these change nothing in the model
            for name in _OPTIONAL_FIELDS:
                del data[name]
        return drop_unused_pitch_fields(self, data)

    @classmethod
    def from_dict(cls, data: dict) -> "GeneratorSpec":
        """Strict inverse of :meth:`to_dict`: unknown keys or bad values raise FormatError."""
        return strict_spec(cls, data, "generator spec")


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


class _NearestUpsampleConv(nn.Module):
    """Nearest-neighbour upsampling by ``stride``, then a "same" Conv1d: ``[B, C, L] -> [B, C', stride·L]``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, kernel_size: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.trim = 1 if kernel_size % 2 == 0 else 0  # even kernels give one extra sample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=float(self.stride), mode="nearest")
        x = self.conv(x)
        return x[:, :, self.trim:] if self.trim else x


def _log_range(unit: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Map ``unit`` in (0, 1) to ``[low, high]`` on a log scale."""
    return low * (high / low) ** unit


class _DecayEnvelope(nn.Module):
    """Learned per-example envelope float[B, num_samples] from the generator's input features."""

    def __init__(self, in_features: int, num_samples: int, sample_rate: int) -> None:
        super().__init__()
        self.head = nn.Linear(in_features, 3)
        self.sample_rate = sample_rate
        self.length_s = num_samples / sample_rate
        self.register_buffer("t_s", torch.arange(num_samples, dtype=torch.float32) / sample_rate, persistent=False)

    def reset_parameters(self) -> None:
        """Start long and open (attack ~0.1 ms, decay ~2 s, end near the whole length): the
        generator learns to shorten, rather than to rescue a muted output."""
        nn.init.normal_(self.head.weight, std=0.01)
        with torch.no_grad():
            self.head.bias.copy_(torch.tensor(ENVELOPE_INIT_LOGITS))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        unit = torch.sigmoid(self.head(h))  # [B, 3]
        attack = _log_range(unit[:, 0:1], *ENVELOPE_ATTACK_S)
        decay = _log_range(unit[:, 1:2], *ENVELOPE_DECAY_S)
        end = _log_range(unit[:, 2:3], ENVELOPE_END_MIN_S, max(self.length_s, ENVELOPE_END_MIN_S * 1.01))
        t = self.t_s.unsqueeze(0)
        ramp = torch.clamp(t / attack, max=1.0)
        cut = torch.clamp((end - t) / ENVELOPE_FADE_S, min=0.0, max=1.0)
        return ramp * torch.exp(-t / decay) * cut


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
        self.pitch_embedding = pitch_embedding_of(spec)
        in_features = input_features(spec)
        self.dense = nn.Linear(in_features, self.initial_length * channels[0])
        self.convs = nn.ModuleList()
        first_nearest = len(self.strides) - spec.nearest_layers
        for index, stride in enumerate(self.strides):
            if index >= first_nearest:
                self.convs.append(_NearestUpsampleConv(channels[index], channels[index + 1], stride,
                                                       spec.nearest_kernel_size))
                continue
            padding, output_padding = _transpose_padding(spec.kernel_size, stride)
            self.convs.append(
                nn.ConvTranspose1d(
                    channels[index], channels[index + 1], spec.kernel_size, stride=stride,
                    padding=padding, output_padding=output_padding,
                )
            )
        self.envelope = _DecayEnvelope(in_features, spec.num_samples, spec.sample_rate) if spec.envelope else None
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
        if self.envelope is not None:
            self.envelope.reset_parameters()

    @property
    def output_length(self) -> int:
        """Samples produced by the conv stack before cropping (``>= num_samples``)."""
        return self.initial_length * math.prod(self.strides)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                pitches: torch.Tensor | None = None) -> torch.Tensor:
        """``z`` float32[B, latent_dim], ``labels`` int64[B] (conditional only), ``pitches`` int64[B]
        MIDI (pitch-conditional only) -> float32[B, num_samples]."""
        z = conditioned(self.label_embedding, z, labels, self.pitch_embedding, pitches)
        h = z
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
        x = x.reshape(-1, self.spec.num_samples)
        if self.envelope is not None:
            x = x * self.envelope(h)
        return x

    def __repr__(self) -> str:
        s = self.spec
        return (
            f"WaveGANGenerator(latent_dim={s.latent_dim}, d={s.d}, num_samples={s.num_samples}, "
            f"num_classes={s.num_classes}, post_filter_length={s.post_filter_length}, "
            f"kernel_size={s.kernel_size}, nearest_layers={s.nearest_layers}, envelope={s.envelope}, "
            f"pitch_range={(s.pitch_low, s.pitch_high) if s.pitch_conditional else None}, "
            f"strides={self.strides}, initial_length={self.initial_length})"
        )
