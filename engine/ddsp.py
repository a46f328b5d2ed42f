"""A DDSP-style drum generator (architecture ``"ddsp"``), shared by runtime and training.

Shapes and units::

    z       float32[B, latent_dim]       latent vector, N(0, 1)
    labels  int64[B] in [0, num_classes) only when num_classes > 0 (conditional)
    output  float32[B, num_samples]      audio in [-1, 1]

Instead of upsampling convolutions, a small MLP on ``z`` (and the class embedding) drives three
differentiable sound sources (Engel et al. 2020, "DDSP"), summed, soft-clipped by tanh and
multiplied by the learned monotone decay envelope of :mod:`~ganshot.engine.wavegan`
(``_DecayEnvelope``: attack, exponential decay, exact zeros after its end):

* Filtered noise: ``noise_bands`` band-limited noises (log-spaced bands over 0 Hz - Nyquist,
  made once from a fixed seed and stored as a non-trainable buffer), each scaled by its own
  magnitude at ``noise_frames + 1`` knots, linear in between. Each band's sign is the parity of
  ``floor(z[k] * 8192)``: exact in float32 arithmetic, so each latent gets its own noise with the
  same spectrum, ONNX Runtime and torch pick the same one, and a kit seed always sounds the same.
* ``sinusoids`` damped sinusoids, each with an end frequency (30 Hz - 0.45 fs), a start
  frequency up to 8x higher gliding down exponentially (the pitch drop of kicks and toms), a
  glide time (2-300 ms), a decay time (10 ms - 2 s), an amplitude and a phase. The frequency is
  evaluated every 64 samples and linear in between. A phase ``2 pi f t`` turns a relative error
  of 1e-7 in ``f`` into 4e-3 rad after a second, more than the export's parity tolerance, so the
  MLP, the sinusoids' head and their phase at block starts run in float64 (a cumulative sum, wrapped to
  one cycle); per sample only float32 ``a + f tau + k tau^2`` (tau < 4 ms) and ``sin`` remain,
  which torch and ONNX Runtime round alike.
* A free transient: the first ``transient_ms`` ms predicted sample by sample by a small
  nearest-upsample + conv net, faded out to zero by a half cosine.

Everything is a fixed-shape tensor program: it exports to ONNX (opset 17, dynamic batch) with
the same exporter as WaveGAN. The spec's class attribute ``architecture`` is the name bundles
record (see :mod:`ganshot.engine.generators`).
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
from .wavegan import ConditioningFields, LABEL_EMBED_DIM, MAX_NUM_CLASSES, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, _DecayEnvelope, check_pitch_fields, conditioned, drop_unused_pitch_fields, input_features, pitch_embedding_of, strict_spec, _log_range

__all__ = ["DDSPSpec", "DDSPGenerator", "band_signs", "filtered_noise", "noise_band_table", "unit_scale"]

NOISE_SEED = 20261202  # the fixed noise the bands are cut from
NOISE_SIGN_SCALE = 8192.0  # a power of two: floor(z * scale) is exact in any float32 runtime
SINE_FREQ_HZ = (30.0, None)  # end frequency range; None = NYQUIST_SHARE * sample_rate
NYQUIST_SHARE = 0.45
SINE_GLIDE_RATIO = (1.0, 8.0)  # start / end frequency
SINE_GLIDE_S = (0.002, 0.3)
SINE_DECAY_S = (0.01, 2.0)
SINE_BLOCK_SAMPLES = 64  # the sinusoids' frequency is linear within each block of 64 samples
TRANSIENT_UPSAMPLING = 16  # four x2 nearest + conv layers
HIDDEN_PER_D = 16  # MLP width = 16 * d
_LEAK = 0.2


@dataclass(frozen=True)
class DDSPSpec(ConditioningFields):
    """Everything needed to rebuild a :class:`DDSPGenerator` (stored in checkpoints and bundles)."""

    architecture: ClassVar[str] = "ddsp"

    latent_dim: int = 100
    d: int = 16  # width: the MLP has 16·d units, the transient net 2·d channels at its input
    num_samples: int = 16384
    num_classes: int = 0
    sample_rate: int = 16000  # Hz
    noise_bands: int = 32
    noise_frames: int = 64  # magnitude frames over the whole output
    sinusoids: int = 8
    transient_ms: int = 24
    pitch_low: int = 0  # MIDI; pitch_low < pitch_high adds the pitch input (0, 0 = none)
    pitch_high: int = 0

    def __post_init__(self) -> None:
        check_pitch_fields(self, "ddsp generator spec")
        limits = {
            "latent_dim": (1, MAX_LATENT_DIM), "d": (1, 128), "num_samples": (1024, 1 << 20),
            "num_classes": (0, MAX_NUM_CLASSES), "sample_rate": (MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
            "noise_bands": (1, 256), "noise_frames": (2, 4096), "sinusoids": (0, 256), "transient_ms": (0, 200),
        }  # fmt: skip
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise FormatError(f"ddsp generator spec: {name} must be an integer in [{low}, {high}], got {value!r}")
        if self.num_samples % SINE_BLOCK_SAMPLES:
            raise FormatError(f"ddsp generator spec: num_samples={self.num_samples} must be a multiple of {SINE_BLOCK_SAMPLES}")
        if self.num_samples % self.noise_frames:
            raise FormatError(f"ddsp generator spec: noise_frames={self.noise_frames} must divide num_samples={self.num_samples}")
        if self.transient_samples > self.num_samples:
            raise FormatError(f"ddsp generator spec: transient_ms={self.transient_ms} is longer than the output")

    @property
    def transient_samples(self) -> int:
        return self.transient_ms * self.sample_rate // 1000

    def to_dict(self) -> dict:
        return drop_unused_pitch_fields(self, asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "DDSPSpec":
        """Strict inverse of :meth:`to_dict`: unknown keys or bad values raise FormatError."""
        return strict_spec(cls, data, "ddsp generator spec")


def noise_band_table(bands: int, length: int, sample_rate: int) -> torch.Tensor:
    """float32[bands, length]: one seeded white noise split into log-spaced bands, each of unit RMS."""
    gen = torch.Generator().manual_seed(NOISE_SEED)
    spectrum = torch.fft.rfft(torch.randn(length, generator=gen, dtype=torch.float64))
    freqs = torch.fft.rfftfreq(length, d=1.0 / sample_rate, dtype=torch.float64)
    edges = torch.logspace(math.log10(40.0), math.log10(sample_rate / 2), bands + 1, dtype=torch.float64)
    edges[0], edges[-1] = 0.0, sample_rate  # the first band reaches down to DC, the last up to Nyquist
    out = torch.empty(bands, length, dtype=torch.float64)
    for index in range(bands):
        mask = (freqs >= edges[index]) & (freqs < edges[index + 1])
        band = torch.fft.irfft(spectrum * mask, n=length)
        out[index] = band / band.square().mean().sqrt().clamp_min(1e-12)
    return out.float()


def band_signs(z: torch.Tensor, columns: list[int]) -> torch.Tensor:
    """float32[B, K, 1] of +-1 from ``floor(z[:, columns] * 8192)`` parity: exact in any runtime, so
    each latent has its own noise (same spectrum) and a kit seed always sounds the same."""
    parity = torch.remainder(torch.floor(z.detach()[:, columns] * NOISE_SIGN_SCALE), 2.0)
    return (1.0 - 2.0 * parity).unsqueeze(-1)


def filtered_noise(knots: torch.Tensor, noise: torch.Tensor, num_samples: int) -> torch.Tensor:
    """``knots`` float32[B, K, F + 1] (each band's magnitude at frame edges), ``noise`` float32[K, N]
    (:func:`noise_band_table`) -> float32[B, N]: each band scaled by its knots, linear in between, summed."""
    bands, frames = knots.shape[1], knots.shape[2] - 1
    hop = num_samples // frames
    noise = noise.to(knots.dtype)  # a float16 table (engine.harmonic) is cast once; float32 stays as it is
    ramp = torch.arange(hop, dtype=torch.float32, device=knots.device) / hop  # [J]
    framed = noise.reshape(bands, frames, hop).permute(1, 0, 2)  # [F, K, J]
    # Linear interpolation of the knots within each frame, as two batched matmuls (no [B, K, N] tensor).
    start = torch.matmul(knots[:, :, :-1].permute(2, 0, 1), framed * (1.0 - ramp))  # [F, B, J]
    end = torch.matmul(knots[:, :, 1:].permute(2, 0, 1), framed * ramp)
    return (start + end).permute(1, 0, 2).reshape(-1, num_samples)


def unit_scale(x: torch.Tensor) -> torch.Tensor:
    """DDSP's exp-sigmoid: a positive amplitude in (0, 2] that spans decibels evenly."""
    return 2.0 * torch.sigmoid(x) ** math.log(10.0) + 1e-7


class _Transient(nn.Module):
    """``h[B, hidden] -> float32[B, samples]``: a free waveform for the attack, faded out to zero."""

    def __init__(self, hidden: int, d: int, samples: int) -> None:
        super().__init__()
        self.samples = samples
        self.start_length = max(1, math.ceil(samples / TRANSIENT_UPSAMPLING))
        self.channels = 2 * d
        widths = [2 * d, d, max(d // 2, 1), max(d // 2, 1), 1]
        self.dense = nn.Linear(hidden, self.channels * self.start_length)
        self.convs = nn.ModuleList(nn.Conv1d(widths[i], widths[i + 1], 5, padding=2) for i in range(4))
        t = torch.arange(samples, dtype=torch.float32) / max(samples, 1)
        self.register_buffer("fade", 0.5 * (1.0 + torch.cos(math.pi * t)), persistent=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        x = self.dense(h).reshape(-1, self.channels, self.start_length)
        for index, conv in enumerate(self.convs):
            x = conv(F.interpolate(F.leaky_relu(x, _LEAK), scale_factor=2.0, mode="nearest"))
        return torch.tanh(x[:, 0, : self.samples]) * self.fade


class DDSPGenerator(nn.Module):
    """DDSP drum generator: ``forward(z[B, latent_dim], labels[B] | None) -> audio[B, num_samples]``."""

    def __init__(self, spec: DDSPSpec) -> None:
        super().__init__()
        if not isinstance(spec, DDSPSpec):
            raise TypeError("DDSPGenerator needs a DDSPSpec")
        self.spec = spec
        n, sr = spec.num_samples, spec.sample_rate
        hidden = HIDDEN_PER_D * spec.d
        self.label_embedding = nn.Embedding(spec.num_classes, LABEL_EMBED_DIM) if spec.conditional else None
        self.pitch_embedding = pitch_embedding_of(spec)
        in_features = input_features(spec)
        self.dense = nn.Linear(in_features, hidden)  # named like WaveGAN's: GANSpace directions read it
        self.hidden = nn.Linear(hidden, hidden)
        self.noise_head = nn.Linear(hidden, spec.noise_bands * (spec.noise_frames + 1))
        self.sine_head = nn.Linear(hidden, spec.sinusoids * 6) if spec.sinusoids else None
        self.transient = _Transient(hidden, spec.d, spec.transient_samples) if spec.transient_samples else None
        self.envelope = _DecayEnvelope(in_features, n, sr)
        self.register_buffer("noise", noise_band_table(spec.noise_bands, n, sr))  # saved: the sound depends on it
        knots = torch.arange(n // SINE_BLOCK_SAMPLES + 1, dtype=torch.float64) * (SINE_BLOCK_SAMPLES / sr)
        self.register_buffer("knot_s", knots.float(), persistent=False)  # exact: multiples of 64/sr
        self.register_buffer("block_s", torch.arange(SINE_BLOCK_SAMPLES, dtype=torch.float32) / sr, persistent=False)
        self.sign_columns = [k % spec.latent_dim for k in range(spec.noise_bands)]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights, zero biases; the envelope starts long and open."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d)):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=1.0)
        self.envelope.reset_parameters()

    def _filtered_noise(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        s = self.spec
        knots = unit_scale(self.noise_head(h)).reshape(-1, s.noise_bands, s.noise_frames + 1) / math.sqrt(s.noise_bands)
        return filtered_noise(knots * band_signs(z, self.sign_columns), self.noise, s.num_samples)

    def _sinusoids(self, x: torch.Tensor) -> torch.Tensor:
        """Damped, gliding sinusoids summed: float32[B, N]. The phase path runs in float64 from the
        generator's input on (see the module docstring); per sample only float32 +, x and sin remain."""
        s, sr = self.spec, float(self.spec.sample_rate)
        block = SINE_BLOCK_SAMPLES
        h = x.double()
        for layer in (self.dense, self.hidden):  # the MLP again, in float64
            h = F.leaky_relu(F.linear(h, layer.weight.double(), layer.bias.double()), _LEAK)
        head = F.linear(h, self.sine_head.weight.double(), self.sine_head.bias.double())
        unit = torch.sigmoid(head.reshape(-1, s.sinusoids, 6)).unsqueeze(-1)  # [B, S, 6, 1]
        top_hz = NYQUIST_SHARE * sr
        end_hz = _log_range(unit[:, :, 0], SINE_FREQ_HZ[0], top_hz)
        start_hz = torch.clamp(end_hz * _log_range(unit[:, :, 1], *SINE_GLIDE_RATIO), max=top_hz)
        glide_s = _log_range(unit[:, :, 2], *SINE_GLIDE_S)
        decay_s = _log_range(unit[:, :, 3], *SINE_DECAY_S)
        amp = 2.0 * unit[:, :, 4] ** math.log(10.0) / math.sqrt(s.sinusoids)
        phase = (math.pi * (2.0 * unit[:, :, 5] - 1.0)).float().unsqueeze(-1)  # [B, S, 1, 1]
        knots_s = self.knot_s.double().unsqueeze(0)  # [1, J + 1] block starts (and the end)
        freq = end_hz + (start_hz - end_hz) * torch.exp(-knots_s / glide_s)  # [B, S, J + 1]
        # Frequency linear within each block: the phase at block starts is a float64 cumulative sum.
        step = (freq[:, :, :-1] + freq[:, :, 1:]) * (0.5 * block / sr)
        start_cycles = torch.cumsum(step, dim=2) - step
        start_cycles = (start_cycles - torch.floor(start_cycles)).float().unsqueeze(-1)  # [B, S, J, 1]
        f0 = freq[:, :, :-1].float().unsqueeze(-1)
        slope = ((freq[:, :, 1:] - freq[:, :, :-1]) * (0.5 * sr / block)).float().unsqueeze(-1)
        tau = self.block_s  # float32[L]
        cycles = start_cycles + f0 * tau + slope * (tau * tau)  # [B, S, J, L]
        level = (amp * torch.exp(-knots_s[:, :-1] / decay_s)).float().unsqueeze(-1)  # [B, S, J, 1]
        fade = torch.exp(-tau / decay_s.float()).unsqueeze(-2)  # [B, S, 1, L]
        ring = torch.sin(2.0 * math.pi * cycles + phase) * level * fade
        return ring.sum(dim=1).reshape(-1, s.num_samples)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                pitches: torch.Tensor | None = None) -> torch.Tensor:
        """``z`` float32[B, latent_dim], ``labels`` int64[B] (conditional only), ``pitches`` int64[B] MIDI
        (pitch-conditional only) -> float32[B, num_samples]."""
        x = conditioned(self.label_embedding, z, labels, self.pitch_embedding, pitches)
        h = F.leaky_relu(self.hidden(F.leaky_relu(self.dense(x), _LEAK)), _LEAK)
        audio = self._filtered_noise(h, z)
        if self.sine_head is not None:
            audio = audio + self._sinusoids(x)
        if self.transient is not None:
            audio = audio + F.pad(self.transient(h), (0, self.spec.num_samples - self.spec.transient_samples))
        return torch.tanh(audio) * self.envelope(x)

    def __repr__(self) -> str:
        s = self.spec
        return (f"DDSPGenerator(latent_dim={s.latent_dim}, d={s.d}, num_samples={s.num_samples}, "
                f"num_classes={s.num_classes}, sample_rate={s.sample_rate}, noise_bands={s.noise_bands}, "
                f"noise_frames={s.noise_frames}, sinusoids={s.sinusoids}, transient_ms={s.transient_ms})")
