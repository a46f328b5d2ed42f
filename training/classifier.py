"""A small drum-class classifier: the judge behind ``ganshot evaluate`` and the default kit.

Cheat sheet::

    from ganshot.training.classifier import ClassifierConfig, train_classifier, save_classifier, load_classifier
    model = train_classifier(audio, labels, classes, sample_rate=16000)   # audio float32[N, samples]
    probs, emb = model.predict(audio)            # float32[N, C] softmax, float32[N, EMBED_DIM]
    save_classifier(model, "eval/classifier.safetensors", dataset_sha256="…")
    model = load_classifier("eval/classifier.safetensors")              # refuses unknown formats

Input features: each one-shot is peak-normalised (so loudness never decides the class),
then a log-mel spectrogram (n_fft 1024, hop 256, 64 mel bands, 20 Hz .. Nyquist, log10 of
power + 1e-6). Network: four 3×3 conv blocks (16, 32, 64, 64 channels, batch norm, ReLU,
2×2 max pool) → mean and max over time and frequency → dropout 0.5 → a 64-d embedding (the space the
Fréchet distance is measured in) → linear logits. Training: AdamW 1e-3 (weight decay 1e-3) with a cosine decay to 0 over the run (the last
epochs settle instead of jumping between minima), cross entropy
weighted by 1/sqrt(class frequency) (rare cymbals count more than their number, without
swamping the many kicks and snares),
augmentation that stands in for other kits' samples of the same drum: pitch/speed changes of
up to ±3 semitones, delays of up to 20 ms, a spectral tilt of up to ±12 dB, one masked mel
band and a little noise.

File: safetensors weights with metadata ``format = "ganshot-classifier"``, ``version = "1"``,
the classes, the feature settings and the fingerprint of the data it was trained on. No
pickle anywhere.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.mel import mel_filters

__all__ = [
    "CLASSIFIER_FORMAT",
    "CLASSIFIER_VERSION",
    "EMBED_DIM",
    "ClassifierConfig",
    "DrumClassifier",
    "log_mel",
    "train_classifier",
    "save_classifier",
    "load_classifier",
]

CLASSIFIER_FORMAT = "ganshot-classifier"
CLASSIFIER_VERSION = 1
EMBED_DIM = 64
N_FFT, HOP, N_MELS, F_MIN_HZ = 1024, 256, 64, 20.0
CHANNELS = (16, 32, 64, 64)
#: the feature settings a classifier file records; one made with others is refused.
FEATURES = {"n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS, "f_min_hz": F_MIN_HZ, "channels": list(CHANNELS),
            "embed_dim": EMBED_DIM}


@dataclass(frozen=True)
class ClassifierConfig:
    """Training settings (stored in the file)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    max_shift_ms: float = 20.0
    noise_db: float = -50.0
    weight_decay: float = 1e-3
    max_pitch_semitones: float = 3.0
    max_tilt_db: float = 12.0
    dropout: float = 0.5


