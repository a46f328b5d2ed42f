"""The WGAN-GP training loop for WaveGAN: ``ganshot train CONFIG --data DIR --out RUN``.

One iteration (a "step") is ``critic_steps`` critic updates and one generator update,
each on a batch of ``batch_size`` one-shots per process, with Adam(lr, betas) for both
networks (Donahue et al.: 5 critic steps, λ=10, lr 1e-4, β=(0.5, 0.9)).

* Device: CUDA when present (bf16 autocast with ``amp = "auto"``; the gradient penalty
  stays float32), CPU otherwise.
* Processes: ``torchrun --nproc_per_node N -m ganshot train ...`` runs N processes with
  DDP-wrapped G and D (NCCL on CUDA, gloo on CPU); each draws its own shard of every
  epoch. Only rank 0 writes files, TensorBoard and the progress bar.
* Randomness: ``torch.manual_seed`` is re-derived from ``(seed, rank, step)`` at the start
  of every step, so a resumed run continues exactly like an uninterrupted one.
* Files: see :mod:`ganshot.training.checkpoint` for the run folder layout. Checkpoints
  every ``checkpoint_every`` steps, at the end and on Ctrl-C. The first Ctrl-C finishes
  the current step, saves and stops; a second one stops at once (still saving).
* ``--resume`` continues from the newest checkpoint; the config must equal the stored
  one except for :data:`RESUMABLE_KEYS` (a different architecture is refused).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import warnings
from dataclasses import fields, replace
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from tqdm import tqdm

from ganshot.engine.errors import UserInputError

from ._distributed import BatchStream, DistContext, setup_distributed, teardown_distributed, wrap_ddp
from .checkpoint import (CONFIG_FILE, TrainState, list_checkpoints, load_checkpoint, load_generator,
                         load_run_info, save_checkpoint, write_run_info)
from .config import Config, load_config, save_config
from .data import OneShotDataset
from .losses import critic_loss, generator_loss
from .monitor import Monitor
from .wavegan import GeneratorSpec, WaveGANDiscriminator, WaveGANGenerator

__all__ = ["train", "load_generator", "sample_latent", "RESUMABLE_KEYS"]

RESUMABLE_KEYS = frozenset({"steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "num_workers", "amp"})
NUM_PREVIEWS = 4
MAX_DEVICE_DATA_BYTES = 8 << 30  # datasets up to this size live on the GPU


def sample_latent(batch: int, latent_dim: int, distribution: str, device, generator=None) -> torch.Tensor:
    """``z`` float32[batch, latent_dim]: N(0, 1) for "normal", U(-1, 1) for "uniform"."""
    if distribution == "uniform":
        return torch.rand(batch, latent_dim, device=device, generator=generator) * 2 - 1
    return torch.randn(batch, latent_dim, device=device, generator=generator)


def _step_seed(seed: int, rank: int, step: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{rank}:{step}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def _check_resume(run_dir: Path, stored: Config, wanted: Config) -> None:
    for section in ("model", "train"):
        old, new = getattr(stored, section), getattr(wanted, section)
        for f in fields(old):
            a, b = getattr(old, f.name), getattr(new, f.name)
            if a != b and not (section == "train" and f.name in RESUMABLE_KEYS):
                kind = "a different architecture" if section == "model" else "a different training setup"
                raise UserInputError(
                    f"{run_dir}: cannot resume with {section}.{f.name}={b!r}, the run used {a!r} "
                    f"({kind}; start a new --out instead)")


def _batches(dataset, stream: BatchStream, start_batch: int, device: torch.device, num_workers: int):
    """Endless ``(audio float32[B, N], labels int64[B])`` on ``device`` from batch ``start_batch`` on."""
    audio = getattr(dataset, "audio", None)
    if isinstance(audio, torch.Tensor):  # OneShotDataset keeps everything in memory
        labels = dataset.labels
        if device.type == "cuda" and audio.numel() * audio.element_size() <= MAX_DEVICE_DATA_BYTES:
            audio, labels = audio.to(device), labels.to(device)
        for indices in stream.iterate(start_batch):
            index = torch.tensor(indices, device=audio.device)
            yield audio[index].to(device, non_blocking=True), labels[index].to(device, non_blocking=True)
    else:
        loader = torch.utils.data.DataLoader(dataset, batch_sampler=stream.iterate(start_batch),
                                             num_workers=num_workers, pin_memory=device.type == "cuda")
        for audio, labels in loader:
            yield audio.to(device, non_blocking=True), labels.to(device, non_blocking=True)


def _autocast_factory(amp: str, device: torch.device):
    dtype = None
    if amp == "bf16" or (amp == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported()):
        dtype = torch.bfloat16
    return (lambda: torch.autocast(device.type, dtype=dtype)) if dtype is not None else None


class _StopOnSigint:
    """First Ctrl-C: stop after the current step. Second: KeyboardInterrupt at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("ganshot: stopping after this step and saving a checkpoint (Ctrl-C again to stop now)")

    def should_stop(self, ctx: DistContext) -> bool:
        if not ctx.distributed:
            return self.requested
        flag = torch.tensor([1.0 if self.requested else 0.0], device=ctx.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)  # every rank stops at the same step
        return bool(flag.item())

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def train(config, data_dir, run_dir, resume: bool = False, overrides=(), max_steps: int | None = None,
          *, device: str | None = None, on_step: Callable[[TrainState, dict], None] | None = None,
          init_generator: str | os.PathLike | None = None) -> dict:
    """Train a WaveGAN on the dataset at ``data_dir``, writing the run folder ``run_dir``.

    ``config``: a shipped name, a TOML path or a :class:`Config`; ``overrides``:
    ``["train.batch_size=8", ...]``; ``max_steps``: total generator steps to stop at
    (overrides ``train.steps``); ``device``: "cpu"/"cuda" (None = CUDA when present);
    ``on_step(state, stats)`` is called after every step with the :class:`TrainState` and a dict
    of scalar tensors (tests use it). ``init_generator``: a model bundle whose generator weights
    start a new run (a warm start: the critic and both optimisers start fresh; the bundle must
    have the config's architecture); ignored by ``--resume``, whose checkpoint holds everything.
    Returns ``{"step", "critic_loss", "generator_loss", "wasserstein", "gradient_penalty",
    "checkpoint"}`` (losses are None when no step ran).
    """
    owns_group = not (dist.is_available() and dist.is_initialized())
    ctx = setup_distributed(device)
    try:
        return _train(ctx, config, Path(data_dir), Path(run_dir), resume, overrides, max_steps, on_step,
                      init_generator)
    finally:
        if owns_group:
            teardown_distributed(ctx)


