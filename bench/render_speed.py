"""Render speed: generator ms per render (batch 1, median) for each backend, side by side. Not a test.

Rows, for each model:

* ``onnx-cpu (runtime)`` — :func:`ganshot.engine.runtime.load_generator_runtime` with
  ``backend="onnx"``: ONNX Runtime, input validation and the numpy copy included.
* ``torch-cpu eager`` — the bare :class:`WaveGANGenerator` called on a torch tensor under
  ``torch.inference_mode()`` (the reference every ratio is taken against).
* ``torch-cpu (runtime)`` — the runtime's torch backend (safetensors weights, numpy in/out).
* the same three on CUDA when torch sees a GPU (CUDA graphs in the runtime row).
* for a bundle that carries an enhancement post-filter (``ganshot enhance-train``):
  ``enhancer onnx-cpu`` (the post-filter alone on one generated one-shot, ONNX Runtime) and
  ``onnx-cpu + enhancer`` (generator then post-filter, as the render worker runs them);
  target <= 5 ms for the post-filter.

Models: (a) the newest bundle under ``presets/models/`` (skipped with a note when there is
none), any ``--bundle PATH`` given (e.g. a DDSP bundle next to a WaveGAN one), (b) SpecGAN d=16
(inversion included; target <= 15 ms) and (c) WaveGAN d=64 (16384 samples, latent 100), both with random weights, exported to
a temporary bundle with :func:`ganshot.training.export.export_generator`.

Renders are interleaved round-robin (one of each backend per round), so load from other
processes lands on every row alike. Target on 2 CPU cores: d=64 <= 40 ms (ONNX).

    python bench/render_speed.py                  # threads 1 and all cores
    python bench/render_speed.py --threads 2 --runs 50
    python bench/render_speed.py --threads 1 --bundle out/quality_ddsp_bundles/drums_ddsp
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from ganshot.engine.bundle import MODEL_JSON, load_bundle
from ganshot.engine.generators import build_generator, spec_from_dict
from ganshot.engine.runtime import load_generator_runtime
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
from ganshot.training.export import export_generator

PRESETS = Path(__file__).resolve().parent.parent / "presets" / "models"
TARGET_D64_MS = 40.0
TARGET_SPECGAN_MS = 15.0  # issue 13: a SpecGAN one-shot including the inverse STFT
TARGET_ENHANCER_MS = 5.0


def newest_preset() -> Path | None:
    """The bundle under presets/models/ with the newest created_utc (None when there is none)."""
    found = []
    for folder in PRESETS.glob("*"):
        meta = folder / MODEL_JSON
        if folder.is_dir() and not folder.name.endswith(".bak") and meta.is_file():
            try:
                found.append((json.loads(meta.read_text()).get("created_utc", ""), folder))
            except (OSError, ValueError):
                continue
    return max(found)[1] if found else None


def random_d64(workdir: Path) -> Path:
    spec = GeneratorSpec(latent_dim=100, d=64, num_samples=16384)
    torch.manual_seed(0)
    generator = WaveGANGenerator(spec)
    return export_generator(generator, spec, workdir / "wavegan-d64", name="wavegan-d64-random", sample_rate=16000)


def random_specgan(workdir: Path) -> Path:
    """SpecGAN d=16 (engine/specgan.py: 256 x 128 STFT image, inverse STFT in the graph), random weights."""
    from ganshot.engine.specgan import SpecGANGenerator, SpecGANSpec

    spec = SpecGANSpec(latent_dim=100, d=16, num_samples=16384)
    torch.manual_seed(0)
    return export_generator(SpecGANGenerator(spec), spec, workdir / "specgan-d16", name="specgan-d16-random",
                            sample_rate=16000)


def eager_fn(bundle, device: str):
    """A closure rendering batch-1 z with the bare torch module (the 'eager' reference)."""
    model = build_generator(spec_from_dict(bundle.meta["architecture"], bundle.hyperparameters))
    model.load_state_dict(load_file(str(bundle.safetensors_path)))
    model = model.to(device).eval()
    z = torch.from_numpy(np.random.default_rng(0).standard_normal((1, bundle.latent_dim)).astype(np.float32)).to(device)
    labels = torch.zeros(1, dtype=torch.int64, device=device) if bundle.conditional else None

    def run():
        with torch.inference_mode():
            out = model(z, labels)
            if device == "cuda":
                torch.cuda.synchronize()
            return out

    return run


def runtime_fn(bundle, backend: str, device: str, threads: int):
    runtime = load_generator_runtime(bundle, backend=backend, device=device, threads=threads)
    z = np.random.default_rng(0).standard_normal((1, bundle.latent_dim)).astype(np.float32)
    labels = np.zeros(1, np.int64) if bundle.conditional else None
    return lambda: runtime.render(z, labels)


def enhancer_fns(bundle, threads: int) -> dict:
    """The post-filter alone and generator + post-filter, on CPU (empty for bundles without one)."""
    if bundle.enhancer is None:
        return {}
    from ganshot.engine.enhancer import Enhancer

    enhancer = Enhancer(bundle, threads=threads)
    render = runtime_fn(bundle, "onnx", "cpu", threads)
    one_shot = np.ascontiguousarray(render(), dtype=np.float32)
    return {"enhancer onnx-cpu": lambda: enhancer.run(one_shot),
            "onnx-cpu + enhancer": lambda: enhancer.run(render())}


def measure(fns: dict, warmup: int, runs: int) -> dict:
    """Median ms per named callable, rendered round-robin."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: (statistics.median(t), sorted(t)[int(0.9 * (len(t) - 1))]) for name, t in times.items()}


