"""Pattern training configs: TOML files (a shipped name or a path) loaded into a dataclass.

Shipped (``ganshot/training/patterns/configs/``): ``drums`` (the gm-grooves corpus, 16 rows) and
``melodic`` (Bach chorales, 48 pitch rows, onsets + hold). A file may name a parent with
``inherit`` and set only what differs::

    inherit = "drums"
    [model]
    d = 32
    [train]
    steps = 500

Rows, channels and steps are not configured: they come from the dataset (its mode, bars and
meter). Unknown sections or keys raise FormatError naming them; the run folder keeps the
resolved config as ``config.toml``, which loads back to an equal :class:`PatternConfig`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.errors import FormatError

__all__ = ["PatternModelConfig", "PatternTrainConfig", "PatternConfig", "load_pattern_config",
           "save_pattern_config", "CONFIG_DIR"]

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
MAX_INHERIT = 8


@dataclass(frozen=True)
class PatternModelConfig:
    latent_dim: int = 64
    d: int = 64


@dataclass(frozen=True)
class PatternTrainConfig:
    steps: int = 3000
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.99
    r1_gamma: float = 1.0  # R1 on reals (non-saturating loss), lazily every r1_every critic steps
    r1_every: int = 16
    ema_decay: float = 0.999
    transpose_semitones: int = 0  # melodic: random transposition of each real window by up to this
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    log_every: int = 25
    seed: int = 0


@dataclass(frozen=True)
class PatternConfig:
    model: PatternModelConfig = field(default_factory=PatternModelConfig)
    train: PatternTrainConfig = field(default_factory=PatternTrainConfig)


_SECTIONS = {"model": PatternModelConfig, "train": PatternTrainConfig}


def _read(path: Path, depth: int = 0) -> dict:
    if depth > MAX_INHERIT:
        raise FormatError(f"{path}: inherit chain longer than {MAX_INHERIT}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise FormatError(f"{path}: not valid TOML ({err})") from None
    parent = data.pop("inherit", None)
    if parent is None:
        return data
    base = _read(_resolve(str(parent), path.parent), depth + 1)
    for section, values in data.items():
        if isinstance(values, dict) and isinstance(base.get(section), dict):
            base[section] = {**base[section], **values}
        else:
            base[section] = values
    return base


def _resolve(name: str, folder: Path | None = None) -> Path:
    shipped = CONFIG_DIR / f"{name}.toml"
    if "/" not in name and not name.endswith(".toml") and shipped.is_file():
        return shipped
    path = Path(name) if folder is None or Path(name).is_absolute() else folder / name
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.toml")))
        raise FormatError(f"{name}: no such pattern config (shipped: {known}; or a path to a TOML file)")
    return path


def _check(section: str, cls, values) -> object:
    if not isinstance(values, dict):
        raise FormatError(f"config: [{section}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise FormatError(f"config: unknown key(s) in [{section}]: {', '.join(unknown)} (known: {', '.join(known)})")
    defaults = cls()
    for key, value in values.items():
        want = type(getattr(defaults, key))
        ok = isinstance(value, want) and not isinstance(value, bool) or (want is float and isinstance(value, int)
                                                                        and not isinstance(value, bool))
        if not ok or (isinstance(value, float) and not math.isfinite(value)) or value < 0:
            raise FormatError(f"config: {section}.{key} must be a non-negative {want.__name__}, got {value!r:.40}")
    made = cls(**{k: (float(v) if known[k].type in ("float", float) else v) for k, v in values.items()})
    return made


def load_pattern_config(name_or_path: str) -> PatternConfig:
    """A shipped config by name (``drums``, ``melodic``) or a TOML file, with its ``inherit`` chain."""
    data = _read(_resolve(str(name_or_path)))
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise FormatError(f"config {name_or_path}: unknown section(s) {', '.join(unknown)} (known: model, train)")
    config = PatternConfig(**{s: _check(s, cls, data.get(s, {})) for s, cls in _SECTIONS.items()})
    train = config.train
    if train.batch_size < 2 or train.steps < 1 or train.checkpoint_every < 1 or train.keep_checkpoints < 1 \
            or train.r1_every < 1 or not 0 <= train.ema_decay < 1:
        raise FormatError(f"config {name_or_path}: batch_size >= 2, steps/checkpoint_every/keep_checkpoints/"
                          "r1_every >= 1 and 0 <= ema_decay < 1 are needed")
    return config


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def save_pattern_config(config: PatternConfig, path) -> Path:
    """Write the resolved config as TOML (atomically)."""
    lines = []
    for section in _SECTIONS:
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in asdict(getattr(config, section)).items()]
        lines.append("")
    return atomic_write_text(path, "\n".join(lines))