def _warm_start(gen: WaveGANGenerator, spec: GeneratorSpec, bundle_path) -> dict:
    """Load a bundle's generator weights into ``gen``; returns what run.json records of it."""
    from safetensors.torch import load_file

    from ganshot.engine.bundle import load_bundle

    bundle = load_bundle(bundle_path)  # validated and hash-checked; safetensors holds no pickle
    if bundle.hyperparameters != spec.to_dict():
        raise UserInputError(f"{bundle_path}: --init-from needs a generator of the config's architecture "
                             f"{spec.to_dict()}, the bundle has {bundle.hyperparameters}")
    state = load_file(str(bundle.safetensors_path))
    try:
        gen.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise UserInputError(f"{bundle.safetensors_path}: weights do not fit the generator: {str(exc).splitlines()[0]}") from None
    previous = (bundle.meta.get("training") or {})
    return {"bundle": bundle.name, "model_json_sha256": bundle.sha256, "steps_before": previous.get("total_steps", previous.get("step"))}


def _train(ctx, config, data_dir, run_dir, resume, overrides, max_steps, on_step, init_generator=None) -> dict:
    cfg = load_config(config, overrides)
    if max_steps is not None:
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
            raise UserInputError(f"--steps must be a non-negative integer, got {max_steps!r}")
        cfg = replace(cfg, train=replace(cfg.train, steps=max_steps))
    m, t = cfg.model, cfg.train
    found = list_checkpoints(run_dir)
    if resume:
        if not (run_dir / CONFIG_FILE).is_file():
            raise UserInputError(f"{run_dir}: nothing to resume (no {CONFIG_FILE}); drop --resume to start a run")
        _check_resume(run_dir, load_config(run_dir / CONFIG_FILE), cfg)
    elif found:
        raise UserInputError(f"{run_dir}: already holds a run (step {found[-1][0]}); pass --resume or choose another --out")

    dataset = OneShotDataset(data_dir, num_samples=m.num_samples)
    if dataset.sample_rate != m.sample_rate:
        raise UserInputError(f"{data_dir}: dataset is {dataset.sample_rate} Hz but the config wants {m.sample_rate} Hz "
                             f"(rebuild it with --sample-rate {m.sample_rate} or set model.sample_rate)")
    if ctx.is_main and dataset.manifest.num_samples != m.num_samples:
        warnings.warn(f"{data_dir}: one-shots have {dataset.manifest.num_samples} samples, the model makes "
                      f"{m.num_samples}: each is {'cropped' if m.num_samples < dataset.manifest.num_samples else 'zero-padded'}",
                      stacklevel=3)
    classes = dataset.classes if m.conditional else []
    if resume and m.conditional and (run_dir / "run.json").is_file():
        if load_run_info(run_dir).get("classes") != classes:
            raise UserInputError(f"{data_dir}: classes differ from those the run in {run_dir} was trained on")
    spec = GeneratorSpec(latent_dim=m.latent_dim, d=m.d, num_samples=m.num_samples, num_classes=len(classes),
                         post_filter_length=m.post_filter_length, kernel_size=m.kernel_size)
    disc_params = {"d": m.d, "num_samples": m.num_samples, "num_classes": len(classes),
                   "phase_shuffle": m.phase_shuffle, "kernel_size": m.kernel_size}

    device = ctx.device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # shapes never change
        torch.set_float32_matmul_precision("high")
    torch.manual_seed(t.seed)  # identical initial weights on every rank
    gen = WaveGANGenerator(spec).to(device)
    disc = WaveGANDiscriminator(**disc_params).to(device)
    state = TrainState(gen, disc, torch.optim.Adam(gen.parameters(), lr=t.lr, betas=t.betas),
                       torch.optim.Adam(disc.parameters(), lr=t.lr, betas=t.betas), 0, t.seed, ctx.world_size)
    warm = None
    if resume and found:
        load_checkpoint(found[-1][1], state)
        warm = load_run_info(run_dir).get("init_generator") if (run_dir / "run.json").is_file() else None
    elif resume and ctx.is_main:
        tqdm.write(f"ganshot: {run_dir} has no checkpoint yet, starting at step 0")
    if init_generator is not None and not (resume and found):
        warm = _warm_start(gen, spec, init_generator)
    if ctx.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / CONFIG_FILE)
        write_run_info(run_dir, {"dataset": dataset.manifest.summary(), "data_dir": str(data_dir.resolve()),
                                 "classes": classes, "generator": spec.to_dict(), "discriminator": disc_params,
                                 "latent_distribution": m.latent_distribution, "sample_rate": m.sample_rate,
                                 "init_generator": warm})
    if ctx.distributed:
        state.generator, state.discriminator = wrap_ddp(gen, device), wrap_ddp(disc, device)
    return _loop(ctx, cfg, state, spec, disc_params, dataset, classes, run_dir, on_step)


