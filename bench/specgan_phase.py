"""SpecGAN phase: Griffin-Lim vs PGHI vs a representation that needs no phase guessing. Not a test.

For real hits of a dataset (``--per-class`` of each class, seeded pick), each method rebuilds the
audio from what a SpecGAN image holds (engine/specgan.py: n_fft 512, hop 128, 256 bins x 128
frames, periodic Hann, log-magnitude clipped 80 dB under full scale):

* ``griffin-lim N`` — the magnitude only; N iterations from zero phase, the unrolled loop of
  :func:`ganshot.engine.stft_basis.griffin_lim` (what ``representation = "logmag"`` runs in the graph).
* ``pghi`` — the magnitude only; phase-gradient heap integration (Prusa et al. 2017; the
  ``pghipy`` package, numba, non-iterative) with the Hann window's gamma ``0.25645 n_fft^2``, then
  the same inverse STFT; ``pghi + GL N`` refines that phase with N Griffin-Lim iterations.
* ``logmag_phase`` — the log-magnitude and the phase vector (the default representation):
  no phase guessing, one inverse STFT.

Figures: spectral convergence ``|| |STFT(y)| - |STFT(x)| ||_F / || |STFT(x)| ||_F`` in the same
STFT (0 = perfect; mean and worst over hits), the waveform SNR where a method keeps the phase,
and wall and CPU ms per one-shot (batch 1, one torch thread, median; the CPU time is the figure a
loaded machine moves least).

    nice .venv/bin/python bench/specgan_phase.py --data data/drums2x8 --out bench/results/specgan_phase
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from ganshot.engine.specgan import SpecGANGenerator, SpecGANSpec
from ganshot.engine.stft_basis import griffin_lim, spectral_convergence

HANN_GAMMA = 0.25645  # Prusa's time-frequency ratio of a Hann window, times n_fft^2


def pick_hits(data: Path, per_class: int, seed: int) -> tuple[torch.Tensor, list[str]]:
    from ganshot.training.data import OneShotDataset

    dataset = OneShotDataset(data, num_samples=16384)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(len(dataset.classes)):
        where = np.flatnonzero(dataset.labels.numpy() == label)
        chosen += list(rng.choice(where, size=min(per_class, len(where)), replace=False)) if len(where) else []
    return dataset.audio[chosen].float(), [dataset.classes[int(dataset.labels[i])] for i in chosen]


def pghi_phase(magnitude: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Phase float64[bins, frames] of a Hann magnitude [bins, frames] (the Nyquist bin re-added as 0)."""
    try:
        from pghipy import pghi
    except ImportError:
        raise SystemExit("PGHI needs the pghipy package (not a ganshot dependency): pip install pghipy") from None

    full = np.concatenate([magnitude, np.zeros((1, magnitude.shape[1]))]).T.astype(np.float64)  # [T, K+1]
    return pghi(full, win_length=n_fft, hop_length=hop, gamma=HANN_GAMMA * n_fft**2)[:, :-1].T


def methods(model: SpecGANGenerator, gl_counts) -> dict:
    """name -> (prepare(audio) -> what the image holds, rebuild(that) -> audio float[1, N]); only
    ``rebuild`` is timed: it is what a render pays."""
    basis = model.stft

    def magnitude_of(audio):
        return model.magnitude(model.encode(audio)[:, 0])  # what the image holds, clipping included

    def with_pghi(magnitude, refine: int = 0):
        phase = torch.from_numpy(pghi_phase(magnitude[0].double().numpy(), basis.n_fft, basis.hop)).float()
        spectrum = torch.stack([magnitude[0] * torch.cos(phase), magnitude[0] * torch.sin(phase)]).unsqueeze(0)
        for _ in range(refine):
            estimate = basis.analyse(basis.synthesise(spectrum))
            norm = torch.sqrt(estimate.square().sum(dim=1, keepdim=True) + 1e-12)
            spectrum = estimate * (magnitude.unsqueeze(1) / norm)
        return basis.synthesise(spectrum)

    table = {f"griffin-lim {c}": (magnitude_of, lambda m, c=c: griffin_lim(basis, m, c)) for c in gl_counts}
    table["pghi"] = (magnitude_of, with_pghi)
    table["pghi + GL 8"] = (magnitude_of, lambda m: with_pghi(m, 8))
    table["logmag_phase (no guessing)"] = (model.encode, model.invert)
    return table


def run(hits: torch.Tensor, gl_counts, repeats: int) -> list[dict]:
    model = SpecGANGenerator(SpecGANSpec(d=1, representation="logmag_phase")).eval()
    rows = []
    with torch.inference_mode():
        spectrum = model.stft.analyse(hits)
        target = torch.sqrt(spectrum.square().sum(dim=1))
        for name, (prepare, rebuild) in methods(model, gl_counts).items():
            rebuild(prepare(hits[:1]))  # warm-up (numba compiles pghi on its first call)
            rebuilt, times, cpu_times = [], [], []
            for index in range(hits.shape[0]):
                held = prepare(hits[index: index + 1])
                for repeat in range(repeats):
                    start, cpu_start = time.perf_counter(), time.thread_time()
                    out = rebuild(held)
                    times.append((time.perf_counter() - start) * 1000.0)
                    cpu_times.append((time.thread_time() - cpu_start) * 1000.0)
                rebuilt.append(out)
            rebuilt = torch.cat(rebuilt)
            sc = spectral_convergence(model.stft, rebuilt, target).numpy()
            snr = 10 * np.log10(hits.square().sum(1).numpy() / np.maximum((rebuilt - hits).square().sum(1).numpy(), 1e-20))
            rows.append({"method": name, "sc_mean": float(sc.mean()), "sc_worst": float(sc.max()),
                         "snr_db_median": float(np.median(snr)), "ms_per_shot": statistics.median(times),
                         "cpu_ms_per_shot": statistics.median(cpu_times)})
    return rows


def table(rows: list[dict], hits: int, classes: int) -> str:
    lines = [f"SpecGAN phase reconstruction on {hits} real hits ({classes} classes) of data/drums2x8: n_fft 512, hop 128, "
             "Hann, log range 80 dB; batch 1, 1 torch thread, median wall ms and CPU ms (this thread) per one-shot, "
             f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.", "",
             "| method | spectral convergence mean | worst | waveform SNR dB (median) | wall ms per one-shot | CPU ms |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['sc_mean']:.4f} | {r['sc_worst']:.4f} | {r['snr_db_median']:.1f} | {r['ms_per_shot']:.2f} | {r['cpu_ms_per_shot']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("data/drums2x8"))
    parser.add_argument("--per-class", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gl", default="8,16,32,100", help="Griffin-Lim iteration counts")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per hit")
    parser.add_argument("--out", type=Path, default=None, help="folder for results.json and results.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    hits, names = pick_hits(args.data, args.per_class, args.seed)
    rows = run(hits, [int(c) for c in args.gl.split(",") if c.strip()], args.repeats)
    text = table(rows, len(names), len(set(names)))
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.md").write_text(text, encoding="utf-8")
        (args.out / "results.json").write_text(json.dumps({"hits": names, "rows": rows}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
