"""``ganshot explore``: random one-shots of a model, or a strip along one direction knob, with a
labelled spectrogram sheet (title, rows, seeds or knob values under the tiles, kHz and s axes).

Imported when explore runs or its parser is built; heavy imports stay inside the handler.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ganshot.engine.errors import UserInputError

__all__ = ["cmd_explore", "add_explore_command", "strip_coefficients", "MAX_STRIP", "SHEET_COLUMNS",
           "MAX_SHEET_TILES"]

MAX_STRIP = 256  # --direction: at most this many one-shots
STRIP_FORMAT, STRIP_VERSION = "ganshot-strip", 1
SHEET_COLUMNS = 8  # tiles per sheet row
MAX_SHEET_TILES = 64  # the contact sheet shows the first 64 one-shots (all are written as WAV)
KIT_PADS = 16


def strip_coefficients(count: int) -> list[float]:
    """``count`` knob values from -1 to +1 in knob order that always include 0 (the unchanged sound).

    An odd count is evenly spaced; an even one spaces ``(count - 1) // 2`` values over [-1, 0)
    and the rest over [0, +1] (2 values: 0 and +1).
    """
    import numpy as np

    if count < 2:
        raise UserInputError(f"a strip needs at least 2 knob values, got {count}")
    below = (count - 1) // 2
    values = list(np.linspace(-1.0, 0.0, below, endpoint=False)) + list(np.linspace(0.0, 1.0, count - below))
    return [round(float(v), 12) + 0.0 for v in values]


def _strip_latents(bundle, direction: int, seed: int, count: int):
    """``(coefficients, sigma, latents)``: the z of ``seed`` with knob ``direction`` at ``count`` values.

    Each latent is what :meth:`Engine.pad_latent` renders for a pad with that seed and
    directions ``[0, ..., 0, c]``: z moves by ``c · DIRECTION_RANGE_SIGMAS · σ_k`` along the
    bundle's direction k, or along latent axis k with σ = 1 when the bundle has no directions.
    """
    import numpy as np

    from ganshot.engine.engine import DIRECTION_RANGE_SIGMAS
    from ganshot.engine.latent import apply_directions, seeded_latent

    found = bundle.directions
    total = bundle.latent_dim if found is None else len(found["vectors"])
    if isinstance(direction, bool) or not 0 <= direction < total:
        has = f"{total} directions" if found is not None else f"no directions; its {total} latent axes stand in"
        raise UserInputError(f"--direction must be in 0..{total - 1} (model {bundle.name!r} has {has}), "
                             f"got {direction}")
    knobs = direction + 1
    vectors = None if found is None else np.asarray(found["vectors"], np.float32)[:knobs]
    sigmas = np.ones(knobs, np.float32) if found is None else np.asarray(found["sigmas"], np.float32)[:knobs]
    z0 = seeded_latent(seed, bundle.latent_dim, bundle.latent_distribution)
    coefficients = strip_coefficients(count)
    latents = []
    for c in coefficients:
        knob = np.zeros(knobs, np.float32)
        knob[direction] = c
        latents.append(apply_directions(z0, vectors, knob, sigmas * DIRECTION_RANGE_SIGMAS))
    return coefficients, float(sigmas[direction]), latents


def _explore_class(bundle, wanted: str | None) -> tuple[str | None, int | None]:
    """(class name, index) a conditional model renders every one-shot as; (None, None) otherwise."""
    classes = list(bundle.classes) if bundle.conditional else []
    if not classes:
        if wanted is not None:
            raise UserInputError(f"--class: the model {bundle.name} is unconditional (it has no classes)")
        return None, None
    name = classes[0] if wanted is None else wanted
    if name not in classes:
        raise UserInputError(f"--class {name!r:.60}: the model {bundle.name} knows {', '.join(classes)}")
    return name, classes.index(name)


def _render_one_shots(bundle, args, latents, paths, keep: int) -> list:
    """Render each latent to its WAV path; returns the first ``keep`` buffers (for the sheet)."""
    from ganshot.engine.offline import write_wav
    from ganshot.engine.render_worker import RenderWorker
    from ganshot.engine.runtime import load_generator_runtime

    runtime = load_generator_runtime(bundle, backend=args.backend)
    worker = RenderWorker(runtime, bundle.sha256, args.sample_rate)
    buffers = []
    try:
        for z, path in zip(latents, paths):
            buffer = worker.render_now(z, 0.0, args.label)
            write_wav(path, buffer, args.sample_rate, "PCM_24")
            if len(buffers) < keep:
                buffers.append(buffer)
    finally:
        worker.close()
    return buffers


def _rows(items: list, width: int) -> list[list]:
    return [items[i:i + width] for i in range(0, len(items), width)]


def _write_sheet(path: Path, bundle, args, buffers, captions, row_labels, title: str) -> Path:
    """A labelled sheet of ``buffers`` (SHEET_COLUMNS per row) up to the model's Nyquist."""
    from ganshot.engine.sheet import LOW_HZ, labelled_sheet
    from ganshot.engine.spectrogram import write_png

    heading = (f"{title}\nmodel {bundle.name} ({bundle.sample_rate} Hz, model.json {bundle.sha256[:12]}), "
               f"rendered at {args.sample_rate} Hz, backend {args.backend}; frequency (log) {LOW_HZ:g} Hz to "
               f"{bundle.sample_rate / 2000:g} kHz")
    image, _ = labelled_sheet(_rows(buffers, SHEET_COLUMNS), args.sample_rate, heading, row_labels,
                              _rows(captions, SHEET_COLUMNS), max_hz=bundle.sample_rate / 2)
    return write_png(path, image)


