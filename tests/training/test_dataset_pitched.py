"""Pitched SoundFont builder: real fluidsynth rendering real FluidR3 GM instruments over a tiny range;
GM program names and ranges; the pitched manifest fields."""

import json

import numpy as np
import pytest
import soundfile as sf

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.dataset_pitched import build_pitched_dataset, note_midi, parse_pitch_range
from ganshot.training.fluidsynth_render import DEFAULT_SF2
from ganshot.training.gm_programs import GM_PROGRAMS, is_melodic, playable_range, program_name, resolve_programs
from ganshot.training.manifest import Manifest, ManifestItem, load_manifest, save_manifest
from ganshot.training.pitch import cents_error, note_pitch

SR, N, HOLD_S = 16000, 12000, 0.4  # 0.75 s notes, note off at 0.4 s
# violin plays 55..103: 54 is out of its range; alto sax plays 49..81: all three are in
SMALL = dict(sf2_path=DEFAULT_SF2, pitch_range=(54, 56), velocities=(100,), num_samples=N, hold_s=HOLD_S, progress=False)
needs_fluid = pytest.mark.skipif(not DEFAULT_SF2.is_file(), reason="needs fluid-soundfont-gm (scripts/setup.sh)")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not DEFAULT_SF2.is_file():
        pytest.skip("needs fluid-soundfont-gm (scripts/setup.sh)")
    root = tmp_path_factory.mktemp("pitched") / "data"
    return build_pitched_dataset(root, "violin,sax", **SMALL), root


@pytest.mark.needs("fluidsynth", hint="Debian: fluidsynth")
def test_labels_and_pitches_in_the_manifest(built):
    manifest, root = built
    loaded = load_manifest(root)
    assert loaded.to_json() == manifest.to_json() and loaded.pitched
    assert loaded.classes == ["violin", "alto_sax"]  # by program number
    assert sorted((i.label, i.pitch) for i in loaded.items) == [
        ("alto_sax", 54), ("alto_sax", 55), ("alto_sax", 56), ("violin", 55), ("violin", 56)]
    for item in loaded.items:
        assert item.program == {"violin": 40, "alto_sax": 65}[item.label]
        assert item.note == item.pitch and item.velocity == 100 and item.source == "FluidR3_GM.sf2"
        assert item.kit in ("Violin", "Alto Sax")
        assert item.path == f"audio/{item.label}/fluidr3-gm_p{item.program:03d}_m{item.pitch:03d}_v100.flac"
        audio, rate = sf.read(root / item.path, dtype="float64")
        assert rate == SR and audio.shape == (N,)
        assert 20 * np.log10(np.abs(audio).max()) == pytest.approx(-1.0, abs=0.05)
        assert abs(cents_error(note_pitch(audio, SR).f0_hz, item.pitch)) < 50  # the label is the sound
    assert manifest.source["kind"] == "soundfont-pitched" and manifest.source["hold_s"] == HOLD_S


@pytest.mark.needs("fluidsynth", hint="Debian: fluidsynth")
def test_out_of_range_notes_are_skipped_and_counted(built):
    manifest, _ = built
    assert manifest.source["skipped"] == {"out of range": 1}  # violin 54
    [record] = manifest.source["soundfonts"]
    assert record["items"] == 5 and record["skipped"] == {"out of range": 1}
    assert {p["label"]: p["playable_range"] for p in manifest.source["programs"]} == {"violin": [55, 103], "alto_sax": [49, 81]}


@pytest.mark.needs("fluidsynth", hint="Debian: fluidsynth")
def test_the_release_after_note_off_is_in_the_sample(built):
    manifest, root = built
    for item in manifest.items:
        audio, _ = sf.read(root / item.path, dtype="float64")
        off = int(HOLD_S * SR)
        held = np.sqrt(np.mean(audio[off - 1600 : off] ** 2))
        release = np.sqrt(np.mean(audio[off + 160 : off + 800] ** 2))
        late = np.sqrt(np.mean(audio[N - 1600 :] ** 2))
        assert release > held * 10 ** (-40 / 20), item.path  # sound goes on after note off ...
        assert late < held, item.path  # ... and dies away


