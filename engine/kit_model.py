"""The model a kit belongs to: where its bundle is, and whether a loaded bundle fits it.

Cheat sheet::

    from ganshot.engine.kit_model import check_model, resolve_model_path, pad_label
    folder = resolve_model_path(kit, "presets/kits/808ish.json", "presets/models")  # IntegrityError if absent
    bundle = load_bundle(folder); check_model(kit, bundle)    # IntegrityError on another model
    label = pad_label(kit.pads[0], 0, bundle)                 # class index, None when unconditional
    check_latent_dim(kit, bundle.latent_dim)                  # FormatError naming the pad

A kit names its model in ``model`` (:class:`~.kit.ModelRef`): a name, the sha256 of the
bundle's model.json, and a path. ``model.path`` is absolute, relative to the kit file's
folder, or (a plain name) a bundle under the models root; null means
``models_root/model.name``. :mod:`.kit` re-exports these names, so
``from ganshot.engine.kit import check_model`` keeps working.

Nothing here loads a bundle: the checks read a loaded one's ``name``, ``sha256``,
``latent_dim``, ``classes``/``conditional`` and pitch range. Each refusal is one line
naming the kit, the pad and the model. This module imports neither torch nor
onnxruntime, nor ``ganshot.training``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import FormatError, IntegrityError, UserInputError
from .instrument import check_instruments

if TYPE_CHECKING:  # annotations only: kit.py imports this module
    from .kit import Kit

__all__ = ["check_latent_dim", "check_model", "resolve_model_path", "pad_label"]

_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_latent_dim(kit: Kit, latent_dim: int, where: str = "kit", error: type[Exception] = FormatError) -> None:
    """Every pad's ``z`` must hold ``latent_dim`` values (seed pads always fit)."""
    for i, pad in enumerate(kit.pads):
        if pad.z is not None and len(pad.z) != latent_dim:
            raise error(f"{where}: pads[{i}].z has {len(pad.z)} values, the model's latent size is {latent_dim}")


def resolve_model_path(kit: Kit, kit_path: str | os.PathLike | None, models_root: str | os.PathLike) -> Path:
    """The bundle folder ``kit.model`` points at (not loaded here); IntegrityError if none is there.

    Absolute paths are used as they are; relative ones are tried against the kit
    file's folder (the working folder when ``kit_path`` is None), then, for a plain
    name, under ``models_root``. A null path means ``models_root / model.name``.
    """
    ref, root = kit.model, Path(models_root)
    base = Path(kit_path).parent if kit_path is not None else Path.cwd()
    if ref.path is None:
        if not _PLAIN_NAME.fullmatch(ref.name) or ".." in ref.name:
            raise UserInputError(
                f"kit {kit.name!r:.60}: model.name {ref.name!r:.60} is not a plain folder name; set model.path"
            )
        candidates = [root / ref.name]
    elif Path(ref.path).is_absolute():
        candidates = [Path(ref.path)]
    else:
        candidates = [base / ref.path]
        if _PLAIN_NAME.fullmatch(ref.path) and ".." not in ref.path:
            candidates.append(root / ref.path)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise IntegrityError(f"kit {kit.name!r:.60}: model {ref.name!r:.60} not found (looked in {looked})")


def check_model(kit: Kit, bundle) -> None:
    """IntegrityError unless ``bundle`` (a ModelBundle) is the model the kit was made for.

    Compares the sha256 of model.json, then every pad's ``z`` length with the
    bundle's ``latent_dim`` (FormatError), each pad's class, and each instrument's note range with
    the model (:func:`~.instrument.check_instruments`, UserInputError).
    """
    if bundle.sha256 != kit.model.sha256:
        raise IntegrityError(
            f"kit {kit.name!r:.60} was made for model {kit.model.name!r:.60} (sha256 {kit.model.sha256[:12]}…) "
            f"but {bundle.name!r:.60} (sha256 {str(bundle.sha256)[:12]}…) is loaded"
        )
    check_latent_dim(kit, bundle.latent_dim, where=f"kit {kit.name!r:.60}")
    for index, pad in enumerate(kit.pads):
        pad_label(pad, index, bundle)
    check_instruments(kit.pads, bundle, f"kit {kit.name!r:.60}", UserInputError)  # note ranges vs the model


def pad_label(pad, index: int, bundle) -> int | None:
    """``pad.class_name`` as the class index of ``bundle`` (None for an unconditional model).

    Raises UserInputError naming the pad and the model's classes when a conditional model gets
    a pad without a class or with one it does not know, or an unconditional one gets a class."""
    classes = list(getattr(bundle, "classes", ())) if getattr(bundle, "conditional", False) else []
    name = getattr(bundle, "name", "loaded")
    if not classes:
        if pad.class_name is not None:
            raise UserInputError(f"pad {index} asks for class {pad.class_name!r}, but the model "
                                 f"{name} is unconditional: remove class_name")
        return None
    if pad.class_name is None:
        raise UserInputError(f"pad {index} has no class_name; the model {name} is conditional "
                             f"(classes: {', '.join(classes)})")
    if pad.class_name not in classes:
        raise UserInputError(f"pad {index} asks for class {pad.class_name!r}; the model {name} "
                             f"knows {', '.join(classes)}")
    return classes.index(pad.class_name)
