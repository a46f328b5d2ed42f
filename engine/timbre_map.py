"""Timbre maps: a model's one-shots laid out in 2-D, to play from by position instead of by seed.

``ganshot map`` (training/timbre_map.py) renders seeded one-shots, embeds them with the drum
classifier and lays them out by PCA; this module reads what it writes and turns a position into a
latent. A pad dragged over the map (OSC ``/pad/xy i:pad f:x f:y``) gets the latent of the point
under it blended with its neighbours: the :data:`NEIGHBOURS` nearest points, weighted by inverse
squared distance, their latents summed and scaled back to the prior's spread (a sum of
independent normal latents with weights w has standard deviation ``sqrt(sum w**2)``), so the
blend sounds like the model's one-shots rather than a quiet average; a conditional model takes
the nearest point's class. Standing on a point gives that point's latent exactly.

File ``map.json`` (format ``ganshot-timbre-map``, version 1)::

    {"format": "ganshot-timbre-map", "version": 1, "model": NAME, "model_sha256": HEX,
     "latent_dim": D, "latent_distribution": "normal",
     "points": [{"x": 0..1, "y": 0..1, "seed": int, "label": int | null, "class": str | null}, ...]}

The loader refuses other formats or versions, a map made for another model (its model.json
sha256), coordinates outside [0, 1], unknown labels and more than :data:`MAX_POINTS` points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import FormatError, UserInputError
from .latent import seeded_latent
from .limits import MAX_SEED, check_float
from .strict_json import read_json_file

__all__ = ["TimbreMap", "load_timbre_map", "timbre_map_json", "MAP_FORMAT", "MAP_VERSION", "MAX_POINTS",
           "NEIGHBOURS", "MAX_MAP_BYTES"]

MAP_FORMAT, MAP_VERSION = "ganshot-timbre-map", 1
MAX_POINTS = 20000
MAX_MAP_BYTES = 16 * 1024 * 1024
NEIGHBOURS = 4
_EXACT = 1e-9  # closer than this to a point: that point's latent, unblended


@dataclass(frozen=True, repr=False)
class TimbreMap:
    """Points (x, y) in [0, 1]² with their seeds, labels and latents float32[N, latent_dim]."""

    model_sha256: str
    xy: np.ndarray
    seeds: np.ndarray
    labels: tuple
    latents: np.ndarray
    path: Path | None = None

    def __repr__(self) -> str:
        return f"TimbreMap({len(self.seeds)} points, {self.path})"

    def latent_at(self, x: float, y: float) -> tuple[np.ndarray, int | None]:
        """(latent float32[latent_dim], label or None) for the position (x, y) in [0, 1]²."""
        x, y = check_float(x, "x", 0.0, 1.0), check_float(y, "y", 0.0, 1.0)
        dist = np.hypot(self.xy[:, 0] - x, self.xy[:, 1] - y)
        near = np.argsort(dist)[:NEIGHBOURS]
        nearest = int(near[0])
        if dist[nearest] < _EXACT:
            return self.latents[nearest].copy(), self.labels[nearest]
        weights = 1.0 / np.square(dist[near])
        weights /= weights.sum()
        z = (weights[:, None] * self.latents[near]).sum(axis=0) / math.sqrt(float(np.square(weights).sum()))
        return z.astype(np.float32), self.labels[nearest]


def _points(data: dict, where: str, classes: tuple) -> list[dict]:
    points = data.get("points")
    if not isinstance(points, list) or not 1 <= len(points) <= MAX_POINTS:
        raise FormatError(f"{where}: points must be a list of 1 to {MAX_POINTS} points")
    for i, point in enumerate(points):
        if not isinstance(point, dict):
            raise FormatError(f"{where}: points[{i}] must be an object")
        for key in ("x", "y"):
            value = point.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise FormatError(f"{where}: points[{i}].{key} must be a number in [0, 1]")
        seed, label = point.get("seed"), point.get("label")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise FormatError(f"{where}: points[{i}].seed must be an integer in [0, {MAX_SEED}]")
        if label is not None and (isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(classes)):
            raise FormatError(f"{where}: points[{i}].label must be null or a class index of the model")
        if (label is None) == bool(classes):
            raise FormatError(f"{where}: points[{i}].label must be {'a class index' if classes else 'null'} "
                              "for this model")
    return points


def load_timbre_map(path, bundle) -> TimbreMap:
    """Read and check ``map.json`` (or the folder holding it) for ``bundle``."""
    path = Path(path)
    if path.is_dir():
        path = path / "map.json"
    if not path.is_file():
        raise UserInputError(f"{path}: no such timbre map (make one with ganshot map)")
    data = read_json_file(path, MAX_MAP_BYTES)
    where = str(path)
    if not isinstance(data, dict) or data.get("format") != MAP_FORMAT:
        raise FormatError(f"{where}: not a ganshot timbre map (format must be {MAP_FORMAT!r})")
    if data.get("version") != MAP_VERSION:
        raise FormatError(f"{where}: version {data.get('version')!r:.20} is not one this ganshot reads ({MAP_VERSION})")
    if data.get("model_sha256") != bundle.sha256:
        raise UserInputError(f"{where}: made for model {str(data.get('model'))!r:.60}, not the loaded "
                             f"{bundle.name!r:.60} (make one for it with ganshot map --model)")
    points = _points(data, where, tuple(bundle.classes))
    seeds = np.array([p["seed"] for p in points], np.int64)
    latents = np.stack([seeded_latent(int(s), bundle.latent_dim, bundle.latent_distribution) for s in seeds])
    return TimbreMap(bundle.sha256, np.array([[p["x"], p["y"]] for p in points], np.float64), seeds,
                     tuple(p["label"] for p in points), latents.astype(np.float32), path)


def timbre_map_json(bundle, xy: np.ndarray, seeds, labels, class_names) -> dict:
    """The map.json document for points laid out at ``xy`` (float[N, 2] in [0, 1])."""
    return {"format": MAP_FORMAT, "version": MAP_VERSION, "model": bundle.name, "model_sha256": bundle.sha256,
            "latent_dim": bundle.latent_dim, "latent_distribution": bundle.latent_distribution,
            "points": [{"x": round(float(x), 6), "y": round(float(y), 6), "seed": int(s),
                        "label": None if label is None else int(label), "class": name}
                       for (x, y), s, label, name in zip(xy, seeds, labels, class_names)]}