def _strip_captions(coefficients, seed: int) -> list[str]:
    return [f"c=0 (seed {seed})" if c == 0 else f"c={c:+.3f}" for c in coefficients]


def _seed_kit(bundle, seeds, name: str, class_name: str | None = None):
    """The explore kit: one pad per seed on GM notes from 36, each named after its seed (not a drum)."""
    from dataclasses import replace

    from ganshot.engine.presets import seeded_kit

    kit = seeded_kit(bundle, seeds, name=name, model_path=str(bundle.path.resolve()))
    return replace(kit, pads=tuple(replace(pad, name=f"Seed {pad.seed}", class_name=class_name) for pad in kit.pads))


def cmd_explore(args) -> int:
    import json

    from ganshot.engine.atomic import atomic_write_text
    from ganshot.engine.bundle import load_bundle
    from ganshot.engine.kit import save_kit
    from ganshot.engine.latent import seeded_latent
    from ganshot.engine.presets import default_kit_path, load_model_and_kit, resolve_bundle

    strip = args.direction is not None
    low, high = (2, MAX_STRIP) if strip else (1, 10000)
    if not low <= args.num <= high:
        raise UserInputError(f"-n must be in {low}..{high}{' with --direction' if strip else ''}, got {args.num}")
    bundle = load_bundle(resolve_bundle(args.model)) if args.model else load_model_and_kit(default_kit_path())[0]
    class_name, args.label = _explore_class(bundle, getattr(args, "class_name", None))
    if strip:  # every check before the output folder is made
        coefficients, sigma, latents = _strip_latents(bundle, args.direction, args.seed, args.num)
        names = [f"dir{args.direction:02d}_{i:03d}_c{c:+.3f}.wav" for i, c in enumerate(coefficients)]
    else:
        seeds = [args.seed + i for i in range(args.num)]
        latents = [seeded_latent(seed, bundle.latent_dim, bundle.latent_distribution) for seed in seeds]
        names = [f"seed_{seed:06d}.wav" for seed in seeds]
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    shown = len(names) if strip else min(len(names), MAX_SHEET_TILES)
    buffers = _render_one_shots(bundle, args, latents, [out_dir / name for name in names], keep=shown)
    if strip:
        title = (f"direction knob {args.direction} of seed {args.seed}{f' ({class_name})' if class_name else ''}: c from -1 to +1 in {len(names)} steps "
                 f"(z moves by c x 3 sigma, sigma {sigma:.3f}); c=0 is the seed's own sound")
        labels = [f"knob {args.direction}" for _ in _rows(coefficients, SHEET_COLUMNS)]
        sheet = _write_sheet(out_dir / "contact_sheet.png", bundle, args, buffers,
                             _strip_captions(coefficients, args.seed), labels, title)
        meta = {"format": STRIP_FORMAT, "version": STRIP_VERSION, "model": bundle.name, "model_sha256": bundle.sha256,
                "seed": args.seed, "direction": args.direction, "sigma": sigma, "coefficients": coefficients,
                "files": names}
        listing = atomic_write_text(out_dir / "strip.json", json.dumps(meta, indent=2) + "\n")
        print(f"ganshot: {len(names)} one-shots along direction {args.direction} (seed {args.seed}), {sheet.name}, "
              f"{listing.name} in {out_dir}", file=sys.stderr)
        return 0
    title = (f"random one-shots{f' of class {class_name}' if class_name else ''}, seeds {seeds[0]}..{seeds[-1]}"
             + (f" (the sheet shows the first {shown})" if shown < len(seeds) else ""))
    labels = [f"seeds {row[0]}-{row[-1]}" for row in _rows(seeds[:shown], SHEET_COLUMNS)]
    sheet = _write_sheet(out_dir / "contact_sheet.png", bundle, args, buffers,
                         [f"seed {s}" for s in seeds[:shown]], labels, title)
    kit_path = save_kit(_seed_kit(bundle, seeds[:KIT_PADS], f"explore seed {args.seed}", class_name), out_dir / "kit.json")
    print(f"ganshot: {len(seeds)} one-shots, {sheet.name}, {kit_path.name} in {out_dir}", file=sys.stderr)
    return 0


