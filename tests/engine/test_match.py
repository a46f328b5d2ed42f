"""`ganshot match`: a sound the user has, found in a model's latent space."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from ganshot.engine.errors import UserInputError
from ganshot.engine.latent import seeded_latent
from ganshot.engine.runtime import load_generator_runtime
from ganshot.engine.match import distance, load_target, match_sound


def own_sound(bundle, seed: int = 5000) -> np.ndarray:
    """One of the model's own one-shots, from a seed the search never draws: it can be found exactly."""
    runtime = load_generator_runtime(bundle, backend="onnx")
    return runtime.render(seeded_latent(seed, bundle.latent_dim)[None])[0]


def test_refinement_finds_the_models_own_sound_far_better_than_the_search(tiny_bundle):
    target = own_sound(tiny_bundle)
    result = match_sound(tiny_bundle, target, seeds=64, steps=60)
    assert result.refined and result.label is None
    assert result.distance < 0.5 * result.seed_distance
    assert result.audio.shape == target.shape and np.all(np.isfinite(result.audio))
    # the reported distance is the matched one-shot's, as the engine renders it
    assert float(distance(result.audio[None], target, tiny_bundle.sample_rate)[0]) == pytest.approx(result.distance)
    # and what the search found is what its seed renders
    seed_render = own_sound(tiny_bundle, result.seed)
    np.testing.assert_allclose(result.seed_audio, seed_render, atol=1e-6)


def test_no_steps_is_the_search_alone(tiny_bundle):
    result = match_sound(tiny_bundle, own_sound(tiny_bundle), seeds=16, steps=0)
    assert not result.refined and result.distance == pytest.approx(result.seed_distance, rel=1e-5)


def test_the_distance_ignores_loudness_and_sees_the_sound(tiny_bundle):
    a, b = own_sound(tiny_bundle, 1), own_sound(tiny_bundle, 2)
    rate = tiny_bundle.sample_rate
    assert float(distance(a[None] * 0.1, a, rate)[0]) < 1e-4
    assert float(distance(b[None], a, rate)[0]) > 0.05


def test_a_file_is_read_as_a_one_shot_of_the_model(tiny_bundle, tmp_path):
    n, rate = tiny_bundle.num_samples, tiny_bundle.sample_rate
    hit = own_sound(tiny_bundle)
    stereo = np.zeros((3 * n, 2), np.float32)
    stereo[1000:1000 + n, 0] = stereo[1000:1000 + n, 1] = hit  # a late onset, at twice the rate below
    sf.write(tmp_path / "late.wav", stereo, rate)
    target = load_target(tmp_path / "late.wav", tiny_bundle)
    assert target.shape == (n,) and target.dtype == np.float32
    onset = int(np.argmax(np.abs(hit) >= np.abs(hit).max() * 0.01))
    lead = int(np.argmax(np.abs(target) >= np.abs(target).max() * 0.01))
    assert lead <= int(0.002 * rate) + 1 < 1000 + onset  # moved to the start, less 2 ms
    sf.write(tmp_path / "fast.wav", np.repeat(hit, 2), 2 * rate)  # another rate: resampled
    assert load_target(tmp_path / "fast.wav", tiny_bundle).shape == (n,)
    sf.write(tmp_path / "short.wav", hit[:100], rate)  # shorter than the model: zero-padded
    assert not np.any(load_target(tmp_path / "short.wav", tiny_bundle)[200:])


@pytest.mark.parametrize("content, match", [
    (None, "no such file"), (b"not audio", "not a sound file"), ("silent", "silent, empty or not finite"),
])
def test_bad_files_are_refused_in_one_line(tiny_bundle, tmp_path, content, match):
    path = tmp_path / "x.wav"
    if content == "silent":
        sf.write(path, np.zeros(4000, np.float32), 16000)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(UserInputError, match=match) as err:
        load_target(path, tiny_bundle)
    assert "\n" not in str(err.value)


def test_an_unknown_class_is_refused(tiny_bundle):
    with pytest.raises(UserInputError, match="not one of the model's"):
        match_sound(tiny_bundle, own_sound(tiny_bundle), class_name="kick", seeds=4, steps=0)


def test_the_command_line_writes_the_match_and_puts_it_on_a_pad(tiny_bundle, tmp_path):
    from ganshot.engine.kit import ModelRef, load_kit, save_kit
    from tests.support import kit_for

    kit = kit_for(tiny_bundle)
    kit = kit.__class__(name="k", model=ModelRef.of(tiny_bundle, path=str(tiny_bundle.path)), pads=kit.pads)
    kit_path = save_kit(kit, tmp_path / "kit.json")
    sf.write(tmp_path / "mine.wav", own_sound(tiny_bundle), tiny_bundle.sample_rate)
    argv = [sys.executable, "-m", "ganshot", "match", str(tmp_path / "mine.wav"), "--kit", str(kit_path),
            "--seeds", "32", "--steps", "20", "-o", str(tmp_path / "out")]
    run = subprocess.run([*argv, "--pad", "2"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "out" / "match.json").read_text())
    assert report["distance"] <= report["best_seed_distance"] and len(report["z"]) == tiny_bundle.latent_dim
    for name in ("target", "best_seed", "matched"):
        audio, rate = sf.read(tmp_path / "out" / f"{name}.wav", dtype="float32")
        assert rate == tiny_bundle.sample_rate and len(audio) == tiny_bundle.num_samples
    changed = load_kit(kit_path)
    assert changed.pads[2].seed is None and np.allclose(changed.pads[2].z, report["z"], atol=1e-6)
    assert changed.pads[1] == kit.pads[1]
    run = subprocess.run([argv[0], "-m", "ganshot", "match", str(tmp_path / "mine.wav"), "--model",
                          str(tiny_bundle.path), "--pad", "1", "--seeds", "4", "--steps", "0", "-o",
                          str(tmp_path / "o2")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "--pad needs --kit" in run.stderr.strip().splitlines()[-1]
