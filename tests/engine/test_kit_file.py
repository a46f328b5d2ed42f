"""Kit files on disk: save/load round trip, atomic writes with a .bak, refusals of bad bytes and files.

Pure file tests: no model is rendered, no torch or onnxruntime is imported. The kill -9
test of the atomic write is tests/engine/test_kit_crash_safety.py.
"""

from __future__ import annotations

import copy
import json
import os
import time

import pytest

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.kit import MAX_KIT_BYTES, Kit, ModelRef, Pad, kit_to_json, load_kit, parse_kit, save_kit
from tests.support.kits import LATENT, SHA, kit_data


def write(path, data) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)



# -- save: round trip, .bak, temp files, refusals -----------------------------------------


def test_round_trip_is_exact(tmp_path):
    kit = parse_kit(kit_data())
    path = save_kit(kit, tmp_path / "k.json")
    again = load_kit(path, latent_dim=LATENT)
    assert again == kit
    assert again.pads[1].z == tuple(kit_data()["pads"][1]["z"])  # floats survive bit for bit
    assert parse_kit(kit_to_json(again)) == kit
    first = path.read_bytes()
    save_kit(again, path)
    assert path.read_bytes() == first  # stable text
    assert b"\n" not in first.split(b'"z": [')[1].split(b"]")[0]  # number lists on one line



def test_save_keeps_previous_as_bak(tmp_path):
    path = tmp_path / "k.json"
    one = parse_kit(kit_data(name="one"))
    save_kit(one, path)
    assert not (tmp_path / "k.json.bak").exists()
    save_kit(parse_kit(kit_data(name="two")), path)
    assert load_kit(tmp_path / "k.json.bak") == one
    assert load_kit(path).name == "two"
    assert sorted(os.listdir(tmp_path)) == ["k.json", "k.json.bak"]


def test_save_cleans_abandoned_temp_files_only(tmp_path):
    path = tmp_path / "k.json"
    stale = [tmp_path / ".k.json.abcd_123.tmp", tmp_path / ".k.json.bak.zz99zz99.tmp"]
    keep = [tmp_path / ".other.json.abcd_123.tmp", tmp_path / ".k.json.notmine.tmp", tmp_path / "k.json.tmp"]
    for f in stale + keep:
        f.write_text("{")
    save_kit(parse_kit(kit_data()), path)
    assert not any(f.exists() for f in stale)
    assert all(f.exists() for f in keep)


def test_save_refuses_invalid_kit_and_leaves_file(tmp_path):
    path = tmp_path / "k.json"
    save_kit(parse_kit(kit_data()), path)
    before = path.read_bytes()
    bad = Kit(name="x", model=ModelRef("m", SHA), pads=(Pad(note=36, seed=1, gain_db=99.0),))
    with pytest.raises(UserInputError, match=r"pads\[0\]\.gain_db"):
        save_kit(bad, path)
    nan = Kit(name="x", model=ModelRef("m", SHA), master_gain_db=float("nan"))
    with pytest.raises(UserInputError, match="cannot write"):
        save_kit(nan, path)
    with pytest.raises(UserInputError, match="folder"):
        save_kit(parse_kit(kit_data()), tmp_path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["k.json"]


def test_failed_load_leaves_the_playing_kit_alone(tmp_path):
    path = save_kit(parse_kit(kit_data()), tmp_path / "k.json")
    playing = load_kit(path)
    snapshot = copy.deepcopy(kit_to_json(playing))
    path.write_text(path.read_text().replace('"gain_db": -3.0', '"gain_db": 99'))
    with pytest.raises(FormatError, match=r"pads\[0\]\.gain_db"):
        playing = load_kit(path)  # the engine's swap: only a fully built kit replaces the reference
    assert kit_to_json(playing) == snapshot


def test_save_refuses_to_replace_a_huge_file(tmp_path):
    path = tmp_path / "k.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_KIT_BYTES + 1)
    with pytest.raises(UserInputError, match="larger than any kit"):
        save_kit(parse_kit(kit_data()), path)
    assert path.stat().st_size == MAX_KIT_BYTES + 1


def test_save_follows_symlink(tmp_path):
    real = tmp_path / "real.json"
    save_kit(parse_kit(kit_data(name="one")), real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    save_kit(parse_kit(kit_data(name="two")), link)
    assert link.is_symlink() and load_kit(real).name == "two"



# -- load: bad bytes, odd files, latent size ------------------------------------------------


FILE_REFUSALS = [
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"format": "ganshot-kit", "version": 1, "master_gain_db": NaN}', "non-finite number NaN"),
    (b'{"format": "ganshot-kit", "version": 1, "master_gain_db": -Infinity}', "non-finite number -Infinity"),
    (b'{"format": "ganshot-kit", "version": 1, "master_gain_db": 1e999}', "non-finite number 1e999"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"seed": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b'{"format": "ganshot-kit",', "not valid JSON"),
]


@pytest.mark.parametrize("raw, message", FILE_REFUSALS, ids=[m for _, m in FILE_REFUSALS])
def test_load_refuses_bad_bytes(tmp_path, raw, message):
    path = tmp_path / "k.json"
    path.write_bytes(raw)
    with pytest.raises(FormatError, match=message) as info:
        load_kit(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_load_refuses_huge_file_quickly(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(1 << 30)  # sparse: 1 GiB that is never read
    start = time.perf_counter()
    with pytest.raises(FormatError, match=f"larger than {MAX_KIT_BYTES} bytes"):
        load_kit(path)
    assert time.perf_counter() - start < 0.5


def test_load_refuses_missing_folder_and_device(tmp_path):
    with pytest.raises(FormatError, match="missing"):
        load_kit(tmp_path / "nope.json")
    with pytest.raises(FormatError, match="not a regular file"):
        load_kit(tmp_path)
    if os.path.exists("/dev/zero"):
        with pytest.raises(FormatError, match="not a regular file"):
            load_kit("/dev/zero")


def test_load_checks_latent_size(tmp_path):
    data = kit_data()
    data["pads"][3]["z"] = [0.0] * 64
    path = write(tmp_path / "k.json", data)
    load_kit(path)  # fine without a model to compare with
    with pytest.raises(FormatError, match=r"pads\[1\]\.z has 8 values, the model's latent size is 64"):
        load_kit(path, latent_dim=64)
    data["pads"][1]["z"] = [0.0] * 100
    with pytest.raises(FormatError, match=r"pads\[3\]\.z has 64 values, the model's latent size is 100"):
        load_kit(write(tmp_path / "k.json", data), latent_dim=100)
