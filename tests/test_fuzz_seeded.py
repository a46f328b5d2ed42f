"""A small seeded share of bench/fuzz.py: mutated OSC datagrams, kit, kit-set and model.json files
and MIDI byte streams; none may escape as anything but ganshot's own one-line errors, none may
hang. The bench runs the same generator, and atheris, with a million inputs per target.

tests/fuzz_corpus/TARGET/*.bin: inputs kept for good (each a file of raw bytes, run through the
same target): every escape or hang a fuzz run ever found, the known traps of OSC and JSON
parsers (negative or oversized bundle element sizes, deep nesting, non-UTF-8 text, lone
surrogates, NaN and infinities, 5,000-digit integers, a timetag far in the future); and in
TARGET/libfuzzer/ the small inputs atheris kept for the coverage they reach (the smallest 100,
named by their sha1). Add a finding with a name that says what it is."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("ganshot_bench_fuzz", Path(__file__).resolve().parents[1] / "bench" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fuzz)

INPUTS = 800
HANG_S = 5.0  # the bench's hang is 1 s; the tests allow for a loaded machine
TARGETS = ["osc", "kit", "kitset", "model", "midi"]
CORPUS = sorted(fuzz.corpus_dir().glob("*/*.bin"))


@pytest.mark.parametrize("target", TARGETS)
def test_mutated_inputs_are_refused_cleanly(target, tmp_path):
    result = fuzz.run(target, INPUTS, seed=12, hang_ms=HANG_S * 1000, keep=tmp_path)
    assert result["escaped"] == 0, result["escapes"]
    assert result["hangs"] == 0 and result["inputs"] == INPUTS
    if target != "midi":
        assert result["refused"] > INPUTS // 2  # the mutations do reach the checks


@pytest.fixture(scope="module")
def targets():
    return fuzz.targets()


def test_the_corpus_has_every_target():
    assert {path.parent.name for path in CORPUS} == set(TARGETS)


@pytest.mark.parametrize("path", CORPUS, ids=[f"{p.parent.name}/{p.stem}" for p in CORPUS])
def test_kept_inputs_are_handled(path, targets):
    started = time.perf_counter()
    try:
        targets[path.parent.name](path.read_bytes())
    except fuzz.refusals():
        pass  # a one-line refusal is what bad input gets; anything else fails the test
    assert time.perf_counter() - started < HANG_S


@pytest.mark.parametrize("target", TARGETS)
def test_libfuzzers_kept_inputs_are_handled(target, targets):
    """The small inputs atheris kept for the coverage they reached (bench/fuzz.py --engine atheris)."""
    kept = sorted((fuzz.corpus_dir() / target / "libfuzzer").glob("*.bin"))
    assert kept
    for path in kept:
        started = time.perf_counter()
        try:
            targets[target](path.read_bytes())
        except fuzz.refusals():
            pass
        assert time.perf_counter() - started < HANG_S, path.name


def test_the_mutator_is_seeded():
    import random

    seeds = fuzz.corpus()["osc"]
    first = [fuzz.mutate(seeds[0], random.Random(3), seeds) for _ in range(5)]
    assert first == [fuzz.mutate(seeds[0], random.Random(3), seeds) for _ in range(5)]
