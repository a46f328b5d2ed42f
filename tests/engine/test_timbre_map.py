"""Timbre maps (engine/timbre_map.py): reading map.json, a position to a latent, /pad/xy on the engine."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.latent import seeded_latent
from ganshot.engine.timbre_map import load_timbre_map, timbre_map_json

XY = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]])


def write_map(bundle, path, xy=XY, labels=None, **changes):
    labels = labels or [None] * len(xy)
    doc = timbre_map_json(bundle, xy, range(10, 10 + len(xy)), labels, [None] * len(xy))
    doc.update(changes)
    path.write_text(json.dumps(doc))
    return path


def test_a_position_on_a_point_is_that_points_latent(tiny_bundle, tmp_path):
    tmap = load_timbre_map(write_map(tiny_bundle, tmp_path / "map.json"), tiny_bundle)
    z, label = tmap.latent_at(0.5, 0.5)
    np.testing.assert_allclose(z, seeded_latent(14, tiny_bundle.latent_dim), rtol=1e-6)
    assert label is None
    assert load_timbre_map(tmp_path, tiny_bundle).latents.shape == (5, tiny_bundle.latent_dim)  # the folder works too


def test_between_points_the_blend_keeps_the_priors_spread(tiny_bundle, tmp_path):
    xy = np.random.default_rng(0).random((400, 2))
    tmap = load_timbre_map(write_map(tiny_bundle, tmp_path / "map.json", xy=xy), tiny_bundle)
    blends = np.stack([tmap.latent_at(x, y)[0] for x, y in np.random.default_rng(1).random((300, 2))])
    assert np.std(blends) == pytest.approx(1.0, abs=0.15)  # not a quiet average of four latents
    a, b = tmap.latent_at(0.3, 0.3)[0], tmap.latent_at(0.3001, 0.3)[0]
    assert np.linalg.norm(a - b) < 0.2 * np.linalg.norm(a)  # a small move is a small change


@pytest.mark.parametrize("change, match", [
    ({"format": "other"}, "not a ganshot timbre map"),
    ({"version": 2}, "version 2"),
    ({"model_sha256": "0" * 64}, "made for model"),
    ({"points": []}, "1 to"),
])
def test_what_does_not_fit_is_refused(tiny_bundle, tmp_path, change, match):
    with pytest.raises((FormatError, UserInputError), match=match):
        load_timbre_map(write_map(tiny_bundle, tmp_path / "map.json", **change), tiny_bundle)


@pytest.mark.parametrize("point, match", [
    ({"x": 1.5}, "x must be a number in"), ({"y": float("nan")}, ""), ({"seed": -1}, "seed must be"),
    ({"label": 0}, "label must be null"),
])
def test_bad_points_are_refused(tiny_bundle, tmp_path, point, match):
    doc = timbre_map_json(tiny_bundle, XY, range(5), [None] * 5, [None] * 5)
    doc["points"][2].update(point)
    (tmp_path / "map.json").write_text(json.dumps(doc).replace("NaN", "1e999"))
    with pytest.raises(FormatError, match=match):
        load_timbre_map(tmp_path / "map.json", tiny_bundle)


def test_pad_xy_needs_a_map_and_sets_the_pad(tiny_bundle, tmp_path):
    from ganshot.engine.engine import Engine
    from tests.support import kit_for

    with Engine(tiny_bundle, kit_for(tiny_bundle), sample_rate=48000, backend="onnx") as engine:
        with pytest.raises(UserInputError, match="no timbre map"):
            engine.set_xy(1, 0.5, 0.5)
        engine.load_map(write_map(tiny_bundle, tmp_path / "map.json"))
        engine.set_xy(1, 1.0, 1.0)
        np.testing.assert_allclose(engine.pad_latent(1), seeded_latent(13, tiny_bundle.latent_dim), rtol=1e-6)
        assert engine.kit.pads[1].directions == ()
        with pytest.raises(UserInputError, match="x must be"):
            engine.set_xy(1, 2.0, 0.5)
