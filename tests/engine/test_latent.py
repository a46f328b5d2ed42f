"""Latent helpers: slerp, seeded latents, directions, velocity curves, pan law, dB."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganshot.engine.errors import UserInputError
from ganshot.engine.latent import (
    MAX_COEFFICIENT,
    SILENCE_DB,
    VELOCITY_CURVES,
    apply_directions,
    axis_directions,
    constant_power_pan,
    db_to_gain,
    gain_to_db,
    seeded_latent,
    slerp,
    velocity_gain,
)


def test_slerp_endpoints_and_shapes():
    a, b = seeded_latent(1, 100), seeded_latent(2, 100)
    assert np.allclose(slerp(a, b, 0.0), a, atol=1e-6) and np.allclose(slerp(a, b, 1.0), b, atol=1e-6)
    assert slerp(a, b, 0.3).shape == (100,) and slerp(a, b, 0.3).dtype == np.float32
    path = slerp(a, b, np.linspace(0, 1, 7))
    assert path.shape == (7, 100) and np.allclose(path[0], a, atol=1e-6) and np.allclose(path[-1], b, atol=1e-6)
    batch_a, batch_b = np.stack([a, b]), np.stack([b, a])
    assert slerp(batch_a, batch_b, 0.5).shape == (2, 100)
    assert slerp(batch_a, batch_b, [0.0, 1.0]).shape == (2, 2, 100)


def test_slerp_keeps_equal_norms_and_follows_the_arc():
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([0.0, 1.0, 0.0])
    mid = slerp(a, b, 0.5)
    assert np.allclose(mid, [math.sqrt(0.5), math.sqrt(0.5), 0.0], atol=1e-6)
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(64), rng.standard_normal(64)
    u, v = 3 * u / np.linalg.norm(u), 3 * v / np.linalg.norm(v)
    norms = np.linalg.norm(slerp(u, v, np.linspace(0, 1, 11)), axis=-1)
    assert np.allclose(norms, 3.0, atol=1e-4)  # lerp would dip towards the origin


def test_slerp_parallel_falls_back_to_lerp():
    a = np.array([1.0, 2.0, 3.0])
    for b in (2 * a, a, -a):
        got = slerp(a, b, 0.25)
        assert np.isfinite(got).all() and np.allclose(got, 0.75 * a + 0.25 * b, atol=1e-6)
    with pytest.raises(UserInputError):
        slerp(a, a[:2], 0.5)
    with pytest.raises(UserInputError):
        slerp(a, np.array([np.nan, 0, 0]), 0.5)


def test_seeded_latent():
    assert np.array_equal(seeded_latent(7, 100), seeded_latent(7, 100))
    assert not np.array_equal(seeded_latent(7, 100), seeded_latent(8, 100))
    z = seeded_latent(3, 20000)
    assert z.dtype == np.float32 and abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    u = seeded_latent(3, 20000, "uniform")
    assert u.min() >= -1 and u.max() <= 1 and abs(u.std() - 1 / math.sqrt(3)) < 0.02
    for args in ((-1, 10), (True, 10), (1.5, 10), (1, 0), (1, 10, "cauchy")):
        with pytest.raises(UserInputError):
            seeded_latent(*args)


def test_apply_directions():
    z = np.zeros(6, np.float32)
    assert np.allclose(apply_directions(z, None, [0.5, -1.0], None), [0.5, -1.0, 0, 0, 0, 0])
    dirs = np.array([[0, 0, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0]], np.float32)
    got = apply_directions(z + 1, dirs, [2.0, 1.0], [0.5, 3.0])
    assert np.allclose(got, 1 + 2.0 * 0.5 * dirs[0] + 1.0 * 3.0 * dirs[1])
    batch = apply_directions(np.zeros((3, 6)), None, [1.0], [2.0])
    assert batch.shape == (3, 6) and np.allclose(batch[:, 0], 2.0)
    assert np.array_equal(apply_directions(z, None, [], None), z)
    assert np.array_equal(axis_directions(2, 4), np.eye(2, 4))
    bad = [
        (z, None, [MAX_COEFFICIENT + 1], None), (z, dirs[:1], [1.0, 1.0], None),
        (z, None, [1.0], [-1.0]), (z, None, [1.0] * 7, None), (z, None, [[1.0]], None),
    ]  # fmt: skip
    for args in bad:
        with pytest.raises(UserInputError):
            apply_directions(*args)


@pytest.mark.parametrize("curve", sorted(VELOCITY_CURVES))
def test_velocity_curves_are_monotonic_from_silence_to_unity(curve):
    v = np.linspace(0, 1, 128)
    gain = velocity_gain(v, curve)
    assert gain[0] == 0.0 and math.isclose(gain[-1], 1.0) and np.all(np.diff(gain) > 0)
    with pytest.raises(UserInputError):
        velocity_gain(1.5, curve)


def test_velocity_square_law_is_40_log10():
    assert math.isclose(velocity_gain(0.5), 0.25)
    assert math.isclose(gain_to_db(velocity_gain(0.1)), -40.0)
    for bad in (float("nan"), -0.1):
        with pytest.raises(UserInputError):
            velocity_gain(bad)
    with pytest.raises(UserInputError):
        velocity_gain(0.5, "cubic")


def test_constant_power_pan():
    left, right = constant_power_pan(0.0)
    assert math.isclose(left, right) and math.isclose(gain_to_db(left), -3.0103, abs_tol=1e-3)
    assert constant_power_pan(-1.0) == pytest.approx((1.0, 0.0), abs=1e-12)
    assert constant_power_pan(1.0) == pytest.approx((0.0, 1.0), abs=1e-12)
    gl, gr = constant_power_pan(np.linspace(-1, 1, 101))
    assert np.allclose(gl**2 + gr**2, 1.0) and np.all(np.diff(gr) > 0)
    with pytest.raises(UserInputError):
        constant_power_pan(1.01)


def test_db_conversions():
    assert db_to_gain(0.0) == 1.0 and db_to_gain(-np.inf) == 0.0
    assert math.isclose(db_to_gain(-6.0206), 0.5, rel_tol=1e-4)
    assert np.allclose(db_to_gain(np.array([-20.0, 20.0])), [0.1, 10.0])
    assert gain_to_db(0.0) == SILENCE_DB and math.isclose(gain_to_db(10.0), 20.0)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(UserInputError):
            db_to_gain(bad)
    with pytest.raises(UserInputError):
        gain_to_db(-1.0)
