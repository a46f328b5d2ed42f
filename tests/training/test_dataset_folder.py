"""Folder builder: good files of every format kept, each bad one skipped with its reason."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ganshot.engine.errors import UserInputError
from ganshot.training.dataset_folder import build_folder_dataset, find_audio_files
from ganshot.training.manifest import load_manifest


def hit(frames, rate, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / rate
    x = 0.5 * rng.standard_normal((frames, channels)) * np.exp(-t / 0.05)[:, None]
    return x.astype(np.float32) if channels > 1 else x[:, 0].astype(np.float32)


GOOD = {
    "kick/a.wav": lambda p: sf.write(p, hit(30000, 44100, 2), 44100, subtype="PCM_16"),
    "kick/deeper/b.FLAC": lambda p: sf.write(p, hit(20000, 16000, seed=1), 16000, format="FLAC"),
    "snare/c.aiff": lambda p: sf.write(p, hit(24000, 48000, seed=2), 48000, format="AIFF", subtype="PCM_24"),
    "hat/d.ogg": lambda p: sf.write(p, hit(22050, 22050, seed=3), 22050, format="OGG", subtype="VORBIS"),
    "hat/e.mp3": lambda p: sf.write(p, hit(16000, 16000, seed=4), 16000, format="MP3"),
    "top.wav": lambda p: sf.write(p, hit(8000, 16000, seed=5), 16000, subtype="FLOAT"),
    "snare/f.aif": lambda p: sf.write(p, hit(16000, 32000, seed=6), 32000, format="AIFF"),
}


def nan_wav(path):
    x = hit(8000, 16000, seed=7)
    x[500] = np.nan
    sf.write(path, x, 16000, subtype="FLOAT")


def truncated(fmt, keep_bytes):
    """A 1 s hit written whole, then cut to its first ``keep_bytes`` bytes (an interrupted copy)."""

    def write(path):
        sf.write(path, hit(16000, 16000, seed=8), 16000, format=fmt, subtype="PCM_16")
        path.write_bytes(path.read_bytes()[:keep_bytes])

    return write


BAD = {
    "kick/cut.wav": (truncated("WAV", 44 + 2 * 545), "truncated"),  # 34 ms of a 1 s hit
    "snare/cut.aiff": (truncated("AIFF", 4000), "truncated"),
    "kick/corrupt.wav": (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage" + bytes(range(200))), "unreadable"),
    "snare/empty.wav": (lambda p: p.write_bytes(b""), "empty"),
    "snare/silent.wav": (lambda p: sf.write(p, np.zeros(8000, np.float32), 16000), "silent"),
    "hat/short.wav": (lambda p: sf.write(p, hit(80, 16000), 16000), "too short"),
    "kick/nan.wav": (nan_wav, "non-finite"),
    "hat/noframes.flac": (lambda p: sf.write(p, np.zeros(0, np.float32), 16000, format="FLAC"), "empty"),
}
IGNORED = ["notes.txt", "kick/._a.wav", ".hidden/x.wav"]


@pytest.fixture
def samples(tmp_path):
    root = tmp_path / "samples"
    for rel, write in GOOD.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write(root / rel)
    for rel, (write, _) in BAD.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write(root / rel)
    for rel in IGNORED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"not audio")
    return root


def digest_tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def test_truncated_flac_is_skipped(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    sf.write(root / "whole.flac", hit(16000, 16000), 16000, format="FLAC")
    data = (root / "whole.flac").read_bytes()
    (root / "cut.flac").write_bytes(data[: len(data) // 3])
    manifest, skipped = build_folder_dataset(root, tmp_path / "out", progress=False)
    assert len(manifest.items) == 1
    assert [rel for rel, _ in skipped] == ["cut.flac"]
    assert skipped[0][1].startswith(("truncated", "unreadable")), skipped


def test_whole_wav_with_open_ended_size_is_kept(tmp_path):
    # streaming writers (ffmpeg to a pipe) leave the data size 0xFFFFFFFF: not a truncation
    root = tmp_path / "in"
    root.mkdir()
    sf.write(root / "s.wav", hit(8000, 16000), 16000, subtype="PCM_16")
    data = bytearray((root / "s.wav").read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = b"\xff\xff\xff\xff"
    (root / "s.wav").write_bytes(bytes(data))
    manifest, skipped = build_folder_dataset(root, tmp_path / "out", progress=False)
    assert len(manifest.items) == 1 and skipped == []


def test_find_audio_files(samples):
    found = {p.as_posix() for p in find_audio_files(samples)}
    assert found == set(GOOD) | set(BAD)


def test_keeps_good_files_and_explains_each_skip(samples, tmp_path):
    before = digest_tree(samples)
    manifest, skipped = build_folder_dataset(samples, tmp_path / "out", progress=False)
    assert digest_tree(samples) == before  # originals untouched, byte for byte

    reasons = dict(skipped)
    assert set(reasons) == set(BAD)
    for rel, (_, expected) in BAD.items():
        assert reasons[rel].startswith(expected), (rel, reasons[rel])

    assert manifest.classes == ["hat", "kick", "snare", "unlabelled"]
    assert manifest.class_counts() == {"hat": 2, "kick": 2, "snare": 2, "unlabelled": 1}
    loaded = load_manifest(tmp_path / "out")
    assert loaded.to_json() == manifest.to_json()
    assert [tuple(s) for s in loaded.source["skipped"]] == skipped
    for item in loaded.items:
        audio, rate = sf.read(tmp_path / "out" / item.path, dtype="float32")
        assert rate == 16000 and audio.shape == (16384,)
        assert np.abs(audio).max() == pytest.approx(10 ** (-1 / 20), abs=1e-3)
        assert item.kit is None and item.note is None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["audio", "manifest.json"]


def test_other_rate_and_length(samples, tmp_path):
    manifest, _ = build_folder_dataset(samples, tmp_path / "out", sample_rate=22050, num_samples=4096, progress=False)
    audio, rate = sf.read(tmp_path / "out" / manifest.items[0].path)
    assert (rate, audio.shape, manifest.sample_rate, manifest.num_samples) == (22050, (4096,), 22050, 4096)


def test_out_dir_inside_in_dir_refused(samples):
    with pytest.raises(UserInputError, match="inside the input"):
        build_folder_dataset(samples, samples / "dataset", progress=False)
    assert not (samples / "dataset").exists()


def test_in_dir_inside_out_dir_refused(tmp_path, samples):
    with pytest.raises(UserInputError, match="inside the output"):
        build_folder_dataset(samples, tmp_path, progress=False)


def test_missing_or_empty_input(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        build_folder_dataset(tmp_path / "nope", tmp_path / "out", progress=False)
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt" / "readme.txt").write_text("hi")
    with pytest.raises(UserInputError, match="no audio files"):
        build_folder_dataset(tmp_path / "txt", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_only_bad_files_is_an_error(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    sf.write(root / "silent.wav", np.zeros(4000, np.float32), 16000)
    (root / "empty.flac").write_bytes(b"")
    with pytest.raises(UserInputError, match="none of the 2"):
        build_folder_dataset(root, tmp_path / "out", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]


def test_prints_summary_and_skips(samples, tmp_path, capsys):
    build_folder_dataset(samples, tmp_path / "out")
    printed = capsys.readouterr().out
    assert "7 one-shots, 8 files skipped (empty 2, non-finite 1, silent 1, too short 1, truncated 2, unreadable 1)" in printed
    assert "skipped kick/cut.wav: truncated (header declares 32000 bytes of audio, the file holds 1090)" in printed
    assert "skipped snare/silent.wav: silent" in printed


def test_the_dataset_folder_honours_the_umask(samples, tmp_path):
    old = os.umask(0o027)
    try:
        build_folder_dataset(samples, tmp_path / "out", progress=False)
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750  # not mkdtemp's 0700
