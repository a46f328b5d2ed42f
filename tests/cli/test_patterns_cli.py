"""``ganshot patterns ...`` and ``ganshot render --pattern`` end to end, in subprocesses: the commands
chain (dataset -> train -> export -> generate -> evaluate), a generated pattern renders through a kit
with every bar at its exact frame, and user mistakes end with one ``ganshot: error:`` line."""

from __future__ import annotations

import subprocess
import sys

import mido
import numpy as np
import pytest

from tests.support.patterns import fixed_pattern_bundle, seed_with_sign, write_midi

RATE = 48000
SILENCE = 256
TINY = "inherit = \"drums\"\n[model]\nlatent_dim = 8\nd = 4\n[train]\nbatch_size = 4\ncheckpoint_every = 1\n"


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "ganshot", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line_error(result, *needles) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ganshot: error:"), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def kit_path(tiny_bundle, tmp_path_factory):
    """Four seeded pads on notes 36-39 for the tiny bundle (its path in the kit), saved."""
    from ganshot.engine.kit import save_kit
    from ganshot.engine.presets import seeded_kit

    kit = seeded_kit(tiny_bundle, range(1, 5), name="tiny four", model_path=str(tiny_bundle.path))
    return save_kit(kit, tmp_path_factory.mktemp("kit") / "kit.json")


def test_the_commands_chain_from_midi_files_to_generated_midi(tmp_path):
    midi = tmp_path / "midi"
    for index in range(3):
        events = [e for bar in range(4) for step in (0, 4 + index, 8, 12)
                  for e in (((bar * 16 + step) * 120, "note_on", 9, 36 + 2 * (step % 8 == 4), 100),
                            ((bar * 16 + step) * 120 + 60, "note_off", 9, 36, 0))]
        write_midi(midi / f"g{index}.mid", [events])
    (tmp_path / "tiny.toml").write_text(TINY)
    data, run, bundle = tmp_path / "data", tmp_path / "run", tmp_path / "bundle"
    assert run_cli("patterns", "dataset", "--midi", midi, "-o", data).returncode == 0
    trained = run_cli("patterns", "train", tmp_path / "tiny.toml", "--data", data, "--out", run, "--steps", 2,
                      "--nice", 0, "--export", bundle)
    assert trained.returncode == 0, trained.stderr
    assert "wrote patterns bundle" in trained.stderr and (bundle / "model.json").is_file()
    out = tmp_path / "gen"
    made = run_cli("patterns", "generate", bundle, "-n", 2, "--bars", 2, "--tempo", 140, "--seed", 3, "-o", out)
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in out.iterdir()) == ["pattern_0003.mid", "pattern_0004.mid", "patterns.json",
                                                     "pianoroll.png"]
    assert all(mido.MidiFile(p).type == 1 for p in out.glob("*.mid"))
    judged = run_cli("patterns", "evaluate", bundle, "--data", data, "-n", 8)
    assert judged.returncode == 0, judged.stderr
    assert "| copy_share |" in judged.stdout and (bundle / "evaluation" / "report.json").is_file()


def hit_onsets(audio: np.ndarray) -> list[int]:
    sounding = np.flatnonzero(np.any(audio != 0, axis=1))
    return [int(sounding[0])] + [int(b) for a, b in zip(sounding[:-1], sounding[1:]) if b - a > SILENCE]


def test_render_pattern_switches_at_bar_lines_sample_exact(tiny_bundle, kit_path, tmp_path):
    import soundfile as sf

    from ganshot.engine.engine import Engine
    from ganshot.engine.kit import load_kit

    bundle = fixed_pattern_bundle(tmp_path)  # z[0] > 0: a kick on each bar's one; else a snare there
    seed = seed_with_sign(8, True)
    while seed_with_sign(8, False, start=seed + 1) != seed + 1:  # the next seed must switch to the snare
        seed = seed_with_sign(8, True, start=seed + 1)
    out = tmp_path / "pattern.wav"
    tempo, bars = 133.0, 4
    result = run_cli("render", kit_path, "--pattern", bundle, "--bars", bars, "--tempo", tempo, "--seed", seed,
                     "--switch-bars", 2, "-o", out)
    assert result.returncode == 0, result.stderr
    with Engine(tiny_bundle, load_kit(kit_path), sample_rate=RATE, backend="onnx") as engine:
        lead = {note: int(np.flatnonzero(engine.pad_buffer(engine.kit.index_for_note(note)))[0]) for note in (36, 38)}
    audio, rate = sf.read(out, dtype="float32", always_2d=True)
    bar_s = 4 * 60.0 / tempo
    notes = [36, 36, 38, 38]  # two bars of the first seed, then the switch at bar 3
    expected = [int(round(bar * bar_s * RATE)) + lead[note] for bar, note in enumerate(notes)]
    assert rate == RATE and hit_onsets(audio) == expected


