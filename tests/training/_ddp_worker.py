"""Run by tests/training/test_ddp.py under ``torchrun --nproc_per_node 2`` (gloo, CPU).

1. The WGAN-GP critic gradient through a DDP-wrapped critic (double backward) equals the
   gradient of an unwrapped copy, all-reduced by hand.
2. ``train()`` runs two iterations in both processes; each rank dumps the sha256 of
   every G and D tensor after the last step.

Usage: _ddp_worker.py DATA_DIR RUN_DIR OUT_DIR
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from ganshot.training._distributed import wrap_ddp
from ganshot.training.losses import critic_loss
from ganshot.training.train import train
from ganshot.training.wave_critic import WaveGANDiscriminator

TINY = ["model.d=2", "train.batch_size=2", "train.num_workers=0", "model.conditional=true"]


def gradient_check(rank: int, world: int) -> dict:
    torch.manual_seed(0)
    disc = WaveGANDiscriminator(d=2, num_samples=16384, num_classes=2)
    reference = copy.deepcopy(disc)
    ddp = wrap_ddp(disc, torch.device("cpu"))  # exactly as train() wraps it
    data = torch.Generator().manual_seed(100 + rank)
    real = torch.randn(3, 16384, generator=data) * 0.5
    fake = torch.randn(3, 16384, generator=data) * 0.5
    labels = torch.randint(0, 2, (3,), generator=data)
    torch.manual_seed(1000 + rank)
    loss, _ = critic_loss(ddp, real, fake, labels, gp_lambda=10.0)
    loss.backward()
    torch.manual_seed(1000 + rank)
    loss_ref, _ = critic_loss(reference, real, fake, labels, gp_lambda=10.0)
    loss_ref.backward()
    local = [p.grad.clone() for p in reference.parameters()]
    for p in reference.parameters():
        dist.all_reduce(p.grad)
        p.grad /= world
    diff = max(float((a.grad - b.grad).abs().max()) for a, b in zip(disc.parameters(), reference.parameters()))
    scale = max(float(b.grad.abs().max()) for b in reference.parameters())
    spread = max(float((g - b.grad).abs().max()) for g, b in zip(local, reference.parameters()))
    return {"max_abs_diff": diff, "grad_scale": scale, "local_vs_reduced": spread}


def main(data_dir: str, run_dir: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    report = {"rank": rank, "world_size": world, "gradient": gradient_check(rank, world)}

    def dump(state, stats):
        if state.step == 2:
            hashes = {}
            for name, module in (("g", state.generator.module), ("d", state.discriminator.module)):
                for key, value in module.state_dict().items():
                    hashes[f"{name}.{key}"] = hashlib.sha256(value.detach().cpu().numpy().tobytes()).hexdigest()
            report["hashes"] = hashes

    result = train("wavegan_small", data_dir, run_dir, overrides=TINY, max_steps=2, on_step=dump)
    report["step"] = result["step"]
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(report))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:4])
