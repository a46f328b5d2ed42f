"""One run's training loop: critic steps, generator step, logging, previews, checkpoints, the judge.

:func:`ganshot.training.train.train` builds the models and the :class:`TrainLoop`; this module
runs it. Randomness: ``torch.manual_seed`` is re-derived from ``(seed, rank, step)`` at the
start of every step (:func:`step_seed`), so a resumed run continues exactly like an
uninterrupted one. The first Ctrl-C finishes the current step, saves and stops; a second one
stops at once (still saving).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading

import torch
import torch.distributed as dist
from tqdm import tqdm

from ._distributed import BatchStream, DistContext
from .augment import augment
from .checkpoint import CONFIG_FILE, save_best, save_checkpoint
from .losses import critic_loss, generator_loss, ns_critic_loss, ns_generator_loss
from .monitor import Monitor

__all__ = ["TrainLoop", "sample_latent", "step_seed", "NUM_PREVIEWS", "MAX_DEVICE_DATA_BYTES"]

NUM_PREVIEWS = 4
MAX_DEVICE_DATA_BYTES = 8 << 30  # datasets up to this size live on the GPU


def sample_latent(batch: int, latent_dim: int, distribution: str, device, generator=None) -> torch.Tensor:
    """``z`` float32[batch, latent_dim]: N(0, 1) for "normal", U(-1, 1) for "uniform"."""
    if distribution == "uniform":
        return torch.rand(batch, latent_dim, device=device, generator=generator) * 2 - 1
    return torch.randn(batch, latent_dim, device=device, generator=generator)


def step_seed(seed: int, rank: int, step: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{rank}:{step}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def _batches(dataset, stream: BatchStream, start_batch: int, device: torch.device, num_workers: int):
    """Endless ``(audio float32[B, N], labels int64[B], pitches int64[B] | None)`` on ``device`` from batch
    ``start_batch`` on (pitches when the dataset has them: ``dataset.pitches``)."""
    audio = getattr(dataset, "audio", None)
    if isinstance(audio, torch.Tensor):  # OneShotDataset keeps everything in memory
        labels, pitches = dataset.labels, getattr(dataset, "pitches", None)
        if device.type == "cuda" and audio.numel() * audio.element_size() <= MAX_DEVICE_DATA_BYTES:
            audio, labels = audio.to(device), labels.to(device)
            pitches = pitches.to(device) if pitches is not None else None
        for indices in stream.iterate(start_batch):
            index = torch.tensor(indices, device=audio.device)
            picked = pitches[index.to(pitches.device)].to(device, non_blocking=True) if pitches is not None else None
            yield audio[index].to(device, non_blocking=True), labels[index].to(device, non_blocking=True), picked
    else:
        loader = torch.utils.data.DataLoader(dataset, batch_sampler=stream.iterate(start_batch),
                                             num_workers=num_workers, pin_memory=device.type == "cuda")
        for audio, labels in loader:
            yield audio.to(device, non_blocking=True), labels.to(device, non_blocking=True), None


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


# Progress-bar labels of the logged scalars, per recipe (what a user reads while training).
_PROGRESS = {
    "wgan_gp": (("critic_loss", "critic"), ("generator_loss", "generator"), ("wasserstein", "wasserstein"),
                ("gradient_penalty", "grad_penalty")),
    "ns_r1": (("critic_loss", "critic"), ("generator_loss", "generator"), ("real_score", "D(real)"),
              ("fake_score", "D(fake)")),
}


def _quiet() -> bool:
    """tqdm's own switch (TQDM_DISABLE), honoured explicitly: no bars and no closing lines."""
    return os.environ.get("TQDM_DISABLE", "") not in ("", "0")


