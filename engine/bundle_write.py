"""Writing a model bundle: built and validated in a temporary sibling folder, then swapped in.

The reading side (format, validation, :func:`~.bundle.load_bundle`) is engine/bundle.py; export,
``ganshot import`` and the enhancer's export write through :func:`write_bundle`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from .atomic import fsync_dir, sha256_file, umask_mode
from .bundle import BUNDLE_FORMAT, BUNDLE_VERSION, MODEL_JSON, load_bundle, parse_model_json
from .bundle_schema import check_file_name
from .errors import FormatError, UserInputError

__all__ = ["write_bundle", "publish_bundle"]


def _copy_synced(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        os.fsync(fout.fileno())


def _is_bundle_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and (path / MODEL_JSON).is_file()


def write_bundle(bundle_dir: str | os.PathLike, meta: dict, files: dict) -> Path:
    """Write a bundle atomically; returns its path.

    ``meta`` is model.json without ``files`` (``format``, ``version``,
    ``created_utc``, ``ganshot_version`` and ``directions`` are filled in when
    absent); ``files`` maps plain bundle file names to source paths. The bundle is
    built and validated in a temporary sibling folder, then swapped in; an existing
    bundle is kept as ``BUNDLE.bak``. Refuses to replace a folder that is not a bundle.
    """
    meta = copy.deepcopy(meta)
    meta.setdefault("format", BUNDLE_FORMAT)
    meta.setdefault("version", BUNDLE_VERSION)
    meta.setdefault("directions", None)
    return publish_bundle(bundle_dir, meta, files, parse_model_json, load_bundle, _is_bundle_dir, "model bundle")


def publish_bundle(bundle_dir: str | os.PathLike, meta: dict, files: dict, parse, load, is_bundle,
                   what: str) -> Path:
    """The atomic publication every bundle kind shares: ``files`` (bundle name -> source path) copied and
    fsynced into a temporary sibling folder, their sha256 and sizes listed in ``meta["files"]``, ``meta``
    checked by ``parse(meta, where=...)`` and written as model.json, the folder read back with ``load``,
    then swapped in (an existing bundle kept as ``BUNDLE.bak``). ``is_bundle(folder)`` tells a bundle of
    this kind that may be replaced from anything else, which is refused; ``what`` names the kind in errors.
    ``created_utc`` and ``ganshot_version`` are filled in when absent."""
    final = Path(bundle_dir)
    if final.exists() and (final.is_symlink() or not final.is_dir()):
        raise UserInputError(f"{final}: exists and is not a folder; refusing to replace it")
    if final.is_dir() and any(final.iterdir()) and not is_bundle(final):
        raise UserInputError(f"{final}: exists, is not empty and is not a {what}; refusing to replace it")
    backup = final.with_name(final.name + ".bak")
    if backup.exists() and not _is_bundle_dir(backup):
        raise UserInputError(f"{backup}: exists and is not a {what} backup; move it away first")
    for fname in files:
        check_file_name(fname, "write_bundle")
    from ganshot import __version__  # the top package is a light module (version string only)

    meta = copy.deepcopy(meta)
    meta.setdefault("created_utc", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    meta.setdefault("ganshot_version", __version__)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    os.chmod(tmp, umask_mode(0o777))  # mkdtemp's 0700 would make the renamed bundle private
    try:
        listed = {}
        for fname, src in files.items():
            _copy_synced(Path(src), tmp / fname)
            listed[fname] = {"sha256": sha256_file(tmp / fname), "bytes": (tmp / fname).stat().st_size}
        meta["files"] = listed
        parse(meta, where=f"{final / MODEL_JSON} (being written)")
        try:
            text = json.dumps(meta, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as err:  # a non-finite number or a non-JSON value in meta
            raise FormatError(f"{final / MODEL_JSON}: cannot write the model description ({err})") from None
        with open(tmp / MODEL_JSON, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(tmp)
        load(tmp)  # the same checks a reader will run
        if final.is_dir():
            if _is_bundle_dir(final):
                if backup.exists():
                    shutil.rmtree(backup)
                os.rename(final, backup)
            else:
                final.rmdir()  # empty folder
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(final.parent)
    return final
