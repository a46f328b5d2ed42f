"""TensorBoard logging for training: scalars, generated audio and spectrogram images.

Uses ``torch.utils.tensorboard`` when the ``tensorboard`` package is installed
(``pip install ganshot[train]``); otherwise it warns once and logs nothing. Images are
made without matplotlib: :func:`spectrogram_image` turns audio into a uint8 picture
(rows = frequency, low at the bottom; columns = time).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

__all__ = ["Monitor", "spectrogram_image"]

DYNAMIC_RANGE_DB = 80.0


def spectrogram_image(audio: torch.Tensor, n_fft: int = 512, hop_length: int = 128, gap: int = 2) -> torch.Tensor:
    """Log-magnitude spectrograms of ``audio`` float[B, N] side by side -> uint8[n_fft // 2 + 1, W].

    Each example is scaled to its own ``DYNAMIC_RANGE_DB`` dB below its peak; ``gap``
    columns of white separate the examples.
    """
    audio = audio.detach().float().cpu()
    if audio.dim() == 1:
        audio = audio.unsqueeze(0)
    window = torch.hann_window(n_fft)
    columns = []
    for row in audio:
        mag = torch.stft(row, n_fft, hop_length=hop_length, window=window, return_complex=True).abs()
        db = 20 * torch.log10(mag + 1e-7)
        db = torch.clamp(db - db.max(), min=-DYNAMIC_RANGE_DB)
        pixels = ((db + DYNAMIC_RANGE_DB) / DYNAMIC_RANGE_DB * 255).round().to(torch.uint8)
        columns += [pixels.flip(0), torch.full((pixels.shape[0], gap), 255, dtype=torch.uint8)]
    return torch.cat(columns[:-1], dim=1)


class Monitor:
    """Writes TensorBoard events under ``log_dir`` when ``enabled`` and tensorboard is installed."""

    def __init__(self, log_dir: str | Path, enabled: bool = True) -> None:
        self.log_dir = Path(log_dir)
        self.writer = None
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            warnings.warn("tensorboard is not installed (pip install tensorboard): training runs without logs", stacklevel=2)
            return
        self.writer = SummaryWriter(str(self.log_dir))

    @property
    def active(self) -> bool:
        return self.writer is not None

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """Log each ``name: value`` as ``train/name`` at ``step``."""
        if self.writer is None:
            return
        for name, value in values.items():
            self.writer.add_scalar(f"train/{name}", float(value), step)

    def samples(self, step: int, audio: torch.Tensor, sample_rate: int, names: list[str] | None = None) -> None:
        """Log generated ``audio`` float[B, N] in [-1, 1] as clips plus one spectrogram image."""
        if self.writer is None:
            return
        audio = audio.detach().float().cpu().clamp(-1, 1)
        for index, clip in enumerate(audio):
            tag = f"samples/{index:02d}" + (f"_{names[index]}" if names else "")
            self.writer.add_audio(tag, clip.unsqueeze(0), step, sample_rate=sample_rate)
        image = spectrogram_image(audio)
        self.writer.add_image("samples/spectrogram", image.numpy(), step, dataformats="HW")
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
