"""train --init-from BUNDLE: a new run starts from a bundle's generator, the export counts all steps."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from ganshot.engine.bundle import load_bundle
from ganshot.engine.errors import GanshotError
from ganshot.training.checkpoint import load_run_info
from ganshot.training.export import export_run
from ganshot.training.train import train

TINY = ["model.d=2", "train.batch_size=2", "train.critic_steps=1", "train.checkpoint_every=1000"]


@pytest.fixture
def first_bundle(make_dataset, tmp_path):
    data = make_dataset(num_items=4)
    train("wavegan_small", data, tmp_path / "first", overrides=TINY, max_steps=2, device="cpu")
    return data, load_bundle(export_run(tmp_path / "first", tmp_path / "first-bundle", directions_k=0))


def test_a_warm_start_begins_with_the_bundles_weights(first_bundle, tmp_path):
    data, bundle = first_bundle
    seen = {}

    def on_step(state, stats):  # after step 1 the weights have moved once from the bundle's
        seen.setdefault("step", state.step)

    before = load_file(str(bundle.safetensors_path))
    result = train("wavegan_small", data, tmp_path / "second", overrides=[*TINY, "train.lr=1e-12"], max_steps=1,
                   device="cpu", init_generator=bundle.path, on_step=on_step)
    assert result["step"] == 1 and seen["step"] == 1
    info = load_run_info(tmp_path / "second")
    assert info["init_generator"] == {"bundle": bundle.name, "model_json_sha256": bundle.sha256, "steps_before": 2,
                                      "critic_warmup_steps": 0}
    after = load_file(str(tmp_path / "second" / "checkpoints" / "step_0000001" / "generator.safetensors"))
    for key, value in before.items():  # lr 1e-12: one Adam step moves each weight by at most ~1e-12
        torch.testing.assert_close(after[key], value, atol=1e-9, rtol=0)
    exported = load_bundle(export_run(tmp_path / "second", tmp_path / "second-bundle", directions_k=0))
    training = exported.meta["training"]
    assert training["step"] == 1 and training["total_steps"] == 3
    assert training["init_generator"]["model_json_sha256"] == bundle.sha256
    assert f"warm-started from the bundle {bundle.name} (3 generator steps in all)" in \
        (exported.path / "README.md").read_text()


def test_critic_warmup_trains_the_critic_and_leaves_the_generator_alone(first_bundle, tmp_path):
    data, bundle = first_bundle
    steps = []
    train("wavegan_small", data, tmp_path / "warm", overrides=[*TINY, "train.critic_warmup_steps=3"], max_steps=0,
          device="cpu", init_generator=bundle.path, on_step=lambda state, stats: steps.append(state.step))
    folder = tmp_path / "warm" / "checkpoints" / "step_0000000"
    generator, critic = load_file(str(folder / "generator.safetensors")), load_file(str(folder / "discriminator.safetensors"))
    before = load_file(str(bundle.safetensors_path))
    assert all(torch.equal(generator[k], before[k]) for k in before) and steps == []
    train("wavegan_small", data, tmp_path / "cold", overrides=TINY, max_steps=0, device="cpu", init_generator=bundle.path)
    fresh = load_file(str(tmp_path / "cold" / "checkpoints" / "step_0000000" / "discriminator.safetensors"))
    assert any(not torch.equal(critic[k], fresh[k]) for k in critic)  # three critic updates happened
    assert load_run_info(tmp_path / "warm")["init_generator"]["critic_warmup_steps"] == 3


def test_a_cold_start_differs_and_resume_keeps_the_record(first_bundle, tmp_path):
    data, bundle = first_bundle
    train("wavegan_small", data, tmp_path / "cold", overrides=[*TINY, "train.seed=9"], max_steps=1, device="cpu")
    cold = load_file(str(tmp_path / "cold" / "checkpoints" / "step_0000001" / "generator.safetensors"))
    warm_bundle = load_file(str(bundle.safetensors_path))
    assert any(not torch.allclose(cold[k], warm_bundle[k]) for k in cold)
    train("wavegan_small", data, tmp_path / "warm", overrides=TINY, max_steps=1, device="cpu", init_generator=bundle.path)
    train("wavegan_small", data, tmp_path / "warm", overrides=TINY, max_steps=2, device="cpu", resume=True,
          init_generator=bundle.path)  # the checkpoint wins; the record stays
    assert load_run_info(tmp_path / "warm")["init_generator"]["steps_before"] == 2


def test_another_architecture_or_a_broken_bundle_is_refused(first_bundle, tmp_path):
    data, bundle = first_bundle
    with pytest.raises(GanshotError, match="architecture"):
        train("wavegan_small", data, tmp_path / "wide", overrides=[*TINY, "model.d=3"], max_steps=1, device="cpu",
              init_generator=bundle.path)
    bundle.safetensors_path.write_bytes(bundle.safetensors_path.read_bytes()[:-8] + b"\0" * 8)  # tampered weights
    with pytest.raises(GanshotError, match="sha256"):
        train("wavegan_small", data, tmp_path / "bad", overrides=TINY, max_steps=1, device="cpu",
              init_generator=bundle.path)


def test_the_cli_takes_init_from(first_bundle, tmp_path):
    data, bundle = first_bundle
    result = subprocess.run([sys.executable, "-m", "ganshot", "train", "wavegan_small", "--data", str(data), "--out",
                             str(tmp_path / "cli"), "--steps", "1", "--init-from", str(bundle.path),
                             *[arg for pair in (("--set", s) for s in TINY) for arg in pair]],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "TQDM_DISABLE": "1"})
    assert result.returncode == 0, result.stderr
    assert load_run_info(tmp_path / "cli")["init_generator"]["bundle"] == bundle.name
    missing = subprocess.run([sys.executable, "-m", "ganshot", "train", "wavegan_small", "--data", str(data), "--out",
                              str(tmp_path / "cli2"), "--steps", "1", "--init-from", str(tmp_path / "nope")],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "nope" in missing.stderr and "Traceback" not in missing.stderr
