"""``ganshot export-kit`` of a kit with an instrument pad: one WAV per note plus an SFZ file, and a
real SFZ sampler (sfizz, through pysfizz) plays it: every key mapped, the WAVs' sound at full
velocity, note-off releases for the instrument and one-shots for drum pads."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.engine.test_sfz import parse_sfz
from tests.support.instruments import instrument_kit

RATE = 48000
LOW, HIGH = 58, 62


def _best_correlation(played: np.ndarray, wav: np.ndarray, max_lag: int = 2) -> float:
    """Normalised correlation of ``played`` with ``wav`` at the best lag within ±max_lag samples
    (sfizz's interpolating playback lands up to a sample off along a note)."""
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        a = played[max(lag, 0):max(lag, 0) + len(wav) - max(-lag, 0)]
        b = wav[max(-lag, 0):max(-lag, 0) + len(a)]
        best = max(best, float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b) + 1e-30)))
    return best


@pytest.fixture(scope="module")
def exported(tiny_pitched_bundle, tmp_path_factory):
    from ganshot.engine.kit import save_kit

    root = tmp_path_factory.mktemp("export-kit")
    kit = instrument_kit(tiny_pitched_bundle, low=LOW, high=HIGH, class_name="keys", path=str(tiny_pitched_bundle.path),
                         release_ms=20.0, polyphony=4)
    kit_path = save_kit(kit, root / "pitched.json")
    out = root / "out"
    result = subprocess.run([sys.executable, "-m", "ganshot", "export-kit", str(kit_path), str(out),
                             "--sample-rate", str(RATE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_one_wav_per_note_and_an_sfz_that_maps_them(exported):
    import soundfile as sf

    out, stdout = exported
    sfz = out / "pitched.sfz"
    assert sfz.is_file() and str(sfz) in stdout
    regions = parse_sfz(sfz.read_text())
    assert [int(r["key"]) for r in regions] == [36, *range(LOW, HIGH + 1)]
    assert regions[0]["loop_mode"] == "one_shot" and regions[0]["sample"] == "36_kick.wav"
    notes = {}
    for region in regions[1:]:
        assert region["sample"].startswith("60_keys/") and region["loop_mode"] == "no_loop"
        assert float(region["ampeg_release"]) == pytest.approx(0.02) and region["polyphony"] == "4"
        audio, rate = sf.read(out / region["sample"], dtype="float32")
        assert rate == RATE and audio.ndim == 1 and 0 < np.abs(audio).max() <= 1.0
        notes[int(region["key"])] = audio
    # each note is its own render (the pitch input), not one buffer copied
    assert all(not np.array_equal(notes[a], notes[a + 1]) for a in range(LOW, HIGH))


def test_a_real_sfz_sampler_plays_the_export(exported):
    import soundfile as sf

    pysfizz = pytest.importorskip("pysfizz", reason="pysfizz (sfizz) is installed by `make setup` (dev extra)")
    out, _ = exported
    synth = pysfizz.Synth(sample_rate=RATE, block_size=256)
    assert synth.load_sfz_file(out / "pitched.sfz"), "sfizz refused the exported SFZ"
    assert synth.playable_keys == [36, *range(LOW, HIGH + 1)]
    wav, _ = sf.read(out / "60_keys" / "060_C4.wav", dtype="float32")
    held = len(wav)  # the note held for the whole WAV: sfizz plays the WAV itself
    played = synth.render_note(60, 127, held / RATE, held / RATE + 0.1)[0]
    assert _best_correlation(played[:held + 4], wav) > 0.99  # the same sound, up to sfizz's gain and interpolation
    # released after a quarter of it: sfizz fades over ampeg_release (20 ms) and then stops
    quarter = held // 4
    released = synth.render_note(60, 127, quarter / RATE, held / RATE)[0]
    after = quarter + int(0.03 * RATE)
    assert np.abs(released[after:]).max() < 1e-4 < np.abs(wav[after:]).max()
    # a drum pad is a one-shot: a short note-off does not end it
    kick, _ = sf.read(out / "36_kick.wav", dtype="float32")
    hit = synth.render_note(36, 127, 0.001, len(kick) / RATE)[0]
    tail = slice(len(kick) // 2, len(kick) - 256)
    if np.abs(kick[tail]).max() > 1e-4:
        assert np.abs(hit[tail]).max() > 0.1 * np.abs(kick[tail]).max()
