"""Render MIDI with the real ``fluidsynth`` command; find and vet the SoundFonts to render.

Shared by the drum-kit builder (:mod:`ganshot.training.dataset_soundfont`) and the
pitched-instrument builder (:mod:`ganshot.training.dataset_pitched`), so both accept the
same SoundFonts (.sf2, or .sf3 with Ogg-compressed samples, which fluidsynth renders) and
render them the same way: dry (reverb and chorus off), gain 1, float WAV, only the
samples a preset uses loaded.

::

    paths = soundfont_paths(None)                      # the default set, or one path, or several
    plans = plan_soundfonts(paths)                     # [(path, sha256, slug)], copies refused
    audio = render_midi(midi_path, path, wav_path, 16000)   # (frames, 2) float32
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

from ganshot.engine.atomic import sha256_file
from ganshot.engine.errors import GanshotError, UserInputError
from ganshot.training._dataset_out import slug

__all__ = [
    "DEFAULT_SF2",
    "DEFAULT_SF2S",
    "DEFAULT_SF2_PACKAGES",
    "TICKS_PER_SECOND",
    "FLUIDSYNTH_TIMEOUT_S",
    "fluidsynth_exe",
    "render_midi",
    "soundfont_paths",
    "plan_soundfonts",
    "is_int",
    "check_render_args",
]

DEFAULT_SF2 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
#: The default set: FluidR3 GM (Debian fluid-soundfont-gm) and MuseScore General
#: (Debian musescore-general-soundfont; SF3 = Ogg-compressed samples, which fluidsynth renders).
DEFAULT_SF2S = (DEFAULT_SF2, Path("/usr/share/sounds/sf3/MuseScore_General.sf3"))
DEFAULT_SF2_PACKAGES = ("fluid-soundfont-gm", "musescore-general-soundfont")  # Debian packages, same order
TICKS_PER_SECOND = 960  # 480 ticks per beat at the default 120 bpm (MIDI files written at that tempo)
FLUIDSYNTH_TIMEOUT_S = 900


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_render_args(sample_rate, num_samples, velocities) -> tuple[int, ...]:
    """The rate, length and velocities every FluidSynth dataset takes; -> the velocities, sorted, distinct."""
    if not is_int(sample_rate) or not 8000 <= sample_rate <= 96000:
        raise UserInputError(f"sample_rate must be 8000..96000 Hz (FluidSynth's range), got {sample_rate!r}")
    if not is_int(num_samples) or not 256 <= num_samples <= 1 << 20:
        raise UserInputError(f"num_samples must be an integer in 256..{1 << 20}, got {num_samples!r}")
    velocities = tuple(velocities)
    if not velocities or not all(is_int(v) and 1 <= v <= 127 for v in velocities):
        raise UserInputError(f"velocities must be one or more integers in 1..127, got {velocities!r}")
    return tuple(sorted(set(velocities)))


def fluidsynth_exe() -> str:
    """Path of the ``fluidsynth`` command; GanshotError with the install hint when it is missing."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise GanshotError("the `fluidsynth` command is missing; install it with `apt-get install fluidsynth`")
    return exe


def render_midi(midi_path: Path, sf2_path: Path, wav_path: Path, sample_rate: int) -> np.ndarray:
    """Render ``midi_path`` with fluidsynth (dry, gain 1) -> (frames, 2) float32 at ``sample_rate``."""
    # dynamic sample loading: only the preset's samples are loaded (and SF3-decoded), same audio, ~3x faster
    cmd = [fluidsynth_exe(), "-ni", "-q", "-o", "synth.dynamic-sample-loading=1", "-g", "1.0", "-R", "0", "-C", "0",
           "-r", str(sample_rate), "-O", "float", "-T", "wav", "-F", str(wav_path), str(sf2_path), str(midi_path)]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=FLUIDSYNTH_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise GanshotError(f"fluidsynth took longer than {FLUIDSYNTH_TIMEOUT_S} s rendering {midi_path.name}") from None
    if done.returncode != 0 or not wav_path.is_file():
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise GanshotError(f"fluidsynth failed (exit {done.returncode}): {last[0]}")
    audio, rate = sf.read(wav_path, dtype="float32", always_2d=True)
    if rate != sample_rate:
        raise GanshotError(f"fluidsynth rendered at {rate} Hz instead of {sample_rate} Hz")
    return audio


def soundfont_paths(sf2_path, defaults=DEFAULT_SF2S, packages=DEFAULT_SF2_PACKAGES) -> list[Path]:
    """None -> ``defaults``; a path -> [it]; several -> them (duplicates by content refused later).

    A missing default names the Debian package (``packages``, same order) that installs it.
    """
    if sf2_path is None:
        paths, packages = [Path(p) for p in defaults], tuple(packages)
    elif isinstance(sf2_path, (str, bytes)) or hasattr(sf2_path, "__fspath__"):
        paths, packages = [Path(sf2_path).expanduser()], ()
    else:
        paths, packages = [Path(p).expanduser() for p in sf2_path], ()
    if not paths:
        raise UserInputError("no SoundFont given")
    for index, path in enumerate(paths):
        if not path.is_file():
            hint = f" (install the Debian package {packages[index]})" if index < len(packages) else ""
            raise GanshotError(f"{path}: SoundFont not found{hint}")
    return paths


def plan_soundfonts(paths: list[Path]) -> list[tuple[Path, str, str]]:
    """[(path, sha256, slug)] with slugs unique across ``paths``; a file given twice (same sha256) is refused.

    The slug is the file stem as a file-name part (``FluidR3_GM.sf2`` -> ``fluidr3-gm``),
    numbered (``-2``, ``-3``) when two files share a stem.
    """
    plans, slugs, hashes = [], Counter(), {}
    for path in paths:
        digest = sha256_file(path)
        if digest in hashes:
            raise UserInputError(f"{path}: same SoundFont as {hashes[digest]} (sha256 {digest[:12]}...); give it once")
        hashes[digest] = path
        base = slug(path.stem, "sf")
        slugs[base] += 1
        plans.append((path, digest, base if slugs[base] == 1 else f"{base}-{slugs[base]}"))
    return plans
