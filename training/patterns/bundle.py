"""Pattern bundles: writing them (the format and its loader live in :mod:`ganshot.engine.pattern_bundle`,
re-exported here, so the live engine reads bundles without importing training).

Writes build the bundle in a temporary sibling folder, validate it with the loader, then swap it
in (the previous bundle kept as ``BUNDLE.bak``).
"""

from __future__ import annotations

import copy
from pathlib import Path

from ganshot.engine.pattern_bundle import (
    ARCHITECTURE, KIND, ONNX_NAME, PATTERN_FORMAT, PATTERN_VERSION, SAFETENSORS_NAME,
    PatternBundle, is_pattern_bundle, load_pattern_bundle, parse_pattern_json,
)

__all__ = ["PATTERN_FORMAT", "PATTERN_VERSION", "KIND", "ARCHITECTURE", "ONNX_NAME", "SAFETENSORS_NAME",
           "PatternBundle", "load_pattern_bundle", "write_pattern_bundle", "parse_pattern_json"]


def write_pattern_bundle(bundle_dir, meta: dict, files: dict) -> Path:
    """Write a pattern bundle atomically (engine.bundle_write.publish_bundle: temporary sibling folder,
    hashes, read back, swap, ``.bak``); ``meta`` is model.json without ``files``, ``files`` maps bundle
    names to source paths. Refuses to replace a folder that is not a pattern bundle."""
    from ganshot.engine.bundle_write import publish_bundle

    meta = copy.deepcopy(meta)
    meta.update(format=PATTERN_FORMAT, version=PATTERN_VERSION, kind=KIND)
    return publish_bundle(bundle_dir, meta, files, parse_pattern_json, load_pattern_bundle, is_pattern_bundle,
                          "patterns bundle")

