"""GANSpace latent directions: PCA properties, the GANSpace property, export and the engine's knobs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganshot.engine.bundle import load_bundle
from ganshot.engine.engine import DIRECTION_RANGE_SIGMAS, Engine
from ganshot.engine.errors import UserInputError
from ganshot.engine.wavegan import GeneratorSpec, WaveGANGenerator
from ganshot.training.directions import compute_directions, dense_activations
from ganshot.training.export import export_generator
from tests.support import kit_for

SPEC = GeneratorSpec(latent_dim=8, d=4, num_samples=2048)  # dense: 8 -> 64 channels x 2 = 128
SAMPLES = 2000


def build(spec: GeneratorSpec = SPEC, seed: int = 0) -> WaveGANGenerator:
    torch.manual_seed(seed)
    generator = WaveGANGenerator(spec).eval()
    with torch.no_grad():  # a spectrum with structure, as a trained model has (random Xavier weights are nearly flat)
        generator.dense.weight[:, 0] *= 3.0
        generator.dense.weight[:, 1] *= 2.0
    return generator


@pytest.fixture(scope="module")
def generator():
    return build()


@pytest.fixture(scope="module")
def directions(generator):
    return compute_directions(generator, SPEC.latent_dim, num_samples=SAMPLES, k=8)


def test_result_shape_and_pca_properties(directions):
    assert directions["method"] == "ganspace-pca" and directions["layer"] == "dense"
    assert directions["num_samples"] == SAMPLES
    vectors = np.array(directions["vectors"])
    sigmas, explained = np.array(directions["sigmas"]), np.array(directions["explained_variance"])
    assert vectors.shape == (8, SPEC.latent_dim) and sigmas.shape == explained.shape == (8,)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-12)
    gram = vectors @ vectors.T
    assert np.abs(gram - np.eye(8)).max() < 0.15  # orthonormal up to sampling error
    assert np.linalg.matrix_rank(vectors, tol=1e-3) == 8
    assert (np.diff(explained) <= 0).all() and explained[0] > 0 and explained.sum() <= 1.0 + 1e-6
    assert (sigmas > 0).all() and np.abs(sigmas - 1.0).max() < 0.15  # z ~ N(0, 1) has unit spread on any axis
    assert all(isinstance(v, float) for v in directions["vectors"][0] + directions["sigmas"])


def test_the_strongest_direction_is_the_stretched_axis(directions):
    # The dense weight's column 0 is three times the others, so PC 0 comes from latent axis 0.
    assert abs(directions["vectors"][0][0]) > 0.9 and directions["vectors"][0][0] > 0  # sign: largest entry positive
    assert directions["explained_variance"][0] > 2 * directions["explained_variance"][1] * 0.9


@pytest.mark.parametrize("index", [0, 1, 2])
def test_moving_z_along_a_direction_moves_the_activations_along_its_pc(generator, directions, index):
    gen = torch.Generator().manual_seed(5)
    z = torch.randn(SAMPLES, SPEC.latent_dim, generator=gen)
    acts = dense_activations(generator, z).double().numpy()
    _, _, pcs = np.linalg.svd(acts - acts.mean(axis=0), full_matrices=False)  # an independent PCA
    u = torch.tensor(directions["vectors"][index], dtype=torch.float32)
    base = z[:16]
    delta = (dense_activations(generator, base + 2.0 * u) - dense_activations(generator, base)).double().numpy()
    along = delta @ pcs[index]
    assert np.all(np.abs(along) > 0)
    fraction = (along**2).sum() / (delta**2).sum()
    assert fraction > 0.95, fraction


def test_deterministic_and_seeded(generator, directions):
    again = compute_directions(generator, SPEC.latent_dim, num_samples=SAMPLES, k=8)
    # same seed, same directions up to float summation order (torch's CPU kernels may split sums by thread)
    for key in ("vectors", "sigmas", "explained_variance"):
        np.testing.assert_allclose(again[key], directions[key], rtol=1e-5, atol=1e-6)
    assert {k: v for k, v in again.items() if k not in ("vectors", "sigmas", "explained_variance")} == \
        {k: v for k, v in directions.items() if k not in ("vectors", "sigmas", "explained_variance")}
    other = compute_directions(generator, SPEC.latent_dim, num_samples=SAMPLES, k=8, seed=1)
    assert other != directions
    assert abs(np.dot(other["vectors"][0], directions["vectors"][0])) > 0.99  # a well-separated PC is stable


def test_uniform_latents_conditional_model_and_k_clamped():
    spec = GeneratorSpec(latent_dim=4, d=2, num_samples=2048, num_classes=3)
    result = compute_directions(build(spec), 4, num_samples=1000, k=8, distribution="uniform")
    assert len(result["vectors"]) == 4 and len(result["sigmas"]) == 4  # no more than latent_dim directions
    np.testing.assert_allclose(result["sigmas"], 1 / np.sqrt(3), rtol=0.15)  # U(-1, 1) has spread 1/sqrt(3)
    assert result["explained_variance"] == sorted(result["explained_variance"], reverse=True)
    # Within-class PCA: the label embedding's shifts are no component, so 4 directions explain everything.
    assert sum(result["explained_variance"]) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"k": 0}, "k must be"),
        ({"k": 65}, "k must be"),
        ({"num_samples": 3}, "num_samples must be"),
        ({"latent_dim": 9}, "the generator takes 8"),
        ({"distribution": "cauchy"}, "distribution must be"),
        ({"seed": -1}, "seed must be"),
    ],
)
def test_refusals(generator, changes, needle):
    args = {"latent_dim": SPEC.latent_dim, "num_samples": 100, "k": 2} | changes
    with pytest.raises(UserInputError, match=needle):
        compute_directions(generator, **args)


@pytest.fixture(scope="module")
def directed_bundle(generator, directions, tmp_path_factory):
    root = tmp_path_factory.mktemp("directed")
    path = export_generator(generator, SPEC, root / "b", name="directed", sample_rate=16000, directions=directions)
    return load_bundle(path)


def test_export_stores_the_directions(directed_bundle, directions):
    assert directed_bundle.directions == directions
    assert "Latent directions: 8 (ganspace-pca, 2000 samples)" in (directed_bundle.path / "README.md").read_text()


@pytest.mark.parametrize("value", [1.0, -0.5])
def test_engine_knob_moves_the_pad_latent_by_three_sigma(directed_bundle, directions, value):
    with Engine(directed_bundle, kit_for(directed_bundle), sample_rate=48000, backend="onnx") as engine:
        assert engine.num_directions == 8
        before = engine.pad_latent(0).astype(np.float64)
        engine.set_direction(0, 0, value)
        moved = engine.pad_latent(0).astype(np.float64) - before
    assert DIRECTION_RANGE_SIGMAS == 3.0
    expected = value * 3.0 * directions["sigmas"][0] * np.array(directions["vectors"][0])
    np.testing.assert_allclose(moved, expected, atol=1e-6)
