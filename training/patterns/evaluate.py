"""Judging a pattern model against its corpus and a random baseline.

Three sets of windows (``bundle.bars`` bars each) are measured against the corpus's train split:
the corpus's held-out files (how close "real but unseen" is), ``n`` generated windows (seeds
``seed..``) and ``n`` random windows (independent onsets at the corpus's mean onset rate,
melodic notes held 1-4 steps). Figures (:data:`FIGURES`):

* ``row_hist_tv``: total-variation distance (0 same .. 1 disjoint) of the pitch-class histogram
  (melodic; drums: the drum-class histogram) of onsets.
* ``notes_per_bar``: onsets per bar (the corpus's value is shown beside it).
* ``step_hist_tv`` / ``duration_hist_tv``: TV distance of the onset position in the bar and of note
  lengths in steps (melodic only).
* ``polyphony``: mean sounding notes at steps where something sounds.
* ``rhythm_consistency``: grooving similarity of consecutive bars (Wu & Yang 2020):
  ``1 - hamming(onset steps of bar b, bar b+1) / steps_per_bar``, averaged over non-empty windows.
* ``empty_share``: windows without a note.
* ``copy_share`` / ``near_copy_share``: memorisation, on 2-bar windows (1-bar hop): the share that
  equals a train window exactly, or has Jaccard similarity >= :data:`NEAR_COPY_JACCARD` with one.

Writes ``BUNDLE/evaluation/report.json``, ``report.md`` and ``pianoroll.png`` (generated windows).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.errors import UserInputError
from ganshot.engine.limits import MAX_SEED, check_int

from .bundle import load_pattern_bundle
from .dataset import load_dataset
from .midi_windows import MELODIC_LOW

__all__ = ["evaluate_patterns", "window_figures", "memorisation", "random_windows", "FIGURES", "REPORT_FORMAT"]

REPORT_FORMAT, REPORT_VERSION = "ganshot-patterns-evaluation", 1
NEAR_COPY_JACCARD = 0.9
MAX_DURATION_STEPS = 16
MAX_CORPUS_WINDOWS = 6000
FIGURES = ("row_hist_tv", "notes_per_bar", "step_hist_tv", "duration_hist_tv", "polyphony", "rhythm_consistency",
           "empty_share", "copy_share", "near_copy_share")


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    if (p.sum() > 0) != (q.sum() > 0):
        return 1.0  # notes against none: as far apart as it gets
    p, q = p / max(p.sum(), 1e-12), q / max(q.sum(), 1e-12)
    return float(0.5 * np.abs(p - q).sum())


def _durations(onset: np.ndarray, hold: np.ndarray) -> np.ndarray:
    """Length in steps of every onset (held while ``hold`` stays on and no new onset comes) -> int[k]."""
    cont = hold.astype(bool) & ~onset.astype(bool)
    length = np.ones(onset.shape, np.int32)
    for t in range(onset.shape[1] - 2, -1, -1):
        length[:, t] += np.where(cont[:, t + 1], length[:, t + 1], 0)
    return length[onset.astype(bool)]


def _histograms(onset, hold, drums: bool, steps_per_bar: int) -> dict:
    rows = onset.sum(axis=(0, 1)).astype(np.float64)
    if not drums:
        rows = np.bincount((np.arange(len(rows)) + MELODIC_LOW) % 12, weights=rows, minlength=12)
    steps = onset.sum(axis=(0, 2)).astype(np.float64)
    steps = steps.reshape(-1, steps_per_bar).sum(axis=0) if len(steps) % steps_per_bar == 0 else steps
    out = {"rows": rows, "steps": steps}
    if not drums:
        out["durations"] = np.bincount(np.minimum(_durations(onset, hold), MAX_DURATION_STEPS),
                                       minlength=MAX_DURATION_STEPS + 1)[1:].astype(np.float64)
    return out


def window_figures(onset, hold, reference: dict, drums: bool, steps_per_bar: int) -> dict:
    """The figures of windows ``onset``/``hold`` uint8[N, steps, rows] against ``reference`` histograms."""
    onset, hold = onset.astype(bool), (onset if hold is None else hold).astype(bool) | onset.astype(bool)
    n, steps, _ = onset.shape
    hist = _histograms(onset, hold, drums, steps_per_bar)
    sounding = hold.sum(axis=2)
    bars = onset.reshape(n, steps // steps_per_bar, steps_per_bar, -1).any(axis=3)
    bars = bars[bars.any(axis=(1, 2))]  # empty windows say nothing about rhythm
    if bars.shape[1] > 1 and len(bars):
        same = 1.0 - (bars[:, 1:] != bars[:, :-1]).mean(axis=2)
        consistency = float(same.mean())
    else:
        consistency = None
    return {
        "row_hist_tv": _tv(hist["rows"], reference["rows"]),
        "notes_per_bar": float(onset.sum() / max(n * steps / steps_per_bar, 1)),
        "step_hist_tv": _tv(hist["steps"], reference["steps"]),
        "duration_hist_tv": None if drums else _tv(hist["durations"], reference["durations"]),
        "polyphony": float(sounding[sounding > 0].mean()) if (sounding > 0).any() else 0.0,
        "rhythm_consistency": consistency,
        "empty_share": float((~onset.any(axis=(1, 2))).mean()),
    }


def _two_bar(onset, hold, steps_per_bar: int) -> np.ndarray:
    """Flattened bool [M, 2 * steps_per_bar * rows * channels] 2-bar windows, 1-bar hop, non-empty only."""
    planes = onset if hold is None else np.concatenate([onset, hold], axis=2)
    bars = planes.shape[1] // steps_per_bar
    parts = [planes[:, b * steps_per_bar:(b + 2) * steps_per_bar] for b in range(max(bars - 1, 0))] or [planes]
    flat = np.concatenate([p.reshape(len(p), -1) for p in parts]).astype(bool)
    return flat[flat.any(axis=1)]


def memorisation(generated: np.ndarray, corpus: np.ndarray, chunk: int = 256) -> tuple[float, float]:
    """``(exact copy share, near copy share)`` of ``generated`` bool[M, D] windows among ``corpus`` bool[K, D]."""
    if not len(generated) or not len(corpus):
        return 0.0, 0.0
    c = corpus.astype(np.float32)
    c_size = c.sum(axis=1)
    exact = near = 0
    for start in range(0, len(generated), chunk):
        g = generated[start:start + chunk].astype(np.float32)
        inter = g @ c.T
        union = g.sum(axis=1)[:, None] + c_size[None, :] - inter
        jaccard = inter / np.maximum(union, 1)
        exact += int((jaccard >= 1.0 - 1e-6).any(axis=1).sum())
        near += int((jaccard >= NEAR_COPY_JACCARD).any(axis=1).sum())
    return exact / len(generated), near / len(generated)


def random_windows(n: int, steps: int, rows: int, onset_rate: float, drums: bool, seed: int = 0):
    """The baseline: independent onsets at ``onset_rate`` per cell; melodic notes held 1-4 steps."""
    rng = np.random.default_rng(seed)
    onset = (rng.random((n, steps, rows)) < onset_rate).astype(np.uint8)
    if drums:
        return onset, None
    hold = onset.copy()
    for i, t, r in zip(*np.nonzero(onset)):
        hold[i, t:t + int(rng.integers(1, 5)), r] = 1
    return onset, hold


def _cap(array, limit: int):
    return array if array is None or len(array) <= limit else array[np.linspace(0, len(array) - 1, limit).astype(int)]


def evaluate_patterns(bundle_path, data_dir, n: int = 500, seed: int = 0, out_dir=None, say=None) -> dict:
    """Measure a bundle against its dataset; writes report.json/.md and a sheet; returns the report dict."""
    from ganshot.engine.spectrogram import write_png

    from .generate import PatternSampler
    from .pianoroll_png import pianoroll_sheet

    check_int(n, "-n", 1, 100_000)
    check_int(seed, "--seed", 0, MAX_SEED - 100_000)
    bundle, data = load_pattern_bundle(bundle_path), load_dataset(data_dir)
    if data.mode.name != bundle.mode or data.steps != bundle.steps:
        raise UserInputError(f"{data_dir}: {data.mode.name} windows of {data.steps} steps; the bundle makes "
                             f"{bundle.mode} windows of {bundle.steps} steps")
    drums, per_bar = bundle.drums, bundle.steps_per_bar
    train, test = data.test == 0, data.test == 1
    sets_hold = lambda keep: None if drums else _cap(data.hold[keep], MAX_CORPUS_WINDOWS)  # noqa: E731
    corpus_onset, corpus_hold = _cap(data.onset[train], MAX_CORPUS_WINDOWS), sets_hold(train)
    reference = _histograms(corpus_onset.astype(bool), (corpus_onset if drums else corpus_hold).astype(bool),
                            drums, per_bar)
    sampler = PatternSampler(bundle)
    gen = [sampler.pattern(s, bundle.bars) for s in range(seed, seed + n)]
    gen_onset = np.stack([p.onset for p in gen])
    gen_hold = None if drums else np.stack([p.hold for p in gen])
    rate = float(corpus_onset.mean())
    rand_onset, rand_hold = random_windows(n, bundle.steps, len(bundle.rows), rate, drums, seed)
    held_out = (data.onset[test], None if drums else data.hold[test]) if test.any() else (corpus_onset, corpus_hold)
    corpus_2bar = _two_bar(corpus_onset, corpus_hold, per_bar)
    report = {"format": REPORT_FORMAT, "version": REPORT_VERSION, "bundle": bundle.name, "mode": bundle.mode,
              "dataset": str(data.path), "n": n, "seed": seed, "corpus_train_windows": int(len(corpus_onset)),
              "corpus_onset_rate": rate, "sets": {}}
    for name, (onset, hold) in (("corpus_held_out", held_out), ("generated", (gen_onset, gen_hold)),
                                ("random_baseline", (rand_onset, rand_hold))):
        figures = window_figures(onset, hold, reference, drums, per_bar)
        figures["copy_share"], figures["near_copy_share"] = memorisation(_two_bar(onset, hold, per_bar), corpus_2bar)
        figures["windows"] = int(len(onset))
        report["sets"][name] = figures
        say and say(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items() if isinstance(v, float)))
    report["corpus_notes_per_bar"] = float(corpus_onset.sum() / (len(corpus_onset) * bundle.bars))
    out = Path(out_dir) if out_dir is not None else bundle.path / "evaluation"
    atomic_write_text(out / "report.json", json.dumps(report, indent=1, allow_nan=False) + "\n")
    atomic_write_text(out / "report.md", report_markdown(report))
    shown = [(p.onset, p.hold) for p in gen[:8]]
    write_png(out / "pianoroll.png", pianoroll_sheet(
        shown, list(bundle.rows), f"{bundle.name}: generated windows, seeds {seed}-{seed + len(shown) - 1}",
        [f"seed {p.seed}" for p in gen[:8]], per_bar,
        "GM drum class" if drums else "MIDI pitch (note names)"))
    return report


def report_markdown(report: dict) -> str:
    """The report as a Markdown table (one column per set)."""
    names = list(report["sets"])
    lines = [f"# Pattern evaluation: {report['bundle']} ({report['mode']})", "",
             f"{report['n']} generated windows (seeds {report['seed']}..) and {report['n']} random ones against "
             f"{report['corpus_train_windows']} train windows of {report['dataset']} (corpus: "
             f"{report['corpus_notes_per_bar']:.2f} notes per bar). Distances are total variation (0 = same).", "",
             "| figure | " + " | ".join(n.replace("_", " ") for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for key in (*FIGURES, "windows"):
        cells = []
        for name in names:
            value = report["sets"][name].get(key)
            cells.append("-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
