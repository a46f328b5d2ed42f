"""A harmonic-plus-noise generator for pitched notes (architecture ``"harmonic"``), shared by runtime
and training.

Shapes and units::

    z        float32[B, latent_dim]   latent vector, N(0, 1)
    labels   int64[B] in [0, num_classes) only when num_classes > 0 (e.g. the GM program)
    pitches  int64[B] MIDI notes in [pitch_low, pitch_high] (always: this generator needs a pitch)
    output   float32[B, num_samples]  audio in [-1, 1]

A GAN generator whose pitch is not learnt but given (Engel et al. 2020, "DDSP"; GANSynth asked its
convolutions to learn the pitch and reached pitch accuracy only after long GPU training): an MLP on
z, the class and the pitch embedding draws, at ``frames + 1`` knots over the note (linear in
between),

* the loudness of the note (DDSP's exp-sigmoid: attack, sustain and release are all learnt),
* how that loudness is shared among ``harmonics`` partials at exact multiples of the note's
  frequency ``f0 = 440 * 2 ** ((pitch - 69) / 12)`` Hz (a softmax; partials at or above
  :data:`NYQUIST_SHARE` of the sample rate get nothing, so nothing aliases),
* the magnitudes of ``noise_bands`` filtered-noise bands (breath, bow and key noise), exactly as
  the drum generator of :mod:`.ddsp` (fixed seeded noise, per-latent signs).

All three are smoothed over :data:`SMOOTHING_FRAMES` frames (a fixed Hann moving average before
their nonlinearities): an MLP's independent per-frame outputs otherwise jitter by several dB from
one 16 ms frame to the next, a tremolo at the frame rate that the GAN would need thousands of CPU
steps to unlearn (measured at step 1,000 of the first run: loudness jumps of up to 10 dB).

The sum is soft-clipped by tanh. A note is therefore in tune by construction; the GAN learns its
timbre, dynamics and noise. Phase: partial ``k`` at sample ``n = f J + j`` (frame ``f`` of
``J = num_samples / frames`` samples) has ``k f0 n / sr`` cycles; both parts (``f J`` and ``j``)
are computed in float64 and wrapped to one cycle before float32 ``sin``/``cos``, so torch and ONNX
Runtime agree to float32 rounding however long the note; the sum over partials uses
``sin(A + B) = sin A cos B + cos A sin B`` (four batched matmuls). Exports to ONNX (opset 17, dynamic
batch) with the same exporter as WaveGAN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .ddsp import band_signs, filtered_noise, noise_band_table, unit_scale
from .errors import FormatError
from .limits import MAX_LATENT_DIM
from .wavegan import (
    ConditioningFields, LABEL_EMBED_DIM, MAX_NUM_CLASSES, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, check_pitch_fields, conditioned, input_features,
    pitch_embedding_of, strict_spec,
)

__all__ = ["HarmonicSpec", "HarmonicGenerator", "NYQUIST_SHARE", "midi_to_hz"]

NYQUIST_SHARE = 0.45  # partials at or above this share of the sample rate are silent
SMOOTHING_FRAMES = 7  # the controls are smoothed over this many frames (a Hann window): no frame-rate tremolo
HIDDEN_PER_D = 16  # MLP width = 16 * d
_LEAK = 0.2


def smoothing_matrix(knots: int, width: int = SMOOTHING_FRAMES) -> torch.Tensor:
    """float32[knots, knots]: row ``i`` is a Hann window of ``width`` frames centred on knot ``i``,
    cut at the ends and normalised to sum 1 (a moving average that keeps a constant constant)."""
    taps = torch.hann_window(width + 2, periodic=False, dtype=torch.float64)[1:-1]
    half = width // 2
    out = torch.zeros(knots, knots, dtype=torch.float64)
    for i in range(knots):
        for k in range(width):
            j = i + k - half
            if 0 <= j < knots:
                out[i, j] = taps[k]
    return (out / out.sum(dim=1, keepdim=True)).float()


def midi_to_hz(pitches: torch.Tensor) -> torch.Tensor:
    """Equal temperament, A4 = MIDI 69 = 440 Hz, in the dtype of ``pitches`` (float)."""
    return 440.0 * torch.pow(2.0, (pitches - 69.0) / 12.0)


@dataclass(frozen=True)
class HarmonicSpec(ConditioningFields):
    """Everything needed to rebuild a :class:`HarmonicGenerator` (stored in checkpoints and bundles)."""

    architecture: ClassVar[str] = "harmonic"

    latent_dim: int = 64
    d: int = 16  # the MLP has 16·d units
    num_samples: int = 32768
    num_classes: int = 0
    sample_rate: int = 16000  # Hz
    harmonics: int = 48
    noise_bands: int = 24
    frames: int = 128  # loudness / partial / noise knots over the whole note (plus one at the end)
    pitch_low: int = 0  # MIDI; required: pitch_low < pitch_high
    pitch_high: int = 0

    def __post_init__(self) -> None:
        check_pitch_fields(self, "harmonic generator spec")
        if not self.pitch_conditional:
            raise FormatError("harmonic generator spec: needs a pitch range (model.pitch_conditional = true)")
        limits = {
            "latent_dim": (1, MAX_LATENT_DIM), "d": (1, 128), "num_samples": (1024, 1 << 20),
            "num_classes": (0, MAX_NUM_CLASSES), "sample_rate": (MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
            "harmonics": (1, 512), "noise_bands": (1, 256), "frames": (2, 4096),
        }  # fmt: skip
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise FormatError(f"harmonic generator spec: {name} must be an integer in [{low}, {high}], got {value!r}")
        if self.num_samples % self.frames:
            raise FormatError(f"harmonic generator spec: frames={self.frames} must divide num_samples={self.num_samples}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "HarmonicSpec":
        """Strict inverse of :meth:`to_dict`: unknown keys or bad values raise FormatError."""
        return strict_spec(cls, data, "harmonic generator spec")


class HarmonicGenerator(nn.Module):
    """``forward(z[B, latent_dim], labels[B] | None, pitches[B]) -> audio[B, num_samples]``."""

    def __init__(self, spec: HarmonicSpec) -> None:
        super().__init__()
        if not isinstance(spec, HarmonicSpec):
            raise TypeError("HarmonicGenerator needs a HarmonicSpec")
        self.spec = spec
        hidden, knots = HIDDEN_PER_D * spec.d, spec.frames + 1
        self.label_embedding = nn.Embedding(spec.num_classes, LABEL_EMBED_DIM) if spec.conditional else None
        self.pitch_embedding = pitch_embedding_of(spec)
        self.dense = nn.Linear(input_features(spec), hidden)  # named like WaveGAN's: GANSpace directions read it
        self.hidden = nn.Linear(hidden, hidden)
        self.loudness_head = nn.Linear(hidden, knots)
        self.partials_head = nn.Linear(hidden, spec.harmonics * knots)
        self.noise_head = nn.Linear(hidden, spec.noise_bands * knots)
        # float16: 3.1 MB less in each of generator.onnx and .safetensors (a bundle is at most 25 MB); the
        # noise's spectrum and level survive 11-bit mantissas, and the graph casts it back to float32
        self.register_buffer("noise", noise_band_table(spec.noise_bands, spec.num_samples, spec.sample_rate).half())
        hop = spec.num_samples // spec.frames
        self.register_buffer("frame_start", torch.arange(spec.frames, dtype=torch.float64) * hop, persistent=False)
        self.register_buffer("in_frame", torch.arange(hop, dtype=torch.float32), persistent=False)
        self.register_buffer("ramp", torch.arange(hop, dtype=torch.float32) / hop, persistent=False)
        self.register_buffer("partial", torch.arange(1, spec.harmonics + 1, dtype=torch.float64), persistent=False)
        self.register_buffer("smooth", smoothing_matrix(knots), persistent=False)  # [knots, knots]
        self.sign_columns = [k % spec.latent_dim for k in range(spec.noise_bands)]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights, zero biases but two: the loudness starts near -20 dBFS and the noise
        bands near -50 dB, so a fresh generator already plays in-tune tones (an Adam step moves a
        bias by about the learning rate: starting from loud noise costs thousands of steps)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=1.0)
        nn.init.constant_(self.loudness_head.bias, -1.0)
        nn.init.constant_(self.noise_head.bias, -4.0)

    def _phases(self, pitches: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Each partial's phase at frame starts, ``sin``/``cos`` float32[B, F, K], and its advance
        within a frame, ``sin``/``cos`` float32[B, K, J]; and which partials sound, float32[B, 1, K]."""
        sr = float(self.spec.sample_rate)
        cycles_per_sample = (midi_to_hz(pitches.double()).unsqueeze(1) * self.partial / sr).unsqueeze(1)  # [B, 1, K]
        at_start = cycles_per_sample * self.frame_start.unsqueeze(-1)  # [B, F, K] float64
        within = cycles_per_sample * self.in_frame.double().unsqueeze(-1)  # [B, J, K] float64
        at_start = 2.0 * math.pi * (at_start - torch.floor(at_start)).float()
        within = 2.0 * math.pi * (within - torch.floor(within)).float().transpose(1, 2)  # [B, K, J]
        audible = (cycles_per_sample < NYQUIST_SHARE).float()
        return torch.sin(at_start), torch.cos(at_start), torch.sin(within), torch.cos(within), audible

    def _harmonic(self, h: torch.Tensor, pitches: torch.Tensor) -> torch.Tensor:
        """Sum of the partials, each ``a(t) sin(2 pi k f0 t)`` with ``a`` linear between knots. With
        ``sin(A + B) = sin A cos B + cos A sin B`` (A: the phase at a frame start, B: the advance
        within it) the sum over partials is four batched matmuls; no [B, partials, samples] tensor."""
        s = self.spec
        sin_start, cos_start, sin_within, cos_within, audible = self._phases(pitches)
        loudness = unit_scale(torch.matmul(self.loudness_head(h), self.smooth.t()))  # [B, F + 1]
        logits = torch.matmul(self.smooth, self.partials_head(h).reshape(-1, s.frames + 1, s.harmonics))
        weights = torch.exp(logits - logits.amax(dim=2, keepdim=True)) * audible
        amps = weights / weights.sum(dim=2, keepdim=True).clamp_min(1e-12) * loudness.unsqueeze(-1)  # [B, F + 1, K]

        def partial_sum(a: torch.Tensor) -> torch.Tensor:  # a [B, F, K] -> [B, F, J]
            return torch.matmul(a * sin_start, cos_within) + torch.matmul(a * cos_start, sin_within)

        start, end = partial_sum(amps[:, :-1]), partial_sum(amps[:, 1:])
        return (start * (1.0 - self.ramp) + end * self.ramp).reshape(-1, s.num_samples)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                pitches: torch.Tensor | None = None) -> torch.Tensor:
        """``z`` float32[B, latent_dim], ``labels`` int64[B] (conditional only), ``pitches`` int64[B] MIDI
        -> float32[B, num_samples]."""
        s = self.spec
        x = conditioned(self.label_embedding, z, labels, self.pitch_embedding, pitches)
        h = F.leaky_relu(self.hidden(F.leaky_relu(self.dense(x), _LEAK)), _LEAK)
        noise_knots = unit_scale(torch.matmul(self.noise_head(h).reshape(-1, s.noise_bands, s.frames + 1), self.smooth.t()))
        noise_knots = noise_knots * band_signs(z, self.sign_columns) / math.sqrt(s.noise_bands)
        audio = self._harmonic(h, pitches) + filtered_noise(noise_knots, self.noise, s.num_samples)
        return torch.tanh(audio)

    def __repr__(self) -> str:
        s = self.spec
        return (f"HarmonicGenerator(latent_dim={s.latent_dim}, d={s.d}, num_samples={s.num_samples}, "
                f"num_classes={s.num_classes}, sample_rate={s.sample_rate}, harmonics={s.harmonics}, "
                f"noise_bands={s.noise_bands}, frames={s.frames}, pitch={s.pitch_low}..{s.pitch_high})")
