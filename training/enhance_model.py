"""The enhancer network: a spectral mask in [0, 1] over a fixed-basis STFT (torch; exports to ONNX).

Cheat sheet::

    from ganshot.training.enhance_model import EnhancerSpec, MaskEnhancer
    spec = EnhancerSpec(sample_rate=16000, num_samples=16384)
    net = MaskEnhancer(spec)
    clean = net(audio)                 # float32[B, num_samples] -> float32[B, num_samples]
    clean, mask = net(audio, return_mask=True)    # mask float32[B, n_fft/2+1, frames] in [0, 1]

Pipeline (every step a plain ONNX operator, so the graph runs in ONNX Runtime as it
runs here): zero-pad ``n_fft/2`` each side; STFT as one ``conv1d`` whose fixed kernel
holds the Hann-windowed cosine and sine rows (``[2F, 1, n_fft]``, stride ``hop``);
log power in dB re the clip's loudest bin, clipped to ``[-FLOOR_DB, 0]`` (so the net
sees levels relative to the hit, whatever its loudness); a small 1-D conv stack over
frames with the F bins as channels (dilations 1, 2, 4, 8: ~0.5 s of context at hop
128); mask = ``min(1, (1 + MASK_MARGIN) * sigmoid(logits))``, so exactly 1 is
reachable and nothing can be amplified; the same mask scales the real and imaginary
parts; inverse STFT as ``conv_transpose1d`` with the synthesis rows, divided by the
window-square overlap sum, cropped to ``num_samples``. With mask 1 the round trip is
exact to float rounding (tested).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F

from ganshot.engine.errors import FormatError

__all__ = ["EnhancerSpec", "MaskEnhancer", "FLOOR_DB", "MASK_MARGIN"]

FLOOR_DB = 120.0  # the net sees dB re the loudest bin, clipped here (digital silence)
MASK_MARGIN = 0.02  # sigmoid * 1.02 clipped at 1: a mask of exactly 1 is reachable
_EPS_POWER = 1e-14


@dataclass(frozen=True)
class EnhancerSpec:
    """Everything that shapes the enhancer; model.json records it as ``enhancer.spec``."""

    sample_rate: int = 16000
    num_samples: int = 16384
    n_fft: int = 512
    hop: int = 128
    channels: int = 64
    dilations: tuple = (1, 2, 4, 8)
    kernel_size: int = 3

    architecture = "spectral-mask"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dilations", tuple(int(d) for d in self.dilations))
        if self.n_fft % self.hop or self.n_fft & (self.n_fft - 1):
            raise FormatError(f"enhancer: n_fft {self.n_fft} must be a power of 2 and a multiple of hop {self.hop}")

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def frames(self) -> int:
        return self.num_samples // self.hop + 1

    def to_dict(self) -> dict:
        data = asdict(self)
        data["dilations"] = list(self.dilations)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "EnhancerSpec":
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - names:
            raise FormatError(f"enhancer spec: unknown keys {sorted(set(data) - names) if isinstance(data, dict) else data!r}")
        return cls(**data)


def _bases(n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(analysis, synthesis) kernels, each float32[2F, 1, n_fft]: cos rows then sin rows."""
    n = torch.arange(n_fft, dtype=torch.float64)
    f = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
    window = 0.5 - 0.5 * torch.cos(2 * math.pi * n / n_fft)  # periodic Hann
    angle = 2 * math.pi * f[:, None] * n[None, :] / n_fft
    analysis = torch.cat([window * torch.cos(angle), -window * torch.sin(angle)])
    weight = torch.full((n_fft // 2 + 1, 1), 2.0, dtype=torch.float64)
    weight[0] = weight[-1] = 1.0  # DC and Nyquist appear once in a one-sided spectrum
    synthesis = torch.cat([weight * torch.cos(angle), -weight * torch.sin(angle)]) * window / n_fft
    return analysis.float().unsqueeze(1), synthesis.float().unsqueeze(1)


class MaskEnhancer(nn.Module):
    """``forward(audio float32[B, num_samples]) -> float32[B, num_samples]``: only removes energy."""

    def __init__(self, spec: EnhancerSpec = EnhancerSpec()) -> None:
        super().__init__()
        self.spec = spec
        analysis, synthesis = _bases(spec.n_fft)
        self.register_buffer("analysis", analysis, persistent=False)
        self.register_buffer("synthesis", synthesis, persistent=False)
        frames = spec.frames
        window_sq = (analysis[0, 0] ** 2).view(1, 1, -1) / 1.0  # row 0 is the window itself (cos 0)
        overlap = F.conv_transpose1d(torch.ones(1, 1, frames), window_sq, stride=spec.hop)
        pad = spec.n_fft // 2
        overlap = overlap[..., pad:pad + spec.num_samples]
        self.register_buffer("inv_overlap", 1.0 / overlap.clamp_min(1e-8), persistent=False)
        bins, ch, k = spec.bins, spec.channels, spec.kernel_size
        self.inp = nn.Conv1d(bins, ch, k, padding=k // 2)
        self.blocks = nn.ModuleList(
            nn.Conv1d(ch, ch, k, padding=d * (k // 2), dilation=d) for d in spec.dilations
        )
        self.out = nn.Conv1d(ch, bins, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.constant_(self.out.bias, 3.5)  # starts near the identity (mask 0.99, below the clip: gradients flow)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def mask(self, power: torch.Tensor) -> torch.Tensor:
        """power float32[B, F, T] -> mask float32[B, F, T] in [0, 1]."""
        db = 10.0 * torch.log10(power + _EPS_POWER)
        peak = torch.amax(db, dim=(1, 2), keepdim=True)
        x = torch.clamp(db - peak, min=-FLOOR_DB) / 40.0 + 1.0
        h = F.leaky_relu(self.inp(x), 0.2)
        for block in self.blocks:
            h = h + F.leaky_relu(block(h), 0.2)
        return torch.clamp(torch.sigmoid(self.out(h)) * (1.0 + MASK_MARGIN), max=1.0)

    def forward(self, audio: torch.Tensor, return_mask: bool = False):
        spec = self.spec
        pad = spec.n_fft // 2
        x = F.pad(audio.unsqueeze(1), (pad, pad))
        stft = F.conv1d(x, self.analysis, stride=spec.hop)  # [B, 2F, T]
        re, im = stft[:, : spec.bins], stft[:, spec.bins:]
        mask = self.mask(re * re + im * im)
        masked = stft * torch.cat([mask, mask], dim=1)
        y = F.conv_transpose1d(masked, self.synthesis, stride=spec.hop)[:, 0, pad:pad + spec.num_samples]
        y = y * self.inv_overlap[0]
        return (y, mask) if return_mask else y

    def __repr__(self) -> str:
        return f"MaskEnhancer({self.spec}, params={self.num_params()})"
