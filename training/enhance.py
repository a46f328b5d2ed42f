"""``ganshot enhance-train``: train the enhancement post-filter on degraded real one-shots.

Cheat sheet::

    from ganshot.training.enhance import EnhanceConfig, train_enhancer
    run = train_enhancer("data/drums2x8", "presets/models/drums-v2", "runs/enh", EnhanceConfig(steps=2000))
    # resumable: the same call with resume=True continues from RUN/checkpoints/step_*/

Run folder::

    RUN/run.json                          {"format": "ganshot-enhance-run", "version": 1, "config": {...},
                                           "spec": {...EnhancerSpec...}, "dataset": ..., "model": name}
    RUN/log.jsonl                         one line per evaluation (step, loss, LSD figures, CPU s)
    RUN/checkpoints/step_0000200/
        enhancer.safetensors              the weights; metadata: format, spec (JSON), step
        critic.safetensors                the adversarial critic (adv_weight > 0 only)
        state.pt                          {"format", "version", "step", "seed", "cpu_s", "opt", "opt_critic"}
                                          (torch.load(weights_only=True) safe)

Pairs: real one-shots of the dataset's train split (:func:`~.evaluate.split_items`) with
synthetic WaveGAN-shaped artefacts (:mod:`.enhance_data`), clean -> clean identity pairs,
and, with ``inversion_pairs`` (a file of :mod:`.enhance_pairs`, ``ganshot enhance-pairs``),
a share ``inversion_share`` of each batch taken from latent-inversion pairs ``G(z*) -> real``:
the model's own artefacts on sounds it can make.

Loss: multi-resolution STFT (spectral convergence + log-magnitude L1 at FFT sizes
256/512/1024, magnitudes floored at -120 dB re the clean peak so tail hiss counts) +
waveform L1, all on rows scaled so the clean peak is 1; with ``adv_weight > 0`` plus an
adversarial term (the GAN part, as SEGAN): a log-|STFT| critic
(:class:`~.stft_critic.STFTCritic`, ``adv_n_fft``, ``adv_d``) tells clean rows from
enhanced ones with the least-squares loss, and the enhancer is pushed towards its "clean"
side. Randomness is re-derived from ``(seed, step)`` at every step, so a checkpoint's step
and seed are the whole RNG state (the critic's weights and optimiser travel in it too).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.strict_json import read_json_file

from .checkpoint import write_step_folder
from .enhance_data import Degrader
from .enhance_model import EnhancerSpec, MaskEnhancer

__all__ = ["EnhanceConfig", "train_enhancer", "load_enhancer_run", "mr_stft_loss", "log_spectral_distance_db",
           "latest_checkpoint"]

RUN_FORMAT, STATE_FORMAT, WEIGHTS_FORMAT = "ganshot-enhance-run", "ganshot-enhance-state", "ganshot-enhancer"
RUN_JSON, LOG_JSONL, CHECKPOINTS = "run.json", "log.jsonl", "checkpoints"
WEIGHTS_FILE, STATE_FILE, CRITIC_FILE = "enhancer.safetensors", "state.pt", "critic.safetensors"
STFT_SIZES = (256, 512, 1024)
FLOOR = 1e-6  # -120 dB re the clean peak
_EPS_POWER = 1e-20
VALID_ROWS = 48


@dataclass
class EnhanceConfig:
    """Training settings (run.json keeps them)."""

    steps: int = 2000
    batch_size: int = 12
    lr: float = 1e-3
    seed: int = 0
    identity_share: float = 0.25
    wave_l1_weight: float = 10.0
    checkpoint_every: int = 100
    eval_every: int = 100
    keep: int = 2
    max_cpu_minutes: float | None = None  # stop (and save) once this process has used this much CPU
    inversion_pairs: str | None = None  # a file of training.enhance_pairs (G(z*) -> real)
    inversion_share: float = 0.25  # of each batch, when inversion_pairs is given
    adv_weight: float = 0.0  # the adversarial term's weight (0: no critic)
    adv_n_fft: int = 512
    adv_d: int = 8
    spec: dict = field(default_factory=dict)  # EnhancerSpec overrides (channels, dilations, ...)


def _magnitudes(audio: torch.Tensor, n_fft: int) -> torch.Tensor:
    window = torch.hann_window(n_fft, dtype=audio.dtype)
    stft = torch.view_as_real(torch.stft(audio, n_fft, n_fft // 4, window=window, return_complex=True))
    return (stft.pow(2).sum(dim=-1) + _EPS_POWER).sqrt()  # |z| has no gradient at 0 (digital silence): NaN


def mr_stft_loss(estimate: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Multi-resolution STFT loss of rows already scaled so the clean peak is 1."""
    total = estimate.new_zeros(())
    for n_fft in STFT_SIZES:
        est, ref = _magnitudes(estimate, n_fft), _magnitudes(clean, n_fft)
        sc = ((est - ref).pow(2).sum(dim=(1, 2)) + _EPS_POWER).sqrt() / ref.pow(2).sum(dim=(1, 2)).sqrt().clamp_min(1e-6)
        log = (torch.log10(est + FLOOR) - torch.log10(ref + FLOOR)).abs().mean(dim=(1, 2))
        total = total + sc.mean() + log.mean()
    return total / len(STFT_SIZES)


