"""The training set: a torch Dataset over a ganshot dataset folder (FLAC + manifest).

::

    from ganshot.training.data import OneShotDataset
    data = OneShotDataset("data/drums")          # every FLAC decoded once, in memory
    audio, label = data[0]                       # FloatTensor[num_samples], int
    data.classes[label], data.sample_rate, data.num_samples
    loader = torch.utils.data.DataLoader(data, batch_size=32, shuffle=True, drop_last=True)

One-shots are small (16384 samples = 64 KiB as float32), so the whole set is
loaded into one (N, num_samples) float32 tensor up front: no decoding in the
training loop, no worker processes needed. Every file must match the manifest
(mono, its sample rate, its length, finite); anything else is a FormatError
naming the file. This is the only dataset module that imports torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import Dataset

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.manifest import Manifest, load_manifest

__all__ = ["OneShotDataset"]


def _load_item(path: Path, manifest: Manifest) -> np.ndarray:
    """Decode one listed FLAC -> (manifest.num_samples,) float32, or FormatError."""
    if not path.is_file():
        raise FormatError(f"{path}: listed in the dataset manifest but missing")
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise FormatError(f"{path}: cannot decode ({' '.join(str(err).split())})") from None
    if rate != manifest.sample_rate:
        raise FormatError(f"{path}: sample rate {rate} Hz, the manifest says {manifest.sample_rate} Hz")
    if audio.shape[1] != 1:
        raise FormatError(f"{path}: {audio.shape[1]} channels, dataset one-shots are mono")
    if audio.shape[0] != manifest.num_samples:
        raise FormatError(f"{path}: {audio.shape[0]} samples, the manifest says {manifest.num_samples}")
    if not np.isfinite(audio).all():
        raise FormatError(f"{path}: holds NaN/Inf samples")
    return audio[:, 0]


class OneShotDataset(Dataset):
    """All one-shots of the dataset at ``root``, held in memory.

    root: a folder with ``manifest.json`` (see :mod:`ganshot.training.manifest`).
    num_samples: length served to the model; None = the manifest's. A shorter
        length crops each hit's tail, a longer one zero-pads it.
    Item: (FloatTensor[num_samples] in [-1, 1], label index into ``classes``).
    ``pitches``: LongTensor[N] of MIDI notes when every item carries one, else None.
    """

    def __init__(self, root, num_samples: int | None = None):
        self.root = Path(root)
        self.manifest = load_manifest(self.root)
        length = self.manifest.num_samples if num_samples is None else num_samples
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise UserInputError(f"num_samples must be a positive integer, got {num_samples!r}")
        if not self.manifest.items:
            raise FormatError(f"{self.root}: the dataset manifest lists no items")
        self._num_samples = length
        audio = torch.zeros(len(self.manifest.items), length, dtype=torch.float32)
        keep = min(length, self.manifest.num_samples)
        for index, item in enumerate(self.manifest.items):
            hit = _load_item(self.root / item.path, self.manifest)
            audio[index, :keep] = torch.from_numpy(hit[:keep])
        self.audio = audio  # (N, num_samples) float32
        index_of = {name: i for i, name in enumerate(self.manifest.classes)}
        self.labels = torch.tensor([index_of[item.label] for item in self.manifest.items], dtype=torch.long)  # (N,)
        pitched = all(item.pitch is not None for item in self.manifest.items)
        # (N,) MIDI notes when every item has one (a pitched dataset), else None
        self.pitches = torch.tensor([item.pitch for item in self.manifest.items], dtype=torch.long) if pitched else None

    @property
    def classes(self) -> list[str]:
        """Class names; a label is an index into this list."""
        return list(self.manifest.classes)

    @property
    def sample_rate(self) -> int:
        """Hz."""
        return self.manifest.sample_rate

    @property
    def num_samples(self) -> int:
        """Length of each served one-shot in samples."""
        return self._num_samples

    def class_counts(self) -> dict[str, int]:
        """Number of items per class, in ``classes`` order."""
        counts = torch.bincount(self.labels, minlength=len(self.manifest.classes)).tolist()
        return dict(zip(self.manifest.classes, counts))

    def __len__(self) -> int:
        return self.audio.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.audio[index], int(self.labels[index])

    def __repr__(self) -> str:
        return (
            f"OneShotDataset(root={str(self.root)!r}, items={len(self)}, classes={len(self.manifest.classes)}, "
            f"sample_rate={self.sample_rate}, num_samples={self.num_samples})"
        )
