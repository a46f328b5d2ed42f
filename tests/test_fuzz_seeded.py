"""A small seeded share of bench/fuzz.py: mutated OSC datagrams, kit, kit-set and model.json files
and MIDI byte streams; none may escape as anything but ganshot's own one-line errors, none may
hang. The bench runs the same generator with a million inputs per target."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("ganshot_bench_fuzz", Path(__file__).resolve().parents[1] / "bench" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fuzz)

INPUTS = 800


@pytest.mark.parametrize("target", ["osc", "kit", "kitset", "model", "midi"])
def test_mutated_inputs_are_refused_cleanly(target, tmp_path):
    result = fuzz.run(target, INPUTS, seed=12, hang_ms=5000, keep=tmp_path)
    assert result["escaped"] == 0, result["escapes"]
    assert result["hangs"] == 0 and result["inputs"] == INPUTS
    if target != "midi":
        assert result["refused"] > INPUTS // 2  # the mutations do reach the checks


def test_the_mutator_is_seeded():
    import random

    seeds = fuzz.corpus()["osc"]
    first = [fuzz.mutate(seeds[0], random.Random(3), seeds) for _ in range(5)]
    assert first == [fuzz.mutate(seeds[0], random.Random(3), seeds) for _ in range(5)]
