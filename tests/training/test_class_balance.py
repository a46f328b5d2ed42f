"""train.class_balance: weighted draws that are a pure function of the batch index, and a real run with them."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training._distributed import BatchStream
from ganshot.training.config import load_config
from ganshot.training.train import train

LABELS = np.array([0] * 90 + [1] * 9 + [2] * 1)  # 90 kicks, 9 snares, 1 cymbal


def shares(stream, batches=400):
    drawn = Counter(int(LABELS[i]) for k in range(batches) for i in stream.batch(k))
    total = sum(drawn.values())
    return [drawn[c] / total for c in range(3)]


@pytest.mark.parametrize("balance, expected", [(1.0, [1 / 3] * 3), (0.5, [90**0.5, 9**0.5, 1.0])])
def test_weights_balance_the_classes(balance, expected):
    counts = np.bincount(LABELS).astype(float)
    stream = BatchStream(len(LABELS), 16, seed=3, weights=counts[LABELS] ** -balance)
    want = np.array(expected) / np.sum(expected)
    np.testing.assert_allclose(shares(stream), want, atol=0.03)


def test_plain_epochs_keep_the_data_proportions_and_weighted_draws_are_pure():
    plain = BatchStream(len(LABELS), 10, seed=0)
    assert shares(plain, 100) == pytest.approx([0.9, 0.09, 0.01])  # every item once per epoch
    counts = np.bincount(LABELS).astype(float)
    a = BatchStream(len(LABELS), 16, seed=5, weights=counts[LABELS] ** -1.0)
    b = BatchStream(len(LABELS), 16, seed=5, weights=counts[LABELS] ** -1.0)
    assert [a.batch(k) for k in (7, 0, 300, 7)] == [b.batch(k) for k in (7, 0, 300, 7)]
    ranks = [BatchStream(len(LABELS), 8, seed=5, rank=r, world_size=2, weights=np.ones(100)) for r in (0, 1)]
    assert ranks[0].batch(0) != ranks[1].batch(0)


@pytest.mark.parametrize("weights", [np.zeros(100), np.full(100, np.nan), -np.ones(100), np.ones(5)])
def test_bad_weights_are_refused(weights):
    with pytest.raises(UserInputError, match="sampling weights"):
        BatchStream(100, 4, seed=0, weights=weights)


def test_the_config_range_is_checked():
    assert load_config("wavegan_small").train.class_balance == 0.0
    assert load_config("wavegan_small", ["train.class_balance=0.5"]).train.class_balance == 0.5
    with pytest.raises(FormatError, match="class_balance"):
        load_config("wavegan_small", ["train.class_balance=2"])


def test_a_balanced_run_trains_and_resumes(make_dataset, tmp_path):
    data = make_dataset(num_items=6, num_samples=16384, classes=("kick", "snare", "hat"))
    overrides = ["train.class_balance=1.0", "model.d=2", "train.batch_size=2", "train.critic_steps=1"]
    first = train("wavegan_small", data, tmp_path / "run", overrides=overrides, max_steps=1, device="cpu")
    assert first["step"] == 1 and np.isfinite(first["critic_loss"])
    again = train("wavegan_small", data, tmp_path / "run", resume=True, overrides=overrides, max_steps=2, device="cpu")
    assert again["step"] == 2
    with pytest.raises(UserInputError, match="class_balance"):
        train("wavegan_small", data, tmp_path / "run", resume=True, overrides=overrides[1:], max_steps=3, device="cpu")
