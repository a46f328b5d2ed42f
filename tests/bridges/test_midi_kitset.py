"""Kit set files: strict validation, every kit loaded and checked against the model up front."""

from __future__ import annotations

import json

import pytest

from ganshot.bridges.midi.kitset import MAX_KITS, KitSwitcher, first_kit_path, load_kitset, parse_kitset
from ganshot.engine.errors import FormatError
from ganshot.engine.kit import ModelRef, save_kit
from tests.support import kit_for

GOOD = {"format": "ganshot-kitset", "version": 1, "name": "live", "kits": ["a.json", "sub/b.json"]}


def test_parse_resolves_paths_against_the_file_folder(tmp_path):
    name, paths = parse_kitset(GOOD, tmp_path)
    assert name == "live" and paths == (tmp_path / "a.json", tmp_path / "sub" / "b.json")
    assert parse_kitset({**GOOD, "kits": ["/abs/c.json"]}, tmp_path)[1] == (tmp_path / "/abs/c.json",)


@pytest.mark.parametrize("change, message", [
    ({"format": "ganshot-kit"}, "format is 'ganshot-kit', expected 'ganshot-kitset'"),
    ({"version": 2}, "version 2 is newer than this ganshot reads (1); upgrade ganshot"),
    ({"version": "1"}, "unknown version '1'"),
    ({"version": True}, "unknown version True"),
    ({"extra": 1}, "top level has an unknown key 'extra'"),
    ({"kits": []}, "kits must be a list of 1 to 128 kit paths, got 0"),
    ({"kits": "a.json"}, "kits must be a list of 1 to 128 kit paths, got str"),
    ({"kits": ["a.json"] * (MAX_KITS + 1)}, "got 129"),
    ({"kits": ["a.json", 3]}, "kits[1] must be a string (a kit path), got int"),
    ({"kits": ["a.txt"]}, "kits[0] must be a kit file ending in .json"),
    ({"kits": ["a\n.json"]}, "kits[0] must be one line without control characters"),
    ({"kits": [""]}, "kits[0] must be 1 to 4096 characters"),
    ({"name": 5}, "name must be a string"),
    ({"kits": None}, "kits must be a list"),
])
def test_parse_refuses_with_one_line(tmp_path, change, message):
    with pytest.raises(FormatError) as err:
        parse_kitset({**GOOD, **change}, tmp_path, where="set.json")
    assert message in str(err.value) and str(err.value).startswith("set.json: ") and "\n" not in str(err.value)


def test_parse_refuses_a_missing_kits_field(tmp_path):
    with pytest.raises(FormatError, match="missing field 'kits'"):
        parse_kitset({"format": "ganshot-kitset", "version": 1}, tmp_path)
    with pytest.raises(FormatError, match="top level must be a JSON object"):
        parse_kitset([], tmp_path)


def test_load_checks_every_kit_against_the_model(tmp_path, tiny_bundle):
    save_kit(kit_for(tiny_bundle), tmp_path / "a.json")
    (tmp_path / "sub").mkdir()
    save_kit(kit_for(tiny_bundle, num_pads=2), tmp_path / "sub" / "b.json")
    path = tmp_path / "set.json"
    path.write_text(json.dumps(GOOD))
    kitset = load_kitset(path, bundle=tiny_bundle)
    assert [len(k.pads) for k in kitset.kits] == [4, 2] and kitset.name == "live"
    assert first_kit_path(path) == tmp_path / "a.json"
    switcher = KitSwitcher(kitset)
    assert switcher.index_of(tmp_path / "sub" / ".." / "sub" / "b.json") == 1
    assert switcher.index_of(tmp_path / "c.json") is None
    other = kit_for(tiny_bundle)
    other = other.__class__(name="other", model=ModelRef(name="x", sha256="1" * 64), pads=other.pads)
    save_kit(other, tmp_path / "sub" / "b.json")
    with pytest.raises(FormatError, match=r"set.json: kits\[1\]: .*") as err:
        load_kitset(path, bundle=tiny_bundle)
    assert "\n" not in str(err.value)
    (tmp_path / "sub" / "b.json").unlink()
    with pytest.raises(FormatError, match=r"kits\[1\]: .*b.json"):
        load_kitset(path)
    path.write_text('{"format": "ganshot-kitset", "version": 1, "kits": ["a.json"], "kits": []}')
    with pytest.raises(FormatError, match="duplicate key"):
        load_kitset(path)
    with pytest.raises(FormatError, match="not a regular file"):
        load_kitset(tmp_path)


def test_a_kit_of_another_model_is_a_hot_swap_and_back(tmp_path, tiny_bundle, tmp_path_factory):
    import shutil

    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.engine import Engine
    from ganshot.engine.kit import ModelRef

    other_dir = tmp_path / "models" / "other"
    shutil.copytree(tiny_bundle.path, other_dir)
    meta = json.loads((other_dir / "model.json").read_text())
    meta["name"] = "other"  # another model.json, so another sha256 (the weights are the same)
    (other_dir / "model.json").write_text(json.dumps(meta))
    other = load_bundle(other_dir)
    save_kit(kit_for(tiny_bundle), tmp_path / "a.json")
    kit_b = kit_for(other, num_pads=3)
    save_kit(kit_b.__class__(name="b", model=ModelRef(name="other", sha256=other.sha256, path="models/other"),
                             pads=kit_b.pads), tmp_path / "b.json")
    path = tmp_path / "set.json"
    path.write_text(json.dumps({"format": "ganshot-kitset", "version": 1, "kits": ["a.json", "b.json"]}))
    kitset = load_kitset(path, bundle=tiny_bundle)
    assert kitset.model_paths[1] == other_dir
    with Engine(tiny_bundle, kitset.kits[0], sample_rate=48000, backend="onnx") as engine:
        switcher = KitSwitcher(kitset, current=0)
        assert switcher.select(engine, 1)
        assert engine.model_swap.wait(120) and engine.model_swap.stage == "done", engine.model_swap
        assert engine.bundle.name == "other" and len(engine.kit.pads) == 3 and engine.kit.name == "b"
        assert switcher.select(engine, 0)  # back to the first model: a swap again
        assert engine.model_swap.wait(120) and engine.model_swap.stage == "done"
        assert engine.bundle.sha256 == tiny_bundle.sha256 and len(engine.kit.pads) == 4
