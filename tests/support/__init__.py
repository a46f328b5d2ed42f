"""Test helpers, in one place: test modules import from here, never from each other.

Cheat sheet::

    from tests.support import kit_for, synth_hit, missing
    kit = kit_for(bundle, num_pads=4)            # a valid Kit on notes 36.. with seeds 1..
    hit = synth_hit("kick", 16384, 16000, rng)   # a drum-like float32 one-shot
    note = synth_tone(60, 16000, 16000)          # a pitched note (harmonics, vibrato, noise)
    missing("needs pd (Debian: puredata-core)")  # skip here; a failure when CI=true

Submodules: :mod:`.jack` (a private jackd per test, onsets, jackd's xrun lines),
:mod:`.jack_client` (stdlib-only helpers for the JACK client scripts run in subprocesses),
:mod:`.osc_jack` (``ganshot serve`` + jack_capture, shared by the OSC and Pd tests),
:mod:`.bundles` (hand-made bundle sources and refusals), :mod:`.osc_corpus` (raw OSC datagrams),
:mod:`.patterns` (hand-made MIDI files, tiny pattern datasets and bundles), :mod:`.kits` (kit
JSON data shared by the kit tests), :mod:`.osc_peer` (a UDP peer and engine/server contexts for the
OSC server tests), :mod:`.osc_timed` (a fake stream clock and timed bundles), :mod:`.recording`
(the recorder tests' shared helpers), :mod:`.period_capture` (a JACK capture stamping every period),
:mod:`.jack_midi_probe` (frame-exact JACK MIDI sends and capture).
Fixtures (``tiny_bundle``, ``make_dataset``, ``jack_server``) live in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

__all__ = ["IN_CI", "missing", "need_tools", "synth_hit", "synth_tone", "kit_for"]

#: CI runs everything: a test that would skip for a missing program fails there instead.
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(why: str) -> None:
    """Skip the running test with ``why`` in a developer's run; fail it when CI=true."""
    if IN_CI:
        pytest.fail(f"CI=true and {why}", pytrace=False)
    pytest.skip(why)


def need_tools(*tools: str, hint: str = "") -> None:
    """:func:`missing` unless every program in ``tools`` is on PATH; ``hint`` says how to install."""
    absent = [tool for tool in tools if shutil.which(tool) is None]
    if absent:
        missing(f"needs {', '.join(absent)}" + (f" ({hint})" if hint else ""))


def synth_hit(kind: str, num_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A drum-like one-shot: a decaying sine ("kick"/"tom") or decaying noise ("snare"/"hat")."""
    t = np.arange(num_samples) / sample_rate
    if kind in ("kick", "tom"):
        f0 = 55.0 if kind == "kick" else 140.0
        freq = f0 * (1 + 2 * np.exp(-t * 30)) * rng.uniform(0.9, 1.1)
        wave = np.sin(2 * np.pi * np.cumsum(freq) / sample_rate) * np.exp(-t * 8)
    else:
        decay = 25.0 if kind == "snare" else 60.0
        wave = rng.standard_normal(num_samples) * np.exp(-t * decay)
    return (0.8 * wave / np.max(np.abs(wave))).astype(np.float32)


def synth_tone(midi_pitch: float, num_samples: int, sample_rate: int, harmonics: int = 1, vibrato_cents: float = 0.0,
               vibrato_hz: float = 5.5, noise_db: float | None = None, decay_per_s: float = 0.0, seed: int = 0) -> np.ndarray:
    """A pitched note at MIDI ``midi_pitch`` (A4 = 69 = 440 Hz): ``harmonics`` partials at 1/k amplitude
    (those under Nyquist), optional sine vibrato of +-``vibrato_cents``, white noise ``noise_db`` below the
    tone's RMS, exponential decay; peak 0.5, float32."""
    t = np.arange(num_samples) / sample_rate
    f0 = 440.0 * 2.0 ** ((midi_pitch - 69) / 12.0) * 2.0 ** (vibrato_cents / 1200.0 * np.sin(2 * np.pi * vibrato_hz * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    wave = sum(np.sin(k * phase) / k for k in range(1, harmonics + 1) if k * f0.max() < sample_rate / 2)
    wave = wave * np.exp(-decay_per_s * t)
    if noise_db is not None:
        rms = np.sqrt(np.mean(wave**2))
        wave = wave + rms * 10 ** (noise_db / 20) * np.random.default_rng(seed).standard_normal(num_samples)
    return (0.5 * wave / np.max(np.abs(wave))).astype(np.float32)


def kit_for(bundle, num_pads=4, **pad_changes):
    """A valid Kit for ``bundle``: pads on notes 36.. with seeds 1.., choke group 1 on pads 2 and 3."""
    from ganshot.engine.kit import Kit, ModelRef, Pad

    pads = tuple(
        Pad(note=36 + i, name=f"pad{i}", seed=i + 1, choke_group=1 if i in (2, 3) else 0, **pad_changes)
        for i in range(num_pads)
    )
    return Kit(name="test", model=ModelRef.of(bundle), pads=pads)
