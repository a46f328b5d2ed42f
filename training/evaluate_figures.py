"""The drum evaluation's figures that need no classifier: memorisation, tail floors, tonal lines.

Cheat sheet::

    from ganshot.training.evaluate_figures import FAMILIES, memorisation, tail_floors, tonal_lines
    memorisation(generated, real_train, real_test, sample_rate)   # {"copy_share", "median_ratio", ...}
    tail_floors(real, real_labels, generated, generated_labels, classes)   # family -> medians, dB
    tonal_lines(real, generated, sample_rate)        # {"lines": [...], "max_excess_db"}

Audio is float32[n, num_samples] one-shots at ``sample_rate``; labels index ``classes``.
:data:`FAMILIES` groups dataset classes into the drum families the targets name;
:func:`~ganshot.training.evaluate.evaluate` puts these figures in ``report.json``
(``memorisation``, ``tail_floor``, ``tonal_lines``) beside the classifier's scores.
"""

from __future__ import annotations

import numpy as np
import torch

from .artefacts import tail_floor_db, tonal_lines_db
from .classifier import log_mel
from .metrics import nearest_distances

__all__ = ["FAMILIES", "COPY_QUANTILE", "memorisation", "tail_floors", "tonal_lines"]

#: drum family -> dataset classes that count as it (the targets' "kick, snare, hat, tom, cymbal").
FAMILIES = {
    "kick": ("kick",),
    "snare": ("snare",),
    "hat": ("closed_hat", "pedal_hat", "open_hat"),
    "tom": ("low_tom", "mid_tom", "high_tom"),
    "cymbal": ("crash", "ride", "other_cymbal"),
}
#: a generated one-shot nearer the training set than all but this share of real test ones is a copy.
COPY_QUANTILE = 0.05


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


def _family_index(classes) -> np.ndarray:
    """int[C]: the :data:`FAMILIES` position of each class, -1 for classes of no family."""
    position = {member: i for i, members in enumerate(FAMILIES.values()) for member in members}
    return np.array([position.get(c, -1) for c in classes], dtype=np.int64)


def tail_floors(real, real_labels, generated, generated_labels, classes) -> dict:
    """family -> {real_db, generated_db, difference_db, real_count, generated_count}: median tail floors.

    Labels index ``classes``; a family with no one-shot on one side has None there.
    """
    family_of = _family_index(classes)
    real_db, gen_db = tail_floor_db(real), tail_floor_db(generated)
    real_fam, gen_fam = family_of[np.asarray(real_labels)], family_of[np.asarray(generated_labels)]
    out = {}
    for index, family in enumerate(FAMILIES):
        r, g = real_db[real_fam == index], gen_db[gen_fam == index]
        real_median = float(np.median(r)) if r.size else None
        gen_median = float(np.median(g)) if g.size else None
        both = real_median is not None and gen_median is not None
        out[family] = {"real_db": real_median, "generated_db": gen_median,
                       "difference_db": gen_median - real_median if both else None,
                       "real_count": int(r.size), "generated_count": int(g.size)}
    return out


def tonal_lines(real, generated, sample_rate: int) -> dict:
    """{"lines": [{frequency_hz, real_db, generated_db, excess_db}], "max_excess_db"}: line prominences."""
    real_lines, gen_lines = tonal_lines_db(real, sample_rate), tonal_lines_db(generated, sample_rate)
    lines = [{"frequency_hz": f, "real_db": real_lines[f], "generated_db": gen_lines[f],
              "excess_db": gen_lines[f] - real_lines[f]} for f in real_lines]
    return {"lines": lines, "max_excess_db": max(line["excess_db"] for line in lines)}

