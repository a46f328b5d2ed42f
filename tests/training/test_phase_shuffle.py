"""PhaseShuffle really shifts (the public PyTorch port never applies it), and the discriminator's shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganshot.training.wave_critic import PhaseShuffle, WaveGANDiscriminator, phase_shift

torch.set_num_threads(1)


def reference_shift(x: np.ndarray, k: int) -> np.ndarray:
    """out[t] = x[t - k], reflecting (without repeating the edge) outside [0, L)."""
    length = x.shape[-1]
    out = np.empty_like(x)
    for t in range(length):
        src = t - k
        if src < 0:
            src = -src
        elif src >= length:
            src = 2 * (length - 1) - src
        out[..., t] = x[..., src]
    return out


@pytest.mark.parametrize("k", [-2, -1, 0, 1, 2])
def test_phase_shift_matches_reference(k):
    x = torch.arange(2 * 3 * 10, dtype=torch.float32).view(2, 3, 10)
    out = phase_shift(x, torch.tensor([k, k]), 2)
    np.testing.assert_array_equal(out.numpy(), reference_shift(x.numpy(), k))


def test_module_output_is_the_input_shifted_by_the_drawn_amounts():
    shuffle = PhaseShuffle(2).train()
    x = torch.randn(16, 4, 32)
    torch.manual_seed(123)
    out = shuffle(x)
    torch.manual_seed(123)
    expected_shifts = torch.randint(-2, 3, (16,))
    assert expected_shifts.abs().max() > 0
    for b in range(16):
        np.testing.assert_array_equal(out[b].numpy(), reference_shift(x[b].numpy(), int(expected_shifts[b])))


def test_nonzero_shifts_occur_and_every_shift_appears():
    torch.manual_seed(0)
    shuffle = PhaseShuffle(2).train()
    x = torch.arange(20, dtype=torch.float32).view(1, 1, 20).repeat(64, 1, 1)
    seen = set()
    for _ in range(5):
        out = shuffle(x)
        for row in out[:, 0]:
            # the middle of the signal moved by exactly the shift
            seen.add(int(row[10] - x[0, 0, 10]) * -1)
    assert seen == {-2, -1, 0, 1, 2}


def test_eval_mode_is_identity_and_radius_zero_is_identity():
    x = torch.randn(4, 2, 16)
    assert torch.equal(PhaseShuffle(2).eval()(x), x)
    assert torch.equal(PhaseShuffle(0).train()(x), x)


def test_gradients_flow_through_the_shift_twice():
    x = torch.randn(3, 2, 16, requires_grad=True)
    out = phase_shift(x, torch.tensor([1, -2, 0]), 2)
    (grad,) = torch.autograd.grad((out**3).sum(), x, create_graph=True)
    grad.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("num_samples", [16384, 32768, 65536, 64000])
@pytest.mark.parametrize("num_classes", [0, 3])
def test_discriminator_shapes(num_samples, num_classes):
    disc = WaveGANDiscriminator(d=2, num_samples=num_samples, num_classes=num_classes)
    labels = torch.tensor([0, 2]) if num_classes else None
    score = disc(torch.randn(2, num_samples), labels)
    assert score.shape == (2,)
    expected_length = {16384: 16, 32768: 16, 65536: 16, 64000: 63}[num_samples]
    assert disc.feature_shape[1] == expected_length


def test_discriminator_mirrors_generator_widths():
    disc = WaveGANDiscriminator(d=2, num_samples=16384)
    assert [c.out_channels for c in disc.convs] == [2, 4, 8, 16, 32]
    assert disc.feature_shape == (32, 16)
    disc = WaveGANDiscriminator(d=2, num_samples=32768)
    assert disc.strides == (4, 4, 4, 4, 4, 2) and disc.feature_shape == (64, 16)
    disc = WaveGANDiscriminator(d=2, num_samples=65536)
    assert disc.feature_shape == (64, 16)


def test_projection_uses_labels():
    torch.manual_seed(0)
    disc = WaveGANDiscriminator(d=2, num_samples=16384, num_classes=2).eval()
    x = torch.randn(1, 16384)
    assert not torch.allclose(disc(x, torch.tensor([0])), disc(x, torch.tensor([1])))
