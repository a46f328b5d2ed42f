"""SoundFont builder: real fluidsynth rendering the real FluidR3 GM kits, a few notes.

Several SoundFonts (de-duplication across them, manifest sources): test_dataset_soundfont_multi.py.
"""

import shutil

import numpy as np
import pytest
import soundfile as sf

from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.training import dataset_soundfont as dsf
from ganshot.training.audio_prep import db_to_gain
from ganshot.training.dataset_soundfont import build_soundfont_dataset, kit_midi
from ganshot.engine.gm_drums import note_class
from ganshot.training.manifest import load_manifest

NOTES = (36, 38, 42)
FLUID = dsf.DEFAULT_SF2
SMALL = dict(sf2_path=FLUID, notes=NOTES, max_kits=2, velocities=(100,), variations=2, progress=False)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("sf")
    out = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        out[name] = (build_soundfont_dataset(root / name, seed=seed, **SMALL), root / name)
    return out


def test_files_classes_and_manifest(builds):
    manifest, root = builds["a"]
    loaded = load_manifest(root)
    assert loaded.to_json() == manifest.to_json()
    assert loaded.classes == ["kick", "snare", "closed_hat"]
    assert {item.kit for item in loaded.items} == {"Standard", "Standard 1"}
    [source] = loaded.source["soundfonts"]
    assert source["file"] == "FluidR3_GM.sf2" and len(source["sha256"]) == 64
    assert loaded.source["seed"] == 0 and loaded.source["variations"] == 2 and loaded.source["velocities"] == [100]
    plain = [item for item in loaded.items if item.path.endswith("_0.flac")]
    assert len(plain) >= len(NOTES)  # every note of the first kit at least
    for item in loaded.items:
        assert item.label == note_class(item.note) and item.velocity == 100
        assert item.path.startswith(f"audio/{item.label}/") and f"_n{item.note}_v100_" in item.path
        audio, rate = sf.read(root / item.path, dtype="float32")
        assert rate == 16000 and audio.shape == (16384,)
    # every planned hit is either a file or a counted skip
    assert len(loaded.items) + sum(loaded.source["skipped"].values()) == 2 * len(NOTES) * 2
    assert sorted(p.name for p in root.iterdir()) == ["audio", "manifest.json"]


def test_onsets_at_start_and_levels(builds):
    manifest, root = builds["a"]
    for item in manifest.items:
        audio, _ = sf.read(root / item.path, dtype="float64")
        peak = np.abs(audio).max()
        onset = np.flatnonzero(np.abs(audio) >= peak * 0.01)[0]
        assert onset <= 32, item.path  # trimmed to ~1 ms pre-roll
        assert np.abs(audio[onset : onset + 1600]).max() == pytest.approx(peak)  # the hit, not a tail
        if item.path.endswith("_0.flac"):
            assert 20 * np.log10(peak) == pytest.approx(dsf.REFERENCE_PEAK_DB, abs=0.05)
        else:
            assert -4.05 <= 20 * np.log10(peak) <= -0.95


def test_same_seed_gives_identical_files(builds):
    (ma, ra), (mb, rb) = builds["a"], builds["b"]
    assert [i.path for i in ma.items] == [i.path for i in mb.items]
    for item in ma.items:
        assert (ra / item.path).read_bytes() == (rb / item.path).read_bytes()


def test_other_seed_changes_only_the_variations(builds):
    (ma, ra), (mc, rc) = builds["a"], builds["c"]
    assert [i.path for i in ma.items] == [i.path for i in mc.items]
    for item in ma.items:
        a, _ = sf.read(ra / item.path)
        c, _ = sf.read(rc / item.path)
        if item.path.endswith("_0.flac"):
            np.testing.assert_array_equal(a, c)
        else:
            assert not np.allclose(a, c, atol=1e-3), item.path


def test_variation_is_detuned_not_just_louder(builds):
    manifest, root = builds["a"]
    a, _ = sf.read(root / "audio/kick/fluidr3-gm_000-standard_n36_v100_0.flac")
    b, _ = sf.read(root / "audio/kick/fluidr3-gm_000-standard_n36_v100_1.flac")
    a, b = a / np.abs(a).max(), b / np.abs(b).max()
    assert np.linalg.norm(a - b) > 0.02 * np.linalg.norm(a)


