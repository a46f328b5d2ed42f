"""The enhancement post-filter, training side: 2-step training, resume, export with ONNX parity,
the mask pipeline's identity and energy properties."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.enhancer import Enhancer
from ganshot.engine.errors import UserInputError
from ganshot.training.enhance import EnhanceConfig, latest_checkpoint, log_spectral_distance_db, train_enhancer
from ganshot.training.enhance_data import Degrader
from ganshot.training.enhance_export import export_enhancer
from ganshot.training.enhance_model import EnhancerSpec, MaskEnhancer
from tests.support import synth_hit

SMALL = {"channels": 8, "dilations": [1, 2]}


def _hits(num_samples: int, rows: int = 4, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    kinds = ("kick", "snare", "hat", "tom")
    return torch.from_numpy(np.stack([synth_hit(kinds[i % 4], num_samples, 16000, rng) for i in range(rows)]))


def test_two_steps_resume_export_and_onnx_parity(tiny_bundle, make_dataset, tmp_path):
    data = make_dataset(num_items=6, num_samples=tiny_bundle.num_samples)
    run = tmp_path / "run"
    cfg = EnhanceConfig(steps=2, batch_size=2, eval_every=1, checkpoint_every=1, spec=SMALL)
    train_enhancer(data, tiny_bundle.path, run, cfg, say=lambda line: None)
    assert latest_checkpoint(run).name == "step_0000002"
    with pytest.raises(UserInputError, match="--resume"):
        train_enhancer(data, tiny_bundle.path, run, cfg, say=lambda line: None)
    cfg.steps = 3
    train_enhancer(data, tiny_bundle.path, run, cfg, resume=True, say=lambda line: None)
    assert latest_checkpoint(run).name == "step_0000003"
    assert len((run / "log.jsonl").read_text().splitlines()) == 3

    out = export_enhancer(run, tiny_bundle.path, tmp_path / "tiny-e")
    bundle = load_bundle(out)
    entry = bundle.enhancer
    assert entry["training"]["step"] == 3 and entry["training"]["parity_relative_error"] <= 1e-4
    assert entry["sha256"] == json.loads((out / "model.json").read_text())["files"]["enhancer.onnx"]["sha256"]
    assert load_bundle(tiny_bundle.path).enhancer is None  # the source bundle is untouched

    from ganshot.training.enhance import load_enhancer_run

    net, _ = load_enhancer_run(run)
    audio = _hits(tiny_bundle.num_samples, rows=3)
    with torch.no_grad():
        expected = net(audio).numpy()
    got = Enhancer(bundle).run(audio.numpy())
    assert np.max(np.abs(got - expected)) <= 1e-4 * np.max(np.abs(expected))


def test_mask_of_one_is_the_identity():
    net = MaskEnhancer(EnhancerSpec(num_samples=4096, **SMALL)).eval()
    with torch.no_grad():
        net.out.bias.fill_(30.0)  # sigmoid * 1.02 clipped: exactly 1
        audio = _hits(4096)
        out, mask = net(audio, return_mask=True)
    assert torch.all(mask == 1.0)
    assert torch.max(torch.abs(out - audio)) < 1e-5


def test_fresh_enhancer_is_near_identity_on_clean_hits():
    net = MaskEnhancer(EnhancerSpec(num_samples=4096, **SMALL)).eval()
    audio = _hits(4096)
    with torch.no_grad():
        out = net(audio)
    assert log_spectral_distance_db(out, audio).max() < 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mask_only_removes_energy(seed):
    torch.manual_seed(seed)
    net = MaskEnhancer(EnhancerSpec(num_samples=4096, **SMALL)).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.5)  # any weights at all
        audio = torch.randn(3, 4096) * torch.tensor([[1.0], [0.01], [1e-4]])
        out, mask = net(audio, return_mask=True)
    assert float(mask.min()) >= 0.0 and float(mask.max()) <= 1.0
    assert float(mask.min()) < 0.5  # these weights do remove something
    energy_in, energy_out = audio.pow(2).sum(dim=1), out.pow(2).sum(dim=1)
    assert torch.all(energy_out <= energy_in * (1 + 1e-4))


def test_degradations_add_energy_only_to_dirty_rows():
    clean = _hits(16384, rows=64)
    noisy, target = Degrader(16000, identity_share=0.25)(clean, torch.Generator().manual_seed(0))
    same = torch.all(noisy == target, dim=1)
    assert 0 < int(same.sum()) < 64  # some identity pairs, some degraded
    peak = target.abs().amax(dim=1)
    added = (noisy - target).abs().amax(dim=1)[~same] / peak[~same]
    assert float(added.max()) < 10 ** (-15 / 20)  # artefacts stay well below the hit


def test_loss_gradient_is_finite_on_digital_silence():
    from ganshot.training.enhance import mr_stft_loss

    estimate = torch.zeros(2, 4096, requires_grad=True)
    clean = torch.zeros(2, 4096)
    clean[:, :100] = 0.5  # a click, then digital silence, as identity pairs of real hits have
    mr_stft_loss(estimate, clean).backward()
    assert torch.isfinite(estimate.grad).all()
    same = clean.clone().requires_grad_(True)
    mr_stft_loss(same, clean).backward()  # estimate == clean exactly: no 0/0 either
    assert torch.isfinite(same.grad).all()
