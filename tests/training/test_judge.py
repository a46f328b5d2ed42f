"""train.judge_every: judge.jsonl, the best checkpoint kept (RUN/best/, best.json), resume, export --best, refusals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from ganshot.cli import main
from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.checkpoint import list_checkpoints
from ganshot.training.export import export_run
from ganshot.training.judge import judge, judge_reference
from ganshot.training.manifest import Manifest, ManifestItem, save_manifest
from ganshot.training.train import train

from tests.support import synth_hit

torch.set_num_threads(2)

RATE, LENGTH = 16000, 2048
CLASSES = ("kick", "snare", "hat", "tom")
TINY = ["model.d=2", f"model.num_samples={LENGTH}", "train.batch_size=2", "train.critic_steps=1",
        "train.num_workers=0", "train.checkpoint_every=1000", "train.keep_checkpoints=1"]
JUDGED = [*TINY, "train.judge_every=2", "train.judge_samples=16", "train.ema_decay=0.9"]


def write_dataset(root, per_class=12, variations=2):
    """``per_class`` hits a class from ``per_class // variations`` kits: the split holds out 2 hits a class."""
    rng = np.random.default_rng(0)
    (root / "audio").mkdir(parents=True)
    items = []
    for label in CLASSES:
        for index in range(per_class):
            rel = f"audio/{label}_{index:03d}.flac"
            sf.write(root / rel, synth_hit(label, LENGTH, RATE, rng), RATE, subtype="PCM_16")
            items.append(ManifestItem(path=rel, label=label, kit=f"kit{index // variations}", note=36, velocity=100))
    save_manifest(root, Manifest(RATE, LENGTH, list(CLASSES), items, {"kind": "synthetic"}))
    return root


def read_log(run):
    return [json.loads(line) for line in (run / "judge.jsonl").read_text().splitlines()]


def state_step(folder):
    return int(torch.load(folder / "state.pt", weights_only=True)["step"])


@pytest.fixture(scope="module")
def judged_run(tmp_path_factory):
    """(data, run): 3 steps judged at steps 2 and 3 (the last), EMA kept."""
    root = tmp_path_factory.mktemp("judge")
    data = write_dataset(root / "data")
    train("wavegan_small", data, root / "run", overrides=JUDGED, max_steps=3, device="cpu")
    return data, root / "run"


def test_the_judge_logs_every_judgement_and_keeps_the_best(judged_run):
    _, run = judged_run
    log = read_log(run)
    assert [r["step"] for r in log] == [2, 3]  # every judge_every steps, and the last step
    assert all(set(r) == {"step", "fd_ratio", "probe", "is_ratio"} and r["fd_ratio"] > 0 for r in log)
    best = json.loads((run / "best.json").read_text())
    lowest = min(log, key=lambda r: r["fd_ratio"])
    assert best == {"format": "ganshot-judge-best", "version": 1, **lowest}
    [(_, newest)] = list_checkpoints(run)  # keep_checkpoints=1 prunes checkpoints, never best/
    assert {p.name for p in (run / "best").iterdir()} == {p.name for p in newest.iterdir()}
    assert state_step(run / "best") == best["step"]
    assert (run / "judge_classifier.safetensors").is_file()
    assert not list(run.glob(".tmp-*")) and not list(run.glob(".old-*"))


def test_export_best_writes_the_kept_checkpoint(judged_run, tmp_path):
    _, run = judged_run
    best = json.loads((run / "best.json").read_text())
    assert main(["export", str(run), "-o", str(tmp_path / "best"), "--best", "--directions", "0"]) == 0
    bundle = load_bundle(tmp_path / "best")
    training = bundle.meta["training"]
    assert training["step"] == best["step"] and training["checkpoint"] == "best"
    assert training["judge"] == {"fd_ratio": best["fd_ratio"], "probe": best["probe"], "is_ratio": best["is_ratio"],
                                 "samples": 16}
    newest = load_bundle(export_run(run, tmp_path / "newest", directions_k=0)).meta["training"]
    assert newest["step"] == 3 and "judge" not in newest


def test_export_best_without_a_best_checkpoint_says_so(judged_run, tmp_path, capsys):
    data, _ = judged_run
    train("wavegan_small", data, tmp_path / "plain", overrides=TINY, max_steps=1, device="cpu")
    assert not (tmp_path / "plain" / "judge.jsonl").exists() and not (tmp_path / "plain" / "best").exists()
    with pytest.raises(UserInputError, match="kept no best checkpoint.*train.judge_every"):
        export_run(tmp_path / "plain", tmp_path / "b", best=True)
    assert main(["export", str(tmp_path / "plain"), "-o", str(tmp_path / "b"), "--best"]) == 2
    assert "kept no best checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("recorded, kept", [(0.0, True), (1e9, False)])
