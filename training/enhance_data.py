"""Training pairs for the enhancer: real one-shots with synthetic, WaveGAN-shaped artefacts (torch, CPU).

Cheat sheet::

    from ganshot.training.enhance_data import Degrader
    degrade = Degrader(sample_rate=16000)
    noisy, clean = degrade(clean_batch, generator)    # float32[B, N] each; clean rows scaled by a random gain

Each row gets, with probability ``identity_share``, nothing at all (a clean -> clean pair:
good sounds must pass unchanged); otherwise one or more of the artefacts of
:data:`ARTEFACTS`, each at a level drawn from ``[MIN_LEVEL_DB, MAX_LEVEL_DB]`` dB re the
row's peak, the range the drum model's evaluation measured (tail floors -85 to -28 dB):

* ``hiss``: white noise tilted by a random spectral slope, whose amplitude follows the
  hit's envelope (10 ms RMS, raised to a random power) plus a constant floor that goes on
  after the hit has decayed (the tails the report measures);
* ``lines``: sines at ``k * fs/16`` (k = 1..7, fs/4 among them) and ``fs/4 + k * fs/16``
  random subsets, random phases, following the envelope or constant: the transposed-
  convolution lines;
* ``smear``: energy before and around the attack: copies of the hit advanced by 1-10 ms,
  a pre-echo a mask can remove;
* ``rumble``: noise low-passed at 20-200 Hz, following the envelope and going on after it:
  drums-v2's measured tails are mostly this (hat and kick tails carry their energy below
  100 Hz, where real ones have decayed to silence).

All randomness comes from the ``torch.Generator`` passed in, so a seed and a step give
the same batch again (resumable training).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

__all__ = ["Degrader", "ARTEFACTS", "MIN_LEVEL_DB", "MAX_LEVEL_DB"]

MIN_LEVEL_DB, MAX_LEVEL_DB = -70.0, -35.0
ARTEFACTS = ("hiss", "lines", "smear", "rumble")
ENVELOPE_MS = 10.0


def _uniform(shape, low: float, high: float, gen: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=gen)


class Degrader:
    """Make (noisy, clean) pairs from clean one-shots; see the module docstring."""

    def __init__(self, sample_rate: int, identity_share: float = 0.25, artefact_share: float = 0.5,
                 gain_db_range: tuple = (-24.0, 0.0)) -> None:
        self.sample_rate = int(sample_rate)
        self.identity_share = float(identity_share)
        self.artefact_share = float(artefact_share)
        self.gain_db_range = gain_db_range

    def envelope(self, clean: torch.Tensor) -> torch.Tensor:
        """float32[B, N] in [0, 1]: 10 ms RMS of each row over its peak RMS."""
        width = max(1, int(self.sample_rate * ENVELOPE_MS / 1000) | 1)
        rms = F.avg_pool1d((clean * clean).unsqueeze(1), width, stride=1, padding=width // 2,
                           count_include_pad=False).squeeze(1).sqrt()
        return rms / rms.amax(dim=1, keepdim=True).clamp_min(1e-9)

    def _hiss(self, clean, env, amp, gen) -> torch.Tensor:
        rows, n = clean.shape
        noise = torch.randn(rows, n, generator=gen)
        spectrum = torch.fft.rfft(noise)
        freq = torch.linspace(1.0 / spectrum.shape[1], 1.0, spectrum.shape[1])
        slope_db_per_octave = _uniform((rows, 1), -3.0, 3.0, gen)  # pinkish to bluish
        tilt = torch.exp(slope_db_per_octave / 20 * math.log(10) * torch.log2(freq / 0.25))
        noise = torch.fft.irfft(spectrum * tilt, n=n)
        noise = noise / noise.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-9)
        power = _uniform((rows, 1), 0.3, 1.5, gen)
        floor_db = _uniform((rows, 1), -30.0, 0.0, gen)  # the tail floor, re the hiss at the peak
        shape = env.clamp_min(1e-6).pow(power) + 10 ** (floor_db / 20)
        return noise * shape / shape.amax(dim=1, keepdim=True) * amp

    def _lines(self, clean, env, amp, gen) -> torch.Tensor:
        rows, n = clean.shape
        t = torch.arange(n, dtype=torch.float32) / self.sample_rate
        out = torch.zeros(rows, n)
        for k in range(1, 8):
            freq = k * self.sample_rate / 16
            on = (torch.rand(rows, 1, generator=gen) < (0.8 if k == 4 else 0.4)).float()
            level = 10 ** (_uniform((rows, 1), -10.0, 0.0, gen) / 20)
            phase = _uniform((rows, 1), 0.0, 2 * math.pi, gen)
            out = out + on * level * torch.sin(2 * math.pi * freq * t + phase)
        follow = (torch.rand(rows, 1, generator=gen) < 0.5).float()
        shape = follow * env + (1 - follow)
        return out * shape * amp * math.sqrt(2)

    def _smear(self, clean, env, amp, gen) -> torch.Tensor:
        rows, n = clean.shape
        out = torch.zeros(rows, n)
        peak = clean.abs().amax(dim=1, keepdim=True).clamp_min(1e-9)
        for _ in range(3):
            shift = int(_uniform((), 0.001, 0.010, gen) * self.sample_rate)
            out[:, : n - shift] += clean[:, shift:] * torch.rand(rows, 1, generator=gen)
        return out / peak * amp * 10 ** (15 / 20)  # copies sit ~15 dB above the drawn level at most

    def _rumble(self, clean, env, amp, gen) -> torch.Tensor:
        rows, n = clean.shape
        spectrum = torch.fft.rfft(torch.randn(rows, n, generator=gen))
        freq = torch.fft.rfftfreq(n, 1.0 / self.sample_rate)
        cutoff = _uniform((rows, 1), 20.0, 200.0, gen)
        noise = torch.fft.irfft(spectrum / (1 + (freq / cutoff) ** 4), n=n)  # 2nd-order-like low-pass
        noise = noise / noise.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-9)
        floor_db = _uniform((rows, 1), -20.0, 0.0, gen)
        shape = env.clamp_min(1e-6).pow(_uniform((rows, 1), 0.2, 1.0, gen)) + 10 ** (floor_db / 20)
        return noise * shape / shape.amax(dim=1, keepdim=True) * amp

    def __call__(self, clean: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``clean`` float32[B, N] -> (noisy, clean), both float32[B, N], clean with a random gain."""
        rows = clean.shape[0]
        gain_db = _uniform((rows, 1), *self.gain_db_range, gen)
        clean = clean * 10 ** (gain_db / 20)
        peak = clean.abs().amax(dim=1, keepdim=True)
        env = self.envelope(clean)
        dirty = (torch.rand(rows, 1, generator=gen) >= self.identity_share).float()
        noisy = clean.clone()
        makers = {"hiss": self._hiss, "lines": self._lines, "smear": self._smear, "rumble": self._rumble}
        chosen_any = torch.zeros(rows, 1)
        for index, name in enumerate(ARTEFACTS):
            on = (torch.rand(rows, 1, generator=gen) < self.artefact_share).float()
            if index == len(ARTEFACTS) - 1:
                on = torch.maximum(on, 1 - chosen_any)  # a dirty row has at least one artefact
            chosen_any = torch.maximum(chosen_any, on)
            amp = peak * 10 ** (_uniform((rows, 1), MIN_LEVEL_DB, MAX_LEVEL_DB, gen) / 20)
            noisy = noisy + dirty * on * makers[name](clean, env, amp, gen)
        return noisy, clean
