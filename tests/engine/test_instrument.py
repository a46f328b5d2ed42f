"""Instrument pads in kit files: parsing, refusals naming the field, note/channel lookup, versions."""

from __future__ import annotations

import copy

import pytest

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.instrument import (
    DEFAULT_POLYPHONY, DEFAULT_RELEASE_MS, MAX_INSTRUMENT_NOTES, Instrument, build_note_index, parse_instrument,
)
from ganshot.engine.kit import kit_to_json, load_kit, parse_kit, save_kit

SHA = "cd" * 32


def kit_data(version: int = 2) -> dict:
    return {
        "format": "ganshot-kit", "version": version, "name": "band",
        "model": {"name": "reeds", "path": None, "sha256": SHA},
        "pads": [
            {"note": 36, "name": "Kick", "seed": 1},
            {"note": 60, "name": "Sax", "seed": 3, "instrument": {"low": 48, "high": 84, "release_ms": 120}},
            {"note": 40, "name": "Bass", "seed": 4,
             "instrument": {"low": 28, "high": 52, "channel": 1, "polyphony": 1, "sustain": False}},
        ],
    }


def test_parse_fills_defaults_and_round_trips(tmp_path):
    kit = parse_kit(kit_data())
    sax = kit.pads[1].instrument
    assert sax == Instrument(low=48, high=84, release_ms=120.0)
    assert sax.polyphony == DEFAULT_POLYPHONY and sax.channel is None and sax.sustain and sax.root_note is None
    assert kit.pads[0].instrument is None
    path = save_kit(kit, tmp_path / "band.json")
    again = load_kit(path)
    assert again == kit
    assert kit_to_json(again)["version"] == 2
    assert kit_to_json(again)["pads"][1]["instrument"]["release_ms"] == 120.0


def test_drum_kits_are_still_written_as_version_1():
    data = kit_data(version=1)
    data["pads"] = data["pads"][:1]
    assert kit_to_json(parse_kit(data))["version"] == 1
    assert "instrument" not in kit_to_json(parse_kit(data))["pads"][0]


def test_lookup_by_note_and_channel():
    kit = parse_kit(kit_data())
    assert kit.index_for_note(36) == 0
    assert [kit.index_for_note(n) for n in (47, 48, 60, 84, 85)] == [-1, 1, 1, 1, -1]
    # the bass listens on channel 1 only; there it wins over the any-channel sax
    assert kit.index_for_note(50, channel=1) == 2
    assert kit.index_for_note(50, channel=0) == 1
    assert kit.index_for_note(50) == 1
    assert kit.index_for_note(30, channel=1) == 2 and kit.index_for_note(30, channel=2) == -1
    assert kit.index_for_note(128) == -1 and kit.index_for_note(-1, channel=1) == -1 and kit.index_for_note("60") == -1
    assert kit.pad_for_note(70).name == "Sax"


def _mutated(path: str, value):
    data = kit_data()
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return data


REFUSALS = [
    ("pads.1.instrument", [48, 84], "pads[1].instrument must be an object, got a list"),
    ("pads.1.instrument.high", KeyError, "pads[1].instrument is missing field 'high'"),
    ("pads.1.instrument.octave", 2, "pads[1].instrument has an unknown key 'octave'"),
    ("pads.1.instrument.high", 47, "pads[1].instrument.high must be an integer in [48, 127], got 47"),
    ("pads.1.instrument.low", -1, "pads[1].instrument.low must be an integer in [0, 127], got -1"),
    ("pads.1.instrument", {"low": 20, "high": 20 + MAX_INSTRUMENT_NOTES}, f"spans {MAX_INSTRUMENT_NOTES + 1} notes"),
    ("pads.1.instrument.release_ms", -5, "pads[1].instrument.release_ms must be a number in [0, 10000]"),
    ("pads.1.instrument.release_ms", float("nan"), "release_ms must be a finite number"),
    ("pads.1.instrument.polyphony", 0, "pads[1].instrument.polyphony must be an integer in [1, 32], got 0"),
    ("pads.1.instrument.channel", 16, "pads[1].instrument.channel must be an integer in [0, 15], got 16"),
    ("pads.1.instrument.sustain", 1, "pads[1].instrument.sustain must be true or false, got int"),
    ("pads.1.instrument.root_note", 200, "pads[1].instrument.root_note must be an integer in [0, 127]"),
    ("pads.1.note", 90, "pads[1].note 90 lies outside its instrument range 48..84"),
    ("pads.0.note", 50, "pads[1].instrument note 50 is already used by pads[0]"),
    ("pads.2.instrument.channel", None, "pads[2].instrument note 36 is already used by pads[0]"),
    ("version", 1, "pads[1].instrument needs kit version 2 (the file says 1)"),
]


@pytest.mark.parametrize("path, value, message", REFUSALS, ids=[m[:40] for _, _, m in REFUSALS])
def test_refusals_name_the_field(path, value, message):
    with pytest.raises(FormatError) as info:
        parse_kit(_mutated(path, value))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_two_instruments_on_different_channels_may_share_notes():
    data = kit_data()
    data["pads"][1]["instrument"]["channel"] = 0
    kit = parse_kit(data)
    assert kit.index_for_note(50, channel=0) == 1 and kit.index_for_note(50, channel=1) == 2
    assert kit.index_for_note(50) == -1  # no any-channel pad plays 50


def test_live_edits_keep_one_pad_per_note():
    kit = parse_kit(kit_data())
    with pytest.raises(UserInputError, match=r"pads\[0\]\.note 60 is already used by pads\[1\]"):
        kit.with_pad(0, note=60)
    moved = kit.with_pad(1, instrument={"low": 60, "high": 72}, note=60)
    assert moved.index_for_note(50) == -1 and moved.index_for_note(72) == 1
    with pytest.raises(UserInputError, match="lies outside its instrument range"):
        kit.with_pad(1, note=90)
    assert kit.index_for_note(50) == 1  # the kit that plays is untouched


def test_parse_instrument_alone_and_index_edges():
    inst = parse_instrument({"low": 0, "high": 0}, "x", "w")
    assert list(inst.notes) == [0] and 0 in inst and 1 not in inst and "0" not in inst
    assert inst.release_ms == DEFAULT_RELEASE_MS
    assert Instrument(low=60, high=60, release_ms=250.0).release_frames(48000) == 12000
    assert Instrument(low=60, high=60, release_ms=0.1).release_frames(44100) == 4
    pads = copy.deepcopy(parse_kit(kit_data()).pads)
    index = build_note_index(pads + pads, "w", strict=False)  # duplicates: the first claim wins
    assert index.lookup(60) == 1 and index.lookup(36) == 0
