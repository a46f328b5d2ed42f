"""model.json of a model bundle: its format constants and the one parser that checks every field.

Cheat sheet::

    from ganshot.engine.bundle_schema import parse_model_json, BUNDLE_FORMAT, BUNDLE_VERSION
    meta = parse_model_json(json_data, where="model.json")   # a checked copy, or FormatError naming the field

The format itself (what each field means) is documented in :mod:`.bundle`, which loads a bundle
folder through this parser and checks every listed file's sha256. Pure code over a decoded JSON
value: no files, no torch, no onnx.
"""

from __future__ import annotations

import math
import os
import re

from ._filecheck import PICKLE_EXTENSIONS
from .errors import FormatError
from .generators import ARCHITECTURE_NAMES
from .limits import MAX_DIRECTIONS, MAX_LATENT_DIM, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, check_int, check_pitch_range

__all__ = ["BUNDLE_FORMAT", "BUNDLE_VERSION", "MODEL_JSON", "ONNX_NAME", "SAFETENSORS_NAME", "IMPORTED",
           "ARCHITECTURES", "LATENT_DISTRIBUTIONS", "ALLOWED_EXTENSIONS", "MAX_MODEL_JSON_BYTES",
           "MAX_BUNDLE_ENTRIES", "PITCH_KEYS", "check_file_name", "parse_model_json"]

BUNDLE_FORMAT = "ganshot-model"
BUNDLE_VERSION = 1
MODEL_JSON = "model.json"
ONNX_NAME = "generator.onnx"
SAFETENSORS_NAME = "generator.safetensors"
IMPORTED = "imported"  # a generator trained elsewhere (`ganshot import`): ONNX only, no torch weights
ARCHITECTURES = (*ARCHITECTURE_NAMES, IMPORTED)  # the table of engine.generators, and imported ONNX
LATENT_DISTRIBUTIONS = ("normal", "uniform")  # z ~ N(0, 1) or U(-1, 1), as the model was trained
ALLOWED_EXTENSIONS = (".onnx", ".safetensors", ".md", ".png", ".txt")
MAX_MODEL_JSON_BYTES = 4 * 1024 * 1024
MAX_BUNDLE_ENTRIES = 256
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
PITCH_KEYS = ("input", "low", "high")  # model.json "pitch", exactly these


def check_file_name(name, where: str) -> str:
    """A listed file name must be plain (no separators, no '..') with an allowed extension."""
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name) or ".." in name:
        raise FormatError(
            f"{where}: file name {name!r:.80} is not a plain file name (path separators, '..' and hidden names are refused)"
        )
    suffix = os.path.splitext(name)[1].lower()
    if suffix in PICKLE_EXTENSIONS:
        raise FormatError(
            f"{where}: file {name!r} is a pickle-capable file type ({suffix}); ganshot never loads pickles"
        )
    if suffix not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(ALLOWED_EXTENSIONS)
        raise FormatError(f"{where}: file {name!r} has an extension bundles may not hold (allowed: {allowed})")
    return name


def _int(data: dict, key: str, where: str, low: int, high: int) -> int:
    return check_int(data.get(key), f"{where}: {key}", low, high, FormatError)


def _typed(data: dict, key: str, types, where: str, what: str):
    if key not in data:
        raise FormatError(f"{where}: missing field {key!r}")
    value = data[key]
    if not isinstance(value, types) or (isinstance(value, bool) and types is not bool):
        raise FormatError(f"{where}: field {key!r} must be {what}, got {type(value).__name__}")
    return value


def _finite_floats(values, count: int, where: str, what: str, non_negative: bool = False) -> None:
    ok = isinstance(values, list) and len(values) == count and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and (v >= 0 or not non_negative)
        for v in values
    )
    if not ok:
        kind = "non-negative finite numbers" if non_negative else "finite numbers"
        raise FormatError(f"{where}: {what} must be a list of exactly {count} {kind}")


