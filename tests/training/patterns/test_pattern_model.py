"""The pattern GAN end to end, in seconds: 2 training steps, resume, export (ONNX parity), a bundle
the loaders tell apart from audio bundles, generated MIDI files that parse and stay in range, the
evaluation report, and bar-aligned pattern switching."""

from __future__ import annotations

import json
import shutil

import mido
import numpy as np
import pytest
import torch

from ganshot.engine.errors import FormatError, IntegrityError, UserInputError
from ganshot.engine.gm_drums import GM_DRUMS
from ganshot.training.patterns.bundle import load_pattern_bundle
from ganshot.training.patterns.config import load_pattern_config, save_pattern_config
from ganshot.training.patterns.export import export_pattern_run
from ganshot.training.patterns.generate import PatternSampler, generate_patterns, switching_events
from ganshot.training.patterns.model import PatternCritic, PatternGenerator, PatternSpec, straight_through
from ganshot.training.patterns.train import load_run_generator, train_patterns
from tests.support.patterns import fixed_pattern_bundle, seed_with_sign, tiny_drum_dataset, tiny_melodic_dataset

TINY = "inherit = \"drums\"\n[model]\nlatent_dim = 8\nd = 4\n[train]\nbatch_size = 4\ncheckpoint_every = 1\nlog_every = 1\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-step run on 8 groove files, resumed for a third step, exported."""
    root = tmp_path_factory.mktemp("patterns")
    (root / "tiny.toml").write_text(TINY)
    data = tiny_drum_dataset(root)
    run = train_patterns(str(root / "tiny.toml"), data, root / "run", max_steps=2)
    train_patterns(str(root / "tiny.toml"), data, run, resume=True, max_steps=3)
    bundle = export_pattern_run(run, root / "bundle")
    return root, data, run, bundle


@pytest.mark.parametrize("rows, channels, steps", [(16, 1, 32), (48, 2, 32), (16, 1, 8), (5, 2, 64)])
def test_generator_and_critic_shapes(rows, channels, steps):
    spec = PatternSpec(rows=rows, channels=channels, steps=steps, latent_dim=8, d=4)
    probs = PatternGenerator(spec)(torch.randn(3, 8))
    assert probs.shape == (3, channels, steps, rows) and 0 < probs.min().item() and probs.max().item() < 1
    hard = straight_through(probs)
    assert torch.allclose(hard, (probs > 0.5).float(), atol=1e-6)  # 0/1 up to float rounding
    assert hard.requires_grad  # the sigmoid's gradient flows through
    assert PatternCritic(spec)(hard).shape == (3,)


def test_spec_limits_are_one_line_errors():
    with pytest.raises(FormatError, match="multiple of 8"):
        PatternSpec(steps=12)
    with pytest.raises(FormatError, match="unknown hyperparameters"):
        PatternSpec.from_dict({"rows": 4, "width": 3})


def test_config_round_trips_and_refuses_unknown_keys(tmp_path):
    config = load_pattern_config("melodic")
    assert config.model.d == 96 and config.train.transpose_semitones == 5 and config.train.batch_size == 64
    save_pattern_config(config, tmp_path / "c.toml")
    assert load_pattern_config(str(tmp_path / "c.toml")) == config
    (tmp_path / "bad.toml").write_text("[train]\nsteps = 3\nlearning_rate = 1\n")
    with pytest.raises(FormatError, match="learning_rate"):
        load_pattern_config(str(tmp_path / "bad.toml"))
    with pytest.raises(FormatError, match="shipped: drums, melodic"):
        load_pattern_config("nope")


def test_training_checkpoints_resumes_and_logs(trained):
    _, _, run, _ = trained
    steps = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert steps[-1] == "step_0000003"
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [1, 2, 3] and all(entry["ms_per_step"] > 0 for entry in log)
    info = json.loads((run / "run.json").read_text())
    assert info["format"] == "ganshot-patterns-run" and info["dataset"]["mode"] == "drums"
    generator, spec, step, _ = load_run_generator(run)
    assert step == 3 and spec.latent_dim == 8 and isinstance(generator, PatternGenerator)