def _loop(ctx, cfg, state, spec, disc_params, dataset, classes, run_dir, on_step) -> dict:
    m, t = cfg.model, cfg.train
    device, G, D = ctx.device, state.generator, state.discriminator
    bare_g = getattr(G, "module", G)
    weights = None
    if t.class_balance > 0:  # rare classes drawn more often: count(class) ** -class_balance per one-shot
        counts = torch.bincount(dataset.labels).double()
        weights = (counts[dataset.labels] ** -t.class_balance).numpy()
    stream = BatchStream(len(dataset), t.batch_size, t.seed, ctx.rank, ctx.world_size, weights)
    batches = _batches(dataset, stream, state.step * t.critic_steps, device, t.num_workers)
    autocast = _autocast_factory(t.amp, device)
    amp = autocast or contextlib.nullcontext
    d_no_sync = D.no_sync if ctx.distributed else contextlib.nullcontext
    preview = torch.Generator().manual_seed(t.seed)
    z_preview = sample_latent(NUM_PREVIEWS, m.latent_dim, m.latent_distribution, "cpu", preview).to(device)
    y_preview = (torch.arange(NUM_PREVIEWS, device=device) % len(classes)) if classes else None
    monitor = Monitor(run_dir / "tb", enabled=ctx.is_main)
    quiet = os.environ.get("TQDM_DISABLE", "") not in ("", "0")  # tqdm's own switch, honoured explicitly
    progress = tqdm(total=t.steps, initial=state.step, disable=quiet or not ctx.is_main, unit="it", dynamic_ncols=True,
                    desc=f"{run_dir.name} d={m.d} b={t.batch_size}x{ctx.world_size} {device.type}")
    stop = _StopOnSigint()
    stats: dict = {}
    saved = None

    def save():
        nonlocal saved
        if ctx.is_main:
            saved = save_checkpoint(run_dir, state, spec, disc_params, t.keep_checkpoints)

    try:
        while state.step < t.steps:
            torch.manual_seed(_step_seed(t.seed, ctx.rank, state.step))
            for _ in range(t.critic_steps):
                real, labels = next(batches)
                labels = labels if classes else None
                z = sample_latent(real.shape[0], m.latent_dim, m.latent_distribution, device)
                with torch.no_grad(), amp():
                    fake = bare_g(z, labels)
                loss_d, stats = critic_loss(D, real, fake, labels, t.gp_lambda, autocast)
                state.opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                state.opt_d.step()
            z = sample_latent(real.shape[0], m.latent_dim, m.latent_distribution, device)
            with d_no_sync(), amp():  # D's gradients here are thrown away, so skip their all-reduce
                loss_g = generator_loss(D(G(z, labels), labels))
            state.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            state.opt_g.step()
            state.step += 1
            stats = {**stats, "generator_loss": loss_g.detach()}
            progress.update(1)
            if state.step % t.log_every == 0 or state.step == t.steps:
                values = {k: float(v) for k, v in stats.items()}
                monitor.scalars(state.step, values)
                progress.set_postfix(d=f"{values['critic_loss']:.3f}", g=f"{values['generator_loss']:.3f}",
                                     w=f"{values['wasserstein']:.3f}", gp=f"{values['gradient_penalty']:.3f}")
            if monitor.active and state.step % t.sample_every == 0:
                with torch.no_grad(), amp():
                    audio = bare_g(z_preview, y_preview)
                names = [classes[int(y)] for y in y_preview] if classes else None
                monitor.samples(state.step, audio.float(), m.sample_rate, names)
            if state.step % t.checkpoint_every == 0:
                save()
            if on_step is not None:
                on_step(state, stats)
            if stop.should_stop(ctx):
                raise KeyboardInterrupt
        save()
    except KeyboardInterrupt:
        save()
        if ctx.is_main and saved is not None:
            tqdm.write(f"ganshot: saved {saved}")
        raise
    finally:
        stop.restore()
        progress.close()
        monitor.close()
    if ctx.distributed:
        dist.barrier()
    names = ("critic_loss", "generator_loss", "wasserstein", "gradient_penalty")
    losses = {name: (float(stats[name]) if name in stats else None) for name in names}
    return {"step": state.step, **losses, "checkpoint": str(saved) if saved else None}
