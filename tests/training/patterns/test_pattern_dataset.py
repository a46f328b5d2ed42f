"""Pattern datasets: a folder with good and bad MIDI files, the offline corpora, and a loader that refuses
what it does not know."""

from __future__ import annotations

import json

import pytest

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.patterns import grooves
from ganshot.training.patterns.dataset import build_dataset, load_dataset, parse_meter
from tests.support.patterns import write_midi

BEAT = 480


def _groove(tick0=0, bars=4):
    events = []
    for bar in range(bars):
        for step in range(0, 16, 2):
            events += [(tick0 + (bar * 16 + step) * 120, "note_on", 9, 42, 90), (tick0 + (bar * 16 + step) * 120 + 60,
                                                                              "note_off", 9, 42, 0)]
        events += [(tick0 + bar * 16 * 120, "note_on", 9, 36, 110), (tick0 + bar * 16 * 120 + 60, "note_off", 9, 36, 0)]
    return events


def test_a_folder_with_bad_files_builds_and_lists_every_skip_with_its_reason(tmp_path):
    midi = tmp_path / "midi"
    for index in range(3):
        write_midi(midi / f"groove{index}.mid", [_groove(bars=3 + index)])
    write_midi(midi / "sub" / "piano_only.mid", [[(0, "note_on", 0, 60, 90), (480, "note_off", 0, 60, 0)]])
    (midi / "broken.mid").write_bytes(b"MThd garbage")
    (midi / "notes.txt").write_text("not MIDI, not looked at")
    out = build_dataset(tmp_path / "data", midi_dir=midi, mode="drums", bars=2)
    data = load_dataset(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "ganshot-patterns-dataset" and manifest["version"] == 1
    assert data.onset.shape == (2 + 3 + 4, 32, 16)  # 3, 4 and 5 bars -> 2, 3 and 4 two-bar windows
    reasons = {s["path"]: s["reason"] for s in manifest["skipped_files"]}
    assert set(reasons) == {"broken.mid", "sub/piano_only.mid"}
    assert "not a readable MIDI file" in reasons["broken.mid"] and "no 2-bar window" in reasons["sub/piano_only.mid"]
    assert {f["split"] for f in manifest["files"]} == {"train", "test"}  # even a tiny folder gets both
    assert manifest["sources"][0]["name"] == "user"
    assert data.train_rolls.shape[1:] == (1, 32, 16)


def test_a_melodic_dataset_trains_on_onsets_and_hold(tmp_path):
    events = [e for bar in range(4) for e in ((bar * 4 * BEAT, "note_on", 0, 60 + bar, 90),
                                               ((bar * 4 + 2) * BEAT, "note_off", 0, 60 + bar, 0))]
    write_midi(tmp_path / "midi" / "a.mid", [events])
    write_midi(tmp_path / "midi" / "b.mid", [events])
    data = load_dataset(build_dataset(tmp_path / "data", midi_dir=tmp_path / "midi", mode="melodic"))
    assert data.train_rolls.shape[1:] == (2, 32, 48)
    assert data.hold[0].sum() == 16  # two half notes of 8 steps


def test_the_groove_corpus_is_written_as_midi_with_its_licence(tmp_path):
    out = build_dataset(tmp_path / "data", corpus="gm-grooves", mode="drums")
    manifest = json.loads((out / "manifest.json").read_text())
    (source,) = manifest["sources"]
    files = len(grooves.GROOVES) * len(grooves.VARIANTS)
    assert source["files"] == files and "MIT" in source["licence"]
    assert len(list((out / "midi").rglob("*.mid"))) == files
    assert manifest["windows"] == files * (grooves.BARS_PER_FILE - 1)
    assert not manifest["skipped_files"]


def test_the_bach_corpus_converts_music21_scores(tmp_path):
    pytest.importorskip("music21", reason="the bach corpus needs the patterns extra (pip install 'ganshot[patterns]')")
    out = build_dataset(tmp_path / "data", corpus="bach", mode="melodic", max_files=3)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sources"][0]["name"] == "bach" and "public domain" in manifest["sources"][0]["licence"]
    assert manifest["windows"] > 0 and manifest["rows"][24] == "C4"


@pytest.mark.parametrize("change, needle", [
    ({"version": 2}, "unknown version 2"),
    ({"format": "ganshot-manifest"}, "expected 'ganshot-patterns-dataset'"),
    ({"mode": "bass"}, "unknown mode"),
    ({"windows_sha256": "0" * 64}, "sha256 differs"),
])
def test_the_loader_refuses_what_it_does_not_know(tmp_path, change, needle):
    write_midi(tmp_path / "midi" / "a.mid", [_groove(bars=2)])
    out = build_dataset(tmp_path / "data", midi_dir=tmp_path / "midi")
    path = out / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(FormatError, match=needle):
        load_dataset(out)


def test_user_mistakes_are_one_line_errors(tmp_path):
    with pytest.raises(UserInputError, match="no MIDI files"):
        build_dataset(tmp_path / "out", midi_dir=tmp_path)
    with pytest.raises(UserInputError, match="either --midi"):
        build_dataset(tmp_path / "out")
    with pytest.raises(UserInputError, match="meter"):
        parse_meter("four")
    (tmp_path / "only_bad").mkdir()
    (tmp_path / "only_bad" / "x.mid").write_bytes(b"junk")
    with pytest.raises(FormatError, match="no usable windows"):
        build_dataset(tmp_path / "out", midi_dir=tmp_path / "only_bad")