def test_a_run_with_checkpoints_is_not_overwritten(trained):
    root, data, run, _ = trained
    with pytest.raises(UserInputError, match="--resume"):
        train_patterns(str(root / "tiny.toml"), data, run, max_steps=1)


def test_resume_continues_like_an_uninterrupted_run(trained, tmp_path):
    root, data, _, _ = trained
    straight = train_patterns(str(root / "tiny.toml"), data, tmp_path / "straight", max_steps=3)
    split = train_patterns(str(root / "tiny.toml"), data, tmp_path / "split", max_steps=2)
    train_patterns(str(root / "tiny.toml"), data, split, resume=True, max_steps=3)
    a, _, _, _ = load_run_generator(straight)
    b, _, _, _ = load_run_generator(split)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.allclose(x, y, atol=1e-6), name


def test_the_bundle_carries_its_contract_and_hashes(trained):
    _, _, _, path = trained
    bundle = load_pattern_bundle(path)
    meta = json.loads((path / "model.json").read_text())
    assert meta["format"] == "ganshot-patterns" and meta["version"] == 1 and meta["kind"] == "patterns"
    assert bundle.mode == "drums" and bundle.steps == 32 and bundle.rows[0] == "kick" and bundle.row_notes[0] == 36
    assert set(meta["files"]) == {"generator.onnx", "generator.safetensors", "README.md"}
    assert meta["export"]["parity_max_abs_error"] <= 1e-4


def test_export_can_take_the_live_weights_of_a_given_step(trained, tmp_path):
    _, _, run, _ = trained
    path = export_pattern_run(run, tmp_path / "live", step=2, ema=False)
    assert json.loads((path / "model.json").read_text())["training"] == {"step": 2, "weights": "live"}
    with pytest.raises(UserInputError, match="no checkpoint at step 9"):
        export_pattern_run(run, tmp_path / "none", step=9)


def test_the_audio_loader_refuses_a_patterns_bundle_and_the_patterns_loader_an_audio_one(trained, tiny_bundle):
    from ganshot.engine.bundle import load_bundle

    _, _, _, path = trained
    with pytest.raises(FormatError, match="format is 'ganshot-patterns', expected 'ganshot-model'"):
        load_bundle(path)
    with pytest.raises(FormatError, match="this is an audio model bundle"):
        load_pattern_bundle(tiny_bundle.path)


@pytest.mark.parametrize("change, error, needle", [
    ({"version": 2}, FormatError, "newer than this ganshot reads"),
    ({"version": "1"}, FormatError, "unknown version"),
    ({"kind": "audio"}, FormatError, "not a patterns bundle"),
    ({"rows": ["kick"]}, FormatError, "rows must list"),
    ({"hyperparameters": {"rows": 16, "channels": 1, "steps": 64, "latent_dim": 8, "d": 4}}, FormatError, "agree"),
])
def test_the_patterns_loader_refuses_what_it_does_not_know(trained, tmp_path, change, error, needle):
    _, _, _, path = trained
    copy = shutil.copytree(path, tmp_path / "b")
    meta = json.loads((copy / "model.json").read_text())
    (copy / "model.json").write_text(json.dumps({**meta, **change}))
    with pytest.raises(error, match=needle):
        load_pattern_bundle(copy)


