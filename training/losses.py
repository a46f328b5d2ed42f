"""GAN losses for a critic ``D(audio[B, N], labels[B] | None) -> score[B]`` (or ``[B, K]``, K critics).

``labels`` is what the critic is conditioned on: None, an int64[B] class tensor, or a tuple of
the critic's conditioning arguments (``(labels | None, pitches)`` for a pitch-conditional run),
passed to it positionally after the audio.

Two recipes, chosen by ``train.loss``:

``wgan_gp`` — WGAN-GP (Gulrajani et al. 2017), the WaveGAN paper's recipe. With K critics
the scores are summed into one critic.

``ns_r1`` — the non-saturating loss with R1 on real data (StyleGAN2, Karras et al. 2020):

* critic loss      ``Σ_k E[softplus(-D_k(real))] + E[softplus(D_k(fake))]``
* generator loss   ``Σ_k E[softplus(-D_k(fake))]``
* R1 penalty       ``γ/2 · E[‖∇ₓ Σ_k D_k(real)‖²]``, added only every ``r1_every`` critic
  steps and then weighted by ``r1_every`` ("lazy" regularisation: same strength, a
  fraction of the double-backward cost).

* critic loss      ``E[D(fake)] - E[D(real)] + λ · E[(‖∇ D(x̂)‖₂ - 1)²]``
* generator loss   ``-E[D(fake)]``
* Wasserstein estimate ``E[D(real)] - E[D(fake)]`` (what the critic loss tries to raise)

``x̂ = α·real + (1-α)·fake`` with one ``α ~ U(0, 1)`` per example. The penalty needs a
double backward through D; it is computed in float32 with autocast off (bf16 gradients
are too coarse for a norm-1 constraint) while the plain scores may run under autocast.

With DistributedDataParallel pass the DDP-wrapped critic: both forwards go through it and
a single ``loss.backward()`` then reduces the gradient of the whole loss, penalty included
(``tests/training/test_ddp.py`` checks it against a manual all-reduce).
"""

from __future__ import annotations

import contextlib
from typing import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "critic_loss", "generator_loss", "gradient_penalty", "wasserstein_estimate",
    "ns_critic_loss", "ns_generator_loss", "r1_penalty", "LOSSES",
]  # fmt: skip

LOSSES = ("wgan_gp", "ns_r1")

Critic = Callable[..., torch.Tensor]


def _cond(labels) -> tuple:
    """The critic's conditioning arguments: None -> (), a tensor -> (labels,), a tuple as given."""
    if labels is None:
        return ()
    return tuple(labels) if isinstance(labels, (tuple, list)) else (labels,)


def _autocast_off(device_type: str):
    try:
        return torch.autocast(device_type=device_type, enabled=False)
    except RuntimeError:  # pragma: no cover - device types without autocast
        return contextlib.nullcontext()


def gradient_penalty(
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """``E[(‖∇ₓ D(x̂)‖₂ - 1)²]`` on random interpolates, float32, differentiable (scalar)."""
    real = real.detach().float()
    fake = fake.detach().float()
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device)
    interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    with _autocast_off(real.device.type):
        scores = critic(interp, *_cond(labels)).float()
        (grad,) = torch.autograd.grad(scores.sum(), interp, create_graph=True)  # sum over K critics too
    norm = grad.flatten(1).norm(2, dim=1)
    return ((norm - 1) ** 2).mean()


def wasserstein_estimate(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """``E[D(real)] - E[D(fake)]`` (scalar, float32)."""
    return real_scores.float().mean() - fake_scores.float().mean()


def _real_and_fake_scores(critic, real, fake, labels, autocast) -> tuple[torch.Tensor, torch.Tensor]:
    """float32[B, K] scores of real and of (detached) fake audio, from one critic forward over both."""
    batch = real.shape[0]
    both = tuple(None if c is None else torch.cat([c, c]) for c in _cond(labels))
    with autocast() if autocast is not None else contextlib.nullcontext():
        scores = critic(torch.cat([real, fake.detach().to(real.dtype)]), *both).float()
    scores = scores.reshape(2 * batch, -1)
    return scores[:batch], scores[batch:]


def critic_loss(
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None = None,
    gp_lambda: float = 10.0,
    autocast=None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Critic (discriminator) loss on float[B, N] real and fake audio.

    ``autocast`` is an optional context manager factory for the score forward (mixed
    precision); the penalty always runs in float32. Returns ``(loss, stats)`` with stats
    ``{"critic_loss", "wasserstein", "gradient_penalty"}`` as detached scalar tensors
    (no device sync until the caller reads them).
    """
    real_scores, fake_scores = _real_and_fake_scores(critic, real, fake, labels, autocast)
    real_scores, fake_scores = real_scores.sum(dim=1), fake_scores.sum(dim=1)  # K critics act as one
    wasserstein = wasserstein_estimate(real_scores, fake_scores)
    penalty = gradient_penalty(critic, real, fake, labels) if gp_lambda > 0 else real_scores.new_zeros(())
    loss = -wasserstein + gp_lambda * penalty
    stats = {"critic_loss": loss.detach(), "wasserstein": wasserstein.detach(), "gradient_penalty": penalty.detach()}
    return loss, stats


def generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """``-E[D(G(z))]`` from the critic's scores float[B] (or [B, K], summed) on generated audio (scalar)."""
    return -fake_scores.float().reshape(fake_scores.shape[0], -1).sum(dim=1).mean()


def r1_penalty(critic: Critic, real: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """``E[‖∇ₓ Σ_k D_k(real)‖²]`` in float32, differentiable (scalar)."""
    real = real.detach().float().requires_grad_(True)
    with _autocast_off(real.device.type):
        scores = critic(real, *_cond(labels)).float()
        (grad,) = torch.autograd.grad(scores.sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


def ns_critic_loss(
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None = None,
    r1_weight: float = 0.0,
    autocast=None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Non-saturating critic loss on float[B, N] real and fake, plus ``r1_weight · R1`` when > 0.

    ``r1_weight`` is ``γ/2 · r1_every`` on the lazy steps and 0 otherwise. Returns ``(loss,
    stats)`` with ``{"critic_loss", "real_score", "fake_score", "r1"}`` detached scalars
    (``r1`` is NaN on steps without the penalty, so logs never show a stale value as fresh).
    """
    real_scores, fake_scores = _real_and_fake_scores(critic, real, fake, labels, autocast)
    loss = (F.softplus(-real_scores).mean(dim=0) + F.softplus(fake_scores).mean(dim=0)).sum()
    r1 = real_scores.new_full((), float("nan"))
    if r1_weight > 0:
        r1 = r1_penalty(critic, real, labels)
        loss = loss + r1_weight * r1
    stats = {"critic_loss": loss.detach(), "real_score": real_scores.detach().mean(),
             "fake_score": fake_scores.detach().mean(), "r1": r1.detach()}
    return loss, stats


def ns_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """``Σ_k E[softplus(-D_k(G(z)))]`` from scores float[B] or [B, K] (scalar)."""
    scores = fake_scores.float().reshape(fake_scores.shape[0], -1)
    return F.softplus(-scores).mean(dim=0).sum()
