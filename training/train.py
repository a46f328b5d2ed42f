"""The GAN training loop for WaveGAN: ``ganshot train CONFIG --data DIR --out RUN``.

One iteration (a "step") is ``critic_steps`` critic updates and one generator update,
each on a batch of ``batch_size`` one-shots per process, with Adam(lr, betas) for both
networks. Recipes (``train.loss``, see :mod:`ganshot.training.losses`):

* ``wgan_gp`` — the paper's (Donahue et al.: 5 critic steps, λ=10, lr 1e-4, β=(0.5, 0.9));
* ``ns_r1`` — non-saturating loss, lazy R1 every ``r1_every`` critic steps, usually 1:1.

Pitch conditioning (``model.pitch_conditional``, ``model.pitch_range``): every generator
architecture takes a MIDI pitch input next to the optional class label, the waveform critic a
pitch projection term; pitches come from the dataset manifest's ``pitch`` field.

Options that combine with either: ``model.stft_critic`` (log-|STFT| critics trained with the
waveform critic, :mod:`ganshot.training.stft_critic`), ``train.augment`` (shift/gain/tilt of
everything the critics see), ``train.ema_decay`` (an EMA generator, kept in checkpoints and
exported), ``model.nearest_layers`` / ``model.envelope`` (generator variants), and
``train.critic_warmup_steps`` (with ``--init-from``: the fresh critics first learn against
the frozen warm-start generator, so its first generator steps follow a critic that
already knows the data instead of a random one).

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
* Judge (``train.judge_every > 0``): every that many steps the EMA generator is judged against
  the dataset's test split and the best checkpoint kept as ``RUN/best/`` (:mod:`ganshot.training.judge`).
* ``--resume`` continues from the newest checkpoint; the config must equal the stored
  one except for :data:`RESUMABLE_KEYS` (a different architecture is refused).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import fields, replace
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from tqdm import tqdm

from ganshot.engine.errors import UserInputError

from ._distributed import setup_distributed, teardown_distributed, wrap_ddp
from .checkpoint import (CONFIG_FILE, TrainState, list_checkpoints, load_checkpoint, load_generator,
                         load_run_info, write_run_info)
from .config import Config, load_config, save_config
from .data import OneShotDataset
from .ema import GeneratorEma
from .loop import TrainLoop, sample_latent
from .stft_critic import MultiCritic
from .wave_critic import GeneratorSpec, WaveGANDiscriminator, WaveGANGenerator
from ganshot.engine.ddsp import DDSPSpec
from ganshot.engine.harmonic import HarmonicSpec
from ganshot.engine.specgan import SpecGANSpec
from ganshot.engine.generators import build_generator

__all__ = ["train", "load_generator", "sample_latent", "RESUMABLE_KEYS"]

RESUMABLE_KEYS = frozenset({"steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "num_workers", "amp",
                            "judge_every"})


def _check_resume(run_dir: Path, stored: Config, wanted: Config) -> None:
    for section in ("model", "train"):
        old, new = getattr(stored, section), getattr(wanted, section)
        for f in fields(old):
            a, b = getattr(old, f.name), getattr(new, f.name)
            if a != b and not (section == "train" and f.name in RESUMABLE_KEYS):
                kind = "a different architecture" if section == "model" else "a different training setup"
                if f.name.startswith("judge_"):
                    kind = "another yardstick: best.json's figures would not compare"
                raise UserInputError(
                    f"{run_dir}: cannot resume with {section}.{f.name}={b!r}, the run used {a!r} "
                    f"({kind}; start a new --out instead)")


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
    if bundle.meta.get("architecture") != spec.architecture or bundle.hyperparameters != spec.to_dict():
        raise UserInputError(f"{bundle_path}: --init-from needs a generator of the config's architecture "
                             f"{spec.architecture} {spec.to_dict()}, the bundle has {bundle.meta.get('architecture')} {bundle.hyperparameters}")
    state = load_file(str(bundle.safetensors_path))
    try:
        gen.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise UserInputError(f"{bundle.safetensors_path}: weights do not fit the generator: {str(exc).splitlines()[0]}") from None
    previous = (bundle.meta.get("training") or {})
    return {"bundle": bundle.name, "model_json_sha256": bundle.sha256, "steps_before": previous.get("total_steps", previous.get("step"))}


def _wavegan_spec(m, num_classes: int) -> GeneratorSpec:
    new_generator = m.nearest_layers > 0 or m.envelope
    return GeneratorSpec(latent_dim=m.latent_dim, d=m.d, num_samples=m.num_samples, num_classes=num_classes,
                         post_filter_length=m.post_filter_length, kernel_size=m.kernel_size,
                         nearest_layers=m.nearest_layers, nearest_kernel_size=m.nearest_kernel_size,
                         envelope=int(m.envelope), sample_rate=m.sample_rate if new_generator else 16000)


def _ddsp_spec(m, num_classes: int) -> DDSPSpec:
    return DDSPSpec(latent_dim=m.latent_dim, d=m.d, num_samples=m.num_samples, num_classes=num_classes,
                    sample_rate=m.sample_rate, noise_bands=m.ddsp_noise_bands, sinusoids=m.ddsp_sinusoids,
                    transient_ms=m.ddsp_transient_ms)


def _harmonic_spec(m, num_classes: int) -> HarmonicSpec:
    if not m.pitch_conditional:
        raise UserInputError("model.architecture = \"harmonic\" plays notes at a given pitch: set model.pitch_conditional = true")
    return HarmonicSpec(latent_dim=m.latent_dim, d=m.d, num_samples=m.num_samples, num_classes=num_classes,
                        sample_rate=m.sample_rate, harmonics=m.harmonic_partials, noise_bands=m.harmonic_noise_bands,
                        frames=m.harmonic_frames, pitch_low=m.pitch_range[0], pitch_high=m.pitch_range[1])


def _specgan_spec(m, num_classes: int) -> SpecGANSpec:
    return SpecGANSpec(latent_dim=m.latent_dim, d=m.d, num_samples=m.num_samples, num_classes=num_classes,
                       sample_rate=m.sample_rate, n_fft=m.specgan_n_fft, hop=m.specgan_hop,
                       representation=m.specgan_representation, gl_iterations=m.specgan_gl_iterations,
                       log_range_db=m.specgan_log_range_db, envelope=int(m.envelope), upsample=m.specgan_upsample)


#: model.architecture -> the generator spec of a model config (the critic is the same for all)
SPEC_BUILDERS = {"wavegan": _wavegan_spec, "ddsp": _ddsp_spec, "specgan": _specgan_spec, "harmonic": _harmonic_spec}


def _specs(m, classes) -> tuple:
    """The generator spec and the critic parameters (what checkpoints record) of a model config."""
    spec = SPEC_BUILDERS[m.architecture](m, len(classes))
    disc_params = {"d": m.d, "num_samples": m.num_samples, "num_classes": len(classes),
                   "phase_shuffle": m.phase_shuffle, "kernel_size": m.kernel_size}
    if m.pitch_conditional:  # every architecture's spec takes the range; the waveform critic projects it
        spec = replace(spec, pitch_low=m.pitch_range[0], pitch_high=m.pitch_range[1])
        disc_params["pitch_range"] = list(m.pitch_range)
    if m.stft_critic:
        disc_params.update(stft_critic=list(m.stft_critic), stft_critic_d=m.stft_critic_d)
    return spec, disc_params


def build_critic(disc_params: dict) -> torch.nn.Module:
    """The critic a run trains: the waveform critic alone, or it and the STFT critics."""
    params = dict(disc_params)
    stft, stft_d = params.pop("stft_critic", ()), params.pop("stft_critic_d", 16)
    wave = WaveGANDiscriminator(**params)
    return MultiCritic(wave, stft, stft_d) if stft else wave


def _train(ctx, config, data_dir, run_dir, resume, overrides, max_steps, on_step, init_generator=None) -> dict:
    cfg = load_config(config, overrides)
    if max_steps is not None:
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
            raise UserInputError(f"--steps must be a non-negative integer, got {max_steps!r}")
        cfg = replace(cfg, train=replace(cfg.train, steps=max_steps))
    m, t = cfg.model, cfg.train
    if t.judge_every > 0:
        from .judge import check_judge_setup

        check_judge_setup(run_dir, cfg)  # before anything is written
    found = list_checkpoints(run_dir)
    if resume:
        if not (run_dir / CONFIG_FILE).is_file():
            raise UserInputError(f"{run_dir}: nothing to resume (no {CONFIG_FILE}); drop --resume to start a run")
        _check_resume(run_dir, load_config(run_dir / CONFIG_FILE), cfg)
    elif found:
        raise UserInputError(f"{run_dir}: already holds a run (step {found[-1][0]}); pass --resume or choose another --out")

    dataset = _load_dataset(ctx, data_dir, m)
    classes = dataset.classes if m.conditional else []
    if resume and m.conditional and (run_dir / "run.json").is_file():
        if load_run_info(run_dir).get("classes") != classes:
            raise UserInputError(f"{data_dir}: classes differ from those the run in {run_dir} was trained on")
    spec, disc_params = _specs(m, classes)

    device = ctx.device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # shapes never change
        torch.set_float32_matmul_precision("high")
    torch.manual_seed(t.seed)  # identical initial weights on every rank
    gen = build_generator(spec).to(device)
    disc = build_critic(disc_params).to(device)
    state = TrainState(gen, disc, torch.optim.Adam(gen.parameters(), lr=t.lr, betas=t.betas),
                       torch.optim.Adam(disc.parameters(), lr=t.lr, betas=t.betas), 0, t.seed, ctx.world_size)
    warm = None
    fresh_warm_start = init_generator is not None and not (resume and found)
    if fresh_warm_start:
        warm = _warm_start(gen, spec, init_generator)
        warm["critic_warmup_steps"] = t.critic_warmup_steps
    if t.ema_decay > 0:  # after a warm start, the average starts there; a resume overwrites it below
        state.ema = GeneratorEma(gen, t.ema_decay)
    if resume and found:
        load_checkpoint(found[-1][1], state)
        warm = load_run_info(run_dir).get("init_generator") if (run_dir / "run.json").is_file() else None
    elif resume and ctx.is_main:
        tqdm.write(f"ganshot: {run_dir} has no checkpoint yet, starting at step 0")
    if ctx.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / CONFIG_FILE)
        write_run_info(run_dir, {"dataset": dataset.manifest.summary(), "data_dir": str(data_dir.resolve()),
                                 "classes": classes, "generator": spec.to_dict(), "discriminator": disc_params,
                                 "latent_distribution": m.latent_distribution, "sample_rate": m.sample_rate,
                                 "pitch_range": list(m.pitch_range) if m.pitch_conditional else None,
                                 "init_generator": warm})
    if ctx.distributed:
        state.generator, state.discriminator = wrap_ddp(gen, device), wrap_ddp(disc, device)
    judge = None
    if t.judge_every > 0 and ctx.is_main:
        from .judge import RunJudge

        judge = RunJudge.prepare(run_dir, data_dir, dataset, cfg, say=tqdm.write)
    loop = TrainLoop(ctx, cfg, state, spec, disc_params, dataset, classes, run_dir, judge)
    if fresh_warm_start and t.critic_warmup_steps > 0:
        loop.critic_warmup(t.critic_warmup_steps)
    return loop.run(on_step)


def _check_pitches(data_dir: Path, dataset: OneShotDataset, pitch_range) -> None:
    """A pitch-conditional config needs a MIDI pitch on every item, inside ``model.pitch_range``."""
    if dataset.pitches is None:
        raise UserInputError(f"{data_dir}: model.pitch_conditional needs a pitch on every item, and this dataset's "
                             "manifest has none or only some (build one with `ganshot dataset soundfont --programs ...`)")
    low, high = int(dataset.pitches.min()), int(dataset.pitches.max())
    if low < pitch_range[0] or high > pitch_range[1]:
        raise UserInputError(f"{data_dir}: pitches {low}-{high} lie outside model.pitch_range "
                             f"[{pitch_range[0]}, {pitch_range[1]}] (set model.pitch_range=[{low}, {high}])")


def _load_dataset(ctx, data_dir: Path, m) -> OneShotDataset:
    dataset = OneShotDataset(data_dir, num_samples=m.num_samples)
    if dataset.sample_rate != m.sample_rate:
        raise UserInputError(f"{data_dir}: dataset is {dataset.sample_rate} Hz but the config wants {m.sample_rate} Hz "
                             f"(rebuild it with --sample-rate {m.sample_rate} or set model.sample_rate)")
    if m.pitch_conditional:
        _check_pitches(data_dir, dataset, m.pitch_range)
    if ctx.is_main and dataset.manifest.num_samples != m.num_samples:
        warnings.warn(f"{data_dir}: one-shots have {dataset.manifest.num_samples} samples, the model makes "
                      f"{m.num_samples}: each is {'cropped' if m.num_samples < dataset.manifest.num_samples else 'zero-padded'}",
                      stacklevel=4)
    return dataset
