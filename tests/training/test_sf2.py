"""SF2 preset listing: raw bytes built here, plus the real FluidR3_GM.sf2."""

import io
import struct
from pathlib import Path

import pytest

from ganshot.engine.errors import FormatError
from ganshot.training.sf2 import DRUM_BANK, Preset, drum_kits, parse_presets, read_presets

FLUID_R3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def chunk(cid: bytes, data: bytes) -> bytes:
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def phdr_record(name: bytes, program: int, bank: int) -> bytes:
    return struct.pack("<20sHHHIII", name, program, bank, 0, 0, 0, 0)


def make_sf2(records: list[bytes], info: bytes = b"odd", riff_size_delta: int = 0) -> bytes:
    pdta = chunk(b"LIST", b"pdta" + chunk(b"phdr", b"".join(records)) + chunk(b"pbag", b"\0" * 4))
    body = b"sfbk" + chunk(b"LIST", b"INFO" + chunk(b"INAM", info)) + chunk(b"LIST", b"sdta" + chunk(b"smpl", b"\0" * 10)) + pdta
    return b"RIFF" + struct.pack("<I", len(body) + riff_size_delta) + body


EOP = phdr_record(b"EOP", 0, 0)
TWO_PRESETS = make_sf2([phdr_record(b"Kit\0junk", 25, 128), phdr_record(b"Piano  ", 0, 0), EOP])


def test_parses_presets_sorted_and_ignores_eop():
    presets = parse_presets(io.BytesIO(TWO_PRESETS))
    assert presets == [Preset("Piano", 0, 0), Preset("Kit", 25, 128)]
    assert drum_kits(presets) == [Preset("Kit", 25, 128)]
    assert presets[1].is_drum_kit and not presets[0].is_drum_kit


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "not a SoundFont"),
        (b"RIFF\x04\0\0\0WAVE", "not a SoundFont"),
        (TWO_PRESETS[:-7], "truncated"),
        (make_sf2([EOP]), "phdr"),  # only the terminal record
        (make_sf2([phdr_record(b"A", 0, 0), EOP])[:-1] + b"", "truncated"),
        (make_sf2([phdr_record(b"A", 0, 0), EOP + b"xx"]), "multiple of 38"),
        (make_sf2([phdr_record(b"A", 200, 0), EOP]), "out of range"),
        (make_sf2([phdr_record(b"A", 0, 0), EOP], riff_size_delta=-20), "runs past"),
    ],
)
def test_malformed_raises_format_error(data, words):
    with pytest.raises(FormatError, match=words):
        parse_presets(io.BytesIO(data), where="x.sf2")


def test_missing_pdta_raises():
    body = b"sfbk" + chunk(b"LIST", b"INFO" + chunk(b"INAM", b"x"))
    with pytest.raises(FormatError, match="phdr"):
        parse_presets(io.BytesIO(b"RIFF" + struct.pack("<I", len(body)) + body))


def test_missing_file_raises(tmp_path):
    with pytest.raises(FormatError, match="no such"):
        read_presets(tmp_path / "nope.sf2")
    with pytest.raises(FormatError, match="folder"):
        read_presets(tmp_path)


def test_fluid_r3_lists_drum_kits_in_bank_128():
    presets = read_presets(FLUID_R3)
    assert len(presets) > 100
    assert all(p.name and p.name != "EOP" for p in presets)
    kits = drum_kits(presets)
    assert kits[0] == Preset("Standard", 0, DRUM_BANK)
    assert {"TR-808", "Jazz", "Brush", "Electronic"} <= {k.name for k in kits}
    assert all(k.bank == 128 for k in kits) and len(kits) >= 9
    assert Preset("Yamaha Grand Piano", 0, 0) in presets


def test_truncated_fluid_r3_copy_raises(tmp_path):
    with open(FLUID_R3, "rb") as handle:
        head = handle.read(1 << 20)
    cut = tmp_path / "cut.sf2"
    cut.write_bytes(head)
    with pytest.raises(FormatError, match="truncated"):
        read_presets(cut)
