"""Where the shipped presets live and how kits find their model.

``presets/`` sits beside ``engine/`` in the source tree (an editable install finds it
there), and a wheel carries it as package data at ``ganshot/presets/``, beside
``ganshot/engine/``: one relative path for both. ``GANSHOT_PRESETS`` overrides the location.

Cheat sheet::

    bundle, kit = load_model_and_kit(kit_path=None, model=None)   # the default kit and its model
    kit = seeded_kit(bundle, seeds=range(1, 17))                   # 16 pads on GM notes 36-51
"""

from __future__ import annotations

import os
from pathlib import Path

from .bundle import ModelBundle, load_bundle
from .errors import UserInputError
from .gm_drums import note_class
from .kit import Kit, ModelRef, Pad, load_kit
from .kit_model import check_model, resolve_model_path

__all__ = ["presets_root", "models_root", "default_kit_path", "resolve_bundle", "load_model_and_kit",
           "seeded_kit", "GM_PAD_NAMES", "FIRST_PAD_NOTE"]

FIRST_PAD_NOTE = 36
#: GM percussion names for notes 36-51, the default kit's 16 pads.
GM_PAD_NAMES = ("Kick", "Side Stick", "Snare", "Clap", "Snare 2", "Low Floor Tom", "Closed Hat", "High Floor Tom",
                "Pedal Hat", "Low Tom", "Open Hat", "Low-Mid Tom", "Hi-Mid Tom", "Crash", "High Tom", "Ride")
#: GM hats share one choke group: a closed or pedal hat cuts an open hat.
HAT_NOTES = (42, 44, 46)
HAT_CHOKE_GROUP = 1


def presets_root() -> Path:
    return Path(os.environ.get("GANSHOT_PRESETS") or Path(__file__).resolve().parents[1] / "presets")


def models_root() -> Path:
    return presets_root() / "models"


def patterns_root() -> Path:
    """Where live patterns are looked up by default (``serve --patterns-root``): presets/patterns."""
    return presets_root() / "patterns"


def default_kit_path() -> Path:
    return presets_root() / "kits" / "default.json"


def resolve_bundle(model: str | os.PathLike) -> Path:
    """A bundle folder from a path, or from a name under presets/models/."""
    path = Path(model)
    if path.is_dir():
        return path
    named = models_root() / str(model)
    if os.sep not in str(model) and named.is_dir():
        return named
    found = sorted(p.name for p in models_root().glob("*") if (p / "model.json").is_file()) if models_root().is_dir() else []
    raise UserInputError(f"no model bundle {str(model)!r} (a folder, or one of: {', '.join(found) or 'none shipped'})")


def pad_class(bundle: ModelBundle, note: int, index: int) -> str | None:
    """The class a seeded pad on ``note`` asks a conditional model for: the GM drum of the note
    when the model knows it, else the model's classes in turn; None for unconditional models."""
    classes = list(bundle.classes) if bundle.conditional else []
    if not classes:
        return None
    try:
        wanted = note_class(note)
    except UserInputError:  # not a GM percussion note
        wanted = None
    return wanted if wanted in classes else classes[index % len(classes)]


def seeded_kit(bundle: ModelBundle, seeds, name: str = "seeded", first_note: int = FIRST_PAD_NOTE,
               model_path: str | None = None, truncations=None) -> Kit:
    """A kit with one pad per seed on consecutive MIDI notes from ``first_note`` (GM names for 36-51).

    ``model_path`` is stored as the kit's model path (default: the bundle's name, found under
    presets/models/); ``truncations``, one psi per seed, as each pad's ``truncation``."""
    seeds = list(seeds)
    truncations = [1.0] * len(seeds) if truncations is None else [float(t) for t in truncations]
    if len(truncations) != len(seeds):
        raise ValueError(f"{len(truncations)} truncations for {len(seeds)} seeds")
    pads = []
    for i, (seed, psi) in enumerate(zip(seeds, truncations)):
        note = first_note + i
        label = GM_PAD_NAMES[note - FIRST_PAD_NOTE] if 0 <= note - FIRST_PAD_NOTE < len(GM_PAD_NAMES) else f"Pad {i + 1}"
        pads.append(Pad(note=note, name=label, seed=int(seed), choke_group=HAT_CHOKE_GROUP if note in HAT_NOTES else 0,
                        class_name=pad_class(bundle, note, i), truncation=psi))
    return Kit(name=name, model=ModelRef.of(bundle, path=model_path or bundle.name), pads=tuple(pads))


def load_model_and_kit(kit_path=None, model=None) -> tuple[ModelBundle, Kit]:
    """Load a kit and its model. ``model`` (path or name) overrides the kit's own reference;
    with a model and no kit, 16 seeded pads are made for that model."""
    if model is not None and kit_path is None:
        bundle = load_bundle(resolve_bundle(model))
        return bundle, seeded_kit(bundle, range(1, 17), name=f"{bundle.name} seeds")
    kit_path = Path(kit_path) if kit_path is not None else default_kit_path()
    kit = load_kit(kit_path)
    bundle = load_bundle(resolve_bundle(model) if model is not None else resolve_model_path(kit, kit_path, models_root()))
    check_model(kit, bundle)
    return bundle, kit
