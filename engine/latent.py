"""Latent-space and gain helpers: pure numpy, no model needed.

Cheat sheet::

    from ganshot.engine.latent import (slerp, seeded_latent, apply_directions,
                                       velocity_gain, constant_power_pan, db_to_gain)

    z0, z1 = seeded_latent(1, 100), seeded_latent(2, 100)     # float32[100], N(0, 1)
    z = slerp(z0, z1, 0.25)                                   # float32[100]
    zs = slerp(z0, z1, np.linspace(0, 1, 8))                  # float32[8, 100]
    z = apply_directions(z, None, [0.5, -1.0], None)          # no bundle directions: axes 0 and 1
    velocity_gain(0.5)                                        # 0.25 (square law, -12 dB)
    gain_l, gain_r = constant_power_pan(0.0)                  # 0.7071, 0.7071 (-3 dB each)

Velocity curve (:data:`VELOCITY_CURVES`, default "square"): ``gain = v**2``, i.e.
``gain_db = 40·log10(v)``: half velocity is -12 dB, velocity 0.1 is -40 dB, velocity 0
is silent. This matches how hard/soft hits are heard better than a linear law (which
leaves soft hits too loud) and stays smooth at the top. "linear" (``gain = v``) and
"db60" (``gain_db = 60·(v - 1)``, 0 -> silent) are the alternatives.

Pan law: ``theta = (pan + 1)·pi/4``, ``gain_l = cos(theta)``, ``gain_r = sin(theta)``, so
``gain_l**2 + gain_r**2 == 1`` everywhere (constant power) and each side is
-3.01 dB at the centre.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import UserInputError
from .limits import MAX_INT32, MAX_PAN, MAX_SEED, MAX_VELOCITY, MIN_PAN, MIN_VELOCITY, check_int

__all__ = [
    "slerp",
    "seeded_latent",
    "axis_directions",
    "apply_directions",
    "velocity_gain",
    "constant_power_pan",
    "db_to_gain",
    "gain_to_db",
    "VELOCITY_CURVES",
    "LATENT_DISTRIBUTIONS",
    "MIN_VELOCITY",
    "MAX_VELOCITY",
    "MIN_PAN",
    "MAX_PAN",
    "MIN_COEFFICIENT",
    "MAX_COEFFICIENT",
    "MAX_SEED",
    "SILENCE_DB",
]

MIN_COEFFICIENT, MAX_COEFFICIENT = -10.0, 10.0  # direction coefficients, in units of sigma
SILENCE_DB = -120.0  # gain_to_db(0) and the floor of gain_to_db
LATENT_DISTRIBUTIONS = ("normal", "uniform")  # N(0, 1) or U(-1, 1), as bundle.latent_distribution
PARALLEL_EPS = 1e-6  # sin(angle) below this: slerp falls back to lerp
DB60_RANGE_DB = 60.0


def _velocity_square(v):
    return v * v


def _velocity_linear(v):
    return v


def _velocity_db60(v):
    return np.where(v > 0.0, 10.0 ** (DB60_RANGE_DB * (v - 1.0) / 20.0), 0.0)


#: name -> gain(v) for v in [0, 1]; each is monotonic with gain(0) = 0 and gain(1) = 1.
VELOCITY_CURVES = {"square": _velocity_square, "linear": _velocity_linear, "db60": _velocity_db60}


def _finite(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise UserInputError(f"{name} must be finite, got {value!r:.60}")
    return arr


def _scalar_or_array(arr: np.ndarray):
    return float(arr) if arr.ndim == 0 else arr


def slerp(a, b, t) -> np.ndarray:
    """Spherical interpolation from ``a`` (t=0) to ``b`` (t=1) along the great circle.

    ``a``, ``b``: float[..., D] (the same shape); ``t``: a float or float[T]. Returns
    float32[..., D] for a scalar ``t`` and float32[T, ..., D] for an array. The angle is
    that between the directions of ``a`` and ``b``; norms are carried along (equal norms
    stay equal). When ``a`` and ``b`` are nearly parallel or anti-parallel
    (``sin(angle) < 1e-6``) it falls back to linear interpolation.
    """
    a = _finite("a", a)
    b = _finite("b", b)
    if a.shape != b.shape or a.ndim == 0:
        raise UserInputError(f"slerp needs a and b of the same shape [..., D], got {list(a.shape)} and {list(b.shape)}")
    t_arr = _finite("t", t)
    tt = t_arr.reshape(t_arr.shape + (1,) * a.ndim)  # [T, 1.., 1] against [..., D]
    na = np.linalg.norm(a, axis=-1, keepdims=True)
    nb = np.linalg.norm(b, axis=-1, keepdims=True)
    cos = np.sum(a * b, axis=-1, keepdims=True) / np.maximum(na * nb, 1e-300)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    sin = np.sin(omega)
    parallel = sin < PARALLEL_EPS
    safe = np.where(parallel, 1.0, sin)
    wa = np.where(parallel, 1.0 - tt, np.sin((1.0 - tt) * omega) / safe)
    wb = np.where(parallel, tt, np.sin(tt * omega) / safe)
    return (wa * a + wb * b).astype(np.float32)


def seeded_latent(seed: int, latent_dim: int, distribution: str = "normal") -> np.ndarray:
    """float32[latent_dim] from ``np.random.default_rng(seed)``: N(0, 1) or U(-1, 1).

    The same (seed, latent_dim, distribution) gives the same vector on every machine.
    """
    check_int(seed, "seed", 0, MAX_SEED)
    check_int(latent_dim, "latent_dim", 1, MAX_INT32)
    rng = np.random.default_rng(int(seed))
    if distribution == "normal":
        return rng.standard_normal(int(latent_dim)).astype(np.float32)
    if distribution == "uniform":
        return rng.uniform(-1.0, 1.0, int(latent_dim)).astype(np.float32)
    raise UserInputError(f"distribution must be one of {', '.join(LATENT_DISTRIBUTIONS)}, got {distribution!r:.40}")


def axis_directions(count: int, latent_dim: int) -> np.ndarray:
    """float32[count, latent_dim]: the first ``count`` latent axes (the stand-in for learned directions)."""
    if not 0 <= count <= latent_dim:
        raise UserInputError(f"a {latent_dim}-dim latent has {latent_dim} axes; {count} directions asked for")
    return np.eye(count, latent_dim, dtype=np.float32)


def apply_directions(z, directions, coefficients, sigmas) -> np.ndarray:
    """``z + sum_k coefficients[k]·sigmas[k]·directions[k]`` as float32, shaped like ``z``.

    ``z``: float[..., D]; ``directions``: float[K, D], or None for the first K latent axes
    (when the bundle has no directions); ``coefficients``: float[K] in
    [MIN_COEFFICIENT, MAX_COEFFICIENT] (units of sigma); ``sigmas``: float[K] (the spread
    of z along each direction), or None for 1.
    """
    z = _finite("z", z)
    coeff = _finite("coefficients", coefficients)
    if z.ndim == 0 or coeff.ndim != 1:
        raise UserInputError("apply_directions needs z[..., D] and coefficients[K]")
    if coeff.size and (coeff.min() < MIN_COEFFICIENT or coeff.max() > MAX_COEFFICIENT):
        raise UserInputError(f"coefficients must be in [{MIN_COEFFICIENT}, {MAX_COEFFICIENT}]")
    dim, count = z.shape[-1], coeff.shape[0]
    dirs = axis_directions(count, dim) if directions is None else _finite("directions", directions)
    if dirs.shape != (count, dim):
        raise UserInputError(f"directions must have shape [{count}, {dim}], got {list(dirs.shape)}")
    sig = np.ones(count) if sigmas is None else _finite("sigmas", sigmas)
    if sig.shape != (count,) or (sig < 0).any():
        raise UserInputError(f"sigmas must be {count} non-negative numbers")
    return (z + (coeff * sig) @ dirs).astype(np.float32)


def _plain(value) -> bool:
    """A plain Python int or float: the scalar paths below do it in ``math``, 10x quicker than
    numpy on a 0-d array (a trigger runs three of them)."""
    return type(value) is float or type(value) is int


def velocity_gain(velocity, curve: str = "square"):
    """Linear gain for ``velocity`` in [0, 1] (float or array) under ``curve`` (see module docs)."""
    if curve not in VELOCITY_CURVES:
        raise UserInputError(f"velocity curve must be one of {', '.join(VELOCITY_CURVES)}, got {curve!r:.40}")
    if _plain(velocity) and MIN_VELOCITY <= velocity <= MAX_VELOCITY:  # NaN and inf fail the range
        return float(VELOCITY_CURVES[curve](float(velocity)))
    v = _finite("velocity", velocity)
    if v.size and (v.min() < MIN_VELOCITY or v.max() > MAX_VELOCITY):
        raise UserInputError(f"velocity must be in [{MIN_VELOCITY}, {MAX_VELOCITY}], got {velocity!r:.60}")
    return _scalar_or_array(np.asarray(VELOCITY_CURVES[curve](v), dtype=np.float64))


def constant_power_pan(pan):
    """``(gain_l, gain_r)`` for ``pan`` in [-1 (left), 1 (right)] (float or array); cos/sin law."""
    if _plain(pan) and MIN_PAN <= pan <= MAX_PAN:
        theta = (pan + 1.0) * (math.pi / 4.0)
        return math.cos(theta), math.sin(theta)
    p = _finite("pan", pan)
    if p.size and (p.min() < MIN_PAN or p.max() > MAX_PAN):
        raise UserInputError(f"pan must be in [{MIN_PAN}, {MAX_PAN}], got {pan!r:.60}")
    theta = (p + 1.0) * (math.pi / 4.0)
    return _scalar_or_array(np.cos(theta)), _scalar_or_array(np.sin(theta))


def db_to_gain(gain_db):
    """``10 ** (gain_db / 20)`` (float or array); ``-inf`` dB gives 0."""
    if _plain(gain_db) and gain_db < math.inf:  # NaN fails the test too
        return 10.0 ** (gain_db / 20.0)
    db = np.asarray(gain_db, dtype=np.float64)
    if np.isnan(db).any() or (db == np.inf).any():
        raise UserInputError(f"gain_db must be a number or -inf, got {gain_db!r:.60}")
    return _scalar_or_array(10.0 ** (db / 20.0))


def gain_to_db(gain):
    """``20·log10(gain)`` (float or array), floored at :data:`SILENCE_DB` (gain 0 -> SILENCE_DB)."""
    g = _finite("gain", gain)
    if (g < 0).any():
        raise UserInputError("gain must be non-negative")
    with np.errstate(divide="ignore"):
        return _scalar_or_array(np.maximum(20.0 * np.log10(g), SILENCE_DB))
