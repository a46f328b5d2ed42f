"""SoundFont builder with several SoundFonts: one de-duplicator for all, unique names, every source in the manifest."""

import shutil

import numpy as np
import pytest
import soundfile as sf

from ganshot.engine.errors import UserInputError
from ganshot.training import dataset_soundfont as dsf
from ganshot.training.dataset_soundfont import build_soundfont_dataset
from ganshot.training.manifest import load_manifest, source_soundfonts

FLUID, MUSESCORE = dsf.DEFAULT_SF2S
KW = dict(notes=(36, 38), max_kits=1, velocities=(100,), variations=1, progress=False)
needs_both = pytest.mark.skipif(
    not (FLUID.is_file() and MUSESCORE.is_file()),
    reason="needs fluid-soundfont-gm and musescore-general-soundfont (scripts/setup.sh installs both)",
)


@pytest.fixture(scope="module")
def fluid_twin(tmp_path_factory):
    """FluidR3 with one byte of its INFO text changed: other sha256, same samples, same file name."""
    if not FLUID.is_file():
        pytest.skip("needs fluid-soundfont-gm")
    twin = tmp_path_factory.mktemp("twin") / FLUID.name
    shutil.copyfile(FLUID, twin)
    data = bytearray(twin.read_bytes()[:4096])
    at = data.index(b"INAM") + 8
    with open(twin, "r+b") as handle:
        handle.seek(at)
        handle.write(b"X" if data[at : at + 1] != b"X" else b"Y")
    return twin


def test_same_samples_in_another_soundfont_are_kept_once(tmp_path, fluid_twin):
    both = build_soundfont_dataset(tmp_path / "all", sf2_path=[FLUID, fluid_twin], dedupe=False, **KW)
    once = build_soundfont_dataset(tmp_path / "once", sf2_path=[FLUID, fluid_twin], **KW)
    assert len(both.items) == 4 and len(once.items) == 2
    first, second = once.source["soundfonts"]
    assert (first["items"], second["items"]) == (2, 0)
    assert second["skipped"] == {"duplicate": 2} and once.source["skipped"] == {"duplicate": 2}
    # same file name in two folders: names stay unique, kits stay apart
    paths = [item.path for item in both.items]
    assert len(set(paths)) == 4
    assert {p.split("/")[-1].split("_")[0] for p in paths} == {"fluidr3-gm", "fluidr3-gm-2"}
    assert {(item.source, item.kit) for item in both.items} == {("FluidR3_GM.sf2", "Standard")}
    a, _ = sf.read(tmp_path / "all" / both.items[0].path)
    b, _ = sf.read(tmp_path / "all" / both.items[2].path)
    np.testing.assert_allclose(a, b, atol=1e-3)  # what was de-duplicated really was a copy


@needs_both
def test_default_set_records_every_source_and_dedupes_across_them(tmp_path):
    manifest = build_soundfont_dataset(tmp_path / "d", **{**KW, "notes": (36, 38, 42)})
    loaded = load_manifest(tmp_path / "d")
    assert loaded.to_json() == manifest.to_json()
    sources = source_soundfonts(loaded.source)
    assert [s["file"] for s in sources] == ["FluidR3_GM.sf2", "MuseScore_General.sf3"]
    assert all(len(s["sha256"]) == 64 for s in sources) and sources[0]["sha256"] != sources[1]["sha256"]
    muse = loaded.source["soundfonts"][1]
    assert {k["program"] for k in muse["excluded_kits"]} >= {48, 55, 56, 57}  # orchestra, metronome, marching
    # MuseScore General took its Standard kick and snare from FluidR3 (Ogg-compressed, -29 dB apart):
    # they are dropped as duplicates; its closed hat is its own sample and is kept
    assert [(i.source, i.kit, i.note) for i in loaded.items] == [
        ("FluidR3_GM.sf2", "Standard", 36), ("FluidR3_GM.sf2", "Standard", 38), ("FluidR3_GM.sf2", "Standard", 42),
        ("MuseScore_General.sf3", "Standard", 42),
    ]  # fmt: skip
    assert muse["items"] == 1 and muse["skipped"] == {"duplicate": 2}
    assert sum(s["items"] for s in loaded.source["soundfonts"]) == len(loaded.items)
    # every planned hit is either a file or a counted skip
    assert len(loaded.items) + sum(loaded.source["skipped"].values()) == 2 * 3
    for item in loaded.items:
        audio, rate = sf.read(tmp_path / "d" / item.path, dtype="float32")
        assert rate == 16000 and audio.shape == (16384,)


def test_same_file_twice_is_refused(tmp_path):
    if not FLUID.is_file():
        pytest.skip("needs fluid-soundfont-gm")
    with pytest.raises(UserInputError, match="same SoundFont"):
        build_soundfont_dataset(tmp_path / "o", sf2_path=[FLUID, FLUID], **KW)
    with pytest.raises(UserInputError, match="no SoundFont"):
        build_soundfont_dataset(tmp_path / "o", sf2_path=[], **KW)
    assert not (tmp_path / "o").exists()
