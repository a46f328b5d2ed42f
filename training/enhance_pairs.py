"""Latent-inversion pairs for the enhancer: ``G(z*) -> real`` where ``z*`` was fitted to a real hit.

Cheat sheet::

    from ganshot.training.enhance_pairs import build_inversion_pairs, load_inversion_pairs
    build_inversion_pairs("data/drums2x8", "presets/models/drums-v2", "runs/pairs.safetensors", count=96)
    pairs = load_inversion_pairs("runs/pairs.safetensors", bundle)   # InversionPairs
    pairs.generated, pairs.real        # float32[N, num_samples] each, aligned as the match saw them

Each pair is one hit of the dataset's *train* split (:func:`~.evaluate.split_items`; held-out
kits stay held out), chosen round-robin over the classes, matched with
:func:`ganshot.engine.match.match_sound` under its own class (conditional models): the
generated side is the model's closest one-shot, with the model's own hiss, tonal lines and
smeared attack, the real side the hit it was fitted to. These are the artefacts the synthetic
degradations of :mod:`.enhance_data` only imitate. Rows where the match stays far from the hit
(distance over ``max_distance``) teach the enhancer to turn one drum into another, which a
mask that can only remove energy cannot do; they are kept in the file but not used.

File (safetensors, written atomically after every ``chunk`` hits, so an interrupted build
resumes where it stopped)::

    generated float32[N, S]   real float32[N, S]   distance float32[N]   item int64[N]
    metadata: format "ganshot-inversion-pairs", version "1", model, sample_rate, num_samples,
              seeds, steps, dataset

:func:`load_inversion_pairs` refuses another format or version, shapes that do not match the
model, and non-finite audio.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open

from ganshot.engine.atomic import atomic_write_bytes
from ganshot.engine.errors import FormatError, UserInputError

__all__ = ["InversionPairs", "build_inversion_pairs", "load_inversion_pairs", "align_onset", "PAIRS_FORMAT",
           "PAIRS_VERSION", "DEFAULT_PAIR_SEEDS", "DEFAULT_PAIR_STEPS", "MAX_DISTANCE"]

PAIRS_FORMAT, PAIRS_VERSION = "ganshot-inversion-pairs", 1
DEFAULT_PAIR_SEEDS, DEFAULT_PAIR_STEPS = 256, 60
MAX_DISTANCE = 0.9  # match distance (log-mel) above which a pair is a different drum, not a cleaner one
_KEYS = ("generated", "real", "distance", "item")


@dataclass
class InversionPairs:
    generated: torch.Tensor  # float32[N, S]: G(z*) (only rows within max_distance)
    real: torch.Tensor  # float32[N, S]: the hits they were fitted to
    distance: torch.Tensor  # float32[N]
    meta: dict

    def __len__(self) -> int:
        return int(self.generated.shape[0])


def align_onset(audio: np.ndarray, sample_rate: int, num_samples: int) -> np.ndarray:
    """A one-shot as :func:`ganshot.engine.match.load_target` places a file: onset first, the model's length."""
    from ganshot.engine.match import place_onset

    return place_onset(np.asarray(audio, np.float32), sample_rate, num_samples)


def _pick_items(dataset, train_rows: np.ndarray, count: int) -> list[int]:
    """``count`` train rows, round-robin over the classes (the rarest classes are not left out), each
    class in a fixed shuffled order: a larger ``count`` extends a smaller one's picks (resume)."""
    by_class: dict[int, list[int]] = {}
    for row in train_rows.tolist():
        by_class.setdefault(int(dataset.labels[row]), []).append(row)
    rng = np.random.default_rng(0)
    queues = [[rows[i] for i in rng.permutation(len(rows))] for _, rows in sorted(by_class.items())]
    picked: list[int] = []
    while len(picked) < count and any(queues):
        for queue in queues:
            if queue and len(picked) < count:
                picked.append(queue.pop(0))
    return picked


def _read(path: Path) -> tuple[dict, dict]:
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = dict(handle.metadata() or {})
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise FormatError(f"{path}: not a safetensors file of inversion pairs ({str(err)[:120]})") from None
    if meta.get("format") != PAIRS_FORMAT or meta.get("version") != str(PAIRS_VERSION):
        raise FormatError(f"{path}: format {meta.get('format')!r:.40} v{meta.get('version')!s:.8}; this ganshot reads "
                          f"{PAIRS_FORMAT!r} v{PAIRS_VERSION}")
    missing = [k for k in _KEYS if k not in tensors]
    if missing:
        raise FormatError(f"{path}: inversion pairs without {', '.join(missing)}")
    return tensors, meta


