"""WaveGAN generator: layouts, shapes for every supported length, spec validation, ONNX parity."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator, generator_layout

torch.set_num_threads(1)


@pytest.mark.parametrize(
    "num_samples, initial, strides",
    [
        (16384, 16, (4, 4, 4, 4, 4)),
        (32768, 16, (4, 4, 4, 4, 4, 2)),
        (65536, 16, (4, 4, 4, 4, 4, 4)),
        (64000, 63, (4, 4, 4, 4, 4)),  # seed-article variant: 64512, cropped
        (8192, 8, (4, 4, 4, 4, 4)),
        (1024, 1, (4, 4, 4, 4, 4)),
    ],
)
def test_layout(num_samples, initial, strides):
    got_initial, got_strides = generator_layout(num_samples)
    assert (got_initial, got_strides) == (initial, strides)
    assert got_initial * math.prod(got_strides) >= num_samples


def test_layout_rejects_tiny_lengths():
    with pytest.raises(UserInputError):
        generator_layout(100)


@pytest.mark.parametrize("num_samples", [16384, 32768, 65536, 64000])
@pytest.mark.parametrize("num_classes, post_filter_length", [(0, 0), (3, 512)])
def test_output_shapes(num_samples, num_classes, post_filter_length):
    spec = GeneratorSpec(latent_dim=8, d=2, num_samples=num_samples, num_classes=num_classes,
                         post_filter_length=post_filter_length)
    gen = WaveGANGenerator(spec).eval()
    z = torch.randn(2, 8)
    labels = torch.tensor([0, 2]) if num_classes else None
    with torch.no_grad():
        audio = gen(z, labels)
    assert audio.shape == (2, num_samples)
    assert audio.dtype == torch.float32
    assert torch.isfinite(audio).all()
    if not post_filter_length:
        assert audio.abs().max() <= 1.0


def test_six_layer_stacks_start_at_32d():
    gen = WaveGANGenerator(GeneratorSpec(d=2, num_samples=65536))
    assert [c.in_channels for c in gen.convs] == [64, 32, 16, 8, 4, 2]
    gen = WaveGANGenerator(GeneratorSpec(d=2, num_samples=16384))
    assert [c.in_channels for c in gen.convs] == [32, 16, 8, 4, 2]
    assert gen.convs[-1].out_channels == 1


def test_labels_change_output_and_are_required():
    gen = WaveGANGenerator(GeneratorSpec(latent_dim=8, d=2, num_classes=2)).eval()
    z = torch.randn(1, 8)
    with torch.no_grad():
        a, b = gen(z, torch.tensor([0])), gen(z, torch.tensor([1]))
    assert not torch.allclose(a, b)
    with pytest.raises(UserInputError):
        gen(z)
    uncond = WaveGANGenerator(GeneratorSpec(latent_dim=8, d=2))
    with pytest.raises(UserInputError):
        uncond(z, torch.tensor([0]))


def test_spec_round_trip_and_repr():
    spec = GeneratorSpec(latent_dim=500, d=4, num_samples=64000, num_classes=5, post_filter_length=512)
    assert GeneratorSpec.from_dict(spec.to_dict()) == spec
    text = repr(WaveGANGenerator(GeneratorSpec(d=2)))
    assert "d=2" in text and "num_samples=16384" in text


@pytest.mark.parametrize(
    "data",
    [
        {"latent_dim": 100, "bogus": 1},
        {"d": 0},
        {"d": 2.0},
        {"d": True},
        {"num_samples": 100},
        {"num_classes": -1},
        {"post_filter_length": "512"},
        {"kernel_size": 1},
    ],
)
def test_spec_validation(data):
    with pytest.raises(FormatError) as info:
        GeneratorSpec.from_dict(data)
    assert "\n" not in str(info.value)


def test_spec_from_non_mapping():
    with pytest.raises(FormatError):
        GeneratorSpec.from_dict([1, 2])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # dynamo=False is the legacy exporter, on purpose
@pytest.mark.parametrize("num_classes", [0, 3])
def test_onnx_export_matches_torch(num_classes):
    ort = pytest.importorskip("onnxruntime")
    spec = GeneratorSpec(latent_dim=16, d=2, num_classes=num_classes, post_filter_length=64)
    gen = WaveGANGenerator(spec).eval()
    names = ["z", "labels"] if num_classes else ["z"]
    args = (torch.randn(1, 16), torch.zeros(1, dtype=torch.int64)) if num_classes else (torch.randn(1, 16),)
    buffer = io.BytesIO()
    dynamic = {name: {0: "batch"} for name in [*names, "audio"]}
    torch.onnx.export(gen, args, buffer, dynamo=False, opset_version=17, input_names=names,
                      output_names=["audio"], dynamic_axes=dynamic)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        z = torch.randn(batch, 16)
        feed = {"z": z.numpy()}
        labels = None
        if num_classes:
            labels = torch.arange(batch) % num_classes
            feed["labels"] = labels.numpy()
        with torch.no_grad():
            ref = gen(z, labels).numpy()
        out = session.run(None, feed)[0]
        assert out.shape == ref.shape
        assert np.max(np.abs(out - ref)) <= 1e-4 * max(np.max(np.abs(ref)), 1e-6)
