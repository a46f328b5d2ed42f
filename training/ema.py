"""Exponential moving average of the generator's weights (Karras et al.; Yazıcı et al. 2019).

``ema = β·ema + (1 - β)·g`` after every generator step, with a warm-up
``β_t = min(β, (1 + t) / (10 + t))`` so early averages do not drag in the random start.
The EMA generator is what export writes (the averaged weights make cleaner sounds than
the last step's); checkpoints keep both.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["GeneratorEma"]


class GeneratorEma:
    """Holds a frozen copy of ``generator`` and averages its weights into it."""

    def __init__(self, generator: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay!r}")
        self.decay = decay
        self.module = copy.deepcopy(getattr(generator, "module", generator)).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, generator: nn.Module, step: int) -> None:
        """Average the live ``generator`` (DDP-wrapped or bare) in; ``step`` drives the warm-up."""
        beta = min(self.decay, (1.0 + step) / (10.0 + step))
        live = getattr(generator, "module", generator).state_dict()
        for name, value in self.module.state_dict().items():
            source = live[name]
            if value.dtype.is_floating_point:
                value.lerp_(source.to(value.dtype), 1.0 - beta)
            else:
                value.copy_(source)

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state, strict=True)

    def __repr__(self) -> str:
        return f"GeneratorEma(decay={self.decay})"
