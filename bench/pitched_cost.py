"""What the pitched configs cost (issue 14): generator parameters, ONNX size, render time, training step time.

For each config (default: ``pitched_small`` and ``pitched_64000``):

* generator parameters, and the size of ``generator.onnx`` as ``ganshot export`` writes it
  (a freshly initialised generator with ``--programs`` classes, exported through the real
  export path, parity check included);
* render ms, batch 1, one thread: ONNX Runtime (one intra-op thread, what the engine uses) and
  torch eager (``torch.set_num_threads(1)``), median of ``--renders`` after two warm-ups;
* seconds per training step with one torch thread, through the real training loop
  (``ganshot.training.train.train``) on a small generated pitched dataset (harmonic tones), the
  median of the steps after the first. A step is the config's ``critic_steps`` critic updates and
  one generator update. Where ``--batch`` is smaller than the config's batch, the row says so and
  also gives the figure scaled linearly to the config's batch (the work per step is linear in it).

Not a test; figures depend on the machine and on what else runs on it. Writes a Markdown table.

    python bench/pitched_cost.py --out bench/results/pitched_cost.md
    python bench/pitched_cost.py --plan pitched_small:16 --plan pitched_64000:2 --steps 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

from ganshot.engine.generators import build_generator  # noqa: E402
from ganshot.engine.runtime import load_generator_runtime, measure_render_ms  # noqa: E402
from ganshot.training.config import load_config  # noqa: E402
from ganshot.training.export import export_generator  # noqa: E402
from ganshot.training.manifest import Manifest, ManifestItem, save_manifest  # noqa: E402
from ganshot.training.train import SPEC_BUILDERS, train  # noqa: E402
from dataclasses import replace  # noqa: E402

DEFAULT_PLAN = ("pitched_small:16", "pitched_64000:2")  # config:batch (the big one at its batch would take minutes a step)
DEFAULT_PROGRAMS = ("alto_sax", "violin", "flute", "trumpet")


def _spec(cfg, num_classes: int):
    m = cfg.model
    spec = SPEC_BUILDERS[m.architecture](m, num_classes if m.conditional else 0)
    return replace(spec, pitch_low=m.pitch_range[0], pitch_high=m.pitch_range[1]) if m.pitch_conditional else spec


def _dataset(root: Path, cfg, programs, items: int) -> Path:
    """``items`` harmonic tones over the config's pitch range, one class per program, with pitches."""
    m = cfg.model
    (root / "audio").mkdir(parents=True)
    low, high = m.pitch_range
    t = np.arange(m.num_samples) / m.sample_rate
    rows = []
    for index in range(items):
        label, pitch = programs[index % len(programs)], low + (index * 7) % (high - low + 1)
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6) if k * f0 < m.sample_rate / 2)
        tone = (0.5 * tone * np.exp(-2.0 * t) / np.max(np.abs(tone))).astype(np.float32)
        rel = f"audio/{label}_{index:03d}.flac"
        sf.write(root / rel, tone, m.sample_rate, subtype="PCM_16")
        rows.append(ManifestItem(path=rel, label=label, kit="bench", note=pitch, velocity=100, pitch=pitch, program=0))
    save_manifest(root, Manifest(m.sample_rate, m.num_samples, list(programs), rows, {"kind": "synthetic"}))
    return root


def _render_ms(bundle: Path, renders: int) -> dict:
    out = {}
    for backend in ("onnx", "torch"):
        runtime = load_generator_runtime(bundle, backend=backend, device="cpu", threads=1)
        out[backend] = measure_render_ms(runtime, batch=1, runs=renders)
    return out


def _step_s(name: str, cfg, batch: int, steps: int, programs, work: Path) -> float:
    data = _dataset(work / "data", cfg, programs, max(2 * batch, len(programs)))
    stamps = []
    overrides = [f"train.batch_size={batch}", "train.num_workers=0", "train.checkpoint_every=1000000",
                 "train.sample_every=1000000", "train.log_every=1000000"]
    train(name, data, work / "run", overrides=overrides, max_steps=steps + 1, device="cpu",
          on_step=lambda state, stats: stamps.append(time.perf_counter()))
    return statistics.median(b - a for a, b in zip(stamps, stamps[1:]))


def measure(entry: str, programs, steps: int, renders: int) -> dict:
    name, _, batch_text = entry.partition(":")
    cfg = load_config(name)
    batch = int(batch_text) if batch_text else cfg.train.batch_size
    torch.manual_seed(0)
    spec = _spec(cfg, len(programs))
    generator = build_generator(spec)
    params = sum(p.numel() for p in generator.parameters())
    with tempfile.TemporaryDirectory(prefix="pitched-cost-") as tmp:
        work = Path(tmp)
        bundle = export_generator(generator, spec, work / "bundle", name=name, sample_rate=cfg.model.sample_rate,
                                  classes=list(programs) if spec.conditional else [])
        onnx_bytes = (bundle / "generator.onnx").stat().st_size
        render = _render_ms(bundle, renders)
        torch.set_num_threads(1)
        step = _step_s(name, cfg, batch, steps, programs, work)
    return {"name": name, "cfg": cfg, "params": params, "onnx_mb": onnx_bytes / 1e6, "render": render,
            "batch": batch, "step_s": step, "scaled_s": step * cfg.train.batch_size / batch}


def table(rows) -> str:
    lines = ["| config | model | generator params | generator.onnx | render batch 1, 1 thread (ONNX / torch) "
             "| training step, 1 thread | at the config's batch |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        m, t = r["cfg"].model, r["cfg"].train
        model = (f"{m.architecture} d={m.d}, z={m.latent_dim}, {m.num_samples} samples @ {m.sample_rate} Hz, "
                 f"MIDI {m.pitch_range[0]}-{m.pitch_range[1]}, {t.loss} {t.critic_steps}:1"
                 + (f", EMA {t.ema_decay}" if t.ema_decay else ""))
        scaled = (f"{r['scaled_s']:.1f} s (batch {t.batch_size}, scaled)" if r["batch"] != t.batch_size
                  else f"{r['step_s']:.2f} s (measured)")
        lines.append(f"| `{r['name']}` | {model} | {r['params'] / 1e6:.2f} M | {r['onnx_mb']:.1f} MB "
                     f"| {r['render']['onnx']:.1f} ms / {r['render']['torch']:.1f} ms "
                     f"| {r['step_s']:.2f} s at batch {r['batch']} | {scaled} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--plan", action="append", help=f"CONFIG[:BATCH], repeatable (default {' '.join(DEFAULT_PLAN)})")
    parser.add_argument("--programs", default=",".join(DEFAULT_PROGRAMS), help="class names (conditional configs)")
    parser.add_argument("--steps", type=int, default=3, help="timed training steps after the first")
    parser.add_argument("--renders", type=int, default=10, help="timed renders per backend")
    parser.add_argument("--out", type=Path, help="write the Markdown table here (else stdout)")
    args = parser.parse_args(argv)
    programs = tuple(p for p in args.programs.split(",") if p)
    rows = []
    for entry in args.plan or DEFAULT_PLAN:
        rows.append(measure(entry, programs, args.steps, args.renders))
        print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    text = table(rows)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
