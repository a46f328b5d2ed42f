"""STFT and inverse STFT as convolutions with a fixed basis: exportable to ONNX, exact in torch.

Shapes and units::

    audio     float32[B, num_samples]                samples in [-1, 1]
    spectrum  float32[B, 2, bins, frames]            real and imaginary parts (channel 0, 1)

``bins = n_fft / 2`` (the Nyquist bin is dropped, as SpecGAN and TiFGAN do: the generator's
images then have power-of-two heights) and ``frames = num_samples / hop``. Framing: the audio
is padded by ``(n_fft - hop) / 2`` zeros on each side, so frame ``t`` is centred on sample
``t * hop + hop / 2``; the inverse crops the same padding back off.

Why convolutions: ``torch.stft``/``torch.istft`` do not export to ONNX opset 17 (istft not
at all), while ``conv1d``/``conv_transpose1d`` with a fixed basis export everywhere and run
as one GEMM each. The analysis basis is the periodic-Hann-windowed DFT; the synthesis is the
windowed overlap-add divided by the sum of squared windows (computed once, a buffer), which is
the least-squares inverse of the analysis (Griffin & Lim 1984). With ``hop <= n_fft / 2``
every output sample is covered by a non-zero window, so the inverse is exact for a
consistent spectrum (up to float32 rounding; the dropped Nyquist bin is the only loss).

:func:`griffin_lim` unrolls a fixed number of Griffin-Lim iterations (no data-dependent
control flow), so it exports too.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .errors import FormatError

__all__ = ["STFTBasis", "griffin_lim", "MIN_N_FFT", "MAX_N_FFT", "spectral_convergence"]

MIN_N_FFT, MAX_N_FFT = 64, 4096
_TINY = 1e-12  # keeps sqrt/divisions finite where a magnitude is exactly zero
# Griffin-Lim's phase of a bin whose estimate is ~0 is rounding noise, and float32 rounding differs
# between torch and ONNX Runtime; flooring the estimate's norm at -80 dB of full scale (n_fft / 2, the log range)
# keeps such bins' phase from amplifying that noise (export parity), far below anything audible.
GL_FLOOR = 1e-4


class STFTBasis(nn.Module):
    """Fixed-basis STFT (``analyse``) and inverse (``synthesise``) for one ``(n_fft, hop, num_samples)``."""

    def __init__(self, n_fft: int, hop: int, num_samples: int) -> None:
        super().__init__()
        self.check(n_fft, hop, num_samples)
        self.n_fft, self.hop, self.num_samples = n_fft, hop, num_samples
        self.bins, self.frames = n_fft // 2, num_samples // hop
        self.pad = (n_fft - hop) // 2
        n = torch.arange(n_fft, dtype=torch.float64)
        k = torch.arange(self.bins, dtype=torch.float64).unsqueeze(1)
        window = 0.5 - 0.5 * torch.cos(2 * math.pi * n / n_fft)  # periodic Hann
        angle = 2 * math.pi * k * n / n_fft  # [bins, n_fft]
        basis = torch.cat([torch.cos(angle), -torch.sin(angle)]) * window  # [2 bins, n_fft]
        self.register_buffer("analysis", basis.unsqueeze(1).float(), persistent=False)  # conv1d [2K, 1, N]
        # Synthesis: real inverse DFT of bins 0..K-1 (bins 1..K-1 count twice: the conjugate half),
        # windowed again, overlap-added, divided by the summed squared windows.
        scale = torch.full((self.bins, 1), 2.0 / n_fft, dtype=torch.float64)
        scale[0] = 1.0 / n_fft
        synth = torch.cat([torch.cos(angle) * scale, -torch.sin(angle) * scale]) * window
        self.register_buffer("synthesis", synth.unsqueeze(1).float(), persistent=False)  # conv_t [2K, 1, N]
        wsum = F.conv_transpose1d(torch.ones(1, 1, self.frames, dtype=torch.float64),
                                  (window**2).view(1, 1, -1), stride=hop)[0, 0, self.pad: self.pad + num_samples]
        self.register_buffer("inverse_wsum", (1.0 / wsum).float(), persistent=False)

    def analyse(self, audio: torch.Tensor) -> torch.Tensor:
        """float[B, num_samples] -> float[B, 2, bins, frames] (real, imaginary)."""
        x = F.pad(audio.unsqueeze(1), (self.pad, self.n_fft - self.hop - self.pad))
        spec = F.conv1d(x, self.analysis, stride=self.hop)  # [B, 2K, T]
        return spec.reshape(-1, 2, self.bins, self.frames)

    def synthesise(self, spectrum: torch.Tensor) -> torch.Tensor:
        """float[B, 2, bins, frames] -> float[B, num_samples] (least-squares inverse STFT)."""
        x = F.conv_transpose1d(spectrum.reshape(-1, 2 * self.bins, self.frames), self.synthesis, stride=self.hop)
        return x[:, 0, self.pad: self.pad + self.num_samples] * self.inverse_wsum

    @staticmethod
    def check(n_fft: int, hop: int, num_samples: int, where: str = "stft") -> None:
        """FormatError naming the value unless ``(n_fft, hop, num_samples)`` frame exactly."""
        for name, value in (("n_fft", n_fft), ("hop", hop), ("num_samples", num_samples)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FormatError(f"{where}: {name} must be a positive integer, got {value!r}")
        if not MIN_N_FFT <= n_fft <= MAX_N_FFT or n_fft & (n_fft - 1):
            raise FormatError(f"{where}: n_fft must be a power of two in [{MIN_N_FFT}, {MAX_N_FFT}], got {n_fft}")
        if hop > n_fft // 2 or n_fft % hop:
            raise FormatError(f"{where}: hop={hop} must divide n_fft={n_fft} and be at most n_fft / 2")
        if num_samples % hop:
            raise FormatError(f"{where}: hop={hop} must divide num_samples={num_samples}")

    def extra_repr(self) -> str:
        return f"n_fft={self.n_fft}, hop={self.hop}, num_samples={self.num_samples}, bins={self.bins}, frames={self.frames}"


def griffin_lim(basis: STFTBasis, magnitude: torch.Tensor, iterations: int) -> torch.Tensor:
    """Audio float[B, num_samples] whose STFT magnitude approaches ``magnitude`` float[B, bins, frames].

    Starts from zero phase and runs exactly ``iterations`` projections (unrolled: exportable,
    differentiable). ``iterations = 0`` is the zero-phase inverse.
    """
    spectrum = torch.stack([magnitude, torch.zeros_like(magnitude)], dim=1)
    floor = (GL_FLOOR * basis.n_fft / 2) ** 2
    for _ in range(iterations):
        estimate = basis.analyse(basis.synthesise(spectrum))
        norm = torch.sqrt(estimate.square().sum(dim=1, keepdim=True) + floor)
        spectrum = estimate * (magnitude.unsqueeze(1) / norm)
    return basis.synthesise(spectrum)


def spectral_convergence(basis: STFTBasis, audio: torch.Tensor, target_magnitude: torch.Tensor) -> torch.Tensor:
    """``|| |STFT(audio)| - target ||_F / || target ||_F`` per example: float[B] (0 = perfect)."""
    estimate = basis.analyse(audio)
    magnitude = torch.sqrt(estimate.square().sum(dim=1) + _TINY)
    error = (magnitude - target_magnitude).flatten(1).norm(dim=1)
    return error / target_magnitude.flatten(1).norm(dim=1).clamp_min(_TINY)
