"""ganshot evaluate for pitch-conditional bundles (issue 14): the keyboard plan, a fake generator of exact or
mistuned sines, silence and clipping on crafted buffers, and a whole run on a tiny trained bundle (library and CLI)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.classifier import ClassifierConfig
from ganshot.training.data import OneShotDataset
from ganshot.training.evaluate import evaluate
from ganshot.training.evaluate_pitched import (CLIP_PEAK, keyboard_notes, note_name, note_table, pitch_figures,
                                               render_faults)  # fmt: skip
from ganshot.training.evaluate_pitched_report import console_lines, load_pitched_report
from ganshot.training.evaluate_pitched_run import evaluate_pitched, plan_notes, render_notes
from ganshot.training.manifest import Manifest, ManifestItem, save_manifest
from ganshot.training.pitch import midi_to_hz, pitch_errors_cents

from tests.support import synth_tone

RATE, LENGTH = 16000, 16384  # the pitched_small config's
PROGRAMS = {"alto_sax": (65, 3), "violin": (40, 6)}  # label -> (GM program, harmonics)
PITCHES = (48, 50, 52, 54, 56)
FAST = ClassifierConfig(epochs=2, batch_size=16)


class SineRuntime:
    """A stand-in generator: ``render(z, labels, pitches)`` -> sines at each requested pitch + ``offset_semitones``."""

    def __init__(self, offset_semitones: float = 0.0, num_samples: int = LENGTH) -> None:
        self.offset, self.num_samples, self.calls = offset_semitones, num_samples, []

    def render(self, z, labels=None, pitches=None) -> np.ndarray:
        self.calls.append((None if labels is None else np.array(labels), np.array(pitches)))
        t = np.arange(self.num_samples) / RATE
        f0 = midi_to_hz(np.asarray(pitches, float) + self.offset)[:, None]
        return (0.5 * np.sin(2 * np.pi * f0 * t[None, :])).astype(np.float32)


def write_pitched_dataset(root, velocities=(60, 100)):
    """Harmonic tones of two programs at PITCHES, one per velocity, kit "synth" (a SoundFont-like manifest)."""
    (root / "audio").mkdir(parents=True)
    items = []
    for label, (program, harmonics) in PROGRAMS.items():
        for pitch in PITCHES:
            for v, velocity in enumerate(velocities):
                rel = f"audio/{label}_m{pitch}_v{velocity}.flac"
                tone = synth_tone(pitch, LENGTH, RATE, harmonics=harmonics, decay_per_s=2.0, noise_db=-40, seed=v)
                sf.write(root / rel, tone, RATE, subtype="PCM_16")
                items.append(ManifestItem(path=rel, label=label, kit="synth", note=pitch, velocity=velocity,
                                          source="synth.sf2", pitch=pitch, program=program))
    save_manifest(root, Manifest(RATE, LENGTH, list(PROGRAMS), items, {"kind": "synthetic"}))
    return root


@pytest.fixture(scope="module")
def pitched(tmp_path_factory):
    """(dataset dir, bundle dir): the dataset above and a pitched_small model (d=2, MIDI 46-58) trained 2 steps."""
    from ganshot.training.export import export_run
    from ganshot.training.train import train

    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("pitched-eval")
    data = write_pitched_dataset(root / "data")
    overrides = ["model.d=2", "train.batch_size=2", "train.num_workers=0", "train.checkpoint_every=1000",
                 "model.pitch_range=[46, 58]"]
    train("pitched_small", data, root / "run", overrides=overrides, max_steps=2)
    return data, export_run(root / "run", root / "bundle", directions_k=2, directions_samples=64)


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_keyboard_notes_keep_both_ends_and_refuse_bad_steps():
    assert keyboard_notes(36, 96) == list(range(36, 97))
    assert keyboard_notes(36, 96, 12) == [36, 48, 60, 72, 84, 96]
    assert keyboard_notes(36, 96, 7)[-2:] == [92, 96] and keyboard_notes(60, 60, 5) == [60]
    for step in (0, -1, 1.5, True):
        with pytest.raises(UserInputError, match="note step must be a positive integer"):
            keyboard_notes(36, 96, step)
    assert [note_name(m) for m in (21, 60, 61, 69, 108)] == ["A0", "C4", "C#4", "A4", "C8"]


def test_plan_takes_each_programs_notes_inside_the_models_range():
    items = [SimpleNamespace(label=label, pitch=p) for label, ps in (("alto_sax", (44, 49, 52, 55)),
                                                                     ("violin", (55, 57, 70))) for p in ps]
    dataset = SimpleNamespace(manifest=SimpleNamespace(items=items), classes=["alto_sax", "violin"],
                              pitches=torch.tensor([i.pitch for i in items]))
    bundle = SimpleNamespace(pitch_range=(46, 60), conditional=True, classes=("flute", "violin", "alto_sax"))
    # flute: not in the data; 44 and 70 lie outside the model's range
    assert plan_notes(bundle, dataset, 2) == [("violin", 1, [55, 57]), ("alto_sax", 2, [49, 51, 53, 55])]
    pitch_only = SimpleNamespace(pitch_range=(46, 60), conditional=False, classes=("alto_sax", "violin"))
    assert plan_notes(pitch_only, dataset, 3) == [("any", None, [49, 52, 55, 57])]
    with pytest.raises(UserInputError, match="share none with the dataset"):
        plan_notes(SimpleNamespace(pitch_range=(46, 60), conditional=True, classes=("flute",)), dataset)
    with pytest.raises(UserInputError, match="no note inside the model's range MIDI 80-90"):
        plan_notes(SimpleNamespace(pitch_range=(80, 90), conditional=True, classes=("violin",)), dataset)


@pytest.mark.parametrize("offset, accuracy, median_cents", [(0.0, 1.0, 0.0), (1.0, 0.0, 100.0), (-1.0, 0.0, -100.0)])
def test_exact_sines_score_everything_and_a_semitone_off_scores_nothing(offset, accuracy, median_cents):
    bundle = SimpleNamespace(latent_dim=4, latent_distribution="normal")
    plan = [("alto_sax", 0, [40, 52, 64, 76, 88]), ("violin", 1, [55, 67])]
    runtime = SineRuntime(offset, num_samples=8192)
    notes = render_notes(runtime, bundle, plan, seeds=[3, 4, 5])
    assert notes["audio"].shape == (21, 8192) and notes["programs"][:15] == ["alto_sax"] * 15
    assert list(notes["midi"][:6]) == [40, 40, 40, 52, 52, 52] and list(notes["seeds"][:4]) == [3, 4, 5, 3]
    labels, pitches = runtime.calls[0]
    assert list(labels) == [0] * 15 + [1] * 6 and list(pitches) == list(notes["midi"])
    errors = pitch_errors_cents(notes["audio"], notes["midi"], RATE)
    assert pitch_figures(errors, notes["midi"])["pitch_accuracy"] == accuracy
    rows = note_table(errors, notes["midi"], notes["programs"], render_faults(notes["audio"]))
    assert [(r["program"], r["midi"]) for r in rows] == [("alto_sax", m) for m in (40, 52, 64, 76, 88)] + \
        [("violin", 55), ("violin", 67)]
    assert all(r["within"] == accuracy and r["renders"] == 3 and r["silent"] == r["clipped"] == 0 for r in rows)
    assert all(r["median_cents"] == pytest.approx(median_cents, abs=5) for r in rows)


def test_silence_and_clipping_on_crafted_buffers():
    t = np.arange(4000) / RATE
    tone = np.sin(2 * np.pi * 440 * t)
    rms_db = lambda level_db: tone * 10 ** (level_db / 20) * np.sqrt(2)  # noqa: E731  (a sine at that RMS)
    nan = tone.copy()
    nan[100] = np.nan
    buffers = np.stack([np.zeros_like(t), rms_db(-70), rms_db(-50), tone * 1.0, tone * CLIP_PEAK, tone * 1.5, nan])
    buffers[3, 10] = 1.0  # a sample at full scale
    faults = render_faults(buffers)
    assert list(faults["silent"]) == [True, True, False, False, False, False, True]
    assert list(faults["clipped"]) == [False, False, False, True, False, True, True]
    assert list(faults["non_finite"]) == [False] * 6 + [True]
    assert faults["rms_db"][2] == pytest.approx(-50, abs=0.1) and faults["peak"][5] == pytest.approx(1.5, rel=1e-3)
    rows = note_table(np.zeros(7), [60, 60, 62, 62, 64, 64, 64], ["a"] * 7, faults)
    assert [(r["midi"], r["silent"], r["clipped"]) for r in rows] == [(60, 2, 0), (62, 0, 1), (64, 1, 2)]
    with pytest.raises(UserInputError, match="shaped \\(notes, samples\\)"):
        render_faults(np.zeros(10))


def test_evaluate_writes_the_pitched_report_and_reuses_its_classifier(pitched, tmp_path):
    data, bundle = pitched
    out, lines = tmp_path / "report", []
    report = evaluate(bundle, data, out, per_note=2, notes_step=3, config=FAST, say=lines.append)
    for name in ("report.json", "report.md", "pitch_accuracy.png", "cents_error.png", "classifier.safetensors"):
        assert (out / name).is_file(), name
    assert not (out / "classes.png").exists()  # the drums grid is not drawn for a pitched bundle
    stored = json.loads((out / "report.json").read_text())
    assert stored["format"] == "ganshot-evaluation-pitched" and stored["version"] == 1
    assert load_pitched_report(out) == stored and stored["model"]["pitch_range"] == [46, 58]
    notes = keyboard_notes(48, 56, 3)  # the data's pitches of each program, every 3rd, both ends
    assert [p["program"] for p in stored["generated"]["programs"]] == list(PROGRAMS)
    assert all((p["low"], p["high"], p["notes"]) == (48, 56, len(notes)) for p in stored["generated"]["programs"])
    assert stored["generated"]["count"] == 2 * len(notes) * 2
    assert [(r["program"], r["midi"]) for r in stored["per_note"]] == [(p, m) for p in PROGRAMS for m in notes]
    assert all(r["renders"] == 2 and 0 <= r["within"] <= 1 for r in stored["per_note"])
    pitch = stored["pitch"]
    assert pitch["tolerance_cents"] == 50 and 0 <= pitch["generated"]["pitch_accuracy"] <= 1
    assert pitch["real"]["notes"] == 20 and pitch["real"]["pitch_accuracy"] >= 0.9  # the estimator on real tones
    assert set(pitch["per_program"]["generated"]) == set(PROGRAMS) == set(pitch["per_program"]["real"])
    assert stored["faults"]["real_silent"] == stored["faults"]["real_clipped"] == 0
    assert stored["timbre"]["envelope_step_db"]["real"] > 0 and "embedding_step" in stored["timbre"]
    assert stored["inception_score"]["real_test"] >= 1.0 and stored["frechet_distance"]["floor_train_vs_test"] >= 0
    assert 0 <= stored["probe"]["accuracy"] <= 1 and set(stored["coverage"]["shares"]) == set(PROGRAMS)
    assert set(stored["program_agreement"]["per_program"]) == set(PROGRAMS)
    assert set(stored["targets"]) == {"pitch_accuracy", "faults", "inception_score", "frechet_distance", "probe",
                                      "timbre_step"}
    assert stored["targets"]["pitch_accuracy"]["met"] == (pitch["generated"]["pitch_accuracy"] >= 0.9)
    width, height = _png_size(out / "pitch_accuracy.png")
    assert height >= 2 * 180 and width >= 720  # two program panels, each 180 px high
    assert _png_size(out / "cents_error.png")[1] >= 180
    text = (out / "report.md").read_text()
    assert "# Pitched evaluation of" in text and "## Per note" in text and "| violin | C3 | 48 | 2 |" in text
    assert any("training the program classifier" in line for line in lines)
    again_lines = []
    again = evaluate(bundle, data, out, per_note=2, notes_step=3, config=FAST, say=again_lines.append)
    assert again["classifier"]["reused"] and any("reusing" in line for line in again_lines)
    assert again["pitch"] == report["pitch"] and again["per_note"] == report["per_note"]


def test_a_sine_generator_meets_the_pitch_target_and_a_mistuned_one_fails_it(pitched, tmp_path):
    data, bundle_dir = pitched
    bundle, dataset = load_bundle(bundle_dir), OneShotDataset(data)
    quiet = lambda _: None  # noqa: E731
    exact = evaluate_pitched(bundle, dataset, tmp_path, per_note=1, notes_step=4, config=FAST, say=quiet,
                             runtime=SineRuntime(0.0))
    off = evaluate_pitched(bundle, dataset, tmp_path, per_note=1, notes_step=4, config=FAST, say=quiet,
                           runtime=SineRuntime(1.0))
    assert exact["pitch"]["generated"]["pitch_accuracy"] == 1.0 and exact["targets"]["pitch_accuracy"]["met"]
    assert exact["targets"]["faults"]["met"] and exact["faults"]["faulty_notes"] == []
    assert off["pitch"]["generated"]["pitch_accuracy"] == 0.0 and not off["targets"]["pitch_accuracy"]["met"]
    assert all(r["median_cents"] == pytest.approx(100, abs=5) for r in off["per_note"])
    lines = console_lines(off)
    assert lines[0].split()[:4] == ["figure", "real", "generated", "ratio"]
    row = next(line for line in lines if line.startswith("pitch within 50 cents"))
    assert "0.0%" in row and "0.00 x real" in row and row.endswith("NOT MET")
    assert next(line for line in console_lines(exact) if line.startswith("pitch within 50 cents")).endswith(" met")


def test_pitched_evaluation_refuses_bad_requests(pitched, make_dataset, tmp_path):
    data, bundle = pitched
    drums = make_dataset(num_items=8, num_samples=LENGTH)
    with pytest.raises(UserInputError, match="not every note of this dataset has a pitch"):
        evaluate(bundle, drums, tmp_path / "r", config=FAST, say=lambda _: None)
    with pytest.raises(UserInputError, match="--per-note must be an integer in 1..256"):
        evaluate(bundle, data, tmp_path / "r", per_note=0, config=FAST, say=lambda _: None)
    with pytest.raises(UserInputError, match="note step"):
        evaluate(bundle, data, tmp_path / "r", notes_step=0, config=FAST, say=lambda _: None)
    (tmp_path / "v9").mkdir()
    (tmp_path / "v9" / "report.json").write_text(json.dumps({"format": "ganshot-evaluation-pitched", "version": 9}))
    with pytest.raises(FormatError, match="version 9 is not supported"):
        load_pitched_report(tmp_path / "v9")


def test_cli_prints_the_pitched_summary_and_errors_in_one_line(pitched, tmp_path):
    data, bundle = pitched

    def run_cli(*args):
        return subprocess.run([sys.executable, "-m", "ganshot", *map(str, args)], capture_output=True, text=True,
                              timeout=300)

    result = run_cli("evaluate", bundle, "--data", data, "--per-note", 1, "--notes-step", 4, "--epochs", 1,
                     "-o", tmp_path / "r")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["generated"]["per_note"] == 1 and report["generated"]["notes_step"] == 4
    assert result.stdout.splitlines() == console_lines(report)
    bad = run_cli("evaluate", bundle, "--data", data, "--per-note", 0, "-o", tmp_path / "r2")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "--per-note" in bad.stderr
