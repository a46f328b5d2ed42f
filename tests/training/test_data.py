"""OneShotDataset over real FLAC + manifest folders (the make_dataset fixture)."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.data import OneShotDataset


def test_items_labels_and_contract(make_dataset):
    root = make_dataset(num_items=6, classes=("kick", "snare", "hat"))
    data = OneShotDataset(root)
    assert len(data) == 6
    assert data.classes == ["kick", "snare", "hat"]
    assert (data.sample_rate, data.num_samples) == (16000, 16384)
    manifest = json.loads((root / "manifest.json").read_text())
    for index, raw in enumerate(manifest["items"]):
        audio, label = data[index]
        assert isinstance(audio, torch.Tensor) and audio.dtype == torch.float32 and audio.shape == (16384,)
        assert isinstance(label, int) and data.classes[label] == raw["class"]
        expected, _ = sf.read(root / raw["path"], dtype="float32")
        np.testing.assert_array_equal(audio.numpy(), expected)
    assert data.class_counts() == {"kick": 2, "snare": 2, "hat": 2}
    assert "num_samples=16384" in repr(data)


def test_dataloader_batches(make_dataset):
    data = OneShotDataset(make_dataset(num_items=5))
    audio, labels = next(iter(torch.utils.data.DataLoader(data, batch_size=4, shuffle=False)))
    assert audio.shape == (4, 16384) and labels.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize("length", [1, 8193, 20000])
def test_num_samples_crops_or_pads(make_dataset, length):
    root = make_dataset(num_items=2)
    full = OneShotDataset(root)
    data = OneShotDataset(root, num_samples=length)
    assert data.num_samples == length and data[0][0].shape == (length,)
    keep = min(length, 16384)
    assert torch.equal(data[1][0][:keep], full[1][0][:keep])
    assert torch.all(data[1][0][keep:] == 0)


def test_missing_file_names_it(make_dataset):
    root = make_dataset(num_items=3)
    (root / "audio" / "snare_001.flac").unlink()
    with pytest.raises(FormatError, match="snare_001.flac.*missing"):
        OneShotDataset(root)


def test_corrupt_file(make_dataset):
    root = make_dataset(num_items=3)
    (root / "audio" / "kick_002.flac").write_bytes(b"fLaC" + b"\0" * 50)
    with pytest.raises(FormatError, match="kick_002.flac"):
        OneShotDataset(root)


@pytest.mark.parametrize(
    "rate, frames, channels, words",
    [(22050, 16384, 1, "sample rate 22050"), (16000, 16000, 1, "16000 samples"), (16000, 16384, 2, "2 channels")],
)
def test_wrong_file_contract(make_dataset, rate, frames, channels, words):
    root = make_dataset(num_items=2)
    sf.write(root / "audio" / "kick_000.flac", np.zeros((frames, channels), np.float32), rate)
    with pytest.raises(FormatError, match=words):
        OneShotDataset(root)


def test_no_manifest_and_bad_arguments(tmp_path, make_dataset):
    with pytest.raises(FormatError, match="no dataset manifest"):
        OneShotDataset(tmp_path)
    with pytest.raises(UserInputError):
        OneShotDataset(make_dataset(num_items=1), num_samples=0)


def test_empty_manifest(make_dataset):
    with pytest.raises(FormatError, match="no items"):
        OneShotDataset(make_dataset(num_items=0))