def test_resume_reads_the_best_back_and_keeps_it_unless_beaten(judged_run, tmp_path, recorded, kept):
    data, original = judged_run
    run = tmp_path / "run"
    shutil.copytree(original, run)
    record = json.loads((run / "best.json").read_text())
    (run / "best.json").write_text(json.dumps({**record, "fd_ratio": recorded}))
    classifier = (run / "judge_classifier.safetensors").read_bytes()
    train("wavegan_small", data, run, overrides=JUDGED, max_steps=4, device="cpu",
          resume=True)
    assert [r["step"] for r in read_log(run)] == [2, 3, 4]
    best = json.loads((run / "best.json").read_text())
    if kept:  # nothing beats the recorded 0.0: best.json and best/ stay
        assert best == {**record, "fd_ratio": 0.0}
        assert state_step(run / "best") == record["step"]
    else:
        assert best["step"] == 4 and best["fd_ratio"] == read_log(run)[-1]["fd_ratio"]
        assert state_step(run / "best") == 4
    assert (run / "judge_classifier.safetensors").read_bytes() == classifier  # reused, not retrained


def test_an_unknown_best_record_is_refused(judged_run, tmp_path):
    data, original = judged_run
    run = tmp_path / "run"
    shutil.copytree(original, run)
    record = json.loads((run / "best.json").read_text())
    (run / "best.json").write_text(json.dumps({**record, "version": 2}))
    with pytest.raises(FormatError, match="best.json: unknown best-checkpoint record.*version 1"):
        train("wavegan_small", data, run, overrides=JUDGED, max_steps=4, device="cpu", resume=True)
    with pytest.raises(FormatError, match="best.json"):
        export_run(run, tmp_path / "b", best=True)


@pytest.mark.parametrize("override, needle", [
    ("train.judge_every=-1", "train.judge_every"),
    ("train.judge_every=1.5", "train.judge_every"),
    ("train.judge_samples=2", "train.judge_samples"),
    ("train.judge_classifier=5", "train.judge_classifier"),
])
def test_bad_judge_values_are_refused_naming_the_key(judged_run, tmp_path, override, needle):
    data, _ = judged_run
    with pytest.raises(FormatError, match=needle):
        train("wavegan_small", data, tmp_path / "run", overrides=[*JUDGED, override], max_steps=1, device="cpu")


def test_a_missing_classifier_file_is_refused(judged_run, tmp_path):
    data, _ = judged_run
    with pytest.raises(UserInputError, match="train.judge_classifier: no classifier file"):
        train("wavegan_small", data, tmp_path / "run", max_steps=1, device="cpu",
              overrides=[*JUDGED, f"train.judge_classifier={json.dumps(str(tmp_path / 'none.safetensors'))}"])
    assert not (tmp_path / "run").exists()  # refused before anything is written


def test_a_pitch_conditional_config_with_the_judge_is_refused(judged_run, tmp_path):
    data, _ = judged_run
    with pytest.raises(UserInputError, match="train.judge_every must be 0 for a pitch-conditional model"):
        train("pitched_small", data, tmp_path / "run", overrides=JUDGED, max_steps=1, device="cpu")
    assert not (tmp_path / "run").exists()


def test_a_given_classifier_judges_and_the_same_generator_gets_the_same_figures(judged_run):
    from ganshot.training.checkpoint import load_generator

    data, run = judged_run
    generator, _, _ = load_generator(run)
    ref = judge_reference(data, run / "judge_classifier.safetensors", seed=0)
    first = judge(generator, ref, 16, 0, generator.spec.latent_dim)
    assert set(first) == {"fd_ratio", "probe", "is_ratio"} and first["fd_ratio"] > 0
    assert judge(generator, ref, 16, 0, generator.spec.latent_dim) == first
    assert first == {k: read_log(run)[-1][k] for k in first}  # what training logged at its last step (3)


def test_a_judged_run_trains_exactly_like_an_unjudged_one(judged_run, tmp_path):
    from safetensors.torch import load_file

    data, run = judged_run
    plain = [o for o in JUDGED if not o.startswith("train.judge_every")]
    train("wavegan_small", data, tmp_path / "plain", overrides=plain, max_steps=3, device="cpu")
    [(_, judged)], [(_, unjudged)] = list_checkpoints(run), list_checkpoints(tmp_path / "plain")
    for name in ("generator.safetensors", "generator_ema.safetensors", "discriminator.safetensors"):
        a, b = load_file(judged / name), load_file(unjudged / name)
        assert all(torch.equal(a[k], b[k]) for k in a), name
