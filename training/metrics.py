"""Sample-quality metrics over classifier outputs, as pure numpy.

Cheat sheet::

    from ganshot.training.metrics import inception_score, frechet_distance, coverage, nearest_distances
    score, spread = inception_score(probs)             # probs float[N, C] softmax rows
    fd = frechet_distance(emb_a, emb_b)                 # float[N, D] and float[M, D] embeddings
    shares = coverage(probs, classes)                   # class -> share of argmax predictions
    d = nearest_distances(queries, references)          # float[N]: L2 to the nearest reference row

* Inception Score (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))``, the mean over
  ``splits`` equal parts, with their standard deviation. 1 = one class or no confidence;
  at most the number of classes.
* Fréchet distance (Heusel et al. 2017) between Gaussians fitted to two embedding sets:
  ``|μa - μb|² + tr(Σa + Σb - 2 (Σa^½ Σb Σa^½)^½)``, computed with symmetric eigen-
  decompositions (no scipy); float64 throughout. It is biased upwards for small sets, so
  compare distances measured on sets of the same sizes.
"""

from __future__ import annotations

import numpy as np

from ganshot.engine.errors import UserInputError

__all__ = ["inception_score", "frechet_distance", "gaussian_stats", "coverage", "nearest_distances"]

EPS = 1e-12


def _matrix(name: str, values, min_rows: int = 1) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < min_rows or array.shape[1] < 1:
        raise UserInputError(f"{name} must be a 2-D array with at least {min_rows} rows, got shape {list(array.shape)}")
    if not np.isfinite(array).all():
        raise UserInputError(f"{name} holds NaN or infinite values")
    return array


def inception_score(probs, splits: int = 10) -> tuple[float, float]:
    """(mean, std) of the Inception Score over ``splits`` parts of ``probs`` float[N, C]."""
    p = _matrix("probs", probs)
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise UserInputError("probs rows must be probability distributions (non-negative, summing to 1)")
    splits = max(1, min(int(splits), p.shape[0]))
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + EPS) - np.log(marginal + EPS))).sum(axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


def gaussian_stats(embeddings) -> tuple[np.ndarray, np.ndarray]:
    """(mean float64[D], covariance float64[D, D]) of ``embeddings`` float[N >= 2, D]."""
    e = _matrix("embeddings", embeddings, min_rows=2)
    return e.mean(axis=0), np.cov(e, rowvar=False).reshape(e.shape[1], e.shape[1])


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(emb_a, emb_b) -> float:
    """Fréchet distance between Gaussians fitted to ``emb_a`` float[N, D] and ``emb_b`` float[M, D]."""
    mu_a, cov_a = gaussian_stats(emb_a)
    mu_b, cov_b = gaussian_stats(emb_b)
    if mu_a.shape != mu_b.shape:
        raise UserInputError(f"embeddings differ in width: {mu_a.shape[0]} vs {mu_b.shape[0]}")
    root_a = _sqrt_psd(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_root = float(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum())
    distance = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)
    return max(distance, 0.0)


def coverage(probs, classes) -> dict[str, float]:
    """class -> share of rows of ``probs`` float[N, C] whose most likely class it is (shares sum to 1)."""
    p = _matrix("probs", probs)
    if p.shape[1] != len(classes):
        raise UserInputError(f"probs have {p.shape[1]} columns for {len(classes)} classes")
    counts = np.bincount(p.argmax(axis=1), minlength=len(classes))
    return {str(name): float(count / p.shape[0]) for name, count in zip(classes, counts)}


def nearest_distances(queries, references, chunk_rows: int = 512) -> np.ndarray:
    """float64[N]: the L2 distance from each row of ``queries`` to its nearest row of ``references``."""
    q = _matrix("queries", queries)
    r = _matrix("references", references)
    if q.shape[1] != r.shape[1]:
        raise UserInputError(f"queries have {q.shape[1]} features, references {r.shape[1]}")
    r_sq = (r**2).sum(axis=1)
    out = np.empty(q.shape[0])
    for start in range(0, q.shape[0], chunk_rows):
        block = q[start:start + chunk_rows]
        d2 = (block**2).sum(axis=1, keepdims=True) - 2 * block @ r.T + r_sq[None]
        out[start:start + chunk_rows] = np.sqrt(np.clip(d2.min(axis=1), 0.0, None))
    return out
