"""Training configs: TOML files layered base → size → overrides, loaded into dataclasses.

A config file names its parent with ``inherit`` (a shipped name, or a path relative to
the file) and sets only what differs::

    inherit = "wavegan_16k"
    [model]
    d = 32
    conditional = true
    [train]
    batch_size = 32

Shipped configs (``ganshot/training/configs/*.toml``, see :func:`list_configs`): ``base``,
``wavegan_16k`` (16384 samples), ``wavegan_32k`` (32768), ``wavegan_65k`` (65536),
``seed_64000`` (500-dim z, 64000 samples at 16 kHz) and ``wavegan_small`` (d=16,
batch 16: what a 2-core CPU can train); ``pitched_64000`` and ``pitched_small`` (program- and
pitch-conditional: ``model.pitch_conditional``, ``model.pitch_range``). Overrides are ``SECTION.KEY=VALUE`` strings whose
value is read as TOML (``train.betas=[0.5, 0.9]``, ``model.conditional=true``); a bare
word is taken as a string. Unknown sections or keys and out-of-range values raise
:class:`FormatError` naming the key. :func:`save_config` writes the exact resolved config,
which :func:`load_config` reads back to an equal :class:`Config`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.errors import FormatError
from ganshot.engine.generators import ARCHITECTURE_NAMES
from ganshot.engine.limits import MAX_NOTE, MIN_NOTE, check_pitch_range

__all__ = [
    "ModelConfig",
    "TrainConfig",
    "Config",
    "load_config",
    "save_config",
    "list_configs",
    "config_to_toml",
    "apply_overrides",
    "CONFIG_FORMAT",
    "CONFIG_VERSION",
]

CONFIG_FORMAT = "ganshot-train-config"
CONFIG_VERSION = 1
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
MAX_CONFIG_BYTES = 1 << 20
MAX_INHERIT_DEPTH = 16


@dataclass(frozen=True)
class ModelConfig:
    """The networks. ``conditional`` takes the number of classes from the dataset."""

    architecture: str = "wavegan"
    latent_dim: int = 100
    d: int = 64  # model width: channels of the first D layer / last G layer
    num_samples: int = 16384  # samples per one-shot
    sample_rate: int = 16000  # Hz
    conditional: bool = False
    post_filter_length: int = 0  # taps of the learned output FIR, 0 = none
    phase_shuffle: int = 2  # samples, discriminator only
    kernel_size: int = 25
    latent_distribution: str = "normal"  # z ~ N(0, 1) or "uniform" U(-1, 1)
    nearest_layers: int = 0  # the last k generator layers upsample by nearest + conv (0 = all transposed)
    nearest_kernel_size: int = 9  # taps of those convs
    envelope: bool = False  # learned monotone decay envelope on the output (tails reach exact zeros)
    stft_critic: tuple = ()  # n_fft of each log-|STFT| critic trained with the waveform critic; () = none
    stft_critic_d: int = 16  # width of the STFT critics
    ddsp_noise_bands: int = 32  # architecture "ddsp": filtered-noise bands
    ddsp_sinusoids: int = 8  # architecture "ddsp": damped gliding sinusoids
    ddsp_transient_ms: int = 24  # architecture "ddsp": length of the free transient
    harmonic_partials: int = 48  # architecture "harmonic": partials at multiples of the note's f0
    harmonic_noise_bands: int = 24  # architecture "harmonic": filtered-noise bands
    harmonic_frames: int = 128  # architecture "harmonic": loudness/partial/noise knots over the note
    specgan_representation: str = "logmag_phase"  # specgan: "logmag_phase", "logmag_if" or "logmag" (Griffin-Lim)
    specgan_n_fft: int = 512  # specgan: FFT size (n_fft / 2 bins, the Nyquist bin dropped)
    specgan_hop: int = 128  # specgan: hop in samples (num_samples / hop frames)
    specgan_gl_iterations: int = 8  # specgan "logmag": Griffin-Lim iterations unrolled in the graph
    specgan_log_range_db: int = 80  # specgan: log-magnitude range; quieter bins are clipped to zero
    specgan_upsample: str = "nearest"  # specgan: "nearest" or "bilinear" x2 before each 2-D conv
    pitch_conditional: bool = False  # true: a MIDI pitch input, pitches from the dataset's manifest
    pitch_range: tuple = (36, 96)  # MIDI notes [low, high] the pitch input accepts (pitch_conditional only)


@dataclass(frozen=True)
class TrainConfig:
    """The WGAN-GP loop. One step = ``critic_steps`` critic updates + 1 generator update."""

    batch_size: int = 64  # per process
    steps: int = 100000  # generator steps
    critic_steps: int = 5
    gp_lambda: float = 10.0
    lr: float = 1e-4
    betas: tuple = (0.5, 0.9)
    seed: int = 0
    log_every: int = 50  # steps between scalar logs
    sample_every: int = 1000  # steps between audio/spectrogram logs
    checkpoint_every: int = 1000  # steps between checkpoints
    keep_checkpoints: int = 3
    num_workers: int = 2  # DataLoader worker processes
    amp: str = "auto"  # "auto" (bf16 on CUDA), "bf16", "off"
    class_balance: float = 0.0  # draw each one-shot with weight count(its class) ** -class_balance; 0 = plain epochs
    loss: str = "wgan_gp"  # "wgan_gp" (critic_steps:1, gradient penalty) or "ns_r1" (1:1, lazy R1)
    r1_gamma: float = 1.0  # ns_r1: R1 weight gamma (penalty gamma/2 * |grad|^2)
    r1_every: int = 16  # ns_r1: critic steps between R1 penalties (lazy regularisation)
    ema_decay: float = 0.0  # generator EMA decay (0 = no EMA; export writes the EMA weights when kept)
    augment: bool = False  # shift / gain / EQ-tilt augmentation of everything the critics see
    critic_warmup_steps: int = 0  # --init-from: critic-only steps against the frozen generator first
    judge_every: int = 0  # generator steps between judgements (FD/probe/IS vs the test split); keeps RUN/best/; 0 = off
    judge_samples: int = 500  # one-shots each judgement renders
    judge_classifier: str = ""  # classifier.safetensors the judge uses; "" = train one (RUN/judge_classifier.safetensors)


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


# (low, high) for numbers, choices for strings; checked for every loaded value.
_LIMITS = {
    "model.architecture": ARCHITECTURE_NAMES,
    "model.ddsp_noise_bands": (1, 256),
    "model.ddsp_sinusoids": (0, 256),
    "model.ddsp_transient_ms": (0, 200),
    "model.harmonic_partials": (1, 512),
    "model.harmonic_noise_bands": (1, 256),
    "model.harmonic_frames": (2, 4096),
    "model.specgan_representation": ("logmag_phase", "logmag", "logmag_if"),
    "model.specgan_n_fft": (64, 4096),
    "model.specgan_hop": (2, 2048),
    "model.specgan_gl_iterations": (0, 64),
    "model.specgan_log_range_db": (20, 160),
    "model.specgan_upsample": ("nearest", "bilinear"),
    "model.latent_dim": (1, 4096),
    "model.d": (1, 512),
    "model.num_samples": (1024, 1 << 20),
    "model.sample_rate": (1000, 384000),
    "model.post_filter_length": (0, 4096),
    "model.phase_shuffle": (0, 64),
    "model.kernel_size": (4, 101),
    "model.latent_distribution": ("normal", "uniform"),
    "model.nearest_layers": (0, 6),
    "model.nearest_kernel_size": (1, 101),
    "model.stft_critic": (64, 8192),
    "model.stft_critic_d": (1, 512),
    "model.pitch_range": (MIN_NOTE, MAX_NOTE),
    "train.loss": ("wgan_gp", "ns_r1"),
    "train.r1_gamma": (0.0, 1e6),
    "train.r1_every": (1, 1 << 20),
    "train.ema_decay": (0.0, 0.99999),
    "train.critic_warmup_steps": (0, 1 << 40),
    "train.batch_size": (1, 65536),
    "train.steps": (0, 1 << 40),
    "train.critic_steps": (1, 100),
    "train.gp_lambda": (0.0, 1e6),
    "train.lr": (1e-12, 1.0),
    "train.betas": (0.0, 0.999999),
    "train.seed": (0, 2**63 - 1),
    "train.log_every": (1, 1 << 40),
    "train.sample_every": (1, 1 << 40),
    "train.checkpoint_every": (1, 1 << 40),
    "train.keep_checkpoints": (1, 10000),
    "train.num_workers": (0, 256),
    "train.amp": ("auto", "bf16", "off"),
    "train.class_balance": (0.0, 1.0),
    "train.judge_every": (0, 1 << 40),
    "train.judge_samples": (8, 1 << 20),
    "train.judge_classifier": (None, 4096),  # a path: one line of at most this many characters
}
_SECTIONS = {"model": ModelConfig, "train": TrainConfig}
_LISTS = {"model.stft_critic": 4}  # variable-length lists of integers: key -> most items


def list_configs() -> list[str]:
    """Names of the shipped configs, sorted."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))