def _mel_filters(sample_rate: int, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """float32[n_mels, n_fft // 2 + 1] triangular filters on the HTK mel scale, from F_MIN_HZ."""
    return mel_filters(sample_rate, n_fft, n_mels, F_MIN_HZ)


def log_mel(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """float32[B, samples] -> float32[B, 1, N_MELS, frames] (each one-shot peak-normalised first)."""
    if audio.ndim != 2 or audio.shape[1] < N_FFT:
        raise UserInputError(f"log_mel needs float[B, samples >= {N_FFT}], got shape {list(audio.shape)}")
    audio = torch.nan_to_num(audio.float(), nan=0.0, posinf=0.0, neginf=0.0)
    audio = audio / audio.abs().amax(dim=1, keepdim=True).clamp_min(1e-6)
    window = torch.hann_window(N_FFT, device=audio.device)
    spec = torch.stft(audio, N_FFT, HOP, window=window, center=True, return_complex=True).abs() ** 2
    filters = torch.from_numpy(_mel_filters(sample_rate)).to(audio.device)
    return torch.log10(filters @ spec + 1e-6).unsqueeze(1)


class DrumClassifier(nn.Module):
    """log-mel -> 64-d embedding -> class logits. ``classes`` in label order."""

    def __init__(self, classes, sample_rate: int, num_samples: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.classes = tuple(str(c) for c in classes)
        self.sample_rate, self.num_samples = int(sample_rate), int(num_samples)
        blocks, channels = [], 1
        for width in CHANNELS:
            blocks += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
            channels = width
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.embedding = nn.Linear(2 * channels, EMBED_DIM)
        self.head = nn.Linear(EMBED_DIM, len(self.classes))

    def embed(self, mel: torch.Tensor) -> torch.Tensor:
        h = self.features(mel)
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return torch.relu(self.embedding(self.dropout(pooled)))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(mel))

    def _fit_length(self, audio) -> torch.Tensor:
        audio = torch.as_tensor(np.asarray(audio, dtype=np.float32))
        if audio.ndim != 2:
            raise UserInputError(f"the classifier takes float[B, samples], got shape {list(audio.shape)}")
        if audio.shape[1] > self.num_samples:
            return audio[:, : self.num_samples]
        return nn.functional.pad(audio, (0, self.num_samples - audio.shape[1]))

    @torch.no_grad()
    def predict(self, audio, batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
        """float[B, samples] at ``sample_rate`` -> (softmax float32[B, C], embedding float32[B, EMBED_DIM]).

        Longer one-shots are cropped to ``num_samples``, shorter ones zero-padded.
        """
        was_training = self.training
        self.eval()
        audio = self._fit_length(audio)
        probs, embs = [], []
        for start in range(0, audio.shape[0], batch_size):
            emb = self.embed(log_mel(audio[start:start + batch_size], self.sample_rate))
            probs.append(torch.softmax(self.head(emb), dim=1))
            embs.append(emb)
        self.train(was_training)
        if not probs:
            return np.zeros((0, len(self.classes)), np.float32), np.zeros((0, EMBED_DIM), np.float32)
        return torch.cat(probs).numpy(), torch.cat(embs).numpy()

    def __repr__(self) -> str:
        return (f"DrumClassifier(classes={len(self.classes)}, sample_rate={self.sample_rate}, "
                f"num_samples={self.num_samples}, embed_dim={EMBED_DIM})")


def _augment(batch: torch.Tensor, cfg: ClassifierConfig, sample_rate: int, gen: torch.Generator) -> torch.Tensor:
    """Per one-shot: a pitch/speed change of up to ±``max_pitch_semitones`` (linear resampling),
    a delay of 0..max_shift_ms (zeros in front, tail dropped) and faint noise."""
    max_shift = int(cfg.max_shift_ms * sample_rate / 1000)
    length = batch.shape[1]
    out = torch.zeros_like(batch)
    shifts = torch.randint(0, max_shift + 1, (batch.shape[0],), generator=gen).tolist()
    ratios = (2 ** ((torch.rand(batch.shape[0], generator=gen) * 2 - 1) * cfg.max_pitch_semitones / 12)).tolist()
    for i, (shift, ratio) in enumerate(zip(shifts, ratios)):
        size = max(2, int(round(length / ratio)))
        hit = nn.functional.interpolate(batch[i][None, None], size=size, mode="linear", align_corners=False)[0, 0]
        hit = hit[: length - shift]
        out[i, shift:shift + hit.shape[0]] = hit
    noise = torch.randn(batch.shape, generator=gen) * (10 ** (cfg.noise_db / 20))
    return out + noise * out.abs().amax(dim=1, keepdim=True)


def _augment_mel(mel: torch.Tensor, cfg: ClassifierConfig, gen: torch.Generator) -> torch.Tensor:
    """A random spectral tilt of up to ±``max_tilt_db`` across the bands (an EQ), and one masked band."""
    batch, _, bands, _ = mel.shape
    slope = (torch.rand(batch, 1, 1, 1, generator=gen) * 2 - 1) * cfg.max_tilt_db / 10  # log10 power units
    ramp = torch.linspace(-0.5, 0.5, bands).view(1, 1, bands, 1)
    mel = mel + slope * ramp
    width = max(1, bands // 8)
    starts = torch.randint(0, bands - width + 1, (batch,), generator=gen).tolist()
    floor = mel.amin(dim=(1, 2, 3))
    for i, start in enumerate(starts):
        mel[i, :, start:start + width] = floor[i]
    return mel


def train_classifier(audio, labels, classes, sample_rate: int, config: ClassifierConfig = ClassifierConfig(),
                     progress=None) -> DrumClassifier:
    """Train on ``audio`` float32[N, samples] with ``labels`` int[N] (indices into ``classes``).

    ``progress(epoch, loss)`` is called after every epoch when given.
    """
    audio = torch.as_tensor(np.asarray(audio, dtype=np.float32))
    labels = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if audio.ndim != 2 or labels.shape != (audio.shape[0],) or audio.shape[0] < 2:
        raise UserInputError(f"train_classifier needs audio[N >= 2, samples] and labels[N], got "
                             f"{list(audio.shape)} and {list(labels.shape)}")
    if labels.min() < 0 or labels.max() >= len(classes):
        raise UserInputError(f"labels must be in 0..{len(classes) - 1}")
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    model = DrumClassifier(classes, sample_rate, audio.shape[1], dropout=config.dropout)
    counts = torch.bincount(labels, minlength=len(classes)).float()
    weights = torch.where(counts > 0, counts.clamp_min(1).rsqrt(), torch.zeros(()))
    weights = weights / (weights * counts).sum() * counts.sum()  # mean weight per example 1
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    per_epoch = sum(1 for start in range(0, audio.shape[0], config.batch_size) if audio.shape[0] - start >= 2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, config.epochs * per_epoch))
    model.train()
    for epoch in range(config.epochs):
        order = torch.randperm(audio.shape[0], generator=gen)
        total, batches = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            index = order[start:start + config.batch_size]
            if len(index) < 2:  # batch norm needs two examples
                continue
            mel = _augment_mel(log_mel(_augment(audio[index], config, sample_rate, gen), sample_rate), config, gen)
            loss = loss_fn(model(mel), labels[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            total, batches = total + float(loss.detach()), batches + 1
        if progress is not None:
            progress(epoch + 1, total / max(batches, 1))
    model.eval()
    return model


def save_classifier(model: DrumClassifier, path, dataset_sha256: str = "", config: ClassifierConfig | None = None,
                    extra: dict | None = None) -> Path:
    """Write the classifier as safetensors (atomically: temp file, fsync, rename)."""
    from safetensors.torch import save

    from ganshot.engine.atomic import atomic_write_bytes

    meta = {"format": CLASSIFIER_FORMAT, "version": str(CLASSIFIER_VERSION), "classes": json.dumps(model.classes),
            "sample_rate": str(model.sample_rate), "num_samples": str(model.num_samples),
            "features": json.dumps(FEATURES),
            "dataset_sha256": dataset_sha256, "config": json.dumps(asdict(config) if config else None),
            "extra": json.dumps(extra or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    return atomic_write_bytes(path, save(state, metadata=meta))


def load_classifier(path) -> tuple[DrumClassifier, dict]:
    """Read a classifier written by :func:`save_classifier`; returns (model in eval mode, metadata)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no classifier file here")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = dict(handle.metadata() or {})
            state = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise FormatError(f"{path}: not a readable safetensors file ({' '.join(str(err).split())[:120]})") from None
    if meta.get("format") != CLASSIFIER_FORMAT:
        raise FormatError(f"{path}: format {meta.get('format')!r} is not {CLASSIFIER_FORMAT!r}")
    if meta.get("version") != str(CLASSIFIER_VERSION):
        raise FormatError(f"{path}: classifier version {meta.get('version')!r} is not supported "
                          f"(this ganshot reads version {CLASSIFIER_VERSION})")
    try:
        classes = json.loads(meta["classes"])
        features = json.loads(meta["features"])
        model = DrumClassifier(classes, int(meta["sample_rate"]), int(meta["num_samples"]))
    except (KeyError, ValueError, TypeError) as err:
        raise FormatError(f"{path}: bad classifier metadata ({err})") from None
    if features != FEATURES:
        raise FormatError(f"{path}: made with other feature settings {features}; retrain it")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise FormatError(f"{path}: weights do not fit the classifier ({str(err).splitlines()[0]})") from None
    model.eval()
    return model, meta
