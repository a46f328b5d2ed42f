"""Atomic file writes: temp file in the same folder, fsync, ``os.replace``.

A reader (or a process killed mid-write) only ever sees the old file or the new
one, never a torn one. With ``keep_backup`` the previous version stays as
``NAME.bak``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "fsync_dir", "sha256_file", "unlink_quietly", "umask_mode"]


def umask_mode(mode: int = 0o666) -> int:
    """``mode`` as the umask lets a new file have it (what ``open()`` would create; mkstemp's own
    0600 would make every kit, WAV and report private)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:  # Linux: read without changing it
            for line in status:
                if line.startswith("Umask:"):
                    return mode & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic read-by-setting (briefly process-wide)
    os.umask(mask)
    return mode & ~mask


def fsync_dir(folder: str | os.PathLike) -> None:
    """fsync a folder, so that a rename or a new name in it survives a crash (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def unlink_quietly(path: str | os.PathLike) -> None:
    """Remove a temporary file; one already gone is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _replace_backup(path: Path) -> None:
    """Copy ``path`` to ``path.bak`` atomically (a kill mid-copy never leaves a torn .bak)."""
    backup = path.with_name(path.name + ".bak")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{backup.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        shutil.copy2(path, tmp_name)
        with open(tmp_name, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_name, backup)
    except BaseException:
        unlink_quietly(tmp_name)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, keep_backup: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, umask_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_backup and path.exists():
            _replace_backup(path)
        os.replace(tmp_name, path)
    except BaseException:
        unlink_quietly(tmp_name)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str, keep_backup: bool = False) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; returns the path."""
    return atomic_write_bytes(path, text.encode("utf-8"), keep_backup=keep_backup)


def sha256_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(chunk_bytes)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()
