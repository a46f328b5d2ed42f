"""ganshot evaluate: the split, memorisation, and a whole run on a tiny bundle and dataset (library and CLI)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training._evaluate_report import console_lines, markdown
from ganshot.training.classifier import ClassifierConfig
from ganshot.training.evaluate import evaluate, load_report, split_items
from ganshot.training.evaluate_figures import FAMILIES, memorisation, tail_floors
from ganshot.training.manifest import Manifest, ManifestItem, load_manifest, save_manifest

from tests.support import synth_hit

RATE, LENGTH = 16000, 2048  # the tiny bundle's
CLASSES = ("kick", "snare", "hat", "tom")
FAST = ClassifierConfig(epochs=2, batch_size=16)


def write_dataset(root, per_class=12, variations=2, sample_rate=RATE, seed=0, sources=(None,)):
    """Hits from ``per_class // variations`` kits per class, ``variations`` seeded copies of each; with
    several ``sources`` (SoundFont names) each source repeats the kit names, as GM SoundFonts do."""
    rng = np.random.default_rng(seed)
    (root / "audio").mkdir(parents=True)
    items = []
    for label in CLASSES:
        for index in range(per_class):
            source = sources[index % len(sources)]
            kit = f"kit{index // (variations * len(sources))}"
            rel = f"audio/{label}_{index:03d}.flac"
            sf.write(root / rel, synth_hit(label, LENGTH, sample_rate, rng), sample_rate, subtype="PCM_16")
            items.append(ManifestItem(path=rel, label=label, kit=kit, note=36, velocity=100, source=source))
    save_manifest(root, Manifest(sample_rate, LENGTH, list(CLASSES), items, {"kind": "synthetic"}))
    return root


def test_split_keeps_the_variations_of_a_hit_together_and_tests_every_class(tmp_path):
    manifest = load_manifest(write_dataset(tmp_path / "d", per_class=20, variations=4))
    train, test = split_items(manifest, test_fraction=0.25)
    assert sorted(train + test) == list(range(len(manifest.items))) and not set(train) & set(test)
    side = {}
    for index in train + test:
        item = manifest.items[index]
        side.setdefault((item.label, item.kit), set()).add(index in test)
    assert all(len(sides) == 1 for sides in side.values())  # no hit on both sides
    assert {manifest.items[i].label for i in test} == set(CLASSES)
    assert {manifest.items[i].label for i in train} == set(CLASSES)
    assert 0.15 <= len(test) / len(manifest.items) <= 0.35
    assert split_items(manifest, 0.25) == (train, test)  # deterministic


def test_a_class_with_one_hit_stays_in_train(tmp_path):
    manifest = load_manifest(write_dataset(tmp_path / "d", per_class=4, variations=4))
    train, test = split_items(manifest)
    assert test == [] and len(train) == len(manifest.items)
    with pytest.raises(UserInputError, match="test_fraction"):
        split_items(manifest, 1.0)


def test_memorisation_flags_a_model_that_replays_its_training_set():
    rng = np.random.default_rng(0)
    train = np.stack([synth_hit(CLASSES[i % 4], LENGTH, RATE, rng) for i in range(40)])
    test = np.stack([synth_hit(CLASSES[i % 4], LENGTH, RATE, rng) for i in range(20)])
    fresh = np.stack([synth_hit(CLASSES[i % 4], LENGTH, RATE, rng) for i in range(40)])
    copies = memorisation(train[:20] * 0.5, train, test, RATE)  # replayed (and quieter: features are normalised)
    honest = memorisation(fresh, train, test, RATE)
    assert copies["copy_share"] == 1.0 and copies["generated_nn_median"] < 1e-3
    assert honest["copy_share"] < 0.3 and honest["median_ratio"] > 0.5


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("eval") / "data")


def test_evaluate_writes_the_report_and_reuses_its_classifier(tiny_bundle, dataset, tmp_path):
    out = tmp_path / "report"
    lines = []
    report = evaluate(tiny_bundle.path, dataset, out, n=24, config=FAST, say=lines.append)
    for name in ("report.json", "report.md", "classes.png", "classifier.safetensors"):
        assert (out / name).is_file(), name
    stored = json.loads((out / "report.json").read_text())
    assert stored["format"] == "ganshot-evaluation" and stored["version"] == 2
    assert stored["model"]["model_json_sha256"] == tiny_bundle.sha256
    assert stored["generated"]["count"] == 24 and stored["dataset"]["train"] + stored["dataset"]["test"] == 48
    assert sum(stored["coverage"]["shares"].values()) == pytest.approx(1.0)
    assert set(stored["coverage"]["families"]) == set(FAMILIES)
    assert "cymbal" in stored["coverage"]["families_missing"]  # this dataset has no cymbal class at all
    assert stored["targets"]["families"]["met"] is False
    assert stored["inception_score"]["real_test"] >= 1.0 and stored["frechet_distance"]["floor_train_vs_test"] >= 0
    assert stored["frechet_distance"]["generated_used"] == 24
    assert (out / "classes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 0.0 <= stored["probe"]["accuracy"] <= 1.0 and stored["probe"]["folds"] == 5
    assert stored["probe"]["per_side"] == min(24, stored["dataset"]["test"])
    assert set(stored["tail_floor"]["families"]) == set(FAMILIES)
    assert stored["tail_floor"]["families"]["kick"]["real_count"] == 12  # the kick class is the kick family
    assert [line["frequency_hz"] for line in stored["tonal_lines"]["lines"]] == [1000.0 * k for k in range(1, 8)]
    assert {"probe", "tail_floor", "tonal_lines"} <= set(stored["targets"])
    assert stored["classifier"]["held_out"].startswith("kits") and load_report(out) == stored
    assert "# Evaluation of tiny" in (out / "report.md").read_text()
    assert any("training the drum classifier" in line for line in lines)

    again_lines = []
    again = evaluate(tiny_bundle.path, dataset, out, n=24, config=FAST, say=again_lines.append)
    assert again["classifier"]["reused"] is True and any("reusing" in line for line in again_lines)
    assert again["inception_score"] == pytest.approx(report["inception_score"])  # same judge, same seeds
    assert again["frechet_distance"] == pytest.approx(report["frechet_distance"])
    fresh = evaluate(tiny_bundle.path, dataset, out, n=24, config=FAST, retrain=True, say=lambda _: None)
    assert fresh["classifier"]["reused"] is False
    played = evaluate(tiny_bundle.path, dataset, out, n=24, config=FAST, as_played=True, say=lambda _: None)
    assert played["generated"]["as_played"] is True and report["generated"]["as_played"] is False
    assert "as played" in (out / "report.md").read_text()


def test_as_played_judges_the_engines_post_process(tiny_bundle):
    from ganshot.engine.postprocess import PostProcess, postprocess
    from ganshot.training.evaluate import _generate

    raw, _ = _generate(tiny_bundle, 6, 0, tiny_bundle.num_samples)
    played, _ = _generate(tiny_bundle, 6, 0, tiny_bundle.num_samples, as_played=True)
    np.testing.assert_allclose(played, postprocess(raw, tiny_bundle.sample_rate, PostProcess())[0], atol=1e-7)
    assert np.abs(played).max() <= 10 ** (-0.5 / 20) + 1e-6  # the peak limit, as the engine plays it


def test_evaluate_takes_a_dataset_made_from_several_soundfonts(tiny_bundle, tmp_path):
    data = write_dataset(tmp_path / "multi", per_class=12, variations=2, sources=("A.sf2", "B.sf3"))
    manifest = load_manifest(data)
    train, test = split_items(manifest)
    hits = {}
    for index in train + test:
        item = manifest.items[index]
        hits.setdefault((item.source, item.kit, item.label), set()).add(index in test)
    assert all(len(sides) == 1 for sides in hits.values())
    report = evaluate(tiny_bundle.path, data, tmp_path / "r", n=12, config=FAST, say=lambda _: None)
    assert report["dataset"]["sources"] == ["A.sf2", "B.sf3"] and report["dataset"]["items"] == 48
    assert "from A.sf2, B.sf3" in (tmp_path / "r" / "report.md").read_text()


def test_evaluate_refuses_bad_requests(tiny_bundle, dataset, tmp_path):
    with pytest.raises(UserInputError, match="-n must be"):
        evaluate(tiny_bundle.path, dataset, tmp_path / "r", n=3, say=lambda _: None)
    with pytest.raises(UserInputError, match="inside the bundle"):
        evaluate(tiny_bundle.path, dataset, tiny_bundle.path / "eval", n=10, say=lambda _: None)
    other_rate = write_dataset(tmp_path / "d22k", sample_rate=22050)
    with pytest.raises(UserInputError, match="22050 Hz, the model 16000 Hz"):
        evaluate(tiny_bundle.path, other_rate, tmp_path / "r", n=10, say=lambda _: None)
    single = write_dataset(tmp_path / "one-kit", per_class=2, variations=2)
    with pytest.raises(UserInputError, match="too few to split"):
        evaluate(tiny_bundle.path, single, tmp_path / "r", n=10, say=lambda _: None)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ganshot", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_cli_prints_the_targets_and_errors_in_one_line(tiny_bundle, dataset, tmp_path):
    result = run_cli("evaluate", tiny_bundle.path, "--data", dataset, "-n", 12, "--epochs", 1, "-o", tmp_path / "r")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["generated"]["count"] == 12
    assert result.stdout.splitlines() == console_lines(report)
    assert "NOT MET" in result.stdout  # no cymbals in this dataset
    bad = run_cli("evaluate", tiny_bundle.path, "--data", tmp_path / "nowhere", "-o", tmp_path / "r2")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "nowhere" in bad.stderr


def _v2_report(families_missing=("cymbal",)) -> dict:
    """A hand-made v2 report: IS 3.0 real / 2.4 generated, FD floor 2.0 / 5.0, probe 0.9, kick tail +8 dB."""
    from ganshot.training._evaluate_report import judge
    from ganshot.training.evaluate import TARGETS

    fams = {f: {"real_db": -90.0, "generated_db": -88.0, "difference_db": 2.0, "real_count": 5,
                "generated_count": 5} for f in FAMILIES}
    fams["kick"] = {"real_db": -90.0, "generated_db": -82.0, "difference_db": 8.0, "real_count": 5, "generated_count": 5}
    report = {
        "format": "ganshot-evaluation", "version": 2,
        "model": {"name": "m", "path": "/m", "model_json_sha256": "0" * 64, "steps": 10},
        "dataset": {"path": "/d", "items": 50, "classes": ["kick", "snare"], "train": 40, "test": 10, "sources": []},
        "classifier": {"reused": False, "test_accuracy": 0.875, "test_balanced_accuracy": 0.8, "train_accuracy": 1.0},
        "generated": {"count": 100, "first_seed": 0, "non_finite": 0},
        "inception_score": {"real_test": 3.0, "generated": 2.4, "ratio": 0.8},
        "frechet_distance": {"floor_train_vs_test": 2.0, "generated_vs_test": 5.0, "generated_used": 40, "ratio": 2.5},
        "coverage": {"shares": {"kick": 0.6, "snare": 0.4}, "present_share": 0.01, "missing": [],
                     "families": {f: (0.0 if f in families_missing else 0.2) for f in FAMILIES},
                     "families_present": [f for f in FAMILIES if f not in families_missing],
                     "families_missing": list(families_missing)},
        "memorisation": {"test_nn_median": 1.0, "generated_nn_median": 1.1, "median_ratio": 1.1,
                         "copy_share": 0.02, "copy_share_expected": 0.05},
        "probe": {"accuracy": 0.9, "folds": 5, "per_side": 10},
        "tail_floor": {"definition": "d", "families": fams},
        "tonal_lines": {"definition": "d", "lines": [{"frequency_hz": 4000.0, "real_db": 0.5, "generated_db": 2.5,
                                                      "excess_db": 2.0}], "max_excess_db": 2.0},
    }
    report["targets"] = judge(report, TARGETS)
    return report


def test_console_summary_shows_real_generated_and_ratio_and_names_the_missing_families():
    lines = console_lines(_v2_report())
    text = "\n".join(lines)
    assert lines[0].split()[:4] == ["figure", "real", "generated", "ratio"]
    is_line = next(line for line in lines if line.startswith("Inception Score"))
    assert "3.00" in is_line and "2.40" in is_line and "0.80 x real" in is_line and is_line.endswith("NOT MET")
    fd_line = next(line for line in lines if line.startswith("Frechet distance"))
    assert "2.000" in fd_line and "5.000" in fd_line and "2.50 x floor" in fd_line and fd_line.endswith("NOT MET")
    assert next(line for line in lines if line.startswith("real-vs-generated probe")).endswith("NOT MET")
    tail = next(line for line in lines if line.startswith("tail floor, worst family"))
    assert "8.0 dB (kick)" in tail and tail.endswith("NOT MET")
    assert next(line for line in lines if line.startswith("tonal lines")).endswith(" met")
    families = next(line for line in lines if line.startswith("drum families"))
    assert "met: kick, snare, hat, tom;" in families and "missing: cymbal" in families and families.endswith("NOT MET")
    assert "classifier accuracy, held-out kits" in text and "0.88" in text
    everything = console_lines(_v2_report(families_missing=()))
    assert next(line for line in everything if line.startswith("drum families")).endswith("missing: none  met")


def test_tail_target_skips_families_the_data_lacks_and_fails_families_never_generated():
    from ganshot.training._evaluate_report import judge
    from ganshot.training.evaluate import TARGETS

    report = _v2_report()
    for f, v in report["tail_floor"]["families"].items():
        v.update(difference_db=1.0, generated_db=-89.0)
    report["tail_floor"]["families"]["tom"] = {"real_db": None, "generated_db": -80.0, "difference_db": None,
                                               "real_count": 0, "generated_count": 3}
    assert judge(report, TARGETS)["tail_floor"]["met"] is True
    report["tail_floor"]["families"]["hat"] = {"real_db": -90.0, "generated_db": None, "difference_db": None,
                                               "real_count": 4, "generated_count": 0}
    assert judge(report, TARGETS)["tail_floor"]["met"] is False


def test_tail_floors_group_classes_into_families():
    rate = 16000
    t = np.arange(4096) / rate
    clean = np.sin(2 * np.pi * 100 * t) * np.exp(-t * 60)
    noisy = clean + 10 ** (-40 / 20) * np.random.default_rng(0).standard_normal(t.size)
    classes = ["kick", "closed_hat", "open_hat"]
    out = tail_floors(np.stack([clean, clean, clean]), [0, 1, 2], np.stack([noisy, noisy]), [1, 2], classes)
    assert out["kick"]["generated_count"] == 0 and out["kick"]["difference_db"] is None
    assert out["hat"]["real_count"] == 2 and out["hat"]["generated_count"] == 2
    assert out["hat"]["generated_db"] == pytest.approx(-40, abs=1.5) and out["hat"]["difference_db"] > 20
    assert out["cymbal"] == {"real_db": None, "generated_db": None, "difference_db": None, "real_count": 0,
                             "generated_count": 0}


def test_a_v1_report_still_loads_and_prints(tmp_path):
    from pathlib import Path

    v1 = Path(__file__).resolve().parents[2] / "presets" / "models" / "drums-v1-eval" / "report.json"
    report = load_report(v1)
    assert report["version"] == 1 and "probe" not in report
    lines = console_lines(report)
    assert lines[1].startswith("Inception Score") and not any(line.startswith("tail floor") for line in lines)
    assert next(line for line in lines if line.startswith("drum families")).startswith(
        "drum families                      met: kick, snare, hat, tom, cymbal; missing: none")
    assert "# Evaluation of drums-v1" in markdown(report, "classes.png")
    future = dict(report, version=99)
    (tmp_path / "report.json").write_text(json.dumps(future))
    with pytest.raises(FormatError, match="version 99 is not supported"):
        load_report(tmp_path)


def test_split_keeps_same_named_kits_of_two_soundfonts_apart_when_the_manifest_names_sources(tmp_path):
    items = []
    for source in ("FluidR3_GM.sf2", "MuseScore_General.sf3"):
        for label in ("kick", "snare"):
            for kit in ("Standard", "Room", "Power"):
                for velocity in (60, 120):
                    items.append(ManifestItem(path=f"audio/{source}_{label}_{kit}_{velocity}.flac", label=label,
                                              kit=kit, note=36 if label == "kick" else 38, velocity=velocity,
                                              source=source))
    manifest = Manifest(16000, 2048, ["kick", "snare"], items, {"kind": "soundfont"})
    train, test = split_items(manifest, test_fraction=0.3)
    assert test and sorted(train + test) == list(range(len(items)))
    hits = {}
    for index in train + test:
        item = manifest.items[index]
        hits.setdefault((item.source, item.kit, item.label), set()).add(index in test)
    assert len(hits) == 12 and all(len(sides) == 1 for sides in hits.values())  # velocities of a hit together
    assert len({manifest.items[i].path for i in range(len(items))}) == len(items)


@pytest.mark.slow
def test_on_real_fluidsynth_drums_the_classifier_tells_the_kit_apart(tmp_path):
    """The real thing: FluidR3 GM kits rendered by FluidSynth; the judge must learn kick/snare/hat/crash."""
    import torch

    from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
    from ganshot.training.dataset_soundfont import build_soundfont_dataset
    from ganshot.training.export import export_generator

    data = tmp_path / "sf"
    build_soundfont_dataset(data, notes=(36, 38, 42, 49, 57), velocities=(50, 127), variations=4,
                            num_samples=4096, progress=False)
    spec = GeneratorSpec(latent_dim=8, d=2, num_samples=4096)
    torch.manual_seed(0)
    bundle = export_generator(WaveGANGenerator(spec), spec, tmp_path / "b", name="untrained", sample_rate=16000)
    report = evaluate(bundle, data, tmp_path / "r", n=50, say=lambda _: None)  # the default classifier
    assert set(report["dataset"]["test_classes"]) == {"kick", "snare", "closed_hat", "crash"}
    assert report["classifier"]["test_accuracy"] >= 0.6, report["classifier"]  # chance: 0.25
    assert 0.5 <= report["classifier"]["test_balanced_accuracy"] <= 1.0
    # an untrained generator makes no drums: noise far from every training hit, no cymbal family
    assert report["memorisation"]["copy_share"] <= 0.1
    assert report["frechet_distance"]["ratio"] > 3.0 and report["targets"]["frechet_distance"]["met"] is False


def test_a_conditional_model_is_asked_for_classes_in_the_datasets_mix():
    from types import SimpleNamespace

    from ganshot.training.evaluate import generation_labels

    bundle = SimpleNamespace(conditional=True, classes=("snare", "kick", "ride"))
    data_classes = ["kick", "snare", "clap"]  # clap: the model lacks it; ride: the data lacks it
    data_labels = np.array([0] * 600 + [1] * 300 + [2] * 100)
    labels = generation_labels(bundle, data_classes, data_labels, 3000, seed=0)
    assert labels.dtype == np.int64 and set(labels) == {0, 1}  # snare (0) and kick (1) of the bundle only
    assert abs((labels == 1).mean() - 600 / 900) < 0.03
    assert np.array_equal(labels, generation_labels(bundle, data_classes, data_labels, 3000, seed=0))
    assert generation_labels(SimpleNamespace(conditional=False, classes=()), data_classes, data_labels, 5, 0) is None
