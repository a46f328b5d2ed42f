"""GANSpace latent directions (Härkönen et al. 2020) for a WaveGAN generator, as bundle data.

Cheat sheet::

    from ganshot.training.directions import compute_directions
    directions = compute_directions(generator, latent_dim=100, k=8)   # -> model.json "directions"
    directions["vectors"]   # k unit vectors float[latent_dim], strongest first
    directions["sigmas"]    # k spreads of z along them (the engine's knob moves z by 3 sigma at +1)

Method (the paper's recipe for the first linear layer of BigGAN, applied to WaveGAN's dense
layer): sample ``z`` (and, for a conditional model, uniform labels), take the dense layer's
output ``y`` before its ReLU, flattened (``[N, hidden]``), and compute its top-``k``
principal components ``v_k`` (centred per class, so a conditional model's directions are
those of a fixed class). The PCA coordinates ``x = (y - mean) · V`` are then regressed back
onto the latents by least squares, ``z ≈ mean_z + U·x``; column ``u_k`` of ``U``, scaled
to unit length, is direction ``k``. Moving ``z`` along ``u_k`` moves ``y`` along ``v_k``
(exactly so here, since the dense layer is linear in ``z``; for isotropic ``z`` the
directions are then the right singular vectors of the dense weight, so they come out
orthonormal up to sampling error). ``sigmas[k]`` is the standard deviation of the sampled
``z`` projected on ``u_k``; ``explained_variance[k]`` is the fraction of the activations'
total (within-class) variance that PC ``k`` holds, so it is sorted descending.

The PCA streams over the samples (randomized subspace iteration on the covariance,
recomputing each batch of activations from the stored ``z``), so memory is
``O(num_samples · latent_dim + hidden · (k + oversampling))`` and never
``num_samples · hidden`` (10000 × 16384 floats for the full-size model).
"""

from __future__ import annotations

import torch

from ganshot.engine.errors import UserInputError
from ganshot.engine.limits import MAX_DIRECTIONS, MAX_LATENT_DIM, check_int  # 64 directions, as bundles accept
from ganshot.engine.wavegan import WaveGANGenerator

__all__ = ["compute_directions", "dense_activations", "METHOD", "LAYER", "MAX_DIRECTIONS"]

METHOD = "ganspace-pca"
LAYER = "dense"
MIN_SAMPLES = 16
MAX_SAMPLES = 1_000_000
OVERSAMPLING = 16  # extra subspace columns: the top k converge much faster with them
POWER_ITERATIONS = 4


