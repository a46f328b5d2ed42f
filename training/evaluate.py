"""``ganshot evaluate BUNDLE --data DIR``: how good is a model, in numbers.

Cheat sheet::

    from ganshot.training.evaluate import evaluate
    report = evaluate("presets/models/drums-v1", "data/drums8", "presets/models/drums-v1-eval", n=2000)
    report["inception_score"]["generated"], report["targets"]

Steps:

1. The dataset is split into train and test (:func:`split_items`): by *source hit*
   (kit + note for SoundFont sets, the file otherwise), stratified per class, so the
   seeded variations of one hit never sit on both sides.
2. A :mod:`drum classifier <ganshot.training.classifier>` is trained on the train split
   and stored beside the report (``classifier.safetensors``); a later run on the same
   dataset and split reuses it (``--retrain`` forces a new one).
3. ``n`` one-shots are generated from seeds ``seed .. seed + n - 1`` (the seeds
   ``ganshot explore --seed`` and kits use), raw generator output at the model's rate.
4. Figures: Inception Score of the real test split and of the generated set (each over
   the whole set: the test split is too small for the usual 10 parts); Fréchet
   distance in the classifier's 64-d embedding, real train vs real test (the floor) and
   generated vs real test, with as many generated one-shots as real train ones so both
   carry the same small-sample bias; class coverage (share of argmax predictions, a class
   is present from :data:`PRESENT_SHARE` on) and the drum families of :data:`FAMILIES`;
   memorisation: the distance (log-mel, unit-norm rows) from each generated one-shot to
   its nearest training one-shot against the same for the real test one-shots.
5. Files: ``report.json`` (format ``ganshot-evaluation`` v1), ``report.md`` and
   ``classes.png`` (one row per class in class order: a real test example, a gap, then the
   generated one-shots the classifier is surest of), all written atomically.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from ganshot.engine._atomic import atomic_write_text
from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import UserInputError
from ganshot.engine.latent import seeded_latent
from ganshot.engine.runtime import load_generator_runtime
from ganshot.engine.spectrogram import spectrogram_image, write_png

from .classifier import ClassifierConfig, load_classifier, log_mel, save_classifier, train_classifier
from .data import OneShotDataset
from .metrics import coverage, frechet_distance, inception_score, nearest_distances

__all__ = ["evaluate", "split_items", "render_seeds", "memorisation", "FAMILIES", "TARGETS", "PRESENT_SHARE", "REPORT_FORMAT"]

REPORT_FORMAT, REPORT_VERSION = "ganshot-evaluation", 1
CLASSIFIER_FILE, REPORT_JSON, REPORT_MD, GRID_PNG = "classifier.safetensors", "report.json", "report.md", "classes.png"
MIN_GENERATED, MAX_GENERATED = 10, 100_000
PRESENT_SHARE = 0.01
GRID_COLUMNS = 8
#: drum family -> dataset classes that count as it (the targets' "kick, snare, hat, tom, cymbal").
FAMILIES = {
    "kick": ("kick",),
    "snare": ("snare",),
    "hat": ("closed_hat", "pedal_hat", "open_hat"),
    "tom": ("low_tom", "mid_tom", "high_tom"),
    "cymbal": ("crash", "ride", "other_cymbal"),
}
#: the issue's targets: IS ≥ 0.8 × real test's, FD ≤ 3 × floor, and no sign of memorisation
#: (no more than this share of generated one-shots closer to the training set than 95 % of real test ones).
TARGETS = {"is_ratio_min": 0.8, "fd_ratio_max": 3.0, "copy_share_max": 0.10}
COPY_QUANTILE = 0.05


def _group_key(item) -> str:
    if item.kit is not None and item.note is not None:
        return f"{item.label}|{item.kit}|{item.note}"
    return f"{item.label}|{item.path}"


def split_items(manifest, test_fraction: float = 0.2, seed: int = 0) -> tuple[list[int], list[int]]:
    """(train indices, test indices) of ``manifest.items``: grouped by source hit, stratified by class.

    Each class with two or more groups gets at least one in each split; a class with one
    group stays in train (it cannot be tested without leaking its variations).
    """
    if not 0.0 < test_fraction < 1.0:
        raise UserInputError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, item in enumerate(manifest.items):
        groups[item.label][_group_key(item)].append(index)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in sorted(groups):
        keys = sorted(groups[label])
        rng.shuffle(keys)
        total = sum(len(groups[label][k]) for k in keys)
        taken = 0
        for position, key in enumerate(keys):
            members = groups[label][key]
            room = position < len(keys) - 1  # the last group always stays in train
            if room and (taken == 0 or taken + len(members) <= test_fraction * total):
                test += members
                taken += len(members)
            else:
                train += members
    return sorted(train), sorted(test)


def render_seeds(bundle, seeds, batch_size: int = 32, runtime=None) -> np.ndarray:
    """float32[len(seeds), num_samples]: the raw generator output for each seed's latent (ONNX)."""
    runtime = runtime or load_generator_runtime(bundle, backend="onnx")
    z = np.stack([seeded_latent(int(s), bundle.latent_dim, bundle.latent_distribution) for s in seeds])
    return np.concatenate([runtime.render(z[i:i + batch_size]) for i in range(0, len(z), batch_size)])