def _check_value(key: str, value, default):
    """Type- and range-check one value against its default's type; returns the clean value."""
    limits = _LIMITS.get(key, (None,))
    if isinstance(default, str) and limits[0] is None:  # free text (a path)
        if not isinstance(value, str) or len(value) > limits[-1] or any(c in value for c in "\n\r\0"):
            raise FormatError(f"config: {key} must be a path on one line of at most {limits[-1]} characters, "
                              f"got {value!r:.80}")
        return value
    if isinstance(limits[0], str):
        if not isinstance(value, str) or value not in limits:
            raise FormatError(f"config: {key} must be one of {', '.join(map(repr, limits))}, got {value!r}")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise FormatError(f"config: {key} must be true or false, got {value!r}")
        return value
    if key in _LISTS and isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or len(value) > _LISTS[key]:
            raise FormatError(f"config: {key} must be a list of at most {_LISTS[key]} integers, got {value!r}")
        return tuple(_check_value(key, item, 0) for item in value)
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(default):
            raise FormatError(f"config: {key} must be a list of {len(default)} numbers, got {value!r}")
        return tuple(_check_value(key, item, default[0]) for item in value)
    low, high = limits
    if isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        kind = "an integer"
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        kind = "a number"
        value = float(value) if ok else value
    if not ok or not low <= value <= high:
        raise FormatError(f"config: {key} must be {kind} in [{low}, {high}], got {value!r}")
    return value


