"""The drum classifier: learns separable synthetic drums, round-trips through safetensors, refuses bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.classifier import (EMBED_DIM, ClassifierConfig, load_classifier, log_mel, save_classifier,
                                         train_classifier)

from tests.support import synth_hit

RATE, LENGTH = 16000, 4096
CLASSES = ("kick", "snare", "hat")


def synthetic(count: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(CLASSES)
    audio = np.stack([synth_hit(CLASSES[y], LENGTH, RATE, rng) * rng.uniform(0.1, 1.0) for y in labels])
    return audio, labels


@pytest.fixture(scope="module")
def trained():
    audio, labels = synthetic(60, seed=0)
    return train_classifier(audio, labels, CLASSES, RATE, ClassifierConfig(epochs=12, batch_size=16))


def test_it_tells_synthetic_kicks_snares_and_hats_apart(trained):
    audio, labels = synthetic(30, seed=1)  # unseen one-shots
    probs, emb = trained.predict(audio)
    assert probs.shape == (30, 3) and emb.shape == (30, EMBED_DIM)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs.argmax(axis=1) == labels).mean() >= 0.9


def test_predictions_ignore_loudness_and_fit_any_length(trained):
    audio, _ = synthetic(6, seed=2)
    loud, _ = trained.predict(audio)
    quiet, _ = trained.predict(audio * 0.01)
    np.testing.assert_allclose(loud, quiet, atol=1e-4)  # peak-normalised features
    longer, _ = trained.predict(np.pad(audio, ((0, 0), (0, 8193))))
    np.testing.assert_allclose(longer, loud, atol=1e-5)  # cropped to the trained length
    shorter, _ = trained.predict(audio[:, :1025])
    assert shorter.shape == (6, 3)


def test_save_and_load_round_trip(trained, tmp_path):
    path = save_classifier(trained, tmp_path / "clf.safetensors", dataset_sha256="ab" * 32, extra={"split": {"x": 1}})
    model, meta = load_classifier(path)
    audio, _ = synthetic(5, seed=3)
    np.testing.assert_allclose(model.predict(audio)[0], trained.predict(audio)[0], atol=1e-6)
    assert model.classes == CLASSES and meta["dataset_sha256"] == "ab" * 32
    assert json.loads(meta["extra"]) == {"split": {"x": 1}}
    assert not list(tmp_path.glob("*.writing"))


def _rewrite(path, out, **meta_changes):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as handle:
        meta = {**handle.metadata(), **meta_changes}
        save_file({k: handle.get_tensor(k) for k in handle.keys()}, str(out), metadata=meta)
    return out


@pytest.mark.parametrize("change, message", [
    ({"format": "ganshot-model"}, "format 'ganshot-model' is not"),
    ({"version": "2"}, "version '2' is not supported"),
    ({"classes": "not json"}, "bad classifier metadata"),
    ({"features": json.dumps({"n_fft": 512})}, "other feature settings"),
])
def test_load_refuses_unknown_formats_and_bad_metadata(trained, tmp_path, change, message):
    good = save_classifier(trained, tmp_path / "good.safetensors")
    with pytest.raises(FormatError, match=message):
        load_classifier(_rewrite(good, tmp_path / "bad.safetensors", **change))


def test_load_refuses_corrupt_and_missing_files(tmp_path):
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(FormatError, match="not a readable safetensors"):
        load_classifier(tmp_path / "junk.safetensors")
    with pytest.raises(FormatError, match="no classifier file"):
        load_classifier(tmp_path / "none.safetensors")


def test_bad_inputs_are_named():
    with pytest.raises(UserInputError, match="labels"):
        train_classifier(np.zeros((4, LENGTH)), [0, 1, 2, 5], CLASSES, RATE)
    with pytest.raises(UserInputError, match="audio"):
        train_classifier(np.zeros((4,)), [0], CLASSES, RATE)
    with pytest.raises(UserInputError, match="log_mel"):
        log_mel(torch.zeros(2, 100), RATE)
    mel = log_mel(torch.full((1, 2048), float("nan")), RATE)
    assert torch.isfinite(mel).all()