def log_spectral_distance_db(a, b, n_fft: int = 512, floor_db: float = -120.0) -> np.ndarray:
    """float64[B]: RMS over bins, mean over frames, of the dB difference of ``a`` and ``b``, powers
    floored at ``floor_db`` re ``b``'s loudest STFT bin (float32 round-off sits near -130 dB)."""
    a, b = torch.as_tensor(np.asarray(a, np.float64)), torch.as_tensor(np.asarray(b, np.float64))
    pa, pb = (_magnitudes(x, n_fft) ** 2 for x in (a, b))
    floor = pb.amax(dim=(1, 2), keepdim=True).clamp_min(1e-30) * 10 ** (floor_db / 10)
    diff = 10 * torch.log10(pa + floor) - 10 * torch.log10(pb + floor)
    return diff.pow(2).mean(dim=1).sqrt().mean(dim=1).double().numpy()


def _loss(net, noisy, clean, cfg: EnhanceConfig, critic=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(the enhancer's loss, its estimate and the clean rows, both scaled so the clean peak is 1)."""
    scale = 1.0 / clean.abs().amax(dim=1, keepdim=True).clamp_min(1e-6)
    estimate = net(noisy) * scale
    clean = clean * scale
    loss = mr_stft_loss(estimate, clean) + cfg.wave_l1_weight * (estimate - clean).abs().mean()
    if critic is not None:
        critic.requires_grad_(False)  # the enhancer's step needs no gradients of the critic's weights
        loss = loss + cfg.adv_weight * (critic(estimate.clamp(-1, 1)) - 1).pow(2).mean()
        critic.requires_grad_(True)
    return loss, estimate, clean


def _critic_step(critic, opt_critic, estimate, clean) -> None:
    """One least-squares critic step: clean rows -> 1, enhanced rows -> 0."""
    loss = (critic(clean) - 1).pow(2).mean() + critic(estimate.detach().clamp(-1, 1)).pow(2).mean()
    opt_critic.zero_grad(set_to_none=True)
    loss.backward()
    if torch.isfinite(loss):
        opt_critic.step()


def latest_checkpoint(run_dir) -> Path | None:
    root = Path(run_dir) / CHECKPOINTS
    found = sorted(p for p in root.glob("step_*") if p.is_dir()) if root.is_dir() else []
    return found[-1] if found else None


def _save(run_dir: Path, net, opt, step: int, seed: int, cpu_s: float, keep: int, critic=None, opt_critic=None) -> Path:
    """checkpoints/step_XXXXXXX written in a temp folder, fsynced, renamed; the newest ``keep`` stay."""
    def write(tmp: Path) -> list[str]:
        weights = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
        save_file(weights, tmp / WEIGHTS_FILE, metadata={
            "format": WEIGHTS_FORMAT, "spec": json.dumps(net.spec.to_dict()), "step": str(step)})
        state = {"format": STATE_FORMAT, "version": 1, "step": step, "seed": seed, "cpu_s": cpu_s,
                 "opt": opt.state_dict()}
        files = [WEIGHTS_FILE, STATE_FILE]
        if critic is not None:
            save_file({k: v.detach().contiguous() for k, v in critic.state_dict().items()}, tmp / CRITIC_FILE)
            state["opt_critic"] = opt_critic.state_dict()
            files.append(CRITIC_FILE)
        torch.save(state, tmp / STATE_FILE)
        return files

    return write_step_folder(Path(run_dir) / CHECKPOINTS / f"step_{step:07d}", write, keep)


def load_enhancer_run(run_dir, step_dir=None) -> tuple[MaskEnhancer, dict]:
    """(the enhancer of the newest (or the given) checkpoint in eval mode, its state dict)."""
    folder = Path(step_dir) if step_dir else latest_checkpoint(run_dir)
    if folder is None:
        raise UserInputError(f"{run_dir}: no enhancer checkpoint here (run `ganshot enhance-train` first)")
    run = read_json_file(Path(run_dir) / RUN_JSON, 1 << 20, "enhancer run description")
    if not isinstance(run, dict) or run.get("format") != RUN_FORMAT or run.get("version") != 1:
        raise FormatError(f"{Path(run_dir) / RUN_JSON}: not a ganshot enhancer run (format {RUN_FORMAT!r} v1)")
    net = MaskEnhancer(EnhancerSpec.from_dict(run["spec"]))
    net.load_state_dict(load_file(folder / WEIGHTS_FILE))
    try:
        state = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=True)
    except Exception as err:  # the weights-only unpickler refuses anything else
        raise FormatError(f"{folder / STATE_FILE}: not an enhancer training state ({type(err).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise FormatError(f"{folder / STATE_FILE}: not an enhancer training state")
    return net.eval(), state


def _batch(audio, train_rows, degrade, seed, step, size, pairs=None, pair_share: float = 0.0):
    """(noisy, clean) float32[size, N]: degraded real rows, then (with ``pairs``) inversion pairs."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
    n_pairs = min(size - 1, int(round(size * pair_share))) if pairs is not None and len(pairs) else 0
    pick = torch.from_numpy(train_rows)[torch.randint(len(train_rows), (size - n_pairs,), generator=gen)]
    noisy, clean = degrade(audio[pick], gen)
    if n_pairs:
        rows = torch.randint(len(pairs), (n_pairs,), generator=gen)
        gain = 10 ** ((-24.0 * torch.rand(n_pairs, 1, generator=gen)) / 20)  # the degrader's gain range
        real, made = pairs.real[rows], pairs.generated[rows]
        # the generated side at the real hit's loudness: the mask removes energy, it cannot add any
        made = made * (real.abs().amax(dim=1, keepdim=True) / made.abs().amax(dim=1, keepdim=True).clamp_min(1e-6))
        noisy, clean = torch.cat([noisy, made * gain]), torch.cat([clean, real * gain])
    return noisy, clean


def _validation(audio, test_rows, degrade, seed):
    test_rows = test_rows if len(test_rows) else np.arange(len(audio))  # a tiny set may have no test split
    rows = test_rows[np.linspace(0, len(test_rows) - 1, min(VALID_ROWS, len(test_rows))).astype(int)]
    gen = torch.Generator().manual_seed(seed + 999_983)
    degrade_all = Degrader(degrade.sample_rate, identity_share=0.0)
    noisy, clean = degrade_all(audio[torch.from_numpy(rows)], gen)
    return noisy, clean, audio[torch.from_numpy(rows)]


def _evaluate(net, valid, pairs=None) -> dict:
    noisy, clean, real = valid
    with torch.no_grad():
        enhanced, same = net(noisy), net(real)
    figures = {"lsd_noisy_db": float(log_spectral_distance_db(noisy, clean).mean()),
               "lsd_enhanced_db": float(log_spectral_distance_db(enhanced, clean).mean()),
               "lsd_identity_db": float(log_spectral_distance_db(same, real).mean())}
    if pairs is not None and len(pairs):  # training rows: a fit check, not a held-out figure
        rows = slice(0, min(VALID_ROWS, len(pairs)))
        with torch.no_grad():
            out = net(pairs.generated[rows])
        figures["lsd_pairs_before_db"] = float(log_spectral_distance_db(pairs.generated[rows], pairs.real[rows]).mean())
        figures["lsd_pairs_after_db"] = float(log_spectral_distance_db(out, pairs.real[rows]).mean())
    return figures


def _prepare(data_dir, bundle_path, run_dir: Path, cfg: EnhanceConfig, resume: bool):
    from .data import OneShotDataset
    from .evaluate import split_items

    bundle = load_bundle(bundle_path)
    dataset = OneShotDataset(data_dir)
    if (dataset.sample_rate, dataset.num_samples) != (bundle.sample_rate, bundle.num_samples):
        raise UserInputError(f"{data_dir}: one-shots are {dataset.num_samples} samples at {dataset.sample_rate} Hz, "
                             f"the model makes {bundle.num_samples} at {bundle.sample_rate} Hz")
    if latest_checkpoint(run_dir) is not None and not resume:
        raise UserInputError(f"{run_dir}: holds checkpoints already; pass --resume to continue, or use a new folder")
    spec = EnhancerSpec(sample_rate=bundle.sample_rate, num_samples=bundle.num_samples, **cfg.spec)
    train_idx, test_idx = split_items(dataset.manifest)
    run_dir.mkdir(parents=True, exist_ok=True)
    info = {"format": RUN_FORMAT, "version": 1, "config": asdict(cfg), "spec": spec.to_dict(),
            "dataset": {"path": str(data_dir), **dataset.manifest.summary()}, "model": bundle.name,
            "pairs": {"degraded_real": True, "identity": True, "latent_inversion": bool(cfg.inversion_pairs)}}
    atomic_write_text(run_dir / RUN_JSON, json.dumps(info, indent=2) + "\n")
    return dataset, spec, np.asarray(train_idx), np.asarray(test_idx)


def train_enhancer(data_dir, bundle_path, run_dir, cfg: EnhanceConfig = EnhanceConfig(), resume: bool = False,
                   say=print) -> Path:
    """Train (or continue) an enhancer run; returns the newest checkpoint folder."""
    run_dir = Path(run_dir)
    dataset, spec, train_rows, test_rows = _prepare(data_dir, bundle_path, run_dir, cfg, resume)
    torch.manual_seed(cfg.seed)
    net = MaskEnhancer(spec)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    critic = opt_critic = None
    if cfg.adv_weight > 0:
        from .stft_critic import STFTCritic

        critic = STFTCritic(n_fft=cfg.adv_n_fft, d=cfg.adv_d)
        opt_critic = torch.optim.Adam(critic.parameters(), lr=cfg.lr, betas=(0.5, 0.99))
    step, cpu_before = 0, 0.0
    found = latest_checkpoint(run_dir) if resume else None
    if found is not None:
        net, state = load_enhancer_run(run_dir, found)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
        opt.load_state_dict(state["opt"])
        step, cpu_before = int(state["step"]), float(state.get("cpu_s", 0.0))
        if critic is not None and (found / CRITIC_FILE).is_file() and "opt_critic" in state:
            critic.load_state_dict(load_file(found / CRITIC_FILE))
            opt_critic.load_state_dict(state["opt_critic"])
        say(f"resumed {found.name}")
    pairs = None
    if cfg.inversion_pairs:
        from .enhance_pairs import load_inversion_pairs

        pairs = load_inversion_pairs(cfg.inversion_pairs, load_bundle(bundle_path))
        say(f"{len(pairs)} latent-inversion pairs from {cfg.inversion_pairs}")
    degrade = Degrader(spec.sample_rate, identity_share=cfg.identity_share)
    valid = _validation(dataset.audio, test_rows, degrade, cfg.seed)
    net.train()
    cpu_start, skipped = time.process_time(), 0
    cpu_now = lambda: cpu_before + time.process_time() - cpu_start  # noqa: E731
    while step < cfg.steps:
        noisy, clean = _batch(dataset.audio, train_rows, degrade, cfg.seed, step, cfg.batch_size, pairs,
                              cfg.inversion_share)
        loss, estimate, scaled_clean = _loss(net, noisy, clean, cfg, critic)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        if torch.isfinite(loss) and torch.isfinite(norm):
            opt.step()
        else:  # one bad batch must not poison the weights (counted in the log)
            skipped += 1
        if critic is not None:
            _critic_step(critic, opt_critic, estimate, scaled_clean)
        step += 1
        out_of_time = cfg.max_cpu_minutes is not None and cpu_now() >= cfg.max_cpu_minutes * 60
        if step % cfg.eval_every == 0 or step == cfg.steps or out_of_time:
            net.eval()
            figures = {"step": step, "loss": float(loss.detach()), "cpu_s": round(cpu_now(), 1), "skipped": skipped,
                       **_evaluate(net, valid, pairs)}
            net.train()
            with open(run_dir / LOG_JSONL, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(figures) + "\n")
            say(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))
        if step % cfg.checkpoint_every == 0 or step == cfg.steps or out_of_time:
            _save(run_dir, net, opt, step, cfg.seed, cpu_now(), cfg.keep, critic, opt_critic)
        if out_of_time:
            say(f"stopped at step {step}: {cfg.max_cpu_minutes:g} CPU minutes used (continue with --resume)")
            break
    return latest_checkpoint(run_dir)
