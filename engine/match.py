"""``ganshot match`` and OSC ``/pad/match``: the latent (and class) whose one-shot is closest to a sound the user has.

Needs torch (the refinement differentiates through the generator); the engine imports it only when a
match is asked for. Cheat sheet::

    from ganshot.engine.match import load_target, match_sound
    target = load_target("my_snare.wav", bundle)             # float32[num_samples] at the model's rate
    result = match_sound(bundle, target, class_name="snare")  # MatchResult
    result.z, result.label, result.distance, result.seed_distance, result.audio

Two stages, both judged by one perceptual distance, :func:`distance` (multi-resolution
log-mel: the mean absolute difference of log10 mel power at :data:`FFT_SIZES`, each one-shot
peak-normalised, so loudness does not count):

1. search: :data:`DEFAULT_SEEDS` seeded latents (for a conditional model: each with the class
   asked for, or with every class when none is) rendered with ONNX Runtime in batches; the
   :data:`KEEP` closest go on;
2. refine: each kept latent is moved by Adam on the distance itself, through the bundle's torch
   generator (its safetensors weights), for ``steps`` steps, with a small pull towards the
   latent prior (``PRIOR_WEIGHT * mean(z**2)``: a sound outside what the model learnt is not a
   win); the best is kept. An imported ONNX bundle has no torch weights: its match is the search's.

The target is read as the engine reads files: mono (channels averaged), resampled to the
model's rate with soxr, its onset (the first sample within 40 dB of the peak) moved to the
start less :data:`PRE_ONSET_MS`, then cut or zero-padded to the model's length.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .errors import UserInputError
from .latent import seeded_latent
from .mel import mel_filters
from .postprocess import resample

__all__ = ["MatchResult", "match_sound", "load_target", "place_onset", "distance", "DEFAULT_SEEDS", "DEFAULT_STEPS", "KEEP"]

DEFAULT_SEEDS = 1000
DEFAULT_STEPS = 100
KEEP = 4
FFT_SIZES = (256, 1024)
N_MELS = 48
MEL_MIN_HZ = 30.0
PRIOR_WEIGHT = 1e-3
LEARNING_RATE = 0.05
PRE_ONSET_MS = 2.0
MAX_TARGET_BYTES = 64 * 1024 * 1024
_BATCH = 64


@dataclass
class MatchResult:
    z: np.ndarray  # float32[latent_dim]
    label: int | None  # the class index (conditional models), else None
    distance: float  # the matched one-shot's distance to the target
    seed: int  # the search's best seed (where the refinement of the winner began)
    seed_distance: float  # the best of the searched seeds
    audio: np.ndarray  # float32[num_samples]: the matched one-shot (raw generator output)
    seed_audio: np.ndarray  # the best searched seed's one-shot
    seconds: float  # wall time of the whole match
    refined: bool  # False: no torch weights (an imported bundle), the search's best


def load_target(path, bundle) -> np.ndarray:
    """A sound file as the model's one-shot: mono, the model's rate, onset first, the model's length."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    if path.stat().st_size > MAX_TARGET_BYTES:
        raise UserInputError(f"{path}: over {MAX_TARGET_BYTES >> 20} MiB; a one-shot is far smaller")
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises its own error types for unreadable files
        raise UserInputError(f"{path}: not a sound file soundfile can read ({str(err).splitlines()[0][:120]})") from None
    mono = audio.mean(axis=1)
    if not len(mono) or not np.all(np.isfinite(mono)) or np.abs(mono).max() <= 1e-6:
        raise UserInputError(f"{path}: silent, empty or not finite")
    if rate != bundle.sample_rate:
        mono = resample(mono, rate, bundle.sample_rate)
    return place_onset(mono, bundle.sample_rate, bundle.num_samples)


def place_onset(mono: np.ndarray, sample_rate: int, num_samples: int) -> np.ndarray:
    """float32[num_samples]: ``mono`` with its onset (first sample within 40 dB of the peak)
    :data:`PRE_ONSET_MS` after the start, cut or zero-padded (silence stays silence)."""
    mono = np.asarray(mono, np.float32)
    peak = np.abs(mono).max() if len(mono) else 0.0
    onset = int(np.argmax(np.abs(mono) >= peak * 10 ** (-40 / 20))) if peak > 0 else 0
    start = max(0, onset - int(PRE_ONSET_MS * sample_rate / 1000))
    out = np.zeros(num_samples, np.float32)
    piece = mono[start:start + num_samples]
    out[:len(piece)] = piece
    return out


@lru_cache(maxsize=8)
def _mel_filters(sample_rate: int, n_fft: int) -> torch.Tensor:
    """float32[N_MELS, n_fft // 2 + 1]: triangles evenly spaced on the mel scale, MEL_MIN_HZ to Nyquist."""
    return torch.from_numpy(mel_filters(sample_rate, n_fft, N_MELS, MEL_MIN_HZ))