@pytest.mark.parametrize("args, needles", [
    (["--midi", "x.mid", "--pattern", "b"], ["one of --midi", "--pattern"]),
    ([], ["one of --midi"]),
    (["--midi", "x.mid", "--switch-bars", "2"], ["--switch-bars needs --pattern"]),
])
def test_render_refuses_a_bad_source_choice(kit_path, tmp_path, args, needles):
    assert_one_line_error(run_cli("render", kit_path, *args, "-o", tmp_path / "o.wav"), *needles)


def test_render_pattern_refuses_an_audio_bundle(kit_path, tiny_bundle, tmp_path):
    result = run_cli("render", kit_path, "--pattern", tiny_bundle.path, "-o", tmp_path / "o.wav")
    assert_one_line_error(result, "this is an audio model bundle")


def test_dataset_refuses_bad_midi_input_with_one_line(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.mid").write_bytes(b"MThd\x00\x00\x00\x06junk")
    assert_one_line_error(run_cli("patterns", "dataset", "--midi", tmp_path / "in", "-o", tmp_path / "d"),
                          "no usable windows", "a.mid", "not a readable MIDI file")
    assert_one_line_error(run_cli("patterns", "dataset", "--midi", tmp_path / "none", "-o", tmp_path / "d"),
                          "no such folder")


def test_generate_refuses_a_bad_tempo_and_a_missing_bundle(tmp_path):
    bundle = fixed_pattern_bundle(tmp_path)
    assert_one_line_error(run_cli("patterns", "generate", bundle, "--tempo", 0, "-o", tmp_path / "g"), "--tempo")
    assert_one_line_error(run_cli("patterns", "generate", tmp_path / "nope", "-o", tmp_path / "g"),
                          "no pattern bundle folder")


def test_render_a_melodic_pattern_through_an_instrument_releases_on_the_note_off(tiny_pitched_bundle, tmp_path):
    import soundfile as sf

    from ganshot.engine.engine import Engine
    from ganshot.engine.kit import save_kit
    from tests.support.instruments import held_note, instrument_kit, release_gains
    from tests.support.patterns import fixed_melodic_bundle

    note, start, length, tempo = 60, 1, 2, 300.0  # a C4 from the second 16th, held two (the tiny note is 0.13 s)
    bundle = fixed_melodic_bundle(tmp_path, row=note - 36, start=start, length=length)
    kit = instrument_kit(tiny_pitched_bundle, low=48, high=72, class_name="keys", path=str(tiny_pitched_bundle.path),
                         release_ms=10.0)
    kit_path = save_kit(kit, tmp_path / "keys.json")
    out = tmp_path / "tune.wav"
    result = run_cli("render", kit_path, "--pattern", bundle, "--bars", 2, "--tempo", tempo, "-o", out)
    assert result.returncode == 0, result.stderr
    with Engine(tiny_pitched_bundle, kit, sample_rate=RATE, backend="onnx") as engine:
        assert engine.wait_ready(60)
        buffer = np.array(engine.instrument_note_buffer(1, note))
    audio, rate = sf.read(out, dtype="float32", always_2d=True)
    step_frames = 60.0 / (4 * tempo) * RATE
    on, off = int(round(start * step_frames)), int(round((start + length) * step_frames))
    release = int(round(10.0 * RATE / 1000))
    assert off - on < len(buffer) - release  # the note-off falls inside the note: the release is heard
    left = audio[:, 0]
    gain = float(np.max(np.abs(left))) / float(np.max(np.abs(buffer[:off - on]))) if np.any(left) else 0.0
    expected = held_note(buffer, gain, on, off, release, len(left))
    assert np.max(np.abs(left - expected)) <= 1e-4 * np.max(np.abs(expected))
    assert not np.any(left[off + release:])  # silent after the release: the note-off was honoured
    assert release_gains(release)[0] < 1.0
