"""SFZ text for exported kits: the opcode table of engine/sfz.py, parsed back; bad paths refused."""

from __future__ import annotations

import re

import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.kit import parse_kit
from ganshot.engine.sfz import SfzRegion, note_name, regions_for_pad, sfz_text

KIT = {
    "format": "ganshot-kit", "version": 2, "name": "band", "model": {"name": "m", "sha256": "ab" * 32},
    "pads": [
        {"note": 42, "name": "Closed Hat", "seed": 1, "choke_group": 2, "pan": -0.5},
        {"note": 60, "name": "Sax", "seed": 2,
         "instrument": {"low": 59, "high": 61, "release_ms": 125, "polyphony": 3, "channel": 1, "sustain": False}},
    ],
}


def parse_sfz(text: str) -> list[dict]:
    """Regions of an SFZ file as dicts: each <region>'s opcodes over its <group>'s (comments dropped)."""
    regions, group, current = [], {}, None
    for line in text.splitlines():
        line = line.split("//", 1)[0].strip()
        for token in re.findall(r"<\w+>|\S+=\S+", line):
            if token == "<group>":
                group, current = {}, "group"
            elif token == "<region>":
                regions.append(dict(group))
                current = "region"
            else:
                key, value = token.split("=", 1)
                (regions[-1] if current == "region" else group)[key] = value
    return regions


def test_note_names():
    assert [note_name(n) for n in (0, 59, 60, 61, 69, 127)] == ["C-1", "B3", "C4", "C#4", "A4", "G9"]


def test_drum_and_instrument_opcodes_round_trip():
    kit = parse_kit(KIT)
    regions = regions_for_pad(kit.pads[0], 0, {42: "42_closed_hat.wav"})
    regions += regions_for_pad(kit.pads[1], 1, {n: f"60_sax/{n:03d}.wav" for n in (61, 59, 60)})
    text = sfz_text("band", regions, {0: "Closed Hat", 1: "Sax"}, header="model m")
    parsed = parse_sfz(text)
    assert [r["key"] for r in parsed] == ["42", "59", "60", "61"]  # one region per WAV, in key order
    hat, *sax = parsed
    assert hat == {"loop_mode": "one_shot", "group": "2", "off_by": "2", "off_mode": "fast", "pan": "-50.00",
                   "amp_velcurve_1": "0.007874", "amp_velcurve_127": "1", "sample": "42_closed_hat.wav", "key": "42"}
    for region, note in zip(sax, (59, 60, 61)):
        assert region["sample"] == f"60_sax/{note:03d}.wav"
        assert region["loop_mode"] == "no_loop" and float(region["ampeg_release"]) == 0.125
        assert region["polyphony"] == "3" and region["sustain_sw"] == "off"
        assert region["lochan"] == region["hichan"] == "2"  # SFZ counts channels from 1
    assert text.startswith("// band: written by ganshot export-kit\n// model m\n")
    assert "// pad 1: Sax" in text


@pytest.mark.parametrize("path", ["/abs.wav", "a b.wav", "a\\b.wav", "x=y.wav", "", "a<b>.wav"])
def test_unsafe_sample_paths_are_refused(path):
    with pytest.raises(UserInputError, match="SFZ sample path"):
        sfz_text("k", [SfzRegion(sample=path, key=60, pad_index=0)])


def test_an_empty_kit_is_refused_and_comments_stay_on_one_line():
    with pytest.raises(UserInputError, match="at least one region"):
        sfz_text("k", [])
    text = sfz_text("two\nlines", [SfzRegion(sample="a.wav", key=1, pad_index=0)], {0: "x\ny"}, header="h\ni")
    assert "// two lines: written" in text and "// h i" in text and "// pad 0: x y" in text
    assert parse_sfz(text) == [{"loop_mode": "one_shot", "amp_velcurve_1": "0.007874", "amp_velcurve_127": "1",
                                "sample": "a.wav", "key": "1"}]