@pytest.mark.needs("fluidsynth", hint="Debian: fluidsynth")
def test_no_programs_in_range_and_bad_arguments(tmp_path):
    with pytest.raises(UserInputError, match="misses every program"):
        build_pitched_dataset(tmp_path / "o", "violin", **{**SMALL, "pitch_range": (30, 40)})
    with pytest.raises(UserInputError, match="hold_s"):
        build_pitched_dataset(tmp_path / "o", "violin", **{**SMALL, "hold_s": N / SR})
    with pytest.raises(UserInputError, match="velocities"):
        build_pitched_dataset(tmp_path / "o", "violin", **{**SMALL, "velocities": (0,)})
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("spec, needle", [
    ("violni", "did you mean violin"),
    ("saxophone", "alto_sax"),
    ("gunshot", "not melodic"),
    ("128", "out of range"),
    (",", "no GM programs"),
])  # fmt: skip
def test_bad_program_names_give_one_clear_line(spec, needle):
    with pytest.raises(UserInputError, match=needle) as err:
        resolve_programs(spec)
    assert "\n" not in str(err.value)


def test_program_names_aliases_and_ranges():
    assert len(GM_PROGRAMS) == 128 and len({name for name, _, _ in GM_PROGRAMS}) == 128
    assert resolve_programs("sax, Violin ,41,Alto Sax,piano") == (65, 40, 41, 0)
    assert resolve_programs([73, "trumpet"]) == (73, 56)
    assert program_name(65) == "alto_sax" and playable_range(40) == (55, 103)
    assert not is_melodic(127) and is_melodic(114)
    for name, low, high in GM_PROGRAMS:
        assert (low is None) == (high is None), name
        assert low is None or 0 <= low < high <= 127, name


def test_pitch_range_text():
    assert parse_pitch_range("36-96") == (36, 96) and parse_pitch_range((60, 60)) == (60, 60)
    for bad in ("96-36", "36", "a-b", "0-128"):
        with pytest.raises(UserInputError, match="pitch range"):
            parse_pitch_range(bad)


def test_note_midi_layout():
    midi, onsets = note_midi(65, [(60, 100), (62, 50)], SR, N, HOLD_S)
    msgs = [m for m in midi.tracks[0] if not m.is_meta]
    assert all(m.channel == 0 for m in msgs)
    assert msgs[1].type == "program_change" and msgs[1].program == 65
    ticks, events = 0, []
    for m in midi.tracks[0]:
        ticks += m.time
        events.append((ticks, m))
    on = [t for t, m in events if m.type == "note_on"]
    off = [t for t, m in events if m.type == "note_off"]
    cut = [t for t, m in events if m.type == "control_change" and m.control == 120]
    assert [b - a for a, b in zip(on, off)] == [round(HOLD_S * 960)] * 2
    assert all((c - a) / 960 * SR >= N for a, c in zip(on, cut))  # the sound runs the whole one-shot
    assert onsets == [int(t * SR // 960) for t in on]


def test_drum_manifests_still_load_and_pitched_fields_are_checked(tmp_path):
    drum = {"format": "ganshot-dataset", "version": 2, "sample_rate": 16000, "num_samples": 16384,
            "classes": ["kick"], "source": {"kind": "soundfont"},
            "items": [{"path": "audio/kick/a.flac", "class": "kick", "kit": "Standard", "note": 36, "velocity": 100,
                       "source": "FluidR3_GM.sf2"}]}  # fmt: skip
    (tmp_path / "manifest.json").write_text(json.dumps(drum))
    loaded = load_manifest(tmp_path)
    assert not loaded.pitched and loaded.items[0].pitch is None and loaded.items[0].program is None
    assert loaded.to_json() == drum  # written back unchanged: no pitch keys appear
    drum["items"][0]["pitch"] = 128
    (tmp_path / "manifest.json").write_text(json.dumps(drum))
    with pytest.raises(FormatError, match="pitch"):
        load_manifest(tmp_path)
    item = ManifestItem("audio/violin/a.flac", "violin", "Violin", 60, 100, "FluidR3_GM.sf2", pitch=60, program=40)
    save_manifest(tmp_path, Manifest(16000, 64000, ["violin"], [item]))
    assert load_manifest(tmp_path).items == [item]
