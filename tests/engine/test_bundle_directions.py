"""model.json "directions": round trip, null/absent still load, and every refusal (one-line errors)."""

from __future__ import annotations

import json
import math

import pytest

from ganshot.engine.bundle import MODEL_JSON, load_bundle, parse_model_json
from ganshot.engine.limits import MAX_DIRECTIONS
from ganshot.engine.bundle_write import write_bundle
from ganshot.engine.errors import FormatError
from tests.support.bundles import LATENT, edit_meta, make_meta, make_sources, refused


def directions(k: int = 2) -> dict:
    vectors = [[1.0 if i == j else 0.0 for i in range(LATENT)] for j in range(k)]
    return {
        "method": "ganspace-pca", "layer": "dense", "num_samples": 1000, "vectors": vectors,
        "sigmas": [1.0 / (j + 1) for j in range(k)], "explained_variance": [0.5 / (j + 1) for j in range(k)],
    }  # fmt: skip


@pytest.fixture
def directed(tmp_path):
    return write_bundle(tmp_path / "d", make_meta() | {"directions": directions()}, make_sources(tmp_path))


def test_round_trip(directed):
    assert load_bundle(directed).directions == directions()


def test_null_and_absent_directions_load(tmp_path, directed):
    edit_meta(directed, lambda m: m.__setitem__("directions", None))
    assert load_bundle(directed).directions is None
    edit_meta(directed, lambda m: m.pop("directions"))  # bundles from before the field existed
    assert load_bundle(directed).directions is None


def test_the_most_directions_load(tmp_path):
    meta = make_meta() | {"directions": directions(MAX_DIRECTIONS)}
    path = write_bundle(tmp_path / "m", meta, make_sources(tmp_path))
    assert len(load_bundle(path).directions["vectors"]) == MAX_DIRECTIONS == 64


def _set(path: str, value):
    def mutate(meta):
        target = meta["directions"]
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if value is _DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


_DELETE = object()


def _too_many(meta):
    meta["directions"] = directions(MAX_DIRECTIONS + 1)


REFUSALS = [
    (_set("vectors.0.1", "x"), "vectors[0] must be a list of exactly 4 finite numbers"),
    (_set("vectors.1", [1.0, 0.0, 0.0]), "vectors[1] must be a list of exactly 4 finite numbers"),
    (_set("vectors.1", [1.0, 0.0, 0.0, 0.0, 0.0]), "vectors[1] must be a list of exactly 4"),
    (_set("vectors.0.0", True), "vectors[0] must be"),
    (_set("vectors", []), "vectors must be a list of 1 to 64 directions, got 0 (use null for none)"),
    (_too_many, "vectors must be a list of 1 to 64 directions, got 65"),
    (_set("vectors", "east"), "vectors must be a list"),
    (_set("sigmas", [1.0]), "sigmas must be a list of exactly 2 non-negative finite numbers"),
    (_set("sigmas.1", -0.5), "sigmas must be a list of exactly 2 non-negative"),
    (_set("explained_variance", [0.5, 0.25, 0.1]), "explained_variance must be a list of exactly 2 finite numbers"),
    (_set("explained_variance", _DELETE), "explained_variance must be"),
    (_set("method", _DELETE), "method must be a non-empty string"),
    (_set("method", 3), "method must be a non-empty string"),
    (_set("layer", ""), "layer must be a non-empty string"),
    (_set("num_samples", 1.5), "num_samples must be an integer"),
    (_set("num_samples", 0), "num_samples must be an integer"),
    (lambda m: m.__setitem__("directions", [1, 2]), "field 'directions' must be an object or null"),
]


@pytest.mark.parametrize("mutate, needle", REFUSALS)
def test_refusals_on_disk(directed, mutate, needle):
    edit_meta(directed, mutate)
    message = refused(directed, FormatError, needle)
    assert message.startswith(str(directed.resolve() / MODEL_JSON)) and "directions" in message


@pytest.mark.parametrize(
    "where, bad", [("vectors", float("nan")), ("sigmas", float("inf")), ("explained_variance", math.nan)]
)
def test_non_finite_numbers_are_refused_before_anything_is_written(tmp_path, where, bad):
    data = directions()
    if where == "vectors":
        data["vectors"][1][2] = bad
    else:
        data[where][0] = bad
    with pytest.raises(FormatError) as info:
        write_bundle(tmp_path / "nan", make_meta() | {"directions": data}, make_sources(tmp_path))
    assert "\n" not in str(info.value) and f"directions: {where}" in str(info.value)
    assert not (tmp_path / "nan").exists()


def test_nan_in_model_json_text_is_refused(directed):
    text = (directed / MODEL_JSON).read_text()
    meta = json.loads(text)
    meta["directions"]["vectors"][0][0] = float("nan")
    (directed / MODEL_JSON).write_text(json.dumps(meta))  # json.dumps writes the bare token NaN
    refused(directed, FormatError)


def test_parse_model_json_checks_directions_against_latent_dim(directed):
    meta = json.loads((directed / MODEL_JSON).read_text())
    parse_model_json(meta)
    meta["latent_dim"] = meta["hyperparameters"]["latent_dim"] = LATENT + 1
    with pytest.raises(FormatError, match=r"vectors\[0\] must be a list of exactly 5"):
        parse_model_json(meta)