def _fingerprint(data_dir: Path) -> str:
    return hashlib.sha256((data_dir / "manifest.json").read_bytes()).hexdigest()


def _classifier(out_dir: Path, dataset, fingerprint: str, train_idx, split: dict, retrain: bool,
                config: ClassifierConfig, say):
    path = out_dir / CLASSIFIER_FILE
    if path.is_file() and not retrain:
        model, meta = load_classifier(path)
        if meta.get("dataset_sha256") == fingerprint and json.loads(meta.get("extra", "{}")).get("split") == split \
                and list(model.classes) == dataset.classes:
            say(f"reusing the classifier {path}")
            return model, True
        say(f"{path} was trained on other data or another split: training a new one")
    say(f"training the drum classifier on {len(train_idx)} one-shots ({config.epochs} epochs)")
    model = train_classifier(dataset.audio[train_idx], dataset.labels[train_idx], dataset.classes,
                             dataset.sample_rate, config)
    save_classifier(model, path, dataset_sha256=fingerprint, config=config, extra={"split": split})
    return model, False


def _unit_rows(audio, sample_rate: int) -> np.ndarray:
    """Log-mel rows centred and scaled to unit length: the space memorisation is judged in."""
    feats = []
    for start in range(0, len(audio), 256):
        mel = log_mel(torch.as_tensor(np.asarray(audio[start:start + 256], np.float32)), sample_rate)
        feats.append(mel.flatten(1).numpy().astype(np.float64))
    rows = np.concatenate(feats)
    rows -= rows.mean(axis=1, keepdims=True)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def memorisation(generated, real_train, real_test, sample_rate: int) -> dict:
    """How close generated one-shots sit to the training set, against real test one-shots.

    A *copy* is a generated one-shot nearer to its nearest training one-shot than
    ``1 - COPY_QUANTILE`` of the real test ones are; a model that generalises makes about
    ``COPY_QUANTILE`` of them, one that replays its training set nearly all.
    """
    train_rows = _unit_rows(real_train, sample_rate)
    nn_gen = nearest_distances(_unit_rows(generated, sample_rate), train_rows)
    nn_test = nearest_distances(_unit_rows(real_test, sample_rate), train_rows)
    threshold = float(np.quantile(nn_test, COPY_QUANTILE))
    return {"space": "log-mel, unit-norm rows", "generated_nn_median": float(np.median(nn_gen)),
            "test_nn_median": float(np.median(nn_test)),
            "median_ratio": float(np.median(nn_gen) / max(np.median(nn_test), 1e-12)),
            "copy_threshold": threshold, "copy_share": float((nn_gen < threshold).mean()),
            "copy_share_expected": COPY_QUANTILE}