class TrainLoop:
    """One run's training loop: critic steps, generator step, logging, previews, checkpoints."""

    def __init__(self, ctx, cfg, state, spec, disc_params, dataset, classes, run_dir, judge=None) -> None:
        self.ctx, self.cfg, self.state, self.spec, self.disc_params = ctx, cfg, state, spec, disc_params
        self.classes, self.run_dir = classes, run_dir
        self.judge = judge  # a judge.RunJudge on the main process when train.judge_every > 0
        m, t = cfg.model, cfg.train
        self.pitched = m.pitch_conditional
        weights = None
        if t.class_balance > 0:  # rare classes drawn more often: count(class) ** -class_balance per one-shot
            counts = torch.bincount(dataset.labels).double()
            weights = (counts[dataset.labels] ** -t.class_balance).numpy()
        self.dataset, self.weights = dataset, weights
        stream = BatchStream(len(dataset), t.batch_size, t.seed, ctx.rank, ctx.world_size, weights)
        self.batches = _batches(dataset, stream, state.step * t.critic_steps, ctx.device, t.num_workers)
        self.autocast = _autocast_factory(t.amp, ctx.device)
        self.amp = self.autocast or contextlib.nullcontext
        self.d_no_sync = state.discriminator.no_sync if ctx.distributed else contextlib.nullcontext
        self.bare_g = getattr(state.generator, "module", state.generator)
        self.view = (lambda x: augment(x, m.sample_rate)) if t.augment else (lambda x: x)
        self.saved = None

    def _latent(self, batch: int) -> torch.Tensor:
        m = self.cfg.model
        return sample_latent(batch, m.latent_dim, m.latent_distribution, self.ctx.device)

    def critic_step(self, count: int) -> dict:
        """One critic update on the next real batch; ``count`` numbers critic updates (lazy R1)."""
        t, state = self.cfg.train, self.state
        real, labels, pitches = next(self.batches)
        labels = labels if self.classes else None
        cond = (labels, pitches) if self.pitched else (labels,)  # what G and D take after z / the audio
        with torch.no_grad(), self.amp():
            fake = self.bare_g(self._latent(real.shape[0]), *cond)
        real_in, fake_in = self.view(real), self.view(fake.float())
        if t.loss == "ns_r1":
            r1_weight = t.r1_gamma / 2 * t.r1_every if t.r1_gamma > 0 and count % t.r1_every == 0 else 0.0
            loss_d, stats = ns_critic_loss(state.discriminator, real_in, fake_in, cond, r1_weight, self.autocast)
        else:
            loss_d, stats = critic_loss(state.discriminator, real_in, fake_in, cond, t.gp_lambda, self.autocast)
        state.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        state.opt_d.step()
        self._cond, self._batch = cond, real.shape[0]
        return stats

    def generator_step(self) -> torch.Tensor:
        t, state = self.cfg.train, self.state
        z = self._latent(self._batch)
        with self.d_no_sync(), self.amp():  # D's gradients here are thrown away, so skip their all-reduce
            scores = state.discriminator(self.view(state.generator(z, *self._cond)), *self._cond)
            loss_g = ns_generator_loss(scores) if t.loss == "ns_r1" else generator_loss(scores)
        state.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        state.opt_g.step()
        if state.ema is not None:
            state.ema.update(state.generator, state.step)
        return loss_g.detach()

    def critic_warmup(self, steps: int) -> None:
        """Critic-only updates against the frozen (warm-start) generator, before step 0."""
        t = self.cfg.train
        keep = self.batches
        stream = BatchStream(len(self.dataset), t.batch_size, t.seed + 1, self.ctx.rank, self.ctx.world_size, self.weights)
        self.batches = _batches(self.dataset, stream, 0, self.ctx.device, t.num_workers)
        for index in tqdm(range(steps), desc="critic warm-up (generator frozen)", disable=_quiet() or not self.ctx.is_main):
            torch.manual_seed(step_seed(t.seed + 1, self.ctx.rank, index))
            self.critic_step(index)
        self.batches = keep

    def _save(self) -> None:
        if self.ctx.is_main:
            self.saved = save_checkpoint(self.run_dir, self.state, self.spec, self.disc_params,
                                         self.cfg.train.keep_checkpoints)

    def _judge(self, monitor) -> None:
        """Judge the EMA generator (the live one without EMA); a new best becomes RUN/best/."""
        state = self.state
        generator = state.ema.module if state.ema is not None else self.bare_g
        self.judge(state.step, generator, lambda: save_best(self.run_dir, state, self.spec, self.disc_params), monitor)

    def _report(self, progress, monitor, stats: dict, z_preview, y_preview, p_preview=None) -> None:
        m, t, state = self.cfg.model, self.cfg.train, self.state
        if state.step % t.log_every == 0 or state.step == t.steps:
            values = {k: float(v) for k, v in stats.items()}
            monitor.scalars(state.step, {k: v for k, v in values.items() if v == v})  # NaN: no R1 this step
            progress.set_postfix({label: f"{values[key]:.3f}" for key, label in _PROGRESS[t.loss] if key in values})
        if monitor.active and state.step % t.sample_every == 0:
            preview = state.ema.module if state.ema is not None else self.bare_g
            with torch.no_grad(), self.amp():
                audio = preview(z_preview, y_preview, *(() if p_preview is None else (p_preview,)))
            names = [self.classes[int(y)] for y in y_preview] if self.classes else None
            if p_preview is not None:
                names = [f"{name}_midi{int(p)}".lstrip("_") for name, p in zip(names or [""] * len(p_preview), p_preview)]
            monitor.samples(state.step, audio.float(), m.sample_rate, names)

    def run(self, on_step) -> dict:
        ctx, m, t, state = self.ctx, self.cfg.model, self.cfg.train, self.state
        device = ctx.device
        preview = torch.Generator().manual_seed(t.seed)
        z_preview = sample_latent(NUM_PREVIEWS, m.latent_dim, m.latent_distribution, "cpu", preview).to(device)
        y_preview = (torch.arange(NUM_PREVIEWS, device=device) % len(self.classes)) if self.classes else None
        p_preview = None
        if self.pitched:  # spread over the range: low, ..., high
            low, high = m.pitch_range
            p_preview = torch.linspace(low, high, NUM_PREVIEWS).round().long().to(device)
        monitor = Monitor(self.run_dir / "tb", enabled=ctx.is_main)
        quiet = _quiet()
        progress = tqdm(total=t.steps, initial=state.step, disable=quiet or not ctx.is_main, unit="it",
                        dynamic_ncols=True, desc=f"{self.run_dir.name} d={m.d} b={t.batch_size}x{ctx.world_size} "
                                                 f"{t.loss} {device.type}")
        stop = _StopOnSigint()
        stats: dict = {}
        try:
            while state.step < t.steps:
                torch.manual_seed(step_seed(t.seed, ctx.rank, state.step))
                for index in range(t.critic_steps):
                    stats = self.critic_step(state.step * t.critic_steps + index)
                loss_g = self.generator_step()
                state.step += 1
                stats = {**stats, "generator_loss": loss_g}
                progress.update(1)
                self._report(progress, monitor, stats, z_preview, y_preview, p_preview)
                if state.step % t.checkpoint_every == 0:
                    self._save()
                if self.judge is not None and ctx.is_main and self.judge.due(state.step, t.steps):
                    self._judge(monitor)
                if on_step is not None:
                    on_step(state, stats)
                if stop.should_stop(ctx):
                    raise KeyboardInterrupt
            self._save()
        except KeyboardInterrupt:
            self._save()
            if ctx.is_main and self.saved is not None:
                tqdm.write(f"ganshot: saved {self.saved}; continue with: ganshot train {self.run_dir / CONFIG_FILE} "
                           f"--data DIR --out {self.run_dir} --resume")
            raise
        finally:
            stop.restore()
            progress.close()
            monitor.close()
        if ctx.distributed:
            dist.barrier()
        if ctx.is_main and self.saved is not None and not quiet:
            tqdm.write(f"ganshot: {state.step} steps done; checkpoint {self.saved}\n"
                       f"next: ganshot export {self.run_dir} -o BUNDLE_DIR   (or --resume with more --steps)")
        names = ("critic_loss", "generator_loss", "wasserstein", "gradient_penalty", "real_score", "fake_score", "r1")
        values = {name: (float(stats[name]) if name in stats else None) for name in names}
        return {"step": state.step, **values, "checkpoint": str(self.saved) if self.saved else None}
