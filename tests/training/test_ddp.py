"""Two CPU processes (gloo, torchrun) train two iterations and end with identical weights."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from ganshot.training.checkpoint import list_checkpoints

WORKER = Path(__file__).with_name("_ddp_worker.py")


@pytest.mark.slow
def test_two_process_ddp_training(make_dataset, tmp_path):
    torch_dist = pytest.importorskip("torch.distributed")
    if not torch_dist.is_available() or not torch_dist.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    data = make_dataset(num_items=8, num_samples=16384)
    run, out = tmp_path / "run", tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(WORKER), str(data), str(run), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]

    # the penalty's double backward through DDP gives the all-reduced gradient
    for report in ranks:
        grad = report["gradient"]
        assert grad["max_abs_diff"] <= 1e-5 * max(grad["grad_scale"], 1.0), grad
        assert grad["local_vs_reduced"] > 1e-4, "ranks saw the same data: the check would prove nothing"

    # both ranks end with the same weights, and rank 0 saved them
    assert ranks[0]["step"] == ranks[1]["step"] == 2
    assert ranks[0]["hashes"] == ranks[1]["hashes"]
    [(step, folder)] = list_checkpoints(run)
    assert step == 2
    weights = load_file(folder / "generator.safetensors")
    for key, value in weights.items():
        assert hashlib.sha256(value.numpy().tobytes()).hexdigest() == ranks[0]["hashes"][f"g.{key}"]
