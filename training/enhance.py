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
        state.pt                          {"format", "version", "step", "seed", "cpu_s", "opt"}
                                          (torch.load(weights_only=True) safe)

Pairs (:mod:`.enhance_data`): real one-shots of the dataset's train split
(:func:`~.evaluate.split_items`) with synthetic WaveGAN-shaped artefacts, and clean ->
clean identity pairs. Latent-inversion pairs (z fitted so that G(z) matches a real hit)
are not made: at ~60 ms per generator forward + backward on these CPUs, a few hundred
steps per hit cost more than the whole training budget.

Loss: multi-resolution STFT (spectral convergence + log-magnitude L1 at FFT sizes
256/512/1024, magnitudes floored at -120 dB re the clean peak so tail hiss counts) +
waveform L1, all on rows scaled so the clean peak is 1. Randomness is re-derived from
``(seed, step)`` at every step, so a checkpoint's step and seed are the whole RNG state.
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
WEIGHTS_FILE, STATE_FILE = "enhancer.safetensors", "state.pt"
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


def _loss(net, noisy, clean, cfg: EnhanceConfig) -> torch.Tensor:
    scale = 1.0 / clean.abs().amax(dim=1, keepdim=True).clamp_min(1e-6)
    estimate = net(noisy) * scale
    clean = clean * scale
    return mr_stft_loss(estimate, clean) + cfg.wave_l1_weight * (estimate - clean).abs().mean()


def latest_checkpoint(run_dir) -> Path | None:
    root = Path(run_dir) / CHECKPOINTS
    found = sorted(p for p in root.glob("step_*") if p.is_dir()) if root.is_dir() else []
    return found[-1] if found else None


def _save(run_dir: Path, net, opt, step: int, seed: int, cpu_s: float, keep: int) -> Path:
    """checkpoints/step_XXXXXXX written in a temp folder, fsynced, renamed; the newest ``keep`` stay."""
    def write(tmp: Path) -> list[str]:
        weights = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
        save_file(weights, tmp / WEIGHTS_FILE, metadata={
            "format": WEIGHTS_FORMAT, "spec": json.dumps(net.spec.to_dict()), "step": str(step)})
        torch.save({"format": STATE_FORMAT, "version": 1, "step": step, "seed": seed, "cpu_s": cpu_s,
                    "opt": opt.state_dict()}, tmp / STATE_FILE)
        return [WEIGHTS_FILE, STATE_FILE]

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


def _batch(audio, train_rows, degrade, seed, step, size):
    gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
    pick = torch.from_numpy(train_rows)[torch.randint(len(train_rows), (size,), generator=gen)]
    return degrade(audio[pick], gen)


def _validation(audio, test_rows, degrade, seed):
    test_rows = test_rows if len(test_rows) else np.arange(len(audio))  # a tiny set may have no test split
    rows = test_rows[np.linspace(0, len(test_rows) - 1, min(VALID_ROWS, len(test_rows))).astype(int)]
    gen = torch.Generator().manual_seed(seed + 999_983)
    degrade_all = Degrader(degrade.sample_rate, identity_share=0.0)
    noisy, clean = degrade_all(audio[torch.from_numpy(rows)], gen)
    return noisy, clean, audio[torch.from_numpy(rows)]


def _evaluate(net, valid) -> dict:
    noisy, clean, real = valid
    with torch.no_grad():
        enhanced, same = net(noisy), net(real)
    return {"lsd_noisy_db": float(log_spectral_distance_db(noisy, clean).mean()),
            "lsd_enhanced_db": float(log_spectral_distance_db(enhanced, clean).mean()),
            "lsd_identity_db": float(log_spectral_distance_db(same, real).mean())}


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
            "pairs": {"degraded_real": True, "identity": True, "latent_inversion": False}}
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
    step, cpu_before = 0, 0.0
    found = latest_checkpoint(run_dir) if resume else None
    if found is not None:
        net, state = load_enhancer_run(run_dir, found)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
        opt.load_state_dict(state["opt"])
        step, cpu_before = int(state["step"]), float(state.get("cpu_s", 0.0))
        say(f"resumed {found.name}")
    degrade = Degrader(spec.sample_rate, identity_share=cfg.identity_share)
    valid = _validation(dataset.audio, test_rows, degrade, cfg.seed)
    net.train()
    cpu_start, skipped = time.process_time(), 0
    cpu_now = lambda: cpu_before + time.process_time() - cpu_start  # noqa: E731
    while step < cfg.steps:
        noisy, clean = _batch(dataset.audio, train_rows, degrade, cfg.seed, step, cfg.batch_size)
        loss = _loss(net, noisy, clean, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        if torch.isfinite(loss) and torch.isfinite(norm):
            opt.step()
        else:  # one bad batch must not poison the weights (counted in the log)
            skipped += 1
        step += 1
        out_of_time = cfg.max_cpu_minutes is not None and cpu_now() >= cfg.max_cpu_minutes * 60
        if step % cfg.eval_every == 0 or step == cfg.steps or out_of_time:
            net.eval()
            figures = {"step": step, "loss": float(loss.detach()), "cpu_s": round(cpu_now(), 1), "skipped": skipped,
                       **_evaluate(net, valid)}
            net.train()
            with open(run_dir / LOG_JSONL, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(figures) + "\n")
            say(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))
        if step % cfg.checkpoint_every == 0 or step == cfg.steps or out_of_time:
            _save(run_dir, net, opt, step, cfg.seed, cpu_now(), cfg.keep)
        if out_of_time:
            say(f"stopped at step {step}: {cfg.max_cpu_minutes:g} CPU minutes used (continue with --resume)")
            break
    return latest_checkpoint(run_dir)
