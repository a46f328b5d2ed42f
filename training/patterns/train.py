"""Training the pattern GAN: non-saturating loss + lazy R1, 1:1 steps, EMA generator, checkpoints.

Run folder (the habits of ``ganshot train``)::

    RUN/config.toml                       the resolved config (config.py)
    RUN/run.json                          {"format": "ganshot-patterns-run", "version": 1, "spec": {...},
                                           "dataset": {"path", "mode", "rows", "bars", "meter", ...}}
    RUN/log.jsonl                         one line per logged step (losses, ms_per_step)
    RUN/tb/                               TensorBoard scalars and piano-roll images (tensorboard installed)
    RUN/checkpoints/step_XXXXXXX/         generator, generator_ema, critic (.safetensors), state.pt
                                          (optimisers; read with torch.load(weights_only=True))

Randomness is re-derived from ``(seed, step)`` at each step, so ``--resume`` continues exactly as an
uninterrupted run. ``max_cpu_minutes`` stops (and saves) after that much CPU time of this process.

Cheat sheet::

    train_patterns("drums", "data/grooves", "runs/grooves", max_steps=200)
    generator, spec, step, run = load_run_generator("runs/grooves")    # EMA weights, eval mode
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.strict_json import read_json_file

from ganshot.training.checkpoint import list_checkpoints, write_step_folder
from ganshot.training.ema import GeneratorEma
from .config import PatternConfig, load_pattern_config, save_pattern_config
from .dataset import PatternData, load_dataset
from .model import PatternCritic, PatternGenerator, PatternSpec, straight_through

__all__ = ["train_patterns", "load_run_generator", "load_run_info", "RUN_FORMAT", "RUN_VERSION", "spec_for"]

RUN_FORMAT, RUN_VERSION = "ganshot-patterns-run", 1
STATE_FORMAT, STATE_VERSION = "ganshot-patterns-train-state", 1
GEN, EMA, CRITIC, STATE = "generator.safetensors", "generator_ema.safetensors", "critic.safetensors", "state.pt"
PREVIEWS = 4


def spec_for(data: PatternData, config: PatternConfig) -> PatternSpec:
    """The generator's shape: rows/channels/steps from the dataset, width and latent from the config."""
    return PatternSpec(rows=data.mode.num_rows, channels=1 if data.mode.drums else 2, steps=data.steps,
                       latent_dim=config.model.latent_dim, d=config.model.d)


def _seed(seed: int, step: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"patterns:{seed}:{step}".encode(), digest_size=8).digest(), "little") >> 1


def _batch(real: np.ndarray, step: int, cfg, rng: np.random.Generator) -> torch.Tensor:
    picked = real[rng.integers(0, len(real), cfg.batch_size)]
    if cfg.transpose_semitones:  # roll each window along pitch; a window that would leave the range stays
        shifts = rng.integers(-cfg.transpose_semitones, cfg.transpose_semitones + 1, len(picked))
        for index, shift in enumerate(shifts):
            rows = picked[index].any(axis=(0, 1)).nonzero()[0]
            if len(rows) and 0 <= rows[0] + shift and rows[-1] + shift < picked.shape[-1]:
                picked[index] = np.roll(picked[index], int(shift), axis=-1)
    return torch.from_numpy(picked)


def _write_run(run: Path, config: PatternConfig, spec: PatternSpec, data: PatternData) -> None:
    save_pattern_config(config, run / "config.toml")
    m = data.manifest
    info = {"format": RUN_FORMAT, "version": RUN_VERSION, "spec": spec.to_dict(),
            "dataset": {"path": str(data.path.resolve()), "mode": m["mode"], "rows": m["rows"], "bars": m["bars"],
                        "meter": m["meter"], "steps_per_bar": m["steps_per_bar"], "windows": m["windows"],
                        "train_windows": m["train_windows"], "sources": m["sources"],
                        "windows_sha256": m["windows_sha256"]}}
    atomic_write_text(run / "run.json", json.dumps(info, indent=1, allow_nan=False) + "\n")


def load_run_info(run: str | os.PathLike) -> dict:
    path = Path(run) / "run.json"
    info = read_json_file(path, 16 << 20, "not a pattern run folder?")
    got = info if isinstance(info, dict) else {}
    if got.get("format") != RUN_FORMAT or got.get("version") != RUN_VERSION:
        raise FormatError(f"{path}: not a pattern run description (format {got.get('format')!r:.40}, "
                          f"version {got.get('version')!r:.20}; this ganshot reads {RUN_FORMAT} {RUN_VERSION})")
    return info


