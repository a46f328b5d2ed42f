"""Where dataset builders write: the output-folder rule, staging, FLAC files.

Rule for ``out_dir`` (both builders):

* it does not exist yet -> it is created;
* it is an empty folder -> it is filled;
* it holds a valid ganshot ``manifest.json`` -> it is *replaced* as a whole
  once the new build has succeeded (old files do not linger);
* anything else (a file, a folder with other things in it) -> UserInputError,
  so a typo never wipes someone's folder.

A build writes into a hidden sibling folder ``.NAME.building-XXXX`` and only
renames it to ``out_dir`` when everything, the manifest last, is on disk; a
failed or interrupted build removes its staging folder and leaves ``out_dir``
as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from ganshot.engine.atomic import umask_mode
from ganshot.engine.errors import FormatError, UserInputError
from ganshot.training.manifest import MANIFEST_NAME, load_manifest

__all__ = ["check_out_dir", "staged_dataset", "write_flac", "slug"]


def slug(text: str, fallback: str = "x") -> str:
    """Lower-case ASCII file-name part: runs of other characters become one '-'."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:60] or fallback


def check_out_dir(out_dir: str | os.PathLike) -> Path:
    """Apply the out_dir rule (module docstring) before any work; returns the absolute path."""
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST_NAME).is_file():
            raise UserInputError(f"{out}: folder is not empty and is not a ganshot dataset; choose a new or empty folder")
        try:
            load_manifest(out)
        except FormatError as err:
            raise UserInputError(f"{out}: folder holds a manifest ganshot cannot read, refusing to replace it ({err})") from None
    return out


@contextlib.contextmanager
def staged_dataset(out_dir: str | os.PathLike):
    """Yield a staging folder; on normal exit it becomes ``out_dir`` (see module docstring)."""
    out = check_out_dir(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    os.chmod(stage, umask_mode(0o777))  # mkdtemp's 0700 would make the renamed dataset private
    try:
        yield stage
        check_out_dir(out)  # someone may have written there meanwhile
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "data")
        try:
            os.replace(stage, out)
        except BaseException:
            if old is not None:  # put the previous dataset back
                os.replace(old / "data", out)
                shutil.rmtree(old, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def write_flac(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write (num_samples,) float audio in [-1, 1] as 16-bit mono FLAC, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.clip(audio, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_16")


def print_summary(manifest, skipped, items_word: str, skipped_word: str, detail_of=lambda label: "") -> None:
    """One line per class (count, plus ``detail_of(label)``), then the totals and the skip reasons
    (``skipped``: reason -> count)."""
    counts = manifest.class_counts()
    width = max(len(c) for c in counts)
    for label, count in counts.items():
        print(f"  {label:<{width}}  {count}{detail_of(label)}")
    detail = ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items()))
    print(f"{len(manifest.items)} {items_word}, {sum(skipped.values())} {skipped_word}" + (f" ({detail})" if detail else ""))