def _grid(classes, real, real_labels, generated, probs, path: Path) -> Path:
    blank = np.full_like(spectrogram_image(real[0]), 24)
    rows = []
    predicted = probs.argmax(axis=1)
    for c in range(len(classes)):
        mine = np.nonzero(real_labels == c)[0]
        row = [spectrogram_image(real[mine[0]]) if mine.size else blank, np.full((blank.shape[0], 6), 40, np.uint8)]
        chosen = np.nonzero(predicted == c)[0]
        chosen = chosen[np.argsort(-probs[chosen, c])][:GRID_COLUMNS]
        row += [spectrogram_image(generated[i]) for i in chosen] + [blank] * (GRID_COLUMNS - len(chosen))
        rows.append(np.concatenate([np.pad(t, ((0, 0), (0, 2)), constant_values=40) for t in row], axis=1))
    sheet = np.concatenate([np.pad(r, ((0, 2), (0, 0)), constant_values=40) for r in rows], axis=0)
    return write_png(path, sheet)


def _judge(report: dict) -> dict:
    is_ratio = report["inception_score"]["ratio"]
    fd_ratio = report["frechet_distance"]["ratio"]
    missing = report["coverage"]["families_missing"]
    copy_share = report["memorisation"]["copy_share"]
    return {
        "inception_score": {"value": is_ratio, "target": f">= {TARGETS['is_ratio_min']} x real test",
                            "met": is_ratio >= TARGETS["is_ratio_min"]},
        "frechet_distance": {"value": fd_ratio, "target": f"<= {TARGETS['fd_ratio_max']} x floor",
                             "met": fd_ratio <= TARGETS["fd_ratio_max"]},
        "families": {"value": missing, "target": "kick, snare, hat, tom and cymbal all present", "met": not missing},
        "memorisation": {"value": copy_share, "target": f"copy share <= {TARGETS['copy_share_max']}",
                         "met": copy_share <= TARGETS["copy_share_max"]},
    }


