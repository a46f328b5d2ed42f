"""`ganshot dataset soundfont --programs` and `ganshot dataset folder --pitched`: flags, one-line errors."""

import pytest

from ganshot.cli import main
from ganshot.training.fluidsynth_render import DEFAULT_SF2
from ganshot.training.manifest import load_manifest


def _error_line(capsys):
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("ganshot: error:")
    return lines[0]


@pytest.mark.parametrize("args, needle", [
    (["--programs", "violni"], "did you mean violin"),
    (["--programs", "violin", "--variations", "3"], "--variations are for drum kits"),
    (["--programs", "violin", "--notes", "36"], "--notes are for drum kits"),
    (["--pitch-range", "40-50"], "--pitch-range need --programs"),
    (["--programs", "violin", "--pitch-range", "60"], "pitch range must look like 36-96"),
    (["--programs", "violin", "--num-samples", "8000", "--hold-s", "0.5"], "hold_s"),
])  # fmt: skip
def test_mistakes_end_with_one_line(tmp_path, capsys, args, needle):
    assert main(["dataset", "soundfont", "-o", str(tmp_path / "out"), *args]) == 2
    assert needle in _error_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.needs("fluidsynth", hint="Debian: fluidsynth")
def test_a_tiny_pitched_build(tmp_path, capsys):
    if not DEFAULT_SF2.is_file():
        pytest.skip("needs fluid-soundfont-gm (scripts/setup.sh)")
    out = tmp_path / "out"
    args = ["dataset", "soundfont", "--sf2", str(DEFAULT_SF2), "--programs", "flute,73", "--pitch-range", "59-61",
            "--velocities", "100", "--num-samples", "4000", "-o", str(out)]  # fmt: skip
    assert main(args) == 0
    manifest = load_manifest(out)
    assert manifest.num_samples == 4000 and manifest.classes == ["flute"]
    assert [item.pitch for item in manifest.items] == [60, 61]  # flute plays from C4 = 60
    assert manifest.source["hold_s"] == pytest.approx(4000 / 16000 - 0.1)
    assert "2 notes, 1 skipped (out of range 1)" in capsys.readouterr().out


def test_folder_require_pitch_needs_pitched(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    assert main(["dataset", "folder", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--require-pitch"]) == 2
    assert "--pitched" in _error_line(capsys)
