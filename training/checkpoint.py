"""The training state object and its files in a run folder.

Run folder layout::

    RUN/config.toml                      exact resolved config (ganshot.training.config)
    RUN/run.json                         {"format": "ganshot-run", "version": 1, "dataset": manifest
                                          summary, "classes": [...], "generator": GeneratorSpec dict,
                                          "latent_distribution": "normal", "sample_rate": 16000}
    RUN/tb/                              TensorBoard events
    RUN/checkpoints/step_0001000/
        generator.safetensors            G weights; metadata: format, version, spec (JSON), step
        generator_ema.safetensors        EMA of G's weights (runs with train.ema_decay > 0), same metadata
        discriminator.safetensors        D weights (waveform critic, and ``stft.*`` STFT critics when
                                         used); metadata: format, version, params (JSON), step
        state.pt                         {"format", "version", "step", "seed", "world_size",
                                          "opt_g", "opt_d"}: torch.load(weights_only=True) safe
    RUN/best/                            the judge's best checkpoint (same files; train.judge_every > 0)
    RUN/best.json, RUN/judge.jsonl       its figures, and every judgement (ganshot.training.judge)

A checkpoint folder is written as ``checkpoints/.tmp-step_XXXXXXX-PID`` (each file
fsynced) and renamed into place, so a folder named ``step_*`` is always complete; only
the newest ``keep`` are kept. Randomness is re-derived from ``(seed, rank, step)`` at
every step (see ``train.py``), so ``seed`` and ``step`` are the whole RNG state.

:func:`load_generator` is what the exporter calls (:func:`load_generator_folder` for ``--best``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ganshot.engine.atomic import atomic_write_text, fsync_dir, umask_mode
from ganshot.engine.strict_json import read_json_file
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.generators import build_generator, spec_from_dict
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator

from .config import Config, load_config

__all__ = [
    "TrainState",
    "save_checkpoint",
    "load_checkpoint",
    "list_checkpoints",
    "load_generator",
    "write_run_info",
    "load_run_info",
    "CONFIG_FILE",
    "RUN_INFO_FILE",
    "CHECKPOINT_DIR",
    "BEST_DIR",
    "save_best",
    "best_dir",
    "load_generator_folder",
]

CONFIG_FILE = "config.toml"
RUN_INFO_FILE = "run.json"
MAX_RUN_INFO_BYTES = 16 * 1024 * 1024
CHECKPOINT_DIR = "checkpoints"
BEST_DIR = "best"  # RUN/best/: the judge's best checkpoint (train.judge_every), never pruned
GENERATOR_FILE = "generator.safetensors"
EMA_FILE = "generator_ema.safetensors"
DISCRIMINATOR_FILE = "discriminator.safetensors"
STATE_FILE = "state.pt"
STATE_FORMAT, STATE_VERSION = "ganshot-train-state", 1
GENERATOR_FORMAT = "ganshot-wavegan-generator"
DISCRIMINATOR_FORMAT = "ganshot-wavegan-discriminator"
RUN_FORMAT, RUN_VERSION = "ganshot-run", 1
_STEP_DIR = re.compile(r"^step_(\d{7,})$")


def _unwrap(module: torch.nn.Module) -> torch.nn.Module:
    return getattr(module, "module", module)  # DistributedDataParallel keeps the model in .module


@dataclass
class TrainState:
    """Everything the loop needs: models, optimisers, step and seed, saved and resumed as a whole.

    ``generator``/``discriminator`` may be DDP-wrapped; files always hold the bare modules.
    """

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    step: int = 0
    seed: int = 0
    world_size: int = 1
    ema: object = None  # a GeneratorEma when train.ema_decay > 0

    def tensors(self) -> tuple[dict, dict]:
        """CPU copies of the G and D weights (bare module names, no ``module.`` prefix)."""
        g = {k: v.detach().cpu().contiguous() for k, v in _unwrap(self.generator).state_dict().items()}
        d = {k: v.detach().cpu().contiguous() for k, v in _unwrap(self.discriminator).state_dict().items()}
        return g, d

    def extra_state(self) -> dict:
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "step": self.step,
            "seed": self.seed,
            "world_size": self.world_size,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
        }


def checkpoint_dir(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / f"step_{step:07d}"


def list_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """``[(step, folder), ...]`` of complete checkpoints, oldest first."""
    root = Path(run_dir) / CHECKPOINT_DIR
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := _STEP_DIR.match(p.name))]
    return sorted(found)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_checkpoint_files(tmp: Path, state: TrainState, spec: GeneratorSpec, disc_params: dict) -> list[str]:
    """The files of a checkpoint folder, written into ``tmp``; returns their names."""
    g, d = state.tensors()
    step = str(state.step)
    save_file(g, tmp / GENERATOR_FILE, metadata={
        "format": GENERATOR_FORMAT, "version": "1", "spec": json.dumps(spec.to_dict()), "step": step,
        "architecture": spec.architecture})
    save_file(d, tmp / DISCRIMINATOR_FILE, metadata={
        "format": DISCRIMINATOR_FORMAT, "version": "1", "params": json.dumps(disc_params), "step": step})
    names = [GENERATOR_FILE, DISCRIMINATOR_FILE, STATE_FILE]
    if state.ema is not None:
        ema = {k: v.detach().cpu().contiguous() for k, v in state.ema.state_dict().items()}
        save_file(ema, tmp / EMA_FILE, metadata={
            "format": GENERATOR_FORMAT, "version": "1", "spec": json.dumps(spec.to_dict()), "step": step,
            "architecture": spec.architecture})
        names.append(EMA_FILE)
    torch.save(state.extra_state(), tmp / STATE_FILE)
    return names


def save_checkpoint(run_dir: str | Path, state: TrainState, spec: GeneratorSpec, disc_params: dict, keep: int) -> Path:
    """Write ``checkpoints/step_XXXXXXX/`` atomically and keep only the newest ``keep``; returns it."""
    return write_step_folder(checkpoint_dir(run_dir, state.step),
                             lambda tmp: _write_checkpoint_files(tmp, state, spec, disc_params), keep)


def save_best(run_dir: str | Path, state: TrainState, spec: GeneratorSpec, disc_params: dict) -> Path:
    """Write ``RUN/best/`` (the files of a checkpoint folder) over the previous one; returns it.

    Built in a temp sibling, then the old folder is renamed aside, the new one into place and the
    old one removed: ``best/`` is always complete. A crash between the two renames leaves the
    previous best as ``.old-best-PID``, which :func:`best_dir` puts back. Never pruned."""
    run_dir = Path(run_dir)
    final = best_dir(run_dir)
    tmp, old = run_dir / f".tmp-{BEST_DIR}-{os.getpid()}", run_dir / f".old-{BEST_DIR}-{os.getpid()}"
    _build_folder(tmp, lambda folder: _write_checkpoint_files(folder, state, spec, disc_params))
    try:
        if final.is_dir():
            shutil.rmtree(old, ignore_errors=True)
            os.rename(final, old)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(run_dir)
    shutil.rmtree(old, ignore_errors=True)
    return final


def best_dir(run_dir: str | Path) -> Path:
    """``RUN/best`` (it may not exist); a previous best left aside by a crash mid-swap is put back first."""
    run_dir = Path(run_dir)
    final = run_dir / BEST_DIR
    if not final.is_dir() and run_dir.is_dir():
        for aside in sorted(run_dir.glob(f".old-{BEST_DIR}-*")):
            if aside.is_dir():
                os.rename(aside, final)
                break
    return final


def _build_folder(tmp: Path, write) -> None:
    """``write(tmp)`` fills a fresh ``tmp`` and returns the names of its files; each gets the mode the
    user's umask gives a new file and is fsynced, then the folder itself."""
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name in write(tmp):
            os.chmod(tmp / name, umask_mode())  # safetensors writes 0600 whatever the umask
            _fsync_file(tmp / name)
        fsync_dir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_step_folder(final: Path, write, keep: int) -> Path:
    """``final`` (a ``checkpoints/step_XXXXXXX`` folder) written atomically: ``write(tmp)`` fills a
    temp sibling and returns the names of the files it wrote; each gets the mode the user's umask gives
    a new file, is fsynced, the folder renamed
    into place, and only the newest ``keep`` step folders beside it stay. An existing ``final`` is
    kept as it is (this step is already saved). The training runs and the enhancer runs share it."""
    if final.is_dir():
        return final  # this step is already saved (e.g. periodic save, then the end of the run)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
    _build_folder(tmp, write)
    try:
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(final.parent)
    found = sorted(p for p in final.parent.iterdir() if p.is_dir() and _STEP_DIR.match(p.name))
    for old in found[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _read_state(folder: Path) -> dict:
    try:
        extra = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FormatError(f"{folder}: {STATE_FILE} is missing") from None
    except Exception as err:  # the weights-only unpickler refuses anything else
        raise FormatError(f"{folder / STATE_FILE}: not a ganshot training state ({type(err).__name__})") from None
    if not isinstance(extra, dict) or extra.get("format") != STATE_FORMAT:
        raise FormatError(f"{folder / STATE_FILE}: not a ganshot training state")
    if extra.get("version") != STATE_VERSION:
        raise FormatError(f"{folder / STATE_FILE}: unknown state version {extra.get('version')!r}")
    return extra


def load_checkpoint(folder: str | Path, state: TrainState) -> TrainState:
    """Load a checkpoint folder into ``state`` (models, optimisers, step, seed) in place."""
    folder = Path(folder)
    extra = _read_state(folder)
    _unwrap(state.generator).load_state_dict(load_file(folder / GENERATOR_FILE))
    _unwrap(state.discriminator).load_state_dict(load_file(folder / DISCRIMINATOR_FILE))
    if state.ema is not None:
        if not (folder / EMA_FILE).is_file():
            raise FormatError(f"{folder}: {EMA_FILE} is missing (the run keeps an EMA generator)")
        state.ema.load_state_dict(load_file(folder / EMA_FILE))
    state.opt_g.load_state_dict(extra["opt_g"])
    state.opt_d.load_state_dict(extra["opt_d"])
    state.step, state.seed = int(extra["step"]), int(extra["seed"])
    return state


def _generator_spec(path: Path) -> GeneratorSpec:
    if not path.is_file():
        raise FormatError(f"{path}: generator weights are missing")
    with safe_open(path, framework="pt") as handle:
        meta = handle.metadata() or {}
    if meta.get("format") != GENERATOR_FORMAT or meta.get("version") != "1":
        raise FormatError(f"{path}: not a ganshot WaveGAN generator (format {meta.get('format')!r})")
    try:
        return spec_from_dict(meta.get("architecture", "wavegan"), json.loads(meta["spec"]))
    except (KeyError, ValueError):
        raise FormatError(f"{path}: generator spec metadata is missing or not JSON") from None


def load_generator(run_dir: str | Path, step: int | None = None, ema: bool = True) -> tuple[WaveGANGenerator, Config, int]:
    """The run's generator at ``step`` (newest when None), in eval mode on the CPU.

    ``ema``: the EMA weights when the checkpoint has them (what export writes), else the live ones.

    Returns ``(generator, config, step)``; ``config`` is the run's ``config.toml``.
    """
    run_dir = Path(run_dir)
    found = list_checkpoints(run_dir)
    if not found:
        raise FormatError(f"{run_dir}: no checkpoints in this run folder (train first)")
    if step is None:
        step, folder = found[-1]
    else:
        folder = dict(found).get(step)
        if folder is None:
            raise UserInputError(f"{run_dir}: no checkpoint at step {step} (have {', '.join(str(s) for s, _ in found)})")
    generator, config = _load_weights(run_dir, folder, ema)
    return generator, config, step


def load_generator_folder(run_dir: str | Path, folder: str | Path, ema: bool = True) -> tuple[WaveGANGenerator, Config, int]:
    """Like :func:`load_generator`, from one checkpoint-shaped ``folder`` (``RUN/best``); the step is
    the one its ``state.pt`` records."""
    folder = Path(folder)
    generator, config = _load_weights(run_dir, folder, ema)
    return generator, config, int(_read_state(folder)["step"])


def _load_weights(run_dir: str | Path, folder: Path, ema: bool) -> tuple[WaveGANGenerator, Config]:
    config = load_config(Path(run_dir) / CONFIG_FILE)
    weights = folder / (EMA_FILE if ema and (folder / EMA_FILE).is_file() else GENERATOR_FILE)
    spec = _generator_spec(weights)
    generator = build_generator(spec)
    generator.load_state_dict(load_file(weights))
    return generator.eval(), config


def write_run_info(run_dir: str | Path, info: dict) -> Path:
    """Write ``run.json`` (format and version added) atomically."""
    data = {"format": RUN_FORMAT, "version": RUN_VERSION, **info}
    return atomic_write_text(Path(run_dir) / RUN_INFO_FILE, json.dumps(data, indent=1, allow_nan=False) + "\n")


def load_run_info(run_dir: str | Path) -> dict:
    """Read and check ``run.json``; raises FormatError when missing or of another format/version."""
    path = Path(run_dir) / RUN_INFO_FILE
    data = read_json_file(path, MAX_RUN_INFO_BYTES, "not a ganshot run folder?")
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT or data.get("version") != RUN_VERSION:
        raise FormatError(f"{path}: not a ganshot run description (format/version unknown)")
    return data
