"""The dataset manifest: round trip and one-line refusals."""

import json

import pytest

from ganshot.engine.errors import FormatError
from ganshot.training.manifest import Manifest, ManifestItem, load_manifest, save_manifest, source_soundfonts


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
    (lambda d: d.update(version=3), "unknown version 3"),
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


def test_version_1_soundfont_manifest_still_loads(tmp_path):
    data = _manifest().to_json()
    data["version"] = 1
    data["source"] = {"kind": "soundfont", "sf2": "FluidR3_GM.sf2", "sf2_sha256": "ab" * 32, "seed": 0}
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    loaded = load_manifest(tmp_path)
    assert loaded.items == _manifest().items
    assert source_soundfonts(loaded.source) == [{"file": "FluidR3_GM.sf2", "sha256": "ab" * 32}]
    assert loaded.to_json()["version"] == 2  # saved again, it is written in the current version


def test_several_soundfont_sources(tmp_path):
    sources = [{"file": "FluidR3_GM.sf2", "sha256": "ab" * 32, "items": 1}, {"file": "MuseScore_General.sf3", "sha256": "cd" * 32}]
    manifest = _manifest()
    manifest.source = {"kind": "soundfont", "soundfonts": sources}
    save_manifest(tmp_path, manifest)
    loaded = load_manifest(tmp_path)
    assert [s["file"] for s in source_soundfonts(loaded.source)] == ["FluidR3_GM.sf2", "MuseScore_General.sf3"]
    assert source_soundfonts({"kind": "folder"}) == []
    data = loaded.to_json()
    data["source"]["soundfonts"][1].pop("sha256")
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match="soundfonts"):
        load_manifest(tmp_path)
