"""The engine subcommands end to end: render, export-kit, explore, serve (on a JACK dummy server).

Each runs ``python -m ganshot`` in a subprocess on the tiny exported bundle (tests/conftest.py)
and a kit saved with engine.kit.save_kit. User mistakes end with one ``ganshot: error:``
line, exit 2 and no traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

RATE = 48000
#: (tick, GM note, velocity) on MIDI channel 10; 480 ticks a beat, 120 bpm then 150 bpm from tick 960.
NOTES = [(0, 36, 127), (480, 38, 100), (960, 37, 90), (1440, 39, 70), (1920, 36, 110)]
TEMPO_CHANGE_TICK = 960
NOTE_TIMES_S = [0.0, 0.5, 1.0, 1.4, 1.8]  # what the tempo map makes of NOTES
SILENCE = 256


def run_cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "ganshot", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def assert_one_line_error(result, *needles) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ganshot: error:"), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def kit_path(tiny_bundle, tmp_path_factory):
    """Four seeded pads on notes 36-39 (Kick, Side Stick, Snare, Clap) for the tiny bundle, saved."""
    from ganshot.engine.kit import save_kit
    from ganshot.engine.presets import seeded_kit

    kit = seeded_kit(tiny_bundle, range(1, 5), name="tiny four", model_path=str(tiny_bundle.path))
    return save_kit(kit, tmp_path_factory.mktemp("kit") / "kit.json")


@pytest.fixture(scope="module")
def midi_path(tmp_path_factory):
    import mido

    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120), time=0))
    now = 0
    for tick, note, velocity in NOTES:
        if now < TEMPO_CHANGE_TICK <= tick:
            track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(150), time=TEMPO_CHANGE_TICK - now))
            now = TEMPO_CHANGE_TICK
        track.append(mido.Message("note_on", channel=9, note=note, velocity=velocity, time=tick - now))
        track.append(mido.Message("note_on", channel=9, note=note, velocity=0, time=120))  # a note-off
        now = tick + 120
    path = tmp_path_factory.mktemp("midi") / "groove.mid"
    midi.save(path)
    return path


def hit_onsets(audio: np.ndarray) -> list[int]:
    """First frame of each run of non-zero frames that follows >= SILENCE zero frames."""
    sounding = np.flatnonzero(np.any(audio != 0, axis=1))
    return [int(sounding[0])] + [int(b) for a, b in zip(sounding[:-1], sounding[1:]) if b - a > SILENCE]


def test_render_writes_the_midi_file_at_its_exact_frames(tiny_bundle, kit_path, midi_path, tmp_path):
    import soundfile as sf

    from ganshot.engine.engine import Engine
    from ganshot.engine.kit import load_kit

    out = tmp_path / "groove.wav"
    started = time.monotonic()
    result = run_cli("render", kit_path, "--midi", midi_path, "-o", out)
    wall_s = time.monotonic() - started
    assert result.returncode == 0, result.stderr

    with Engine(tiny_bundle, load_kit(kit_path), sample_rate=RATE, backend="onnx") as engine:
        pads = [engine.kit.index_for_note(note) for _, note, _ in NOTES]
        first = [int(np.flatnonzero(engine.pad_buffer(pad))[0]) for pad in pads]
        longest = engine.longest_buffer_frames()
    audio, rate = sf.read(out, dtype="float32", always_2d=True)
    assert rate == RATE and audio.shape[1] == 2 and sf.info(out).subtype == "FLOAT"
    frames = [int(round(t * RATE)) for t in NOTE_TIMES_S]
    assert len(audio) == frames[-1] + longest + 1024  # the last hit rings out, plus one block
    assert hit_onsets(audio) == [frame + lead for frame, lead in zip(frames, first)]

    audio_s = len(audio) / RATE
    said = re.search(r"in ([\d.]+) s\)", result.stderr)
    print(f"render: {audio_s:.2f} s of audio, {audio_s / wall_s:.1f}x real time with start-up ({wall_s:.2f} s); "
          f"the CLI's own render {audio_s / max(float(said.group(1)), 1e-3):.0f}x" if said else result.stderr)


def test_export_kit_writes_one_wav_per_pad(kit_path, tmp_path):
    import soundfile as sf

    out_dir = tmp_path / "export"
    result = run_cli("export-kit", kit_path, out_dir)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out_dir.iterdir() if p.suffix == ".wav")
    assert names == ["36_kick.wav", "37_side_stick.wav", "38_snare.wav", "39_clap.wav"]
    sfz = [p.name for p in out_dir.iterdir() if p.suffix == ".sfz"]
    assert len(sfz) == 1 and sorted(os.path.basename(line) for line in result.stdout.split()) == sorted(names + sfz)
    for name in names:
        audio, rate = sf.read(out_dir / name, dtype="float32")
        assert rate == RATE and audio.ndim == 1 and np.abs(audio).max() > 0


def png_size(path) -> tuple[int, int]:
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_an_even_direction_strip_includes_the_unchanged_sound(tiny_bundle, tmp_path):
    import json

    import soundfile as sf

    out_dir = tmp_path / "even"
    result = run_cli("explore", "--direction", 1, "-n", 4, "--seed", 3, "-o", out_dir, "--model", tiny_bundle.path)
    assert result.returncode == 0, result.stderr
    strip = json.loads((out_dir / "strip.json").read_text())
    assert strip["coefficients"] == [-1.0, 0.0, 0.5, 1.0]
    plain = run_cli("explore", "-n", 1, "--seed", 3, "-o", tmp_path / "plain", "--model", tiny_bundle.path)
    assert plain.returncode == 0, plain.stderr
    np.testing.assert_allclose(sf.read(out_dir / strip["files"][1], dtype="float32")[0],
                               sf.read(tmp_path / "plain" / "seed_000003.wav", dtype="float32")[0], atol=1e-6)


def test_explore_writes_one_shots_a_contact_sheet_and_a_kit(tiny_bundle, tmp_path):
    import soundfile as sf

    from ganshot.engine.kit import load_kit

    out_dir = tmp_path / "explore"
    result = run_cli("explore", "-n", 20, "-o", out_dir, "--model", tiny_bundle.path)
    assert result.returncode == 0, result.stderr
    wavs = sorted(out_dir.glob("*.wav"))
    assert [p.name for p in wavs] == [f"seed_{seed:06d}.wav" for seed in range(20)]
    assert all(sf.info(p).samplerate == RATE for p in wavs)
    assert (out_dir / "contact_sheet.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    kit = load_kit(out_dir / "kit.json", latent_dim=tiny_bundle.latent_dim)
    assert len(kit.pads) == 16 and [pad.seed for pad in kit.pads] == list(range(16))
    assert [pad.name for pad in kit.pads] == [f"Seed {seed}" for seed in range(16)]  # not "Kick", "Snare" by slot
    width, height = png_size(out_dir / "contact_sheet.png")
    assert height >= 3 * 160 and width >= 8 * 200  # 20 one-shots: 3 labelled rows of 8 tiles


@pytest.fixture(scope="module")
def directed_bundle(tiny_bundle, tmp_path_factory):
    """The tiny bundle with 3 oblique (non-axis) directions of unequal sigma in its model.json."""
    import json
    import shutil

    from ganshot.engine.bundle import MODEL_JSON, load_bundle

    root = shutil.copytree(tiny_bundle.path, tmp_path_factory.mktemp("directed") / "directed")
    vectors = np.linalg.qr(np.random.default_rng(5).standard_normal((tiny_bundle.latent_dim, 3)))[0].T
    meta = json.loads((root / MODEL_JSON).read_text())
    meta["directions"] = {"method": "ganspace-pca", "num_samples": 100, "vectors": vectors.tolist(),
                          "sigmas": [0.5, 0.9, 1.3], "explained_variance": [0.3, 0.2, 0.1]}
    (root / MODEL_JSON).write_text(json.dumps(meta))  # model.json is not in its own file list
    return load_bundle(root)


@pytest.mark.parametrize("directed", [False, True], ids=["latent-axes", "bundle-directions"])
def test_explore_direction_writes_the_knob_sweep_of_one_seed(tiny_bundle, directed_bundle, directed, tmp_path):
    import json

    import soundfile as sf

    from ganshot.engine.engine import Engine
    from ganshot.engine.kit import Kit, ModelRef, Pad

    bundle, seed, direction = (directed_bundle, 11, 2) if directed else (tiny_bundle, 11, 5)
    out_dir = tmp_path / "strip"
    result = run_cli("explore", "--direction", direction, "-n", 5, "--seed", seed, "-o", out_dir,
                     "--model", bundle.path)
    assert result.returncode == 0, result.stderr
    coefficients = [-1.0, -0.5, 0.0, 0.5, 1.0]
    names = [f"dir{direction:02d}_{i:03d}_c{c:+.3f}.wav" for i, c in enumerate(coefficients)]
    assert names[0] == f"dir{direction:02d}_000_c-1.000.wav" and names[3] == f"dir{direction:02d}_003_c+0.500.wav"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(names + ["contact_sheet.png", "strip.json"])
    strip = json.loads((out_dir / "strip.json").read_text())
    sigma = 1.3 if directed else 1.0
    assert strip == {"format": "ganshot-strip", "version": 1, "model": "tiny", "model_sha256": bundle.sha256,
                     "seed": seed, "direction": direction, "sigma": pytest.approx(sigma),
                     "coefficients": coefficients, "files": names}
    width, height = png_size(out_dir / "contact_sheet.png")
    assert width >= 5 * 200 and 160 <= height < 2 * 160  # one labelled row of 5 tiles
    audio = [sf.read(out_dir / name, dtype="float32")[0] for name in names]

    plain = run_cli("explore", "-n", 1, "--seed", seed, "-o", tmp_path / "plain", "--model", bundle.path)
    assert plain.returncode == 0, plain.stderr
    np.testing.assert_allclose(audio[2], sf.read(tmp_path / "plain" / f"seed_{seed:06d}.wav", dtype="float32")[0],
                               atol=1e-6)  # knob at 0: the seed's own one-shot
    assert min(np.abs(audio[i] - audio[2]).max() for i in (0, 1, 3, 4)) > 1e-3  # every other step moves the sound

    pads = tuple(Pad(note=36 + i, name=f"c{i}", seed=seed, directions=(0.0,) * direction + (c,))
                 for i, c in enumerate(coefficients))
    with Engine(bundle, Kit(name="knob", model=ModelRef.of(bundle), pads=pads), sample_rate=RATE,
                backend="onnx") as engine:  # the same knob turned on a kit pad, through the live engine
        for i, wav in enumerate(audio):
            np.testing.assert_allclose(wav, engine.pad_buffer(i), atol=2e-6, err_msg=names[i])


@pytest.mark.parametrize("directed, args, needles", [
    (False, ["--direction", 8], ["--direction must be in 0..7", "no directions", "got 8"]),
    (False, ["--direction", -1], ["--direction must be in 0..7", "got -1"]),
    (True, ["--direction", 3], ["--direction must be in 0..2", "3 directions", "got 3"]),
    (True, ["--direction", 0, "-n", 1], ["-n must be in 2..256 with --direction", "got 1"]),
], ids=["past-the-axes", "negative", "past-the-directions", "one-step"])  # fmt: skip
def test_explore_direction_refusals_are_one_line(tiny_bundle, directed_bundle, directed, args, needles, tmp_path):
    bundle = directed_bundle if directed else tiny_bundle
    out_dir = tmp_path / "strip"
    assert_one_line_error(run_cli("explore", *args, "-o", out_dir, "--model", bundle.path), *needles)
    assert not out_dir.exists()


@pytest.mark.jack
@pytest.mark.slow
def test_serve_lists_devices_and_plays_the_demo_on_jack(jack_server, kit_path):
    server = jack_server(sample_rate=RATE, block_size=128)
    listed = run_cli("serve", "--list-devices", env=server.env)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^\s*\d+\s+system\s+\(JACK Audio Connection Kit, 2 out\)$", listed.stdout, re.M), listed.stdout

    served = run_cli("serve", "--kit", kit_path, "--backend", "onnx", "--device", "system", "--duration", 2, "--demo",
                     "--osc-port", 0, env=server.env)
    assert served.returncode == 0, served.stderr
    status = [line for line in served.stderr.splitlines() if "underflows" in line]
    assert status and re.search(r"voices +\d+ \| underflows \d+ \| late 0 \| .* \| system @ 48000 Hz", status[0]), \
        served.stderr
    assert "ganshot: stopped" in served.stderr and "Traceback" not in served.stderr


@pytest.mark.jack
def test_serve_on_an_unknown_device_names_the_devices(jack_server, kit_path):
    server = jack_server(sample_rate=RATE, block_size=128)
    result = run_cli("serve", "--kit", kit_path, "--backend", "onnx", "--device", "nosuch", env=server.env)
    assert_one_line_error(result, "'nosuch'", "'system'", "--device")


@pytest.mark.parametrize("command", ["render", "export-kit", "serve"])
def test_a_corrupt_kit_is_one_line(command, tmp_path, midi_path):
    kit = tmp_path / "corrupt.json"
    kit.write_bytes(b'{"format": "ganshot-kit", "version": 1, "name": "x", "pads": [\x00')
    args = {"render": ["render", kit, "--midi", midi_path, "-o", tmp_path / "out.wav"],
            "export-kit": ["export-kit", kit, tmp_path / "out"],
            "serve": ["serve", "--kit", kit, "--duration", 1]}[command]
    assert_one_line_error(run_cli(*args), str(kit))
    assert not (tmp_path / "out.wav").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("midi_bytes, needle", [(None, "no such MIDI file"), (b"MThd\x00\x00\x00\x06\x00", "MIDI")])
def test_a_missing_or_corrupt_midi_file_is_one_line(kit_path, tmp_path, midi_bytes, needle):
    midi = tmp_path / "broken.mid"
    if midi_bytes is not None:
        midi.write_bytes(midi_bytes)
    assert_one_line_error(run_cli("render", kit_path, "--midi", midi, "-o", tmp_path / "out.wav"), needle)
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.jack
@pytest.mark.slow
def test_serve_stops_cleanly_on_ctrl_c(jack_server, kit_path, tmp_path):
    import signal

    import soundfile as sf

    server = jack_server(sample_rate=RATE, block_size=128)
    record = tmp_path / "take.wav"
    proc = subprocess.Popen([sys.executable, "-m", "ganshot", "serve", "--kit", str(kit_path), "--backend", "onnx",
                             "--device", "system", "--demo", "--osc-port", "0", "--no-midi", "--record", str(record)],
                            env=server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:  # wait for the first status line: the stream is playing
            line = proc.stderr.readline()
            lines.append(line)
            if "underflows" in line or not line:
                break
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = "".join(lines) + err
    assert proc.returncode == 0, err
    assert "ganshot: stopped" in err and "Traceback" not in err and "KeyboardInterrupt" not in err
    audio, rate = sf.read(record, dtype="float32")  # the recording was finished and renamed into place
    assert rate == RATE and len(audio) > RATE // 2 and np.abs(audio).max() > 0


@pytest.mark.parametrize("count, expected", [(2, [0.0, 1.0]), (3, [-1.0, 0.0, 1.0]), (4, [-1.0, 0.0, 0.5, 1.0]),
                                             (5, [-1.0, -0.5, 0.0, 0.5, 1.0]), (6, [-1.0, -0.5, 0.0, 1 / 3, 2 / 3, 1.0])])
def test_strip_coefficients_always_hold_zero_and_end_at_plus_one(count, expected):
    from ganshot._explore_cli import strip_coefficients

    assert strip_coefficients(count) == pytest.approx(expected)
    assert 0.0 in strip_coefficients(count) and strip_coefficients(count) == sorted(strip_coefficients(count))


def test_explore_renders_a_conditional_model_as_the_asked_class(tmp_path):
    """The embedded drums-v2 is class-conditional: --class picks what every one-shot is; the kit asks for it."""
    from ganshot.engine.kit import load_kit
    from ganshot.engine.presets import default_kit_path, load_model_and_kit

    bundle = load_model_and_kit(default_kit_path())[0]
    if not bundle.conditional:
        pytest.skip("the embedded model is not conditional")
    hats = run_cli("explore", "-n", 2, "-o", tmp_path / "hats", "--class", "closed_hat")
    kicks = run_cli("explore", "-n", 2, "-o", tmp_path / "kicks", "--class", "kick")
    assert hats.returncode == 0 and kicks.returncode == 0, hats.stderr + kicks.stderr
    assert (tmp_path / "hats" / "seed_000000.wav").read_bytes() != (tmp_path / "kicks" / "seed_000000.wav").read_bytes()
    kit = load_kit(tmp_path / "hats" / "kit.json", latent_dim=bundle.latent_dim)
    assert {pad.class_name for pad in kit.pads} == {"closed_hat"}
    wrong = run_cli("explore", "-n", 1, "-o", tmp_path / "x", "--class", "cowbell")
    assert wrong.returncode != 0 and "--class 'cowbell'" in wrong.stderr and "Traceback" not in wrong.stderr
