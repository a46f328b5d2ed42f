"""Process group set-up and a resumable, sharded stream of batch indices.

``torchrun --nproc_per_node N -m ganshot train ...`` sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; :func:`setup_distributed` then joins the group (NCCL on CUDA, gloo on
CPU). Without those variables everything runs in one process.

:class:`BatchStream` yields batch ``k`` of an endless stream that depends only on
``(seed, rank, world_size, k)``: each epoch is a :class:`DistributedSampler`
permutation (``set_epoch``), epochs are concatenated and cut into batches, so a batch
may span two epochs and a dataset smaller than a batch still works. Resuming at
generator step ``s`` just starts at batch ``s * critic_steps``.
"""

from __future__ import annotations

import datetime
import os
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

from ganshot.engine.errors import UserInputError

__all__ = ["DistContext", "setup_distributed", "teardown_distributed", "wrap_ddp", "BatchStream"]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size``, on ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Only the main process writes files, TensorBoard and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise UserInputError(f"environment variable {name}={text!r} is not an integer") from None


def setup_distributed(device: str | None = None) -> DistContext:
    """Join the process group when ``WORLD_SIZE`` > 1; pick CUDA (``cuda:LOCAL_RANK``) when present.

    ``device`` forces ``"cpu"`` or ``"cuda"``; ``None`` picks CUDA when available.
    """
    if dist.is_available() and dist.is_initialized():  # the caller already joined a group
        world_size, rank = dist.get_world_size(), dist.get_rank()
    else:
        world_size, rank = _env_int("WORLD_SIZE", 1), _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", rank)
    use_cuda = torch.cuda.is_available() if device is None else device == "cuda"
    if use_cuda:
        if not torch.cuda.is_available():
            raise UserInputError("CUDA was asked for but no CUDA GPU is available")
        torch_device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(torch_device)
    else:
        torch_device = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if use_cuda else "gloo"
        kwargs = {"device_id": torch_device} if use_cuda else {}
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=30), **kwargs)
    return DistContext(rank, world_size, local_rank, torch_device)


def teardown_distributed(ctx: DistContext) -> None:
    """Leave the process group (if this module's caller joined one)."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def wrap_ddp(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``DistributedDataParallel`` as training uses it (gradients kept as bucket views).

    The WGAN-GP penalty's double backward runs through the wrapper: one forward for the
    scores, one for the interpolates, then a single ``backward()`` whose gradient DDP
    all-reduces (checked in ``tests/training/test_ddp.py``).
    """
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")  # [C, 1, K] weights
    kwargs = {"device_ids": [device]} if device.type == "cuda" else {}
    return torch.nn.parallel.DistributedDataParallel(module, gradient_as_bucket_view=True, **kwargs)


class BatchStream:
    """Endless batches of dataset indices for one rank; ``batch(k)`` is a pure function of k."""

    def __init__(self, num_items: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1,
                 weights=None) -> None:
        """``weights``: None for shuffled epochs without replacement; else float[num_items] draw weights,
        and each "epoch" is ``num_items`` draws with replacement, seeded by (seed, epoch), dealt to ranks."""
        if num_items < world_size:
            raise UserInputError(f"the dataset has {num_items} items, fewer than the {world_size} processes")
        self.num_items, self.batch_size, self.seed = num_items, batch_size, seed
        self._probs = None
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (num_items,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
                raise UserInputError(f"sampling weights must be {num_items} finite non-negative numbers, not all 0")
            self._probs = w / w.sum()
        self.rank, self.world_size = rank, world_size
        self._sampler = DistributedSampler(
            range(num_items), num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=True
        )
        self.per_epoch = len(self._sampler)
        self._cache: tuple[int, list[int]] | None = None

    def _epoch(self, epoch: int) -> list[int]:
        if self._cache is None or self._cache[0] != epoch:
            if self._probs is None:
                self._sampler.set_epoch(epoch)
                self._cache = (epoch, list(self._sampler))
            else:
                draws = np.random.default_rng([self.seed, epoch]).choice(self.num_items, self.num_items, p=self._probs)
                self._cache = (epoch, draws[self.rank::self.world_size][: self.per_epoch].tolist())
        return self._cache[1]

    def batch(self, k: int) -> list[int]:
        """Indices of batch ``k`` (``batch_size`` of them) for this rank."""
        start = k * self.batch_size
        out = []
        while len(out) < self.batch_size:
            epoch, offset = divmod(start + len(out), self.per_epoch)
            perm = self._epoch(epoch)
            out.extend(perm[offset : offset + self.batch_size - len(out)])
        return out

    def iterate(self, start_batch: int = 0):
        """Yield ``batch(start_batch)``, ``batch(start_batch + 1)``, ... forever."""
        k = start_batch
        while True:
            yield self.batch(k)
            k += 1