def _build(raw: dict) -> Config:
    """Strictly turn a merged raw dict into a :class:`Config`."""
    sections = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise FormatError(f"config: unknown section or key {name!r} (known: {', '.join(_SECTIONS)})")
        if not isinstance(value, dict):
            raise FormatError(f"config: {name!r} must be a [{name}] table")
    for name, cls in _SECTIONS.items():
        given = raw.get(name, {})
        defaults = cls()
        known = {f.name for f in fields(cls)}
        for key in given:
            if key not in known:
                raise FormatError(f"config: unknown key '{name}.{key}' (known: {', '.join(sorted(known))})")
        values = {key: _check_value(f"{name}.{key}", val, getattr(defaults, key)) for key, val in given.items()}
        sections[name] = replace(defaults, **values)
    check_pitch_range(*sections["model"].pitch_range, "config: model.pitch_range", FormatError)
    return Config(**sections)


def _read_toml(path: Path) -> dict:
    if not path.is_file():
        raise FormatError(f"{path}: config file not found")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise FormatError(f"{path}: config file is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise FormatError(f"{path}: not valid TOML ({err})") from None


def _locate(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        return path
    if text in list_configs():
        return CONFIG_DIR / f"{text}.toml"
    raise FormatError(f"unknown config {text!r} (shipped: {', '.join(list_configs())}; or give a .toml path)")


def _merge(parent: dict, child: dict) -> dict:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load_raw(path: Path, chain: tuple = ()) -> dict:
    resolved = path.resolve()
    if resolved in chain:
        raise FormatError(f"{path}: config inherits itself ({' -> '.join(p.name for p in (*chain, resolved))})")
    if len(chain) >= MAX_INHERIT_DEPTH:
        raise FormatError(f"{path}: config inheritance is deeper than {MAX_INHERIT_DEPTH}")
    data = _read_toml(path)
    if "format" in data and data.pop("format") != CONFIG_FORMAT:
        raise FormatError(f"{path}: format is not {CONFIG_FORMAT!r}")
    if "version" in data and data.pop("version") != CONFIG_VERSION:
        raise FormatError(f"{path}: unknown config version (this ganshot reads version {CONFIG_VERSION})")
    parent = data.pop("inherit", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise FormatError(f"{path}: inherit must be a config name or a .toml path")
    return _merge(_load_raw(_locate(parent, relative_to=path.parent), (*chain, resolved)), data)


def apply_overrides(raw: dict, overrides) -> dict:
    """Merge ``SECTION.KEY=VALUE`` strings into a raw config dict (values read as TOML)."""
    raw = _merge(raw, {})
    for item in overrides or ():
        if not isinstance(item, str) or "=" not in item:
            raise FormatError(f"config override {item!r} must look like SECTION.KEY=VALUE")
        key, text = (part.strip() for part in item.split("=", 1))
        parts = key.split(".")
        if len(parts) != 2 or not all(parts):
            raise FormatError(f"config override {item!r}: key must be SECTION.KEY, e.g. train.batch_size")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text  # a bare word: model.architecture=wavegan
        section = raw.setdefault(parts[0], {})
        if not isinstance(section, dict):
            raise FormatError(f"config override {item!r}: {parts[0]!r} is not a section")
        section[parts[1]] = value
    return raw


def load_config(name_or_path: str | Path = "base", overrides=()) -> Config:
    """Load a shipped config by name or a TOML file by path, then apply ``overrides``."""
    if isinstance(name_or_path, Config):
        raw = config_to_dict(name_or_path)
    else:
        raw = _load_raw(_locate(name_or_path))
    return _build(apply_overrides(raw, overrides))


def config_to_dict(config: Config) -> dict:
    """``{"model": {...}, "train": {...}}`` with plain values (tuples become lists)."""
    out = {}
    for name in _SECTIONS:
        section = getattr(config, name)
        out[name] = {f.name: (list(v) if isinstance(v := getattr(section, f.name), tuple) else v) for f in fields(section)}
    return out


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FormatError(f"config: cannot write non-finite number {value!r}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise FormatError(f"config: cannot write {type(value).__name__} values to TOML")


def config_to_toml(config: Config) -> str:
    """The resolved config as TOML text (no ``inherit``: every key written)."""
    lines = [f"format = {_toml_value(CONFIG_FORMAT)}", f"version = {CONFIG_VERSION}"]
    for name, section in config_to_dict(config).items():
        lines += ["", f"[{name}]"] + [f"{key} = {_toml_value(value)}" for key, value in section.items()]
    return "\n".join(lines) + "\n"


def save_config(config: Config, path: str | Path) -> Path:
    """Write the exact resolved ``config`` to ``path`` atomically; returns the path."""
    return atomic_write_text(path, config_to_toml(config))