def evaluate(bundle_path, data_dir, out_dir=None, n: int = 2000, seed: int = 0, retrain: bool = False,
             config: ClassifierConfig = ClassifierConfig(), test_fraction: float = 0.2, say=print) -> dict:
    """Evaluate the bundle at ``bundle_path`` against the dataset ``data_dir``; returns the report dict.

    ``out_dir`` (default: ``<bundle>-eval`` beside the bundle) receives the classifier and
    the report files. ``say(line)`` reports progress.
    """
    started = time.perf_counter()
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_GENERATED <= n <= MAX_GENERATED:
        raise UserInputError(f"-n must be an integer in {MIN_GENERATED}..{MAX_GENERATED}, got {n!r}")
    bundle = load_bundle(bundle_path)
    dataset = OneShotDataset(data_dir)
    if bundle.sample_rate != dataset.sample_rate:
        raise UserInputError(f"{data_dir}: the dataset is {dataset.sample_rate} Hz, the model {bundle.sample_rate} Hz; "
                             f"evaluate against a dataset at the model's rate")
    out_dir = Path(out_dir) if out_dir is not None else bundle.path.with_name(bundle.path.name + "-eval")
    if out_dir.resolve() == bundle.path or bundle.path in out_dir.resolve().parents:
        raise UserInputError(f"{out_dir}: the report may not go inside the bundle (its files are hash-checked)")
    out_dir.mkdir(parents=True, exist_ok=True)
    classes, rate = dataset.classes, dataset.sample_rate
    train_idx, test_idx = split_items(dataset.manifest, test_fraction, seed=0)
    if len(test_idx) < 2 or len(train_idx) < 2:
        raise UserInputError(f"{data_dir}: {len(dataset)} one-shots are too few to split into train and test")
    split = {"test_fraction": test_fraction, "seed": 0, "train": len(train_idx), "test": len(test_idx)}
    fingerprint = _fingerprint(dataset.root)
    clf, reused = _classifier(out_dir, dataset, fingerprint, train_idx, split, retrain, config, say)

    real_train, real_test = dataset.audio[train_idx].numpy(), dataset.audio[test_idx].numpy()
    test_labels = dataset.labels[test_idx].numpy()
    say(f"generating {n} one-shots from seeds {seed}..{seed + n - 1}")
    generated = render_seeds(bundle, range(seed, seed + n))
    non_finite = int((~np.isfinite(generated)).any(axis=1).sum())
    generated = np.nan_to_num(generated, nan=0.0, posinf=0.0, neginf=0.0)
    generated = generated[:, :dataset.num_samples] if generated.shape[1] >= dataset.num_samples else \
        np.pad(generated, ((0, 0), (0, dataset.num_samples - generated.shape[1])))

    say("classifying and measuring")
    p_train, e_train = clf.predict(real_train)
    p_test, e_test = clf.predict(real_test)
    p_gen, e_gen = clf.predict(generated)
    correct = p_test.argmax(axis=1) == test_labels
    is_real, is_gen = inception_score(p_test, splits=1)[0], inception_score(p_gen, splits=1)[0]  # whole sets
    fd_count = min(len(generated), len(real_train))
    floor = frechet_distance(e_train, e_test)
    fd_gen = frechet_distance(e_gen[:fd_count], e_test)
    shares = coverage(p_gen, classes)
    families = {name: float(sum(shares.get(c, 0.0) for c in members)) for name, members in FAMILIES.items()}
    report = {
        "format": REPORT_FORMAT, "version": REPORT_VERSION,
        "model": {"name": bundle.name, "path": str(bundle.path), "model_json_sha256": bundle.sha256,
                  "steps": (bundle.meta.get("training") or {}).get("total_steps",
                                                                   (bundle.meta.get("training") or {}).get("step"))},
        "dataset": {"path": str(dataset.root.resolve()), "manifest_sha256": fingerprint,
                    "items": len(dataset), "classes": classes, **split,
                    "test_classes": sorted({classes[i] for i in test_labels})},
        "classifier": {"file": CLASSIFIER_FILE, "reused": reused, "test_accuracy": float(correct.mean()),
                       "test_balanced_accuracy": float(np.mean([correct[test_labels == c].mean()
                                                                for c in np.unique(test_labels)])),
                       "train_accuracy": float((p_train.argmax(axis=1) == dataset.labels[train_idx].numpy()).mean())},
        "generated": {"count": n, "first_seed": seed, "non_finite": non_finite},
        "inception_score": {"real_test": is_real, "generated": is_gen, "ratio": is_gen / max(is_real, 1e-12)},
        "frechet_distance": {"floor_train_vs_test": floor, "generated_vs_test": fd_gen, "generated_used": fd_count,
                             "ratio": fd_gen / max(floor, 1e-12)},
        "coverage": {"shares": shares, "present_share": PRESENT_SHARE,
                     "missing": [c for c in classes if shares[c] < PRESENT_SHARE],
                     "families": families,
                     "families_missing": [f for f, share in families.items() if share < PRESENT_SHARE]},
        "memorisation": memorisation(generated, real_train, real_test, rate),
    }
    report["targets"] = _judge(report)
    report["time_s"] = round(time.perf_counter() - started, 1)
    atomic_write_text(out_dir / REPORT_JSON, json.dumps(report, indent=1, allow_nan=False) + "\n")
    from ._evaluate_report import markdown

    atomic_write_text(out_dir / REPORT_MD, markdown(report, GRID_PNG))
    _grid(classes, real_test, test_labels, generated, p_gen, out_dir / GRID_PNG)
    say(f"wrote {out_dir / REPORT_JSON}, {REPORT_MD}, {GRID_PNG} and {CLASSIFIER_FILE}")
    return report
