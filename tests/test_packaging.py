"""A wheel install (`pip install .`, not editable) carries the presets: the embedded model and
the default kit load from the installed package, away from the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "cli", "engine", "bridges", "training", "presets")
CHECK = """
import ganshot, ganshot.engine.presets as presets
from ganshot.engine.presets import default_kit_path, load_model_and_kit
assert {site!r} in ganshot.__file__, ganshot.__file__
bundle, kit = load_model_and_kit()
print(default_kit_path(), bundle.name, len(kit.pads))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of the source tree (the build leaves nothing in the checkout)."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.egg-info")
    for name in SOURCES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, src / name, **(
            {"ignore": ignore} if (ROOT / name).is_dir() else {}))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(out)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    (found,) = out.glob("ganshot-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_lists_the_presets(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    kit = "ganshot/presets/kits/default.json"
    assert kit in names
    models = {n.split("/")[3] for n in names if n.startswith("ganshot/presets/models/") and n.endswith("model.json")}
    assert "drums-v1" in models
    for part in ("model.json", "generator.onnx", "generator.safetensors"):
        assert f"ganshot/presets/models/drums-v1/{part}" in names
    assert any(n.startswith("ganshot/engine/_cmixer") and n.endswith(".so") for n in names)


@pytest.mark.slow
def test_an_installed_wheel_finds_the_embedded_model_and_kit(wheel, tmp_path):
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                              "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k != "GANSHOT_PRESETS"}
    env["PYTHONPATH"] = str(site)  # ahead of the editable install's finder; dependencies from this venv
    run = subprocess.run([sys.executable, "-c", CHECK.format(site=str(site))], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    kit_path, model, pads = run.stdout.split()
    assert kit_path.startswith(str(site)) and kit_path.endswith("ganshot/presets/kits/default.json")
    assert model.startswith("drums") and int(pads) == 16