def _save(run: Path, step: int, g, d, ema, opt_g, opt_d, spec: PatternSpec, cfg) -> Path:
    meta = {"format": "ganshot-patterns-generator", "version": "1", "spec": json.dumps(spec.to_dict()),
            "step": str(step)}

    def write(tmp: Path) -> list[str]:
        save_file({k: v.detach().contiguous() for k, v in g.state_dict().items()}, tmp / GEN, metadata=meta)
        save_file({k: v.detach().contiguous() for k, v in ema.state_dict().items()}, tmp / EMA, metadata=meta)
        save_file({k: v.detach().contiguous() for k, v in d.state_dict().items()}, tmp / CRITIC,
                  metadata={"format": "ganshot-patterns-critic", "version": "1", "step": str(step)})
        torch.save({"format": STATE_FORMAT, "version": STATE_VERSION, "step": step,
                    "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict()}, tmp / STATE)
        return [GEN, EMA, CRITIC, STATE]

    return write_step_folder(run / "checkpoints" / f"step_{step:07d}", write, cfg.keep_checkpoints)


def _resume(run: Path, g, d, ema, opt_g, opt_d) -> int:
    found = list_checkpoints(run)
    if not found:
        raise UserInputError(f"{run}: nothing to resume (no checkpoints); drop --resume to start")
    step, folder = found[-1]
    try:
        state = torch.load(folder / STATE, map_location="cpu", weights_only=True)
    except Exception as err:  # the weights-only unpickler refuses anything else
        raise FormatError(f"{folder / STATE}: not a pattern training state ({type(err).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or state.get("version") != STATE_VERSION:
        raise FormatError(f"{folder / STATE}: not a pattern training state of version {STATE_VERSION}")
    g.load_state_dict(load_file(folder / GEN))
    ema.load_state_dict(load_file(folder / EMA))
    d.load_state_dict(load_file(folder / CRITIC))
    opt_g.load_state_dict(state["opt_g"])
    opt_d.load_state_dict(state["opt_d"])
    return int(state["step"])


def _preview(monitor, g, spec: PatternSpec, step: int) -> None:
    if monitor.writer is None:
        return
    with torch.no_grad():
        probs = g(torch.randn(PREVIEWS, spec.latent_dim, generator=torch.Generator().manual_seed(0)))
    image = (probs[:, 0] > 0.5).float().transpose(1, 2).flip(1)  # rows up, steps right
    strip = torch.cat([torch.cat([im, torch.full((im.shape[0], 2), 0.5)], 1) for im in image], 1)
    monitor.writer.add_image("patterns/onsets", strip.numpy(), step, dataformats="HW")


def train_patterns(config_name: str, data_dir, run_dir, resume: bool = False, max_steps: int | None = None,
                   max_cpu_minutes: float | None = None, say=None) -> Path:
    """Train (or resume) a pattern GAN; returns the run folder. Stops at ``max_steps`` (default: the config's)."""
    from ganshot.training.monitor import Monitor

    run = Path(run_dir)
    data = load_dataset(data_dir)
    if resume:
        config = load_pattern_config(str(run / "config.toml"))
        info = load_run_info(run)
        if info["dataset"]["windows_sha256"] != data.manifest["windows_sha256"]:
            say and say(f"warning: {data_dir} is not the dataset this run started on")
    else:
        if list_checkpoints(run):
            raise UserInputError(f"{run}: already has checkpoints; use --resume, or another --out")
        config = load_pattern_config(config_name)
    cfg, spec = config.train, spec_for(data, config)
    real = data.train_rolls
    if len(real) < 2:
        raise UserInputError(f"{data_dir}: {len(real)} training window(s); a GAN needs more")
    torch.manual_seed(cfg.seed)
    g, d = PatternGenerator(spec), PatternCritic(spec)
    ema = GeneratorEma(g, max(cfg.ema_decay, 1e-6))  # 0: the EMA is the live generator
    opt_g = torch.optim.Adam(g.parameters(), cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(d.parameters(), cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    step = _resume(run, g, d, ema, opt_g, opt_d) if resume else 0
    if not resume:
        run.mkdir(parents=True, exist_ok=True)
        _write_run(run, config, spec, data)
    last = max_steps if max_steps is not None else cfg.steps
    monitor = Monitor(run / "tb")
    started_cpu, log_lines = time.process_time(), []
    try:
        while step < last:
            if max_cpu_minutes is not None and time.process_time() - started_cpu > max_cpu_minutes * 60:
                say and say(f"CPU budget of {max_cpu_minutes:g} min spent at step {step}")
                break
            t0 = time.perf_counter()
            rng = np.random.default_rng(_seed(cfg.seed, step))
            torch.manual_seed(_seed(cfg.seed, step))
            reals = _batch(real, step, cfg, rng)
            z = torch.randn(cfg.batch_size, spec.latent_dim)
            # critic: softplus(-D(real)) + softplus(D(fake)) (+ lazy R1)
            fakes = straight_through(g(z)).detach()
            lazy = cfg.r1_gamma > 0 and step % cfg.r1_every == 0
            reals.requires_grad_(lazy)
            real_scores = d(reals)
            loss_d = torch.nn.functional.softplus(-real_scores).mean() + torch.nn.functional.softplus(d(fakes)).mean()
            r1 = torch.zeros(())
            if lazy:
                (grad,) = torch.autograd.grad(real_scores.sum(), reals, create_graph=True)
                r1 = grad.pow(2).flatten(1).sum(1).mean()
                loss_d = loss_d + cfg.r1_gamma / 2 * cfg.r1_every * r1
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            # generator: softplus(-D(G(z)))
            loss_g = torch.nn.functional.softplus(-d(straight_through(g(z)))).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            ema.update(g, step)
            step += 1
            ms = (time.perf_counter() - t0) * 1000
            if step % cfg.log_every == 0 or step == last:
                stats = {"step": step, "loss_d": round(loss_d.item(), 5), "loss_g": round(loss_g.item(), 5),
                         "r1": round(r1.item(), 5) if lazy else None, "ms_per_step": round(ms, 2),
                         "cpu_s": round(time.process_time() - started_cpu, 2)}
                log_lines.append(json.dumps(stats))
                monitor.scalars(step, {k: v for k, v in stats.items() if k not in ("step", "cpu_s") and v is not None})
                say and say(f"step {step}/{last} loss_d {stats['loss_d']:.3f} loss_g {stats['loss_g']:.3f} "
                            f"{ms:.1f} ms/step")
            if step % cfg.checkpoint_every == 0:
                _flush_log(run, log_lines)
                _save(run, step, g, d, ema.module, opt_g, opt_d, spec, cfg)
                _preview(monitor, ema.module, spec, step)
    except KeyboardInterrupt:
        say and say(f"interrupted at step {step}; saving")
    finally:
        _flush_log(run, log_lines)
        if step > 0:
            _save(run, step, g, d, ema.module, opt_g, opt_d, spec, cfg)
        monitor.close()
    return run


def _flush_log(run: Path, lines: list[str]) -> None:
    if lines:
        with open(run / "log.jsonl", "a", encoding="utf-8") as handle:  # append-only log; a torn last line is harmless
            handle.write("\n".join(lines) + "\n")
        lines.clear()


def load_run_generator(run_dir, step: int | None = None, ema: bool = True):
    """``(generator, spec, step, run_info)`` of a run's newest (or given) checkpoint, eval mode, CPU."""
    from safetensors import safe_open

    run = Path(run_dir)
    info = load_run_info(run)
    found = dict(list_checkpoints(run))
    if not found:
        raise FormatError(f"{run}: no checkpoints in this run folder (train first)")
    step = max(found) if step is None else step
    if step not in found:
        raise UserInputError(f"{run}: no checkpoint at step {step} (have {', '.join(map(str, sorted(found)))})")
    path = found[step] / (EMA if ema else GEN)
    with safe_open(path, framework="pt") as handle:
        meta = handle.metadata() or {}
    if meta.get("format") != "ganshot-patterns-generator" or meta.get("version") != "1":
        raise FormatError(f"{path}: not a pattern generator (format {meta.get('format')!r:.40})")
    spec = PatternSpec.from_dict(json.loads(meta["spec"]))
    generator = PatternGenerator(spec)
    generator.load_state_dict(load_file(path))
    return generator.eval(), spec, step, info
