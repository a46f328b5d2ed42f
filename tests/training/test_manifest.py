"""The dataset manifest: round trip and one-line refusals."""

import json

import pytest

from ganshot.engine.errors import FormatError
from ganshot.training.manifest import Manifest, ManifestItem, load_manifest, save_manifest


def _manifest():
    items = [ManifestItem("audio/k.flac", "kick", "Standard", 36, 100), ManifestItem("audio/s.flac", "snare")]
    return Manifest(16000, 16384, ["kick", "snare", "hat"], items, {"kind": "test"})


def test_round_trip_and_summary(tmp_path):
    save_manifest(tmp_path, _manifest())
    loaded = load_manifest(tmp_path)
    assert loaded == _manifest()
    assert loaded.summary()["class_counts"] == {"kick": 1, "snare": 1, "hat": 0}


@pytest.mark.parametrize("change, needle", [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.update(version=2), "unknown version 2"),
    (lambda d: d.update(sample_rate=True), "sample_rate"),
    (lambda d: d["items"][0].update(path="../escape.flac"), "stay inside"),
    (lambda d: d["items"][0].update(path="/abs.flac"), "stay inside"),
    (lambda d: d["items"][0].update({"class": "cowbell"}), "cowbell"),
    (lambda d: d["items"][0].update(note=128), "note"),
    (lambda d: d.update(classes=["kick", "kick"]), "duplicates"),
])
def test_refusals_name_the_problem(tmp_path, change, needle):
    data = _manifest().to_json()
    change(data)
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=needle):
        load_manifest(tmp_path)


def test_nan_and_missing_manifest(tmp_path):
    with pytest.raises(FormatError, match="no dataset manifest"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(_manifest().to_json()).replace("16000", "NaN"))
    with pytest.raises(FormatError, match="NaN"):
        load_manifest(tmp_path)