def test_duplicates_across_kits_are_skipped(tmp_path):
    # FluidR3 "Standard 1" plays the same triangle sample as "Standard"
    kw = dict(sf2_path=FLUID, notes=(81,), max_kits=2, velocities=(100,), variations=1, progress=False)
    dup = build_soundfont_dataset(tmp_path / "d", dedupe=False, **kw)
    assert len(dup.items) == 2
    a, _ = sf.read(tmp_path / "d" / dup.items[0].path)
    b, _ = sf.read(tmp_path / "d" / dup.items[1].path)
    np.testing.assert_allclose(a, b, atol=1e-3)
    once = build_soundfont_dataset(tmp_path / "e", **kw)
    assert len(once.items) == 1 and once.source["skipped"] == {"duplicate": 1}


def test_kit_midi_layout():
    midi, onsets = kit_midi(25, [(36, 100, 0.0), (38, 50, 30.0), (42, 127, -30.0)], 16000, 16384)
    msgs = [m for m in midi.tracks[0] if not m.is_meta]
    assert all(m.channel == 9 for m in msgs)
    assert msgs[0].type == "program_change" and msgs[0].program == 25
    assert [m.pitch for m in msgs if m.type == "pitchwheel"] == [0, 1229, -1229]
    assert sum(1 for m in msgs if m.type == "control_change" and m.control == 120) == 3
    assert onsets[0] > 0 and all(b - a >= 16384 + 1600 for a, b in zip(onsets, onsets[1:]))
    end_s = sum(m.time for m in midi.tracks[0]) / 960  # 480 ticks per beat at 120 bpm
    assert end_s * 16000 > onsets[-1] + 16384
    assert midi.length == pytest.approx(end_s)


def test_out_dir_rules(tmp_path, builds):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "song.wav").write_bytes(b"keep me")
    with pytest.raises(UserInputError, match="not empty"):
        build_soundfont_dataset(precious, **SMALL)
    assert (precious / "song.wav").read_bytes() == b"keep me"
    # an earlier dataset is replaced as a whole
    _, root = builds["a"]
    old = tmp_path / "old"
    shutil.copytree(root, old)
    (old / "audio" / "stale.flac").write_bytes(b"x")
    build_soundfont_dataset(old, sf2_path=FLUID, notes=(36,), max_kits=1, velocities=(100,), variations=1, progress=False)
    assert not (old / "audio" / "stale.flac").exists() and load_manifest(old).classes == ["kick"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_failure_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise GanshotError("fluidsynth failed (simulated)")

    monkeypatch.setattr(dsf, "render_midi", boom)
    with pytest.raises(GanshotError, match="simulated"):
        build_soundfont_dataset(tmp_path / "out", **SMALL)
    assert list(tmp_path.iterdir()) == []


def test_missing_tools_and_bad_arguments(tmp_path, monkeypatch):
    with pytest.raises(GanshotError, match="SoundFont not found"):
        build_soundfont_dataset(tmp_path / "o", **{**SMALL, "sf2_path": tmp_path / "none.sf2"})
    with pytest.raises(UserInputError):
        build_soundfont_dataset(tmp_path / "o", notes=(34,), progress=False)
    with pytest.raises(UserInputError):
        build_soundfont_dataset(tmp_path / "o", velocities=(0,), progress=False)
    with pytest.raises(UserInputError):
        build_soundfont_dataset(tmp_path / "o", variations=0, progress=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GanshotError, match="apt-get install fluidsynth"):
        build_soundfont_dataset(tmp_path / "o", **SMALL)
    assert not (tmp_path / "o").exists()


def test_default_soundfont_hint(tmp_path, monkeypatch):
    small = {k: v for k, v in SMALL.items() if k != "sf2_path"}
    monkeypatch.setattr(dsf, "DEFAULT_SF2S", (tmp_path / "gone.sf2", dsf.DEFAULT_SF2S[1]))
    with pytest.raises(GanshotError, match="fluid-soundfont-gm"):
        build_soundfont_dataset(tmp_path / "o", **small)
    monkeypatch.setattr(dsf, "DEFAULT_SF2S", (FLUID, tmp_path / "gone.sf3"))
    with pytest.raises(GanshotError, match="musescore-general-soundfont"):
        build_soundfont_dataset(tmp_path / "o", **small)
    assert not (tmp_path / "o").exists()
