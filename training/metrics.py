"""Sample-quality metrics over classifier outputs, as pure numpy.

Cheat sheet::

    from ganshot.training.metrics import inception_score, frechet_distance, coverage, nearest_distances
    score, spread = inception_score(probs)             # probs float[N, C] softmax rows
    fd = frechet_distance(emb_a, emb_b)                 # float[N, D] and float[M, D] embeddings
    shares = coverage(probs, classes)                   # class -> share of argmax predictions
    d = nearest_distances(queries, references)          # float[N]: L2 to the nearest reference row
    probe = probe_accuracy(emb_real, emb_generated)     # {"accuracy": 0.5 .. 1, "folds": [...], ...}

* Inception Score (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))``, the mean over
  ``splits`` equal parts, with their standard deviation. 1 = one class or no confidence;
  at most the number of classes.
* Fréchet distance (Heusel et al. 2017) between Gaussians fitted to two embedding sets:
  ``|μa - μb|² + tr(Σa + Σb - 2 (Σa^½ Σb Σa^½)^½)``, computed with symmetric eigen-
  decompositions (no scipy); float64 throughout. It is biased upwards for small sets, so
  compare distances measured on sets of the same sizes.
* Real-vs-generated probe: a logistic regression (L2, Newton steps) told to separate two
  embedding sets, scored by stratified k-fold accuracy on equal-sized sets. 0.5 = it cannot
  tell them apart; 1.0 = every generated one-shot is recognisably generated.
"""

from __future__ import annotations

import numpy as np

from ganshot.engine.errors import UserInputError

__all__ = ["inception_score", "frechet_distance", "gaussian_stats", "coverage", "nearest_distances",
           "probe_accuracy", "fit_logistic"]

EPS = 1e-12
PROBE_FOLDS, PROBE_L2, PROBE_NEWTON_STEPS = 5, 1e-2, 25


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


def fit_logistic(features, targets, l2: float = PROBE_L2, steps: int = PROBE_NEWTON_STEPS) -> np.ndarray:
    """Weights float64[D + 1] (bias last) of an L2-regularised logistic regression, by Newton steps.

    ``features`` float[N, D] (standardise them first), ``targets`` 0/1 int[N]. The bias is not
    regularised. Newton's method converges in a few steps at the embedding's 64 dimensions.
    """
    x = np.hstack([_matrix("features", features), np.ones((len(features), 1))])
    y = np.asarray(targets, dtype=np.float64).reshape(-1)
    penalty = np.full(x.shape[1], l2 * len(y))
    penalty[-1] = 0.0
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _stratified_folds(count: int, folds: int, rng: np.random.Generator) -> np.ndarray:
    """int[2 * count]: the fold of each row of [real; generated], each fold holding both halves evenly."""
    fold_of = np.empty(2 * count, dtype=np.int64)
    for half in range(2):
        fold_of[half * count:(half + 1) * count] = rng.permutation(np.arange(count) % folds)
    return fold_of


def probe_accuracy(real, generated, folds: int = PROBE_FOLDS, seed: int = 0, l2: float = PROBE_L2) -> dict:
    """How well a linear classifier tells ``real`` float[N, D] from ``generated`` float[M, D] embeddings.

    The larger set is subsampled (seeded) to the smaller one's size so chance is exactly 0.5;
    each of the ``folds`` folds holds out a share of both sets, the probe is fitted on the
    rest (features standardised with the training folds' statistics) and scored on it.
    Returns ``{"accuracy", "fold_accuracies", "per_side", "folds"}``.
    """
    a, b = _matrix("real", real, min_rows=folds), _matrix("generated", generated, min_rows=folds)
    if a.shape[1] != b.shape[1]:
        raise UserInputError(f"real embeddings have {a.shape[1]} features, generated {b.shape[1]}")
    if folds < 2:
        raise UserInputError(f"the probe needs at least 2 folds, got {folds}")
    rng = np.random.default_rng(seed)
    count = min(len(a), len(b))
    x = np.vstack([a[rng.permutation(len(a))[:count]], b[rng.permutation(len(b))[:count]]])
    y = np.repeat([0, 1], count)
    fold_of = _stratified_folds(count, folds, rng)
    scores = []
    for fold in range(folds):
        train, test = fold_of != fold, fold_of == fold
        mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-9
        w = fit_logistic((x[train] - mean) / std, y[train], l2=l2)
        logits = ((x[test] - mean) / std) @ w[:-1] + w[-1]
        scores.append(float(((logits > 0).astype(int) == y[test]).mean()))
    return {"accuracy": float(np.mean(scores)), "fold_accuracies": scores, "per_side": count, "folds": folds}
