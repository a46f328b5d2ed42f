"""The model a kit belongs to (:mod:`ganshot.engine.kit_model`): finding its bundle, checking a loaded one.

Pure data tests: stand-in bundles (SimpleNamespace), no model is rendered.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from ganshot.engine import kit as kit_mod
from ganshot.engine import kit_model
from ganshot.engine.errors import FormatError, IntegrityError, UserInputError
from ganshot.engine.kit import parse_kit
from ganshot.engine.kit_model import check_model, pad_label, resolve_model_path
from tests.support.kits import LATENT, SHA, kit_data


def test_check_model():
    kit = parse_kit(kit_data())
    same = SimpleNamespace(name="drums-v0", sha256=SHA, latent_dim=LATENT)
    check_model(kit, same)
    other = SimpleNamespace(name="drums-v1", sha256="cd" * 32, latent_dim=LATENT)
    with pytest.raises(IntegrityError, match=r"made for model 'drums-v0' \(sha256 abababababab…\) but 'drums-v1'"):
        check_model(kit, other)
    with pytest.raises(FormatError, match=r"pads\[1\]\.z has 8 values, the model's latent size is 100"):
        check_model(kit, SimpleNamespace(name="drums-v0", sha256=SHA, latent_dim=100))


def test_resolve_model_path(tmp_path):
    kits, models = tmp_path / "kits", tmp_path / "models"
    (models / "drums-v0").mkdir(parents=True)
    (kits / "bundles" / "mine").mkdir(parents=True)
    kit_path = kits / "k.json"
    kit = parse_kit(kit_data())
    assert resolve_model_path(kit, kit_path, models) == models / "drums-v0"  # plain name: models root
    (kits / "drums-v0").mkdir()
    assert resolve_model_path(kit, kit_path, models) == kits / "drums-v0"  # next to the kit wins

    def with_path(path, name="drums-v0"):
        return parse_kit(kit_data(model={"name": name, "path": path, "sha256": SHA}))

    assert resolve_model_path(with_path("bundles/mine"), kit_path, models) == kits / "bundles" / "mine"
    assert resolve_model_path(with_path(str(models / "drums-v0")), kit_path, models) == models / "drums-v0"
    assert resolve_model_path(with_path(None), kit_path, models) == models / "drums-v0"
    with pytest.raises(IntegrityError, match="'gone' not found"):
        resolve_model_path(with_path("bundles/gone", name="gone"), kit_path, models)
    with pytest.raises(UserInputError, match="not a plain folder name"):
        resolve_model_path(with_path(None, name="../../etc"), kit_path, models)


def test_kit_re_exports_the_model_checks():
    for name in kit_model.__all__:
        assert getattr(kit_mod, name) is getattr(kit_model, name) and name in kit_mod.__all__


def test_pad_label():
    pad = parse_kit(kit_data()).pads[0]
    assert pad_label(pad, 0, SimpleNamespace(name="m")) is None  # unconditional: no class
    conditional = SimpleNamespace(name="m", conditional=True, classes=("kick", "snare"))
    assert pad_label(dataclasses.replace(pad, class_name="snare"), 0, conditional) == 1
    with pytest.raises(UserInputError, match=r"pad 0 has no class_name; the model m is conditional \(classes: kick, snare\)"):
        pad_label(pad, 0, conditional)
    with pytest.raises(UserInputError, match="pad 2 asks for class 'clap'; the model m knows kick, snare"):
        pad_label(dataclasses.replace(pad, class_name="clap"), 2, conditional)
    with pytest.raises(UserInputError, match="is unconditional: remove class_name"):
        pad_label(dataclasses.replace(pad, class_name="kick"), 0, SimpleNamespace(name="m"))
