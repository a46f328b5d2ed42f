"""SpecGAN (Donahue et al. 2019; TiFGAN, Marafioti et al. 2019): a 2-D generator over STFT images.

Shapes and units::

    z       float32[B, latent_dim]       latent vector, N(0, 1)
    labels  int64[B] in [0, num_classes) only when num_classes > 0 (conditional)
    image   float32[B, C, bins, frames]  what the conv stack draws (C by representation, below)
    output  float32[B, num_samples]      audio in [-1, 1], inverted inside the module

Layout: a dense layer (named ``dense``: GANSpace directions read it) makes ``16d`` channels of
``(bins / 32) x (frames / 32)``; five layers of nearest-neighbour x2 upsampling + a "same"
``kernel_size`` 2-D conv (no transposed convs: no checkerboard, Pons et al. 2021) halve the
channels (``16d, 8d, 4d, 2d, d``) and the last outputs C channels. ReLU between, tanh on the
log-magnitude channel. With 16384 samples, ``n_fft = 512``, ``hop = 128``: 256 bins x 128 frames
(TiFGAN's shape; the Nyquist bin is dropped).

Log-magnitude (channel 0, TiFGAN-style clipping): ``t`` in (-1, 1) maps to the magnitude
``ref * (10^(range_db (t - 1) / 40) - floor) / (1 - floor)`` with ``ref = n_fft / 2`` (the
largest magnitude audio in [-1, 1] can have) and ``floor = 10^(-range_db / 20)``: ``t = 1`` is
full scale, ``t = -1`` is exactly zero, and everything ``log_range_db`` dB under full scale is
clipped to zero, as TiFGAN clips its log range.

Representations (``representation``; the phase comparison is bench/specgan_phase.py):

* ``"logmag_phase"`` (default, C = 3): log-magnitude plus a 2-vector per bin whose direction is
  the phase (the complex STFT in polar form: no phase guessing). Inversion is one fixed-basis
  inverse STFT.
* ``"logmag"`` (C = 1): log-magnitude only; the phase comes from ``gl_iterations`` Griffin-Lim
  iterations unrolled in the graph (each one STFT + inverse STFT more).
* ``"logmag_if"`` (C = 2): log-magnitude plus the instantaneous frequency (GANSynth, Engel et al.
  2019): channel 1 in [-1, 1] is each bin's phase advance from the previous frame minus the bin
  centre's own advance (``2 pi k hop / n_fft``), in units of pi; the phase is its cumulative sum
  over frames. Exact on real audio (no guessing) like ``logmag_phase``, but a steady partial is a
  constant, which upsampling convs draw easily; with ``logmag_phase`` they must draw phase vectors
  turning at each bin's own rate, and the frame-to-frame disagreement they leave is heard as a
  comb at multiples of the frame rate (specgan-pilot: lines every 125 Hz, 5-29 dB).

The inversion (:mod:`~ganshot.engine.stft_basis`: conv1d / conv_transpose1d with fixed bases)
is part of ``forward``, so training's critics, the ONNX export and every runtime see z -> audio
as for WaveGAN. ``envelope = 1`` multiplies the audio by WaveGAN's learned decay envelope
(exact zeros after its end). :meth:`SpecGANGenerator.encode` maps real audio to the image, and
:meth:`SpecGANGenerator.invert` an image to audio (round trips, the phase bench).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .errors import FormatError
from .limits import MAX_LATENT_DIM
from .stft_basis import STFTBasis, griffin_lim
from .wavegan import ConditioningFields, LABEL_EMBED_DIM, MAX_NUM_CLASSES, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, _DecayEnvelope, check_pitch_fields, conditioned, drop_unused_pitch_fields, input_features, pitch_embedding_of, strict_spec

__all__ = ["SpecGANSpec", "SpecGANGenerator", "REPRESENTATIONS", "UPSAMPLE_LAYERS", "UPSAMPLE_MODES"]

#: representation -> image channels
REPRESENTATIONS = {"logmag_phase": 3, "logmag": 1, "logmag_if": 2}
UPSAMPLE_LAYERS = 5  # each x2 in both axes: the dense layer draws (bins / 32) x (frames / 32)
MAX_GL_ITERATIONS = 64
#: x2 upsampling before each conv. "nearest" repeats the dense layer's 8 x 4 grid cells 32 times, and
#: its steps between cells stay in the image as lines every 32 bins (k x 1 kHz at 16 kHz / n_fft 512:
#: specgan-pilot's +13 dB lines); "bilinear" (ONNX Resize, linear) ramps between them.
UPSAMPLE_MODES = ("nearest", "bilinear")
# Each unrolled Griffin-Lim iteration re-derives the phase from float32 sums, so torch and ONNX
# Runtime drift apart by ~7e-5 of full scale per iteration (measured: 5.7e-4 after 8); the export's
# parity check allows this much per iteration ("logmag" only; "logmag_phase" keeps the default).
PARITY_TOLERANCE_PER_GL_ITERATION = 2.5e-4
_PHASE_EPS = 1e-6  # keeps the phase vector's norm finite where the generator draws (0, 0)


@dataclass(frozen=True)
class SpecGANSpec(ConditioningFields):
    """Everything needed to rebuild a :class:`SpecGANGenerator` (stored in checkpoints and bundles)."""

    architecture: ClassVar[str] = "specgan"

    latent_dim: int = 100
    d: int = 16  # width: the last conv layer has d channels in, the first 16 d
    num_samples: int = 16384
    num_classes: int = 0
    sample_rate: int = 16000  # Hz
    n_fft: int = 512
    hop: int = 128
    representation: str = "logmag_phase"
    gl_iterations: int = 8  # "logmag" only: Griffin-Lim iterations in the graph
    log_range_db: int = 80  # magnitudes this far under full scale are clipped to zero
    kernel_size: int = 3
    envelope: int = 1  # 1 = learned decay envelope on the audio (see engine/wavegan.py)
    upsample: str = "nearest"  # x2 before each conv: "nearest" or "bilinear" (no steps at the dense layer's grid)
    pitch_low: int = 0  # MIDI; pitch_low < pitch_high adds the pitch input (0, 0 = none)
    pitch_high: int = 0

    def __post_init__(self) -> None:
        check_pitch_fields(self, "specgan generator spec")
        limits = {
            "latent_dim": (1, MAX_LATENT_DIM), "d": (1, 128), "num_samples": (1024, 1 << 20),
            "num_classes": (0, MAX_NUM_CLASSES), "sample_rate": (MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
            "n_fft": (64, 4096), "hop": (2, 2048), "gl_iterations": (0, MAX_GL_ITERATIONS),
            "log_range_db": (20, 160), "kernel_size": (1, 9), "envelope": (0, 1),
        }  # fmt: skip
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise FormatError(f"specgan generator spec: {name} must be an integer in [{low}, {high}], got {value!r}")
        if self.representation not in REPRESENTATIONS:
            raise FormatError(f"specgan generator spec: representation must be one of {', '.join(REPRESENTATIONS)}, "
                              f"got {self.representation!r:.40}")
        if self.upsample not in UPSAMPLE_MODES:
            raise FormatError(f"specgan generator spec: upsample must be one of {', '.join(UPSAMPLE_MODES)}, "
                              f"got {self.upsample!r:.40}")
        if self.kernel_size % 2 == 0:
            raise FormatError(f"specgan generator spec: kernel_size must be odd, got {self.kernel_size}")
        STFTBasis.check(self.n_fft, self.hop, self.num_samples, "specgan generator spec")
        grid = 1 << UPSAMPLE_LAYERS
        if self.bins % grid or self.frames % grid:
            raise FormatError(f"specgan generator spec: n_fft / 2 = {self.bins} bins and num_samples / hop = "
                              f"{self.frames} frames must both be multiples of {grid}")

    @property
    def bins(self) -> int:
        return self.n_fft // 2

    @property
    def frames(self) -> int:
        return self.num_samples // self.hop

    @property
    def parity_tolerance(self) -> float | None:
        """The export's ONNX-vs-torch tolerance when it differs from the default (None)."""
        if self.representation == "logmag" and self.gl_iterations:
            return PARITY_TOLERANCE_PER_GL_ITERATION * self.gl_iterations
        return None

    def to_dict(self) -> dict:
        return drop_unused_pitch_fields(self, asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "SpecGANSpec":
        """Strict inverse of :meth:`to_dict`: unknown keys or bad values raise FormatError."""
        return strict_spec(cls, data, "specgan generator spec")


class _Up2d(nn.Module):
    """Nearest (or bilinear) x2 in both axes, then a "same" 2-D conv: ``[B, C, H, W] -> [B, C', 2H, 2W]``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mode: str = "nearest") -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "nearest":
            return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False))


class SpecGANGenerator(nn.Module):
    """SpecGAN generator: ``forward(z[B, latent_dim], labels[B] | None) -> audio[B, num_samples]``."""

    def __init__(self, spec: SpecGANSpec) -> None:
        super().__init__()
        if not isinstance(spec, SpecGANSpec):
            raise TypeError("SpecGANGenerator needs a SpecGANSpec")
        self.spec = spec
        grid = 1 << UPSAMPLE_LAYERS
        self.start = (spec.bins // grid, spec.frames // grid)
        channels = [16 * spec.d // 2**i for i in range(UPSAMPLE_LAYERS)] + [REPRESENTATIONS[spec.representation]]
        self.initial_channels = channels[0]
        self.label_embedding = nn.Embedding(spec.num_classes, LABEL_EMBED_DIM) if spec.conditional else None
        self.pitch_embedding = pitch_embedding_of(spec)
        in_features = input_features(spec)
        self.dense = nn.Linear(in_features, channels[0] * self.start[0] * self.start[1])
        self.convs = nn.ModuleList(_Up2d(channels[i], channels[i + 1], spec.kernel_size, spec.upsample)
                                   for i in range(UPSAMPLE_LAYERS))
        self.envelope = _DecayEnvelope(in_features, spec.num_samples, spec.sample_rate) if spec.envelope else None
        self.stft = STFTBasis(spec.n_fft, spec.hop, spec.num_samples)
        advance = 2 * math.pi * torch.arange(spec.bins, dtype=torch.float64) * spec.hop / spec.n_fft  # rad a frame
        frames = torch.arange(spec.frames, dtype=torch.float64)
        self.register_buffer("advance", torch.remainder(advance, 2 * math.pi).float().unsqueeze(1),
                             persistent=False)  # [bins, 1]: the bin centres' advance a frame
        self.register_buffer("advance_total", torch.remainder(advance[:, None] * frames[None], 2 * math.pi).float(),
                             persistent=False)  # [bins, frames]: the bin centres' phase at each frame
        self.ref = spec.n_fft / 2.0  # |X| of a full-scale DC frame: the top of the log range
        self.floor = 10.0 ** (-spec.log_range_db / 20.0)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights, zero biases (like WaveGAN); the envelope starts long and open."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=1.0)
        if self.envelope is not None:
            self.envelope.reset_parameters()

    # -- the representation -------------------------------------------------------------
    def magnitude(self, level: torch.Tensor) -> torch.Tensor:
        """Log level ``t`` in [-1, 1] -> magnitude (``t = -1`` exactly 0, ``t = 1`` full scale)."""
        scale = self.spec.log_range_db / 40.0
        return self.ref * (torch.pow(10.0, scale * (level - 1.0)) - self.floor) / (1.0 - self.floor)

    def level(self, magnitude: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`magnitude`, clipped to [-1, 1] (TiFGAN's log-range clipping)."""
        unit = magnitude / self.ref * (1.0 - self.floor) + self.floor
        return torch.clamp(1.0 + torch.log10(unit) * (40.0 / self.spec.log_range_db), -1.0, 1.0)

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """Real audio float[B, num_samples] -> the image float[B, C, bins, frames] this model draws."""
        spectrum = self.stft.analyse(audio)
        norm = torch.sqrt(spectrum.square().sum(dim=1, keepdim=True))
        level = self.level(norm)
        if self.spec.representation == "logmag":
            return level
        if self.spec.representation == "logmag_if":
            phase = torch.atan2(spectrum[:, 1], spectrum[:, 0])  # [B, bins, frames]
            step = torch.diff(phase, dim=2, prepend=torch.zeros_like(phase[:, :, :1])) - self.advance
            step[:, :, 0] = phase[:, :, 0]  # the first frame carries the starting phase
            wrapped = torch.remainder(step + math.pi, 2 * math.pi) - math.pi
            return torch.cat([level, (wrapped / math.pi).unsqueeze(1)], dim=1)
        return torch.cat([level, spectrum / norm.clamp_min(1e-12)], dim=1)

    def invert(self, image: torch.Tensor) -> torch.Tensor:
        """The image float[B, C, bins, frames] -> audio float[B, num_samples] (before tanh/envelope)."""
        magnitude = self.magnitude(image[:, 0])
        if self.spec.representation == "logmag":
            return griffin_lim(self.stft, magnitude, self.spec.gl_iterations)
        if self.spec.representation == "logmag_if":
            # the bin centres' advance is a [bins, frames] table wrapped to one turn in float64, so the
            # float32 cumulative sum only adds the drawn deviations (<= pi a frame): torch and ONNX agree
            phase = torch.cumsum(image[:, 1] * math.pi, dim=2) + self.advance_total
            return self.stft.synthesise(torch.stack([torch.cos(phase), torch.sin(phase)], dim=1) * magnitude.unsqueeze(1))
        phase = image[:, 1:3]
        unit = phase / torch.sqrt(phase.square().sum(dim=1, keepdim=True) + _PHASE_EPS)
        return self.stft.synthesise(unit * magnitude.unsqueeze(1))

    # -- the generator ------------------------------------------------------------------
    def draw(self, x: torch.Tensor) -> torch.Tensor:
        """Generator input features float[B, in_features] -> image float[B, C, bins, frames]."""
        h = F.relu(self.dense(x).reshape(-1, self.initial_channels, *self.start))
        last = len(self.convs) - 1
        for index, conv in enumerate(self.convs):
            h = conv(h)
            if index != last:
                h = F.relu(h)
        if self.spec.representation == "logmag_if":
            return torch.tanh(h)  # level and instantaneous frequency, both in [-1, 1]
        return torch.cat([torch.tanh(h[:, :1]), h[:, 1:]], dim=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                pitches: torch.Tensor | None = None) -> torch.Tensor:
        """``z`` float32[B, latent_dim], ``labels`` int64[B] (conditional only), ``pitches`` int64[B] MIDI
        (pitch-conditional only) -> float32[B, num_samples]."""
        x = conditioned(self.label_embedding, z, labels, self.pitch_embedding, pitches)
        audio = torch.tanh(self.invert(self.draw(x)))
        return audio * self.envelope(x) if self.envelope is not None else audio

    def __repr__(self) -> str:
        s = self.spec
        return (f"SpecGANGenerator(latent_dim={s.latent_dim}, d={s.d}, num_samples={s.num_samples}, "
                f"num_classes={s.num_classes}, n_fft={s.n_fft}, hop={s.hop}, representation={s.representation!r}, "
                f"gl_iterations={s.gl_iterations}, image=[{REPRESENTATIONS[s.representation]}, {s.bins}, {s.frames}])")