def add_explore_command(sub, fmt) -> None:
    """Register ``explore`` on the ``ganshot`` subparsers."""
    explore = sub.add_parser(
        "explore", help="N random one-shots, a spectrogram sheet and a kit; or a strip along one direction knob",
        description="Writes seed_SSSSSS.wav for seeds --seed .. --seed+N-1, contact_sheet.png (the first "
        f"{MAX_SHEET_TILES}, labelled with their seeds) and kit.json (the first {KIT_PADS}, pads named by seed). "
        "With --direction K: the one-shot of --seed as knob K turns from -1 to +1 in N steps that always include "
        "0, the unchanged sound (each moves z by c * 3 sigma_K, as the kit knob does), written as "
        "dirKK_III_c+0.500.wav (III the step 0.., c the knob value to 3 decimals), a contact_sheet.png in knob "
        "order labelled with the knob values and strip.json (seed, direction, sigma, coefficients, files); no "
        "kit.json.", formatter_class=fmt)
    explore.add_argument("-n", "--num", type=int, default=32,
                         help=f"how many one-shots (1-10000; with --direction 2-{MAX_STRIP} knob steps)")
    explore.add_argument("-o", "--out", required=True, help="output folder")
    explore.add_argument("--seed", type=int, default=0,
                         help="first seed (one-shot i uses seed + i); with --direction the strip's one seed")
    explore.add_argument("--direction", type=int, default=None, metavar="K",
                         help="render a strip along latent direction K (0-based; the model's directions, "
                         "else its latent axes) instead of random seeds")
    explore.add_argument("--model", default=None, help="model bundle (default: the default kit's)")
    explore.add_argument("--class", dest="class_name", default=None, metavar="NAME",
                         help="for a class-conditional model: the class every one-shot is rendered as "
                              "(default: the model's first class)")
    explore.add_argument("--sample-rate", type=int, default=48000, help="Hz")
    explore.add_argument("--backend", choices=("auto", "onnx", "torch"), default="onnx", help="generator backend")
    explore.set_defaults(handler=cmd_explore)