def _log_mels(audio: torch.Tensor, sample_rate: int) -> list[torch.Tensor]:
    audio = audio / audio.abs().amax(dim=1, keepdim=True).clamp_min(1e-6)
    out = []
    for n_fft in FFT_SIZES:
        window = torch.hann_window(n_fft, device=audio.device)
        power = torch.stft(audio, n_fft, n_fft // 4, window=window, center=True, return_complex=True).abs() ** 2
        out.append(torch.log10(_mel_filters(sample_rate, n_fft) @ power + 1e-6))
    return out


def _goals(target, sample_rate: int) -> list[torch.Tensor]:
    """The target's log-mels: what every candidate is compared with (computed once per match)."""
    return _log_mels(torch.as_tensor(target, dtype=torch.float32)[None], sample_rate)


def _distance_to(goals, audio, sample_rate: int) -> torch.Tensor:
    mels = _log_mels(torch.as_tensor(audio, dtype=torch.float32), sample_rate)
    return sum((m - g).abs().mean(dim=(1, 2)) for m, g in zip(mels, goals)) / len(FFT_SIZES)


def distance(audio, target, sample_rate: int) -> torch.Tensor:
    """float[B]: multi-resolution log-mel distance of ``audio[B, N]`` to ``target[N]`` (differentiable)."""
    return _distance_to(_goals(target, sample_rate), audio, sample_rate)


def _search(bundle, runtime, goals, labels, seeds: int):
    """-> [(distance, seed, label)] of every seed x label, closest first."""
    found = []
    for label in labels:
        for start in range(0, seeds, _BATCH):
            batch = list(range(start, min(seeds, start + _BATCH)))
            z = np.stack([seeded_latent(s, bundle.latent_dim, bundle.latent_distribution) for s in batch])
            lab = None if label is None else np.full(len(batch), label, np.int64)
            d = _distance_to(goals, runtime.render(z, lab), bundle.sample_rate).numpy()
            found += [(float(x), s, label) for x, s in zip(d, batch)]
    return sorted(found, key=lambda item: item[0])


def _refine(model, bundle, goals, z0: np.ndarray, label, steps: int) -> tuple[np.ndarray, float]:
    z = torch.tensor(z0[None], dtype=torch.float32, requires_grad=True)
    labels = None if label is None else torch.tensor([label])
    optimiser = torch.optim.Adam([z], lr=LEARNING_RATE)
    best = (z0.copy(), float("inf"))
    for _ in range(steps + 1):
        audio = model(z, labels).reshape(1, -1)
        d = _distance_to(goals, audio, bundle.sample_rate)[0]
        if d.item() < best[1]:
            best = (z.detach()[0].numpy().copy(), d.item())
        loss = d + PRIOR_WEIGHT * (z ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return best


def match_sound(bundle, target: np.ndarray, class_name: str | None = None, seeds: int = DEFAULT_SEEDS,
                steps: int = DEFAULT_STEPS, say=lambda _line: None) -> MatchResult:
    """Find the latent (and class) of ``bundle`` whose one-shot is closest to ``target`` (see the module doc)."""
    from .bundle import IMPORTED
    from .limits import check_int
    from .runtime import load_generator_runtime

    check_int(seeds, "seeds", 1, 100000)
    check_int(steps, "steps", 0, 10000)
    start = time.perf_counter()
    if class_name is not None and class_name not in bundle.classes:
        raise UserInputError(f"class {class_name!r:.40} is not one of the model's ({', '.join(bundle.classes) or 'none'})")
    labels = [None] if not bundle.conditional else \
        [bundle.classes.index(class_name)] if class_name is not None else list(range(len(bundle.classes)))
    onnx = load_generator_runtime(bundle, backend="onnx", device="cpu", threads=1)
    goals = _goals(target, bundle.sample_rate)
    ranked = _search(bundle, onnx, goals, labels, seeds)
    say(f"searched {seeds * len(labels)} latents: best distance {ranked[0][0]:.4f}")
    seed_distance, seed, label = ranked[0]
    z_seed = seeded_latent(seed, bundle.latent_dim, bundle.latent_distribution)
    lab = None if label is None else np.array([label], np.int64)
    seed_audio = onnx.render(z_seed[None], lab)[0]
    best = (z_seed, seed_distance, seed, label)
    refined = bundle.meta["architecture"] != IMPORTED and steps > 0
    if refined:
        model = load_generator_runtime(bundle, backend="torch", device="cpu", threads=1).module
        for _, s, lbl in ranked[:KEEP]:
            z, d = _refine(model, bundle, goals, seeded_latent(s, bundle.latent_dim, bundle.latent_distribution),
                           lbl, steps)
            if d < best[1]:
                best = (z, d, s, lbl)
        say(f"refined the {min(KEEP, len(ranked))} best over {steps} steps: distance {best[1]:.4f}")
    z, d, seed, label = best
    audio = onnx.render(z[None].astype(np.float32), None if label is None else np.array([label], np.int64))[0]
    return MatchResult(z.astype(np.float32), label, float(_distance_to(goals, audio[None], bundle.sample_rate)[0]), seed,
                       seed_distance, audio, seed_audio, time.perf_counter() - start, refined)
