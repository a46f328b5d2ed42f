"""Folder builder on pitched folders: pitch from file names, else estimated and reported; the name rule."""

import numpy as np
import pytest
import soundfile as sf

from ganshot.engine.errors import UserInputError
from ganshot.training.dataset_folder import build_folder_dataset
from ganshot.training.manifest import load_manifest
from ganshot.training.pitch_names import pitch_from_name
from tests.support import synth_tone


@pytest.mark.parametrize("stem, midi", [
    ("60", 60), ("127", 127), ("0", 0), ("128", None),
    ("C4", 60), ("c4", 60), ("A4", 69), ("C#4", 61), ("Cs4", 61), ("Db3", 49), ("db3", 49), ("Bb3", 58), ("b3", 59),
    ("E♭2", 39), ("F♯5", 78), ("G9", 127), ("G#9", None), ("Cb4", 59),
    ("sax_A3_v100", 57), ("Piano.ff.C4", 60), ("Violin.arco.ff.sulG.A3.stereo", 57), ("cello-d2-long", 38),
    ("take 2 C5", 72), ("C4_then_E4", 64),  # the last note name wins
    ("flute_midi72", 72), ("note_60_x", None), ("NOTE61", 61),
    ("take_2", None), ("v100", None), ("kick", None), ("C-1", None), ("C10", None), ("", None),
])  # fmt: skip
def test_pitch_from_name(stem, midi):
    assert pitch_from_name(stem) == midi


SR = 16000

FILES = {
    "sax/C4.wav": 60,
    "sax/61.flac": 61,
    "sax/sax_A3_v100.wav": 57,
    "sax/Db3.wav": 49,
    "violin/untitled.wav": 64,  # no pitch in the name: estimated
    "violin/wrong_C4.wav": 72,  # named C4, sounds C5: kept as C4, reported
}


@pytest.fixture
def pitched_folder(tmp_path):
    src = tmp_path / "in"
    for rel, midi in FILES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        tone = synth_tone(midi, SR // 2, SR, harmonics=4, decay_per_s=2.0)
        sf.write(src / rel, tone, SR, format="FLAC" if rel.endswith(".flac") else "WAV")
    noise = np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32) * 0.3
    sf.write(src / "violin" / "breath.wav", noise, SR)  # no name pitch, no stable pitch
    return src


def test_pitches_from_names_estimated_and_reported(pitched_folder, tmp_path, capsys):
    manifest, skipped = build_folder_dataset(pitched_folder, tmp_path / "out", num_samples=8000, pitched=True)
    assert skipped == []
    loaded = load_manifest(tmp_path / "out")
    assert loaded.pitched and loaded.classes == ["sax", "violin"]
    by_name = {item.path.split("_", 1)[1].rsplit(".", 1)[0]: item.pitch for item in loaded.items}
    assert by_name == {"c4": 60, "61": 61, "sax-a3-v100": 57, "db3": 49, "untitled": 64, "wrong-c4": 60, "breath": None}
    record = loaded.source["pitch"]
    assert record["from_name"] == 5
    assert record["estimated"] == [["violin/untitled.wav", 64]]
    assert record["no_pitch"] == ["violin/breath.wav"]
    assert record["name_disagrees"] == [["violin/wrong_C4.wav", 60, pytest.approx(72.0, abs=0.05)]]
    out = capsys.readouterr().out
    assert "5 from file names, 1 estimated, 1 without a stable pitch" in out


def test_require_pitch_refuses_naming_the_files(pitched_folder, tmp_path):
    with pytest.raises(UserInputError, match=r"1 files have no pitch.*violin/breath.wav"):
        build_folder_dataset(pitched_folder, tmp_path / "out", num_samples=8000, pitched=True, require_pitch=True,
                             progress=False)  # fmt: skip
    assert not (tmp_path / "out").exists()
    with pytest.raises(UserInputError, match="--pitched"):
        build_folder_dataset(pitched_folder, tmp_path / "out", require_pitch=True, progress=False)


def test_drum_mode_writes_no_pitch(pitched_folder, tmp_path):
    manifest, _ = build_folder_dataset(pitched_folder, tmp_path / "out", num_samples=8000, progress=False)
    assert not manifest.pitched and "pitch" not in manifest.source
    assert all("pitch" not in item.to_json() for item in manifest.items)