def _check_directions(directions: dict, latent_dim: int, where: str) -> None:
    """Validate model.json ``directions`` (when not null); see :func:`parse_model_json`."""
    where = f"{where}: directions"
    for key, required in (("method", True), ("layer", False)):
        value = directions.get(key)
        if (required or key in directions) and (not isinstance(value, str) or not value or len(value) > 100):
            raise FormatError(f"{where}: {key} must be a non-empty string of at most 100 characters")
    _int(directions, "num_samples", where, 1, 1 << 40)
    vectors = directions.get("vectors")
    if not isinstance(vectors, list) or not 1 <= len(vectors) <= MAX_DIRECTIONS:
        count = len(vectors) if isinstance(vectors, list) else type(vectors).__name__
        raise FormatError(
            f"{where}: vectors must be a list of 1 to {MAX_DIRECTIONS} directions, got {count} (use null for none)"
        )
    for index, vector in enumerate(vectors):
        _finite_floats(vector, latent_dim, where, f"vectors[{index}]")
    _finite_floats(directions.get("sigmas"), len(vectors), where, "sigmas", non_negative=True)
    _finite_floats(directions.get("explained_variance"), len(vectors), where, "explained_variance")


def parse_model_json(data, where: str = MODEL_JSON) -> dict:
    """Validate a decoded model.json dict; returns it, or raises FormatError naming the problem.

    ``directions`` is null or ``{"method": str, "layer": str (optional), "num_samples": int,
    "vectors": [[latent_dim floats] × K], "sigmas": [K floats >= 0],
    "explained_variance": [K floats]}`` with 1 <= K <= :data:`MAX_DIRECTIONS`, all finite;
    a bundle without the field loads as one with null.
    """
    _check_format_version(data, where)
    latent_dim, conditional = _check_contract(data, where)
    _check_onnx_names(data, conditional, where)
    _check_pitch(data, where)
    for key in ("dataset", "training", "directions", "enhancer"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise FormatError(f"{where}: field {key!r} must be an object or null")
    if data.get("directions") is not None:
        _check_directions(data["directions"], latent_dim, where)
    for key in ("created_utc", "ganshot_version"):
        _typed(data, key, str, where, "a string")
    _check_files(data, where, needs_weights=data["architecture"] != IMPORTED)
    if data.get("enhancer") is not None:
        _check_enhancer(data, where)
    return data


def _check_enhancer(data: dict, where: str) -> None:
    """``enhancer`` (optional, version 1 bundles without it load as before): the post-filter's ONNX file,
    listed in ``files`` with the same sha256, its input/output names, and the bundle's rate and length
    (engine.enhancer checks the graph's shapes against them when it loads it)."""
    entry, where = data["enhancer"], f"{where}: enhancer"
    name = check_file_name(entry.get("file"), where)
    if not name.endswith(".onnx"):
        raise FormatError(f"{where}: file {name!r} must be an .onnx file")
    listed = data["files"].get(name)
    if listed is None:
        raise FormatError(f"{where}: file {name!r} is not listed in files")
    if entry.get("sha256") != listed["sha256"]:
        raise FormatError(f"{where}: sha256 differs from files[{name!r}].sha256")
    for key in ("input", "output"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise FormatError(f"{where}: {key} must be a non-empty string")
    for key in ("sample_rate", "num_samples"):
        if entry.get(key) != data[key]:
            raise FormatError(f"{where}: {key} is {entry.get(key)!r:.40}, the model's is {data[key]}")


def _check_format_version(data, where: str) -> None:
    """A JSON object of this format, in a version this ganshot reads."""
    if not isinstance(data, dict):
        raise FormatError(f"{where}: top level must be a JSON object")
    if data.get("format") != BUNDLE_FORMAT:
        raise FormatError(f"{where}: format is {data.get('format')!r:.60}, expected {BUNDLE_FORMAT!r}")
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > BUNDLE_VERSION:
        raise FormatError(
            f"{where}: version {version} is newer than this ganshot reads ({BUNDLE_VERSION}); upgrade ganshot"
        )
    if version != BUNDLE_VERSION or isinstance(version, bool):
        raise FormatError(f"{where}: unknown version {version!r:.40} (this ganshot reads version {BUNDLE_VERSION})")


def _check_contract(data: dict, where: str) -> tuple[int, bool]:
    """Name, architecture and what a caller relies on (rate, length, latent size, classes);
    -> (latent_dim, conditional)."""
    name = _typed(data, "name", str, where, "a string")
    if not name.strip() or len(name) > 200 or any(c in name for c in "\r\n\0"):
        raise FormatError(f"{where}: name must be one non-empty line of at most 200 characters")
    arch = _typed(data, "architecture", str, where, "a string")
    if arch not in ARCHITECTURES:
        raise FormatError(f"{where}: architecture {arch!r:.60} is not one this ganshot knows ({', '.join(ARCHITECTURES)})")
    hyper = _typed(data, "hyperparameters", dict, where, "an object")
    _int(data, "sample_rate", where, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)
    num_samples = _int(data, "num_samples", where, 16, 1 << 22)
    latent_dim = _int(data, "latent_dim", where, 1, MAX_LATENT_DIM)
    for key, value in (("latent_dim", latent_dim), ("num_samples", num_samples)):
        if key in hyper and hyper[key] != value:
            raise FormatError(f"{where}: hyperparameters.{key} is {hyper[key]!r} but {key} is {value}")
    classes = _typed(data, "classes", list, where, "a list")
    if not all(isinstance(c, str) and c and len(c) <= 100 for c in classes) or len(set(classes)) != len(classes):
        raise FormatError(f"{where}: classes must be a list of distinct non-empty strings")
    conditional = _typed(data, "conditional", bool, where, "true or false")
    if conditional and not classes:
        raise FormatError(f"{where}: a conditional model needs classes")
    if conditional and "num_classes" in hyper and hyper["num_classes"] != len(classes):
        raise FormatError(
            f"{where}: hyperparameters.num_classes is {hyper['num_classes']!r} but there are {len(classes)} classes"
        )
    if data.get("latent_distribution", "normal") not in LATENT_DISTRIBUTIONS:
        raise FormatError(f"{where}: latent_distribution must be one of {', '.join(LATENT_DISTRIBUTIONS)}")
    return latent_dim, conditional


def _check_onnx_names(data: dict, conditional: bool, where: str) -> None:
    """The ONNX graph's input, label input (conditional models only) and output names, and its opset."""
    onnx = _typed(data, "onnx", dict, where, "an object")
    for key in ("input", "output"):
        if not isinstance(onnx.get(key), str) or not onnx[key]:
            raise FormatError(f"{where}: onnx.{key} must be a non-empty string")
    label_input = onnx.get("label_input")
    if conditional != isinstance(label_input, str) or label_input == "":
        raise FormatError(f"{where}: onnx.label_input must be a name exactly when the model is conditional")
    _int(onnx, "opset", f"{where}: onnx", 7, 100)


def _check_pitch(data: dict, where: str) -> None:
    """``pitch`` null/absent, or ``{"input": name, "low": MIDI, "high": MIDI}`` matching the hyperparameters."""
    pitch, hyper = data.get("pitch"), data["hyperparameters"]
    hyper_range = (hyper.get("pitch_low"), hyper.get("pitch_high"))
    if pitch is None:
        if hyper_range != (None, None) and hyper_range != (0, 0):
            raise FormatError(f"{where}: hyperparameters give a pitch range but model.json has no pitch entry")
        return
    where = f"{where}: pitch"
    if not isinstance(pitch, dict) or set(pitch) != set(PITCH_KEYS):
        raise FormatError(f"{where} must be null or an object with exactly the keys {', '.join(PITCH_KEYS)}")
    name = pitch["input"]
    others = {data["onnx"].get(key) for key in ("input", "label_input", "output")}
    if not isinstance(name, str) or not name or len(name) > 100 or name in others:
        raise FormatError(f"{where}: input must be a non-empty name distinct from the other ONNX inputs and output")
    low, high = check_pitch_range(pitch["low"], pitch["high"], f"{where}: low, high", FormatError)
    if hyper_range != (None, None) and hyper_range != (low, high):
        raise FormatError(f"{where}: range {low}-{high} differs from hyperparameters pitch_low/pitch_high {hyper_range}")


def _check_files(data: dict, where: str, needs_weights: bool = True) -> None:
    """``files``: each entry's name, sha256 and size; the generator's ONNX and (but for an imported
    generator) safetensors listed."""
    files = _typed(data, "files", dict, where, "an object")
    for fname, entry in files.items():
        check_file_name(fname, where)  # .json is not an allowed extension, so model.json cannot be listed
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise FormatError(f"{where}: files[{fname!r}].sha256 must be 64 lowercase hex digits")
        _int(entry, "bytes", f"{where}: files[{fname!r}]", 0, 1 << 40)
    for required in (ONNX_NAME, SAFETENSORS_NAME)[:2 if needs_weights else 1]:
        if required not in files:
            raise FormatError(f"{where}: files does not list {required}")