def load_inversion_pairs(path, bundle=None, max_distance: float = MAX_DISTANCE) -> InversionPairs:
    """The pairs of ``path`` within ``max_distance``; checked against ``bundle``'s rate and length if given."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: no such inversion-pairs file (make one with `ganshot enhance-pairs`)")
    tensors, meta = _read(path)
    gen, real, dist = tensors["generated"], tensors["real"], tensors["distance"]
    rows = gen.shape[0]
    if gen.ndim != 2 or real.shape != gen.shape or dist.shape != (rows,) or tensors["item"].shape != (rows,):
        raise FormatError(f"{path}: pair shapes disagree (generated {tuple(gen.shape)}, real {tuple(real.shape)}, "
                          f"distance {tuple(dist.shape)})")
    if bundle is not None and (int(meta.get("sample_rate", 0)), gen.shape[1]) != (bundle.sample_rate, bundle.num_samples):
        raise FormatError(f"{path}: pairs of {gen.shape[1]} samples at {meta.get('sample_rate')} Hz; the model makes "
                          f"{bundle.num_samples} at {bundle.sample_rate} Hz")
    if not (torch.isfinite(gen).all() and torch.isfinite(real).all() and torch.isfinite(dist).all()):
        raise FormatError(f"{path}: inversion pairs hold NaN or infinite values")
    keep = dist <= max_distance
    return InversionPairs(gen[keep].float(), real[keep].float(), dist[keep].float(), meta)


def _write(path: Path, found: dict, meta: dict) -> None:
    from safetensors.torch import save

    tensors = {"generated": torch.from_numpy(np.stack(found["generated"])),
               "real": torch.from_numpy(np.stack(found["real"])),
               "distance": torch.tensor(found["distance"], dtype=torch.float32),
               "item": torch.tensor(found["item"], dtype=torch.int64)}
    atomic_write_bytes(path, save(tensors, metadata=meta))


def build_inversion_pairs(data_dir, bundle_path, out_path, count: int = 96, seeds: int = DEFAULT_PAIR_SEEDS,
                          steps: int = DEFAULT_PAIR_STEPS, chunk: int = 8, say=print) -> Path:
    """Match ``count`` train-split hits of ``data_dir`` with the model; write (and resume) ``out_path``."""
    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.limits import check_int
    from ganshot.engine.match import match_sound

    from .data import OneShotDataset
    from .evaluate import split_items

    check_int(count, "count", 1, 100_000)
    bundle = load_bundle(bundle_path)
    dataset = OneShotDataset(data_dir)
    if (dataset.sample_rate, dataset.num_samples) != (bundle.sample_rate, bundle.num_samples):
        raise UserInputError(f"{data_dir}: one-shots are {dataset.num_samples} samples at {dataset.sample_rate} Hz, "
                             f"the model makes {bundle.num_samples} at {bundle.sample_rate} Hz")
    out_path = Path(out_path)
    meta = {"format": PAIRS_FORMAT, "version": str(PAIRS_VERSION), "model": bundle.name,
            "sample_rate": str(bundle.sample_rate), "num_samples": str(bundle.num_samples), "seeds": str(seeds),
            "steps": str(steps), "dataset": str(data_dir)}
    found = {"generated": [], "real": [], "distance": [], "item": []}
    if out_path.exists():  # resume: keep what an earlier build matched
        tensors, old = _read(out_path)
        if {k: old.get(k) for k in ("model", "sample_rate", "num_samples")} != \
                {k: meta[k] for k in ("model", "sample_rate", "num_samples")}:
            raise UserInputError(f"{out_path}: pairs of another model ({old.get('model')!r:.40}); use a new file")
        for key in _KEYS:
            found[key] = list(tensors[key].numpy())
    train_idx, _ = split_items(dataset.manifest)
    done_rows = set(found["item"])
    todo = [row for row in _pick_items(dataset, np.asarray(train_idx), count) if row not in done_rows]
    classes = dataset.classes
    start = time.perf_counter()
    for done, row in enumerate(todo, 1):
        target = align_onset(dataset.audio[row].numpy(), bundle.sample_rate, bundle.num_samples)
        if np.abs(target).max() <= 1e-6:
            continue
        name = classes[int(dataset.labels[row])] if bundle.conditional and classes[int(dataset.labels[row])] in \
            bundle.classes else None
        result = match_sound(bundle, target, class_name=name, seeds=seeds, steps=steps)
        for key, value in (("generated", result.audio.astype(np.float32)), ("real", target),
                           ("distance", result.distance), ("item", row)):
            found[key].append(value)
        if done % chunk == 0 or done == len(todo):
            _write(out_path, found, meta)
            say(f"{len(found['item'])} pairs ({done}/{len(todo)} this run, {time.perf_counter() - start:.0f} s): "
                f"median distance {np.median(found['distance']):.3f}")
    if not todo:
        say(f"{out_path}: all {len(found['item'])} pairs already made")
    return out_path
