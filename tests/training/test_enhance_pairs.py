"""Latent-inversion pairs for the enhancer and its adversarial term: build, resume, refuse, train."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.enhance import CRITIC_FILE, EnhanceConfig, _batch, latest_checkpoint, train_enhancer
from ganshot.training.enhance_data import Degrader
from ganshot.training.enhance_pairs import InversionPairs, build_inversion_pairs, load_inversion_pairs

SMALL = {"channels": 8, "dilations": [1, 2]}
QUIET = {"say": lambda line: None}


@pytest.fixture
def pairs_file(tiny_bundle, make_dataset, tmp_path):
    data = make_dataset(num_items=12, num_samples=tiny_bundle.num_samples, classes=("kick", "snare", "closed_hat"))
    out = tmp_path / "pairs.safetensors"
    build_inversion_pairs(data, tiny_bundle.path, out, count=3, seeds=8, steps=2, chunk=2, **QUIET)
    return data, out


def test_pairs_are_built_per_class_and_resumed(tiny_bundle, pairs_file):
    data, out = pairs_file
    first = load_file(str(out))
    assert first["generated"].shape == first["real"].shape == (3, tiny_bundle.num_samples)
    assert len(set(first["item"].tolist())) == 3
    labels = json.loads((data / "manifest.json").read_text())["items"]
    assert len({labels[i]["class"] for i in first["item"].tolist()}) == 3  # round-robin over the classes
    real = first["real"].numpy()
    assert np.all(np.abs(real).max(axis=1) > 0) and np.all(np.isfinite(first["distance"].numpy()))
    build_inversion_pairs(data, tiny_bundle.path, out, count=4, seeds=8, steps=2, **QUIET)  # one more hit
    second = load_file(str(out))
    assert second["generated"].shape[0] == 4
    torch.testing.assert_close(second["generated"][:3], first["generated"])  # what was matched is kept
    pairs = load_inversion_pairs(out, tiny_bundle, max_distance=1e9)
    assert len(pairs) == 4 and pairs.meta["model"] == tiny_bundle.name
    assert len(load_inversion_pairs(out, tiny_bundle, max_distance=-1.0)) == 0  # far matches are left out


def test_loader_refuses_other_formats_shapes_and_nan(tiny_bundle, pairs_file, tmp_path):
    _, out = pairs_file
    tensors = load_file(str(out))
    meta = {"format": "ganshot-inversion-pairs", "version": "1", "sample_rate": "16000", "model": "tiny"}
    cases = {
        "v2": (tensors, {**meta, "version": "2"}, "v2; this ganshot reads"),
        "nan": ({**tensors, "generated": tensors["generated"] * float("nan")}, meta, "NaN"),
        "short": ({**tensors, "real": tensors["real"][:, :100].contiguous()}, meta, "shapes disagree"),
        "rate": (tensors, {**meta, "sample_rate": "44100"}, "the model makes"),
        "missing": ({k: v for k, v in tensors.items() if k != "distance"}, meta, "without distance"),
    }
    for name, (data, metadata, needle) in cases.items():
        path = tmp_path / f"{name}.safetensors"
        save_file(data, str(path), metadata=metadata)
        with pytest.raises(FormatError, match=needle):
            load_inversion_pairs(path, tiny_bundle)
    (tmp_path / "junk.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(FormatError, match="not a safetensors file"):
        load_inversion_pairs(tmp_path / "junk.safetensors", tiny_bundle)
    with pytest.raises(UserInputError, match="no such inversion-pairs file"):
        load_inversion_pairs(tmp_path / "absent.safetensors", tiny_bundle)


def test_batches_mix_in_pairs_at_the_real_hits_loudness():
    n = 512
    audio = torch.randn(10, n) * 0.1
    real = torch.randn(4, n) * 0.5
    made = real * 0.01 + torch.randn(4, n) * 1e-3  # a much quieter "generated" side
    pairs = InversionPairs(made, real, torch.zeros(4), {})
    noisy, clean = _batch(audio, np.arange(10), Degrader(16000), seed=0, step=3, size=8, pairs=pairs, pair_share=0.5)
    assert noisy.shape == clean.shape == (8, n)
    tail_noisy, tail_clean = noisy[4:], clean[4:]
    np.testing.assert_allclose(tail_noisy.abs().amax(dim=1), tail_clean.abs().amax(dim=1), rtol=1e-5)
    again = _batch(audio, np.arange(10), Degrader(16000), seed=0, step=3, size=8, pairs=pairs, pair_share=0.5)
    torch.testing.assert_close(again[0], noisy)  # seed and step are the whole RNG state


def test_training_with_pairs_and_the_adversarial_term_resumes(tiny_bundle, pairs_file, tmp_path):
    data, out = pairs_file
    run = tmp_path / "run"
    cfg = EnhanceConfig(steps=2, batch_size=4, eval_every=1, checkpoint_every=1, spec=SMALL, inversion_pairs=str(out),
                        inversion_share=0.5, adv_weight=0.1, adv_n_fft=128, adv_d=2)
    train_enhancer(data, tiny_bundle.path, run, cfg, **QUIET)
    step2 = latest_checkpoint(run)
    assert (step2 / CRITIC_FILE).is_file()
    critic_before = load_file(str(step2 / CRITIC_FILE))
    cfg.steps = 3
    train_enhancer(data, tiny_bundle.path, run, cfg, resume=True, **QUIET)
    critic_after = load_file(str(latest_checkpoint(run) / CRITIC_FILE))
    assert any(not torch.equal(critic_before[k], critic_after[k]) for k in critic_before)  # the critic trains on
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(log) == 3 and all(np.isfinite(row["lsd_pairs_after_db"]) for row in log)
    run_json = json.loads((run / "run.json").read_text())
    assert run_json["pairs"]["latent_inversion"] is True and run_json["config"]["adv_weight"] == 0.1