def dense_activations(generator: WaveGANGenerator, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """The dense layer's output before ReLU, flattened: float32[B, hidden] on the CPU.

    ``z`` float[B, latent_dim]; ``labels`` int64[B] for a conditional generator, else None. A
    pitch-conditional generator is held at the middle of its pitch range (directions are
    latent moves; one pitch keeps the pitch's own shift out of the PCA, as the class's is).
    """
    device = generator.dense.weight.device
    dtype = generator.dense.weight.dtype
    with torch.no_grad():
        x = z.to(device, dtype)
        if generator.label_embedding is not None:
            if labels is None:
                raise UserInputError("this generator is conditional: dense_activations needs labels")
            x = torch.cat([x, generator.label_embedding(labels.to(device))], dim=1)
        pitch_embedding = getattr(generator, "pitch_embedding", None)
        if pitch_embedding is not None:
            middle = (pitch_embedding.low + pitch_embedding.high) // 2
            x = torch.cat([x, pitch_embedding(torch.full((x.shape[0],), middle, dtype=torch.int64, device=device))], dim=1)
        return generator.dense(x).reshape(x.shape[0], -1).to("cpu", torch.float32)


def _sample(latent_dim: int, num: int, distribution: str, num_classes: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    if distribution == "normal":
        z = torch.randn(num, latent_dim, generator=gen)
    elif distribution == "uniform":
        z = torch.rand(num, latent_dim, generator=gen) * 2.0 - 1.0
    else:
        raise UserInputError(f"distribution must be normal or uniform, got {distribution!r:.40}")
    labels = torch.randint(0, num_classes, (num,), generator=gen) if num_classes > 0 else None
    return z, labels


def compute_directions(
    generator: WaveGANGenerator,
    latent_dim: int,
    num_samples: int = 10000,
    k: int = 8,
    distribution: str = "normal",
    seed: int = 0,
    batch: int = 500,
) -> dict:
    """GANSpace directions of ``generator``'s dense layer (see the module docstring).

    Returns ``{"method": "ganspace-pca", "layer": "dense", "num_samples": N,
    "vectors": [[latent_dim floats] × K], "sigmas": [K floats],
    "explained_variance": [K floats]}`` with ``K = min(k, latent_dim, hidden)`` (there
    are no more independent directions than that). Deterministic for a given ``seed``;
    each vector's largest-magnitude entry is made positive (PCA signs are arbitrary).
    """
    spec = generator.spec
    latent_dim = check_int(latent_dim, "latent_dim", 1, MAX_LATENT_DIM)
    if latent_dim != spec.latent_dim:
        raise UserInputError(f"latent_dim is {latent_dim} but the generator takes {spec.latent_dim}")
    num_samples = check_int(num_samples, "num_samples", MIN_SAMPLES, MAX_SAMPLES)
    k = check_int(k, "k", 1, MAX_DIRECTIONS)
    batch = check_int(batch, "batch", 1, MAX_SAMPLES)
    seed = check_int(seed, "seed", 0, 2**63 - 1)
    hidden = generator.dense.out_features
    k = min(k, latent_dim, hidden)
    z, labels = _sample(latent_dim, num_samples, distribution, spec.num_classes, seed)
    acts = _DenseActivations(generator, z, labels, batch)
    components, explained = _top_components(acts, k, seed)
    vectors = _latent_basis(acts, components)

    z64 = z.to(torch.float64)
    sigmas = (z64 @ vectors.T).std(dim=0, unbiased=True)
    return {
        "method": METHOD,
        "layer": LAYER,
        "num_samples": num_samples,
        "vectors": [[float(v) for v in row] for row in vectors],
        "sigmas": [float(s) for s in sigmas],
        "explained_variance": [float(e) for e in explained],
    }


class _DenseActivations:
    """The dense layer's activations for ``z`` (and ``labels``), streamed in batches and centred
    per class (a conditional model's label shifts them; PCA is within class). The big products
    run in float32 (the activations' own precision); sums over batches in float64."""

    def __init__(self, generator, z: torch.Tensor, labels, batch: int):
        self.generator, self.z, self.labels = generator, z, labels
        count = z.shape[0]
        self.hidden = generator.dense.out_features
        self.spans = [(start, min(start + batch, count)) for start in range(0, count, batch)]
        self.class_of = labels if labels is not None else torch.zeros(count, dtype=torch.int64)
        num_classes = max(generator.spec.num_classes, 1)
        sums = torch.zeros(num_classes, self.hidden, dtype=torch.float64)
        counts = torch.zeros(num_classes, dtype=torch.float64)
        for start, stop in self.spans:  # pass 1: per-class means
            sums.index_add_(0, self.class_of[start:stop], self.raw(start, stop).to(torch.float64))
            counts.index_add_(0, self.class_of[start:stop], torch.ones(stop - start, dtype=torch.float64))
        self.means = (sums / counts.clamp(min=1.0)[:, None]).to(torch.float32)

    def raw(self, start: int, stop: int) -> torch.Tensor:
        labels = None if self.labels is None else self.labels[start:stop]
        return dense_activations(self.generator, self.z[start:stop], labels)

    def centred(self, start: int, stop: int) -> torch.Tensor:
        return self.raw(start, stop) - self.means[self.class_of[start:stop]]

    def covariance_times(self, q: torch.Tensor) -> torch.Tensor:
        """(Yc^T Yc) q, streamed over the batches."""
        out = torch.zeros_like(q)
        q32 = q.to(torch.float32)
        for start, stop in self.spans:
            y = self.centred(start, stop)
            out += (y.T @ (y @ q32)).to(torch.float64)
        return out


def _top_components(acts: _DenseActivations, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The top ``k`` principal components of the centred activations by randomized subspace
    iteration -> (components float64[hidden, k], orthonormal columns; explained variance[k])."""
    width = min(k + OVERSAMPLING, acts.hidden)
    gen = torch.Generator().manual_seed(seed + 1)
    q, _ = torch.linalg.qr(torch.randn(acts.hidden, width, generator=gen, dtype=torch.float64))
    for _ in range(POWER_ITERATIONS):
        q, _ = torch.linalg.qr(acts.covariance_times(q))
    small = torch.zeros(width, width, dtype=torch.float64)
    total = 0.0
    for start, stop in acts.spans:
        y = acts.centred(start, stop)
        projected = (y @ q.to(torch.float32)).to(torch.float64)
        small += projected.T @ projected
        total += float(y.to(torch.float64).square().sum())
    eigenvalues, eigenvectors = torch.linalg.eigh(small)  # ascending
    order = torch.argsort(eigenvalues, descending=True)[:k]
    return q @ eigenvectors[:, order], eigenvalues[order].clamp(min=0.0) / max(total, 1e-300)


def _latent_basis(acts: _DenseActivations, components: torch.Tensor) -> torch.Tensor:
    """Regress z on the PCA coordinates (z ≈ mean_z + x · U; x is centred, so no intercept):
    the rows of U, unit length, each with its largest-magnitude entry positive -> float64[k, latent_dim]."""
    k, latent_dim = components.shape[1], acts.z.shape[1]
    xtx = torch.zeros(k, k, dtype=torch.float64)
    xtz = torch.zeros(k, latent_dim, dtype=torch.float64)
    for start, stop in acts.spans:
        x = (acts.centred(start, stop) @ components.to(torch.float32)).to(torch.float64)
        xtx += x.T @ x
        xtz += x.T @ acts.z[start:stop].to(torch.float64)
    basis = torch.linalg.lstsq(xtx, xtz).solution  # [k, latent_dim]: row k is u_k
    norms = basis.norm(dim=1, keepdim=True)
    if not torch.isfinite(basis).all() or (norms <= 1e-12).any():
        raise UserInputError("the dense layer's activations do not vary with z; no directions can be computed")
    vectors = basis / norms
    return vectors * torch.sign(vectors.gather(1, vectors.abs().argmax(dim=1, keepdim=True)))
