"""The bounded folder that /render writes its WAVs into: at most N files and B bytes, oldest deleted.

Cheat sheet::

    cache = RenderCache(default_render_dir(), max_files=64, max_bytes=256 * 2**20)
    path = cache.write(request_id=7, audio=buffer, sample_rate=48000)   # float32[frames] -> WAV
    cache.files()                                                       # oldest first

Files are named ``ganshot-render-<sequence>-<request_id>.wav``; only files with that
prefix are ever counted or deleted, so pointing the cache at a folder that holds other
files is harmless. Files already there from an earlier run are adopted (oldest first) so
the bound holds across restarts. Each WAV is written atomically (temp file, fsync,
replace). The newest file is never deleted, even when it alone is over ``max_bytes``,
so its ``/rendered`` reply always names a file that exists until later renders push it out.

A client should copy or load a file soon after ``/rendered``: with the defaults it
survives the next 63 renders.
"""

from __future__ import annotations

import os
import re
import threading
from collections import deque
from pathlib import Path

from ganshot.engine.errors import UserInputError
from ganshot.engine.limits import check_int

__all__ = ["RenderCache", "default_render_dir", "DEFAULT_MAX_FILES", "DEFAULT_MAX_BYTES", "FILE_PREFIX"]

DEFAULT_MAX_FILES = 64
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
FILE_PREFIX = "ganshot-render-"
_NAME = re.compile(re.escape(FILE_PREFIX) + r"(\d{1,20})-(-?\d{1,11})\.wav")


def default_render_dir() -> Path:
    """``$XDG_CACHE_HOME/ganshot/osc-renders`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ganshot" / "osc-renders"


class RenderCache:
    """WAV files for ``/render`` replies in ``folder``, bounded by ``max_files`` and ``max_bytes``."""

    def __init__(self, folder, max_files: int = DEFAULT_MAX_FILES, max_bytes: int = DEFAULT_MAX_BYTES):
        for name, value in (("max_files", max_files), ("max_bytes", max_bytes)):
            check_int(value, f"render cache {name}", 1, 1 << 62)
        self.folder = Path(folder).expanduser().absolute()
        self.max_files, self.max_bytes = max_files, max_bytes
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as err:
            raise UserInputError(f"render folder {self.folder}: {err.strerror or err}") from None
        if not self.folder.is_dir():
            raise UserInputError(f"render folder {self.folder} is not a folder")
        self._lock = threading.Lock()
        self._files: deque[tuple[Path, int]] = deque()  # (path, bytes), oldest first
        self.total_bytes = 0
        self.deleted = 0
        self._next = self._adopt() + 1
        with self._lock:
            self._enforce_locked()

    def _adopt(self) -> int:
        found = []
        for entry in os.scandir(self.folder):
            match = _NAME.fullmatch(entry.name)
            if match and entry.is_file(follow_symlinks=False):
                found.append((int(match.group(1)), Path(entry.path), entry.stat(follow_symlinks=False).st_size))
        found.sort()
        for _, path, size in found:
            self._files.append((path, size))
            self.total_bytes += size
        return found[-1][0] if found else 0

    def write(self, request_id: int, audio, sample_rate: int) -> Path:
        """Write ``audio`` (numpy float32[frames] or [frames, channels]) as a float WAV; returns its path."""
        with self._lock:
            sequence, self._next = self._next, self._next + 1
        path = self.folder / f"{FILE_PREFIX}{sequence:010d}-{int(request_id)}.wav"
        from ganshot.engine.offline import write_wav  # numpy + soundfile: only once a render is asked for

        write_wav(path, audio, sample_rate)
        size = path.stat().st_size
        with self._lock:
            self._files.append((path, size))
            self.total_bytes += size
            self._enforce_locked()
        return path

    def _enforce_locked(self) -> None:
        while len(self._files) > 1 and (len(self._files) > self.max_files or self.total_bytes > self.max_bytes):
            path, size = self._files.popleft()
            self.total_bytes -= size
            self.deleted += 1
            try:
                path.unlink()
            except FileNotFoundError:
                pass  # a user tidied up first
            except OSError:
                pass  # counted as deleted: it no longer counts against the bound we can enforce

    def files(self) -> list[Path]:
        """The cached WAVs, oldest first."""
        with self._lock:
            return [path for path, _ in self._files]

    def __repr__(self) -> str:
        return f"RenderCache(folder={str(self.folder)!r}, max_files={self.max_files}, max_bytes={self.max_bytes})"
