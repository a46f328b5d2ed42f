"""Training speed: WGAN-GP iterations per second for the shipped configs. Not a test.

One iteration = ``critic_steps`` critic updates + 1 generator update, measured through
the real training loop (``ganshot.training.train.train``) on a small generated FLAC
dataset, timed between ``on_step`` callbacks after a warm-up iteration.

On CPU the full configs (d=64, batch 64) take minutes per iteration, so by default each
runs at a small width and batch; every row says what was measured. On CUDA every config
is measured at its full size as well. Default run: under ~3 minutes on 2 CPU cores.

    python bench/train_speed.py                      # the default table
    python bench/train_speed.py --plan wavegan_16k:32:16 --iters 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

from ganshot.training.config import list_configs, load_config  # noqa: E402
from ganshot.training.manifest import Manifest, ManifestItem, save_manifest  # noqa: E402
from ganshot.training.train import train  # noqa: E402

# (config, d, batch): None keeps the config's own value.
CPU_PLAN = [
    ("wavegan_small", None, None),  # d=16, batch 16
    ("wavegan_small", 8, 16),
    ("wavegan_16k", 8, 8),
    ("wavegan_32k", 8, 8),
    ("wavegan_65k", 8, 8),
    ("seed_64000", 8, 8),
]
CUDA_EXTRA = [(name, None, None) for name in list_configs() if name != "base"]


def make_dataset(root: Path, num_samples: int, sample_rate: int, num_items: int = 16) -> Path:
    """A small FLAC dataset of decaying noise bursts (speed does not depend on content)."""
    rng = np.random.default_rng(0)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    items = []
    envelope = np.exp(-np.arange(num_samples) / sample_rate * 20)
    for index in range(num_items):
        rel = f"audio/hit_{index:03d}.flac"
        sf.write(root / rel, (0.5 * rng.standard_normal(num_samples) * envelope).astype(np.float32), sample_rate)
        items.append(ManifestItem(path=rel, label="hit"))
    save_manifest(root, Manifest(sample_rate, num_samples, ["hit"], items, {"kind": "bench"}))
    return root


def measure(name: str, d, batch, iters: int, device: str, workdir: Path) -> dict:
    overrides = ["train.checkpoint_every=1000000", "train.log_every=1000000", "train.num_workers=0"]
    overrides += [f"model.d={d}"] if d else []
    overrides += [f"train.batch_size={batch}"] if batch else []
    cfg = load_config(name, overrides)
    key = f"{cfg.model.num_samples}_{cfg.model.sample_rate}"
    data = workdir / f"data_{key}"
    if not data.exists():
        make_dataset(data, cfg.model.num_samples, cfg.model.sample_rate, num_items=max(16, cfg.train.batch_size))
    stamps = []
    run = workdir / f"run_{name}_{cfg.model.d}_{cfg.train.batch_size}_{device}_{len(list(workdir.iterdir()))}"
    train(name, data, run, overrides=overrides, max_steps=iters + 1, device=device,
          on_step=lambda state, stats: stamps.append(time.perf_counter()))
    seconds = (stamps[-1] - stamps[0]) / (len(stamps) - 1)  # the first iteration is warm-up
    return {"config": name, "d": cfg.model.d, "batch": cfg.train.batch_size, "samples": cfg.model.num_samples,
            "device": device, "it_s": 1 / seconds, "s_it": seconds}


def parse_plan(text: str):
    name, d, batch = (text.split(":") + ["", ""])[:3]
    return name, int(d) if d else None, int(batch) if batch else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--plan", action="append", type=parse_plan, metavar="CONFIG[:D[:BATCH]]",
                        help="measure these instead of the default table")
    parser.add_argument("--iters", type=int, default=3, help="timed iterations per row (after one warm-up)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = parser.parse_args(argv)
    devices = ["cpu"] if args.device == "cpu" else ["cuda"] if args.device == "cuda" else (
        ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    rows = []
    with tempfile.TemporaryDirectory(prefix="ganshot-bench-") as tmp:
        for device in devices:
            plan = args.plan or (CPU_PLAN if device == "cpu" else CPU_PLAN + CUDA_EXTRA)
            for name, d, batch in plan:
                rows.append(measure(name, d, batch, args.iters, device, Path(tmp)))
                print(f"  measured {name} d={rows[-1]['d']} batch={rows[-1]['batch']} on {device}",
                      file=sys.stderr, flush=True)
    cpu = f"{os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads"
    gpu = f", {torch.cuda.get_device_name()}" if "cuda" in devices else ""
    print(f"WGAN-GP training speed (1 it = 5 critic + 1 generator step; {cpu}{gpu})")
    header = f"{'config':<14} {'samples':>7} {'d':>4} {'batch':>5} {'device':>6} {'it/s':>8} {'s/it':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['config']:<14} {r['samples']:>7} {r['d']:>4} {r['batch']:>5} {r['device']:>6} "
              f"{r['it_s']:>8.3f} {r['s_it']:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
