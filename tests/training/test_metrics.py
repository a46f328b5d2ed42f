"""Metrics: Inception Score, Fréchet distance, coverage and nearest distances on known inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.training.metrics import coverage, fit_logistic, frechet_distance, inception_score, nearest_distances, \
    probe_accuracy


def test_inception_score_is_the_number_of_classes_for_confident_balanced_predictions():
    probs = np.eye(4)[np.arange(400) % 4]
    assert inception_score(probs, splits=1)[0] == pytest.approx(4.0, rel=1e-6)
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(4.0, rel=1e-6) and std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_is_one_for_one_class_or_no_confidence():
    assert inception_score(np.eye(4)[np.zeros(50, int)], splits=1)[0] == pytest.approx(1.0)
    assert inception_score(np.full((50, 4), 0.25), splits=1)[0] == pytest.approx(1.0)


def test_inception_score_grows_with_confidence():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 500)
    sharp = np.eye(5)[labels] * 0.9 + 0.02
    soft = np.eye(5)[labels] * 0.5 + 0.1
    assert inception_score(sharp, 1)[0] > inception_score(soft, 1)[0] > 1.0


@pytest.mark.parametrize("bad", [np.full((3, 2), 0.7), np.array([[np.nan, 1.0]]), np.ones(4)])
def test_inception_score_refuses_what_is_not_a_distribution(bad):
    with pytest.raises(UserInputError):
        inception_score(bad)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((20000, 3))
    b = a + np.array([2.0, 0.0, 1.0])
    assert frechet_distance(a, b) == pytest.approx(5.0, rel=1e-6)  # same covariance: only |Δμ|² = 4 + 1
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_of_scaled_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((50000, 2))
    b = 3.0 * rng.standard_normal((50000, 2))
    # N(0, I) vs N(0, 9I): tr(I + 9I - 2·3I) = 2 · (1 + 9 - 6) = 8
    assert frechet_distance(a, b) == pytest.approx(8.0, rel=0.03)


def test_frechet_distance_refuses_mismatched_widths_and_single_rows():
    with pytest.raises(UserInputError, match="width"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(UserInputError, match="at least 2 rows"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))


def test_coverage_counts_the_most_likely_class():
    probs = np.array([[0.6, 0.4, 0.0], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4]])
    assert coverage(probs, ["kick", "snare", "hat"]) == {"kick": 0.5, "snare": 0.5, "hat": 0.0}
    with pytest.raises(UserInputError, match="columns"):
        coverage(probs, ["kick"])


@pytest.mark.parametrize("rows", [1, 65, 1025])
def test_nearest_distances_match_brute_force(rows):
    rng = np.random.default_rng(rows)
    queries, refs = rng.standard_normal((rows, 7)), rng.standard_normal((33, 7))
    expected = np.sqrt(((queries[:, None] - refs[None]) ** 2).sum(-1)).min(axis=1)
    np.testing.assert_allclose(nearest_distances(queries, refs, chunk_rows=64), expected, rtol=1e-9, atol=1e-9)
    assert nearest_distances(refs[:5], refs).max() == pytest.approx(0.0, abs=1e-6)


def test_probe_is_at_chance_for_two_samples_of_one_distribution_and_sure_for_different_ones():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((200, 64))
    same = rng.standard_normal((300, 64))
    far = rng.standard_normal((300, 64)) + np.r_[np.full(8, 1.5), np.zeros(56)]  # Bayes accuracy 0.98
    chance = probe_accuracy(real, same)
    assert 0.35 <= chance["accuracy"] <= 0.65
    assert chance["per_side"] == 200 and chance["folds"] == 5 and len(chance["fold_accuracies"]) == 5
    assert probe_accuracy(real, far)["accuracy"] >= 0.95
    assert probe_accuracy(real, same) == chance  # seeded


def test_logistic_fit_separates_a_separable_set_and_the_probe_refuses_bad_input():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    w = fit_logistic(x, y, l2=1e-4)
    assert ((x @ w[:-1] + w[-1] > 0) == y).mean() >= 0.97
    with pytest.raises(UserInputError, match="features"):
        probe_accuracy(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(UserInputError, match="at least 5 rows"):
        probe_accuracy(np.zeros((3, 3)), np.zeros((10, 3)))