def test_a_tampered_file_is_an_integrity_error(trained, tmp_path):
    copy = shutil.copytree(trained[3], tmp_path / "b")
    with open(copy / "generator.onnx", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01")
    with pytest.raises(IntegrityError):
        load_pattern_bundle(copy)


def test_generated_midi_files_parse_and_stay_in_range(trained, tmp_path):
    _, _, _, path = trained
    paths = generate_patterns(path, tmp_path / "out", n=3, bars=3, tempo_bpm=97, seed=5)
    assert [p.name for p in paths] == ["pattern_0005.mid", "pattern_0006.mid", "pattern_0007.mid"]
    bar_ticks = 4 * 480
    for p in paths:
        midi = mido.MidiFile(p)
        tempos = [m.tempo for m in midi.tracks[0] if m.type == "set_tempo"]
        assert tempos == [mido.bpm2tempo(97)]
        tick = 0
        for msg in midi.tracks[0]:
            tick += msg.time
            if msg.type in ("note_on", "note_off"):
                assert msg.channel == 9 and msg.note in GM_DRUMS and 0 <= msg.velocity <= 127
                assert tick <= 3 * bar_ticks
    listed = json.loads((tmp_path / "out" / "patterns.json").read_text())
    assert [f["seed"] for f in listed["files"]] == [5, 6, 7]
    png = (tmp_path / "out" / "pianoroll.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    height = int.from_bytes(png[20:24], "big")
    assert height >= 3 * 160  # a tile of at least 160 px per pattern


def test_a_melodic_model_trains_exports_and_writes_held_notes_in_range(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY.replace('inherit = "drums"', 'inherit = "melodic"'))
    data = tiny_melodic_dataset(tmp_path)
    run = train_patterns(str(tmp_path / "tiny.toml"), data, tmp_path / "run", max_steps=2)
    bundle = load_pattern_bundle(export_pattern_run(run, tmp_path / "bundle"))
    assert bundle.channels == ("onset", "hold") and bundle.rows[24] == "C4" and bundle.row_notes[0] == 36
    (path,) = generate_patterns(bundle.path, tmp_path / "out", n=1, bars=2, tempo_bpm=80, program=40)
    midi = mido.MidiFile(path)
    messages = list(midi.tracks[0])
    assert [m.program for m in messages if m.type == "program_change"] == [40]
    sounding, tick = {}, 0
    for msg in messages:
        tick += msg.time
        if msg.type == "note_on":
            assert msg.channel == 0 and 36 <= msg.note < 84 and msg.note not in sounding
            sounding[msg.note] = tick
        elif msg.type == "note_off":
            assert tick > sounding.pop(msg.note) and tick <= 2 * 4 * 480
    assert not sounding  # every note ends


def test_the_same_seed_gives_the_same_pattern(trained):
    sampler = PatternSampler(load_pattern_bundle(trained[3]))
    a, b = sampler.pattern(11, 5), sampler.pattern(11, 5)
    assert a.onset.shape == (80, 16) and np.array_equal(a.onset, b.onset) and a.notes == b.notes


def test_pattern_switching_lands_on_bar_lines(tmp_path):
    sampler = PatternSampler(load_pattern_bundle(fixed_pattern_bundle(tmp_path)))
    kick_seed, snare_seed = seed_with_sign(8, True), seed_with_sign(8, False)
    events, starts = switching_events(sampler, [kick_seed, snare_seed, kick_seed], bars_each=2, tempo_bpm=100)
    bar_s = 4 * 60 / 100
    assert starts == [0.0, 2 * bar_s, 4 * bar_s]
    assert [(round(t / bar_s, 9), n) for t, n, _ in events] == [(0, 36), (1, 36), (2, 38), (3, 38), (4, 36), (5, 36)]


def test_evaluation_writes_the_report_with_the_baseline(trained):
    from ganshot.training.patterns.evaluate import FIGURES, evaluate_patterns

    _, data, _, path = trained
    report = evaluate_patterns(path, data, n=16)
    assert set(report["sets"]) == {"corpus_held_out", "generated", "random_baseline"}
    for figures in report["sets"].values():
        assert set(FIGURES) <= set(figures)
        assert figures["duration_hist_tv"] is None  # drums have no note lengths
        for key in ("row_hist_tv", "step_hist_tv", "copy_share", "near_copy_share", "empty_share"):
            assert 0.0 <= figures[key] <= 1.0
    assert report["sets"]["random_baseline"]["copy_share"] == 0.0
    assert json.loads((path / "evaluation" / "report.json").read_text())["format"] == "ganshot-patterns-evaluation"
    assert "| copy_share |" in (path / "evaluation" / "report.md").read_text()
    load_pattern_bundle(path)  # the evaluation folder does not break the bundle


def test_memorisation_counts_exact_and_near_copies():
    from ganshot.training.patterns.evaluate import memorisation

    corpus = np.zeros((3, 20), bool)
    corpus[0, :10] = corpus[1, 10:] = corpus[2, ::2] = True
    near = corpus[0].copy()
    near[10] = True  # 10 of 11 shared: Jaccard 0.909
    far = np.zeros(20, bool)
    far[[1, 3, 11]] = True
    assert memorisation(np.stack([corpus[1], near, far, corpus[2]]), corpus) == (0.5, 0.75)