def bench_model(label: str, path: Path, threads: int, warmup: int, runs: int) -> list[tuple]:
    torch.set_num_threads(threads)  # process-wide, so every torch row below uses it
    bundle = load_bundle(path)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        fns = {}
        try:
            fns[f"onnx-{device} (runtime)"] = runtime_fn(bundle, "onnx", device, threads)
        except Exception as err:  # e.g. onnxruntime without the CUDA provider
            rows.append((label, threads, f"onnx-{device} (runtime)", None, None, None, f"skipped: {err}"))
        fns[f"torch-{device} eager"] = eager_fn(bundle, device)
        fns[f"torch-{device} (runtime)"] = runtime_fn(bundle, "torch", device, threads)
        if device == "cpu":
            fns.update(enhancer_fns(bundle, threads))
        figures = measure(fns, warmup, runs)
        eager = figures[f"torch-{device} eager"][0]
        for name, (p50, p90) in figures.items():
            rows.append((label, threads, name, p50, p90, eager / p50, ""))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--threads", default=",".join(dict.fromkeys(["1", str(cores)])),
        help="comma-separated intra-op thread counts; each is measured for every backend",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=20, help="timed renders per backend")
    parser.add_argument("--warmup", type=int, default=3, help="untimed renders per backend first")
    parser.add_argument("--bundle", type=Path, action="append", default=[], help="also time this bundle (repeatable)")
    args = parser.parse_args(argv)
    thread_counts = [int(part) for part in args.threads.split(",") if part.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ganshot-bench-") as work:
        models = [("specgan d=16 (random)", random_specgan(Path(work))), ("wavegan d=64 (random)", random_d64(Path(work)))]
        preset = newest_preset()
        if preset is None:
            rows.append(("preset", "-", "-", None, None, None, f"skipped: no bundle under {PRESETS}"))
        else:
            models.insert(0, (f"preset {preset.name}", preset))
        for path in args.bundle:
            meta = load_bundle(path).meta
            models.insert(-1, (f"{meta['architecture']} {meta['name']}", path))
        for label, path in models:
            for threads in thread_counts:
                rows += bench_model(label, path, threads, args.warmup, args.runs)
    print(f"render speed, batch 1, median (p50) and p90 of {args.runs} renders after {args.warmup} warm-up; "
          f"torch {torch.__version__}, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'model':<28} {'threads':>7}  {'backend':<22} {'p50 ms':>8} {'p90 ms':>8} {'vs eager':>9}  note")
    for model, threads, backend, p50, p90, ratio, note in rows:
        if p50 is None:
            print(f"{model:<28} {threads:>7}  {backend:<22} {'-':>8} {'-':>8} {'-':>9}  {note}")
            continue
        if model.startswith("wavegan d=64") and backend.startswith("onnx-cpu"):
            note = note or f"target <= {TARGET_D64_MS:.0f} ms: {'met' if p50 <= TARGET_D64_MS else 'MISSED'}"
        if model.startswith("specgan d=16") and backend.startswith("onnx-cpu"):
            note = note or f"target <= {TARGET_SPECGAN_MS:.0f} ms: {'met' if p50 <= TARGET_SPECGAN_MS else 'MISSED'}"
        if backend == "enhancer onnx-cpu":
            note = note or f"target <= {TARGET_ENHANCER_MS:.0f} ms: {'met' if p50 <= TARGET_ENHANCER_MS else 'MISSED'}"
        print(f"{model:<28} {threads:>7}  {backend:<22} {p50:8.1f} {p90:8.1f} {ratio:8.1f}x  {note}")


if __name__ == "__main__":
    main()
