"""`ganshot map`: map.json that serve --map reads, and a labelled picture."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.timbre_map import load_timbre_map
from ganshot.training.timbre_map import build_timbre_map, map_picture


def test_the_map_covers_the_unit_square_and_loads_for_the_engine(tiny_bundle, tmp_path):
    out = build_timbre_map(tiny_bundle, tmp_path / "map", n=40)
    doc = json.loads((out / "map.json").read_text())
    xy = np.array([[p["x"], p["y"]] for p in doc["points"]])
    assert len(xy) == 40 and xy.min() == 0.0 and xy.max() == 1.0  # scaled to [0, 1] on both axes
    assert [p["seed"] for p in doc["points"]] == list(range(40))
    assert doc["layout"]["features"].startswith("log-spectrum")  # the tiny model has no classifier
    assert sum(doc["layout"]["explained_variance"]) <= 1.0
    tmap = load_timbre_map(out, tiny_bundle)
    assert len(tmap.seeds) == 40
    png = (out / "map.png").read_bytes()
    assert png.startswith(b"\x89PNG") and png[25] == 2  # an RGB picture


def test_the_picture_has_a_dot_per_class_colour_and_a_legend():
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.2]])
    image = map_picture(xy, ["kick", "snare", "kick"], "a title", "x label", "y label")
    assert image.ndim == 3 and image.shape[2] == 3
    colours = {tuple(c) for c in image.reshape(-1, 3)}
    assert len(colours - {(255, 255, 255), (0, 0, 0)}) >= 2  # two classes, two colours


@pytest.mark.parametrize("n, classifier, match", [(4, None, "must be an integer in"), (40, "nope.safetensors", "no such")])
def test_bad_requests_are_refused(tiny_bundle, tmp_path, n, classifier, match):
    with pytest.raises(UserInputError, match=match):
        build_timbre_map(tiny_bundle, tmp_path / "m", n=n, classifier=classifier)


def test_the_command_line_and_serve_reads_it(tiny_bundle, tmp_path):
    run = subprocess.run([sys.executable, "-m", "ganshot", "map", "--model", str(tiny_bundle.path), "-n", "16",
                          "-o", str(tmp_path / "m")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "m" / "map.png").is_file() and load_timbre_map(tmp_path / "m", tiny_bundle)
    from ganshot.cli import build_parser

    assert build_parser().parse_args(["serve", "--map", str(tmp_path / "m")]).map == str(tmp_path / "m")
