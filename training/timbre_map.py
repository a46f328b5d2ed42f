"""``ganshot map``: a model's one-shots laid out in 2-D by how they sound, as a picture and a map to play from.

Cheat sheet::

    from ganshot.training.timbre_map import build_timbre_map
    build_timbre_map(bundle, "out/map", n=4000)   # out/map/map.json + out/map/map.png

``n`` seeded one-shots (seeds 0..n-1; a conditional model takes the classes in turn) are
rendered with ONNX Runtime and embedded by the drum classifier ``ganshot evaluate`` trained for
the model (``BUNDLE-eval/classifier.safetensors``, or ``classifier=``); the embeddings' first two
principal components, scaled to [0, 1], are the map's x and y, and the classifier's pick is each
point's class. Without a classifier the points are laid out by their log-spectra (64 log-spaced
bands) and carry the class they were asked for. ``map.json`` is what ``ganshot serve --map`` and
OSC ``/pad/xy`` read (engine/timbre_map.py); ``map.png`` shows every point coloured by class, with
a legend, the axes' shares of variance and a title.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ganshot.engine._font import text_mask, text_size
from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.errors import UserInputError
from ganshot.engine.latent import seeded_latent
from ganshot.engine.limits import check_int
from ganshot.engine.spectrogram import write_png
from ganshot.engine.timbre_map import MAX_POINTS, timbre_map_json
from ganshot.training.artefacts import log_band_powers

__all__ = ["build_timbre_map", "map_picture"]

_BATCH = 64
_PALETTE = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
                     (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (0, 0, 128), (128, 128, 0),
                     (0, 128, 128), (128, 0, 0), (255, 215, 0), (0, 0, 0)], np.uint8)
_SCALE, _PLOT, _LEFT, _TOP, _DOT = 2, 720, 80, 80, 2


def _embed(bundle, audio: np.ndarray, labels, classifier_path: Path | None):
    """-> (features float[N, F], class name per point, what the layout is of)."""
    if classifier_path is not None and classifier_path.is_file():
        from ganshot.training.classifier import load_classifier

        model, _ = load_classifier(classifier_path)
        probs, embedding = model.predict(audio)
        return embedding.astype(np.float64), [model.classes[i] for i in probs.argmax(axis=1)], \
            f"drum classifier embedding ({classifier_path.name})"
    names = [None if label is None else bundle.classes[label] for label in labels]
    return log_band_powers(audio), names, "log-spectrum (no classifier)"


def _draw_text(image: np.ndarray, text: str, x: int, y: int) -> None:
    mask = text_mask(text, _SCALE)
    mask = mask[: max(0, image.shape[0] - y), : max(0, image.shape[1] - x)]
    image[y:y + mask.shape[0], x:x + mask.shape[1]][mask] = 0


def map_picture(xy: np.ndarray, names, title: str, x_label: str, y_label: str) -> np.ndarray:
    """uint8[H, W, 3]: the points at ``xy`` in [0, 1]² coloured by ``names`` (a legend at the right)."""
    kinds = sorted({n for n in names if n is not None}) or ["(no class)"]
    colour = {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(kinds)}
    legend_w = max(text_size(k, _SCALE)[0] for k in kinds) + 60
    title_w = max(text_size(line, _SCALE)[0] for line in title.split("\n")) + 24
    width, height = max(_LEFT + _PLOT + 40 + legend_w, title_w), _TOP + _PLOT + 90
    image = np.full((height, width, 3), 255, np.uint8)
    for line, text in enumerate(title.split("\n")):
        _draw_text(image, text, 12, 12 + 22 * line)
    _draw_text(image, y_label, _LEFT, _TOP - 24)
    image[_TOP:_TOP + _PLOT, [_LEFT, _LEFT + _PLOT]] = 0
    image[[_TOP, _TOP + _PLOT], _LEFT:_LEFT + _PLOT + 1] = 0
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        px = _LEFT + int(round(tick * _PLOT))
        py = _TOP + _PLOT - int(round(tick * _PLOT))
        image[_TOP + _PLOT:_TOP + _PLOT + 6, px] = 0
        image[py, _LEFT - 6:_LEFT] = 0
        label = f"{tick:g}"
        w, _ = text_size(label, _SCALE)
        _draw_text(image, label, px - w // 2, _TOP + _PLOT + 10)
        _draw_text(image, label, _LEFT - 10 - w, py - 7)
    _draw_text(image, x_label, _LEFT, _TOP + _PLOT + 40)
    for (x, y), name in zip(xy, names):
        px, py = _LEFT + int(round(x * (_PLOT - 1))), _TOP + _PLOT - 1 - int(round(y * (_PLOT - 1)))
        image[max(_TOP, py - _DOT):py + _DOT + 1, max(_LEFT, px - _DOT):px + _DOT + 1] = colour[name or kinds[0]]
    for row, name in enumerate(kinds):
        y = _TOP + 10 + 26 * row
        image[y:y + 14, _LEFT + _PLOT + 40:_LEFT + _PLOT + 54] = colour[name]
        _draw_text(image, name, _LEFT + _PLOT + 62, y)
    return image


def build_timbre_map(bundle, out_dir, n: int = 4000, classifier=None, say=lambda _line: None) -> Path:
    """Render, embed and lay out ``n`` one-shots of ``bundle``; writes map.json and map.png to ``out_dir``."""
    from ganshot.engine.runtime import load_generator_runtime

    check_int(n, "number of one-shots (-n)", 8, MAX_POINTS)
    out = Path(out_dir)
    if classifier is not None and not Path(classifier).is_file():
        raise UserInputError(f"{classifier}: no such classifier")
    classifier = Path(classifier) if classifier is not None else \
        bundle.path.with_name(bundle.path.name + "-eval") / "classifier.safetensors"  # ganshot evaluate's, if any
    runtime = load_generator_runtime(bundle, backend="onnx", device="cpu", threads=1)
    labels = [i % len(bundle.classes) if bundle.conditional else None for i in range(n)]
    audio = []
    for start in range(0, n, _BATCH):
        seeds = range(start, min(n, start + _BATCH))
        z = np.stack([seeded_latent(s, bundle.latent_dim, bundle.latent_distribution) for s in seeds])
        lab = None if not bundle.conditional else np.array([labels[s] for s in seeds], np.int64)
        audio.append(runtime.render(z, lab))
    audio = np.concatenate(audio)
    say(f"rendered {n} one-shots; embedding them")
    features, names, what = _embed(bundle, audio, labels, classifier)
    features -= features.mean(axis=0)
    _, singular, components = np.linalg.svd(features, full_matrices=False)
    xy = features @ components[:2].T
    xy = (xy - xy.min(axis=0)) / np.maximum(xy.max(axis=0) - xy.min(axis=0), 1e-12)
    share = singular[:2] ** 2 / max(float((singular ** 2).sum()), 1e-30)
    out.mkdir(parents=True, exist_ok=True)
    document = timbre_map_json(bundle, xy, range(n), labels, names)
    document["layout"] = {"features": what, "explained_variance": [float(s) for s in share]}
    atomic_write_text(out / "map.json", json.dumps(document) + "\n")
    title = (f"{bundle.name}: timbre map of {n} one-shots (seeds 0..{n - 1}), laid out by PCA of the {what}\n"
             "colour = class the drum classifier picks; play a position with serve --map and OSC /pad/xy")
    write_png(out / "map.png", map_picture(xy, names, title, f"x = PC 1 ({share[0]:.0%} of variance), scaled to 0..1",
                                           f"y = PC 2 ({share[1]:.0%} of variance), scaled to 0..1"))
    say(f"wrote {out / 'map.json'} and {out / 'map.png'}")
    return out
