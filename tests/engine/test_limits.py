"""engine/limits.py: one definition of each bound, one range check, and the places that must agree."""

from __future__ import annotations

import numpy as np
import pytest

from ganshot.engine import limits
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.engine.limits import check_float, check_int


@pytest.mark.parametrize("value", [0, 5, np.int64(3), np.uint8(7)])
def test_check_int_takes_python_and_numpy_integers(value):
    assert check_int(value, "n", 0, 10) == int(value) and type(check_int(value, "n", 0, 10)) is int


@pytest.mark.parametrize("value, needle", [
    (True, "got True"), (1.0, "got 1.0"), ("3", "got '3'"), (None, "got None"), (11, "got 11"), (-1, "got -1"),
    (2**80, "got 1208925819614629174706176"),
])
def test_check_int_names_the_value_and_the_rule(value, needle):
    with pytest.raises(UserInputError) as err:
        check_int(value, "pad", 0, 10)
    assert str(err.value).startswith("pad must be an integer in [0, 10], ") and needle in str(err.value)


@pytest.mark.parametrize("value", [0, 0.5, np.float32(0.25), np.int32(1), 1])
def test_check_float_takes_ints_and_floats_as_float(value):
    out = check_float(value, "x", 0.0, 1.0)
    assert type(out) is float and out == float(value)


@pytest.mark.parametrize("value, needle", [
    (True, "must be a number, got true/false"), ("1", "must be a number, got a string"),
    (None, "must be a number, got null"), (float("nan"), "must be a finite number"),
    (float("inf"), "must be a finite number"), (np.float64("nan"), "must be a finite number"),
    (1.5, "must be a number in [0, 1], got 1.5"), (10**400, "must be a number in [0, 1]"),
])
def test_check_float_refusals(value, needle):
    with pytest.raises(UserInputError) as err:
        check_float(value, "x", 0.0, 1.0)
    assert needle in str(err.value)


def test_an_open_low_end_and_another_error_type():
    assert check_float(0.1, "rate", 0, 10, low_open=True) == 0.1
    with pytest.raises(FormatError, match=r"rate must be a number in \(0, 10\], got 0"):
        check_float(0, "rate", 0, 10, error=FormatError, low_open=True)


def test_the_places_that_read_a_limit_agree():
    """Each bound has one definition; the modules that used to keep their own copy now agree."""
    from ganshot.bridges.osc.addresses import ADDRESSES
    from ganshot.engine import bundle_schema, kit_schema, postprocess, wavegan

    knob = {arg.name: arg for arg in ADDRESSES["/pad/knob"].args}
    assert knob["direction"].high == limits.MAX_DIRECTIONS - 1 == bundle_schema.MAX_DIRECTIONS - 1
    assert kit_schema.parse_target(f"pad.0.direction.{limits.MAX_DIRECTIONS - 1}") is not None
    assert kit_schema.parse_target(f"pad.0.direction.{limits.MAX_DIRECTIONS}") is None
    pitch = {arg.name: arg for arg in ADDRESSES["/pad/pitch"].args}["semitones"]
    assert (pitch.low, pitch.high) == (postprocess.MIN_PITCH_SEMITONES, postprocess.MAX_PITCH_SEMITONES) == \
        (limits.MIN_PITCH_SEMITONES, limits.MAX_PITCH_SEMITONES)
    assert wavegan.MAX_LATENT_DIM == limits.MAX_LATENT_DIM  # the generator's ceiling is the bundle's and kit's
