"""`ganshot enhance` and `ganshot enhance-train`: a file through a bundle's enhancer, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from ganshot.cli import main
from tests.support import synth_hit
from tests.support.enhance import enhanced_copy


@pytest.fixture(scope="module")
def enhanced_bundle(tiny_bundle, tmp_path_factory):
    return enhanced_copy(tiny_bundle, tmp_path_factory.mktemp("enh") / "tiny-e")


def _error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ganshot: error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_enhance_writes_a_file_of_the_same_length(enhanced_bundle, tmp_path, capsys):
    hit = synth_hit("snare", 1500, 16000, np.random.default_rng(0))
    stereo = np.stack([hit, hit * 0.5], axis=1)
    sf.write(tmp_path / "in.wav", stereo, 16000)
    assert main(["enhance", str(tmp_path / "in.wav"), "-o", str(tmp_path / "out.wav"),
                 "--model", str(enhanced_bundle.path)]) == 0
    out, rate = sf.read(tmp_path / "out.wav", dtype="float32", always_2d=True)
    assert rate == 16000 and out.shape == stereo.shape and np.isfinite(out).all()
    assert (out ** 2).sum() < (stereo ** 2).sum()


@pytest.mark.parametrize("make, needle", [
    (lambda p, n: sf.write(p, np.zeros(100, np.float32), 44100), "44100 Hz"),
    (lambda p, n: sf.write(p, np.zeros(n + 1, np.float32), 16000), "at most"),
    (lambda p, n: sf.write(p, np.zeros(0, np.float32), 16000), "no samples"),
    (lambda p, n: p.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt junk"), "not a readable audio file"),
    (lambda p, n: None, "no such audio file"),
])
def test_enhance_errors_are_one_line(enhanced_bundle, tmp_path, capsys, make, needle):
    path = tmp_path / "in.wav"
    make(path, enhanced_bundle.num_samples)
    err = _error(capsys, "enhance", str(path), "-o", str(tmp_path / "out.wav"), "--model", str(enhanced_bundle.path))
    assert needle in err
    assert not (tmp_path / "out.wav").exists()


def test_enhance_with_a_bundle_without_an_enhancer(tiny_bundle, tmp_path, capsys):
    sf.write(tmp_path / "in.wav", np.zeros(100, np.float32), 16000)
    err = _error(capsys, "enhance", str(tmp_path / "in.wav"), "-o", str(tmp_path / "o.wav"), "--model",
                 str(tiny_bundle.path))
    assert "carries no enhancer" in err


def test_enhance_train_errors_are_one_line(tiny_bundle, tmp_path, capsys):
    err = _error(capsys, "enhance-train", "--data", str(tmp_path / "nowhere"), "--model", str(tiny_bundle.path),
                 "--out", str(tmp_path / "run"), "--nice", "0")
    assert "nowhere" in err


def test_enhance_does_not_import_torch(enhanced_bundle, tmp_path):
    sf.write(tmp_path / "in.wav", np.zeros(100, np.float32), 16000)
    code = ("import sys; from ganshot.cli import main; "
            f"rc = main(['enhance', {str(tmp_path / 'in.wav')!r}, '-o', {str(tmp_path / 'o.wav')!r}, "
            f"'--model', {str(enhanced_bundle.path)!r}]); print(rc, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["0", "False"], result.stderr
