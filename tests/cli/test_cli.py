"""The `ganshot` command: light start-up, one-line errors, layering rules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "ganshot", *args], capture_output=True, text=True, timeout=120, **kwargs)


def test_help_lists_subcommands():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in ("dataset", "train", "export"):
        assert name in result.stdout


def test_help_does_not_import_torch():
    code = "import sys; from ganshot.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.slow  # each starts the CLI in a fresh interpreter that imports torch
@pytest.mark.parametrize(
    "args, needle",
    [
        (["train", "no_such_config", "--data", "nowhere", "--out", "{tmp}/run"], "no_such_config"),
        (["export", "{tmp}/missing_run", "-o", "{tmp}/bundle"], "missing_run"),
        (["dataset", "folder", "{tmp}/no_such_folder", "-o", "{tmp}/out"], "no_such_folder"),
    ],
)
def test_user_mistakes_end_with_one_line(tmp_path, args, needle):
    result = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ganshot: error:") and needle in lines[0]
    assert "Traceback" not in result.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level + (node.module or "")
            names.add(prefix)
    return names


@pytest.mark.parametrize("floor, forbidden", [("engine", ("ganshot.training", "ganshot.bridges", "ganshot.cli")),
                                              ("training", ("ganshot.bridges", "ganshot.cli")),
                                              ("bridges", ("ganshot.training", "ganshot.cli"))])
def test_floors_import_one_way(floor, forbidden):
    for path in sorted((ROOT / floor).rglob("*.py")):
        for name in _imports(path):
            assert not name.startswith(forbidden), f"{path.relative_to(ROOT)} imports {name}"
            assert not name.startswith(".."), f"{path.relative_to(ROOT)} uses a relative import across floors: {name}"


def _subparsers(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield name, child
                yield from ((f"{name} {n}", c) for n, c in _subparsers(child))


def test_help_shows_only_defaults_that_say_something():
    from ganshot.cli import build_parser

    for name, parser in _subparsers(build_parser()):
        text = " ".join(parser.format_help().split())
        assert "(default: None)" not in text and "(default: False)" not in text, name
    export = dict(_subparsers(build_parser()))["export"].format_help()
    assert "(default: 8)" in " ".join(export.split())  # real defaults still show


def test_render_backend_default_is_the_readme_s():
    import re
    from pathlib import Path

    from ganshot.cli import build_parser

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    commands = dict(_subparsers(build_parser()))
    for command in ("render", "export-kit", "serve"):
        row = next(line for line in readme.splitlines() if line.startswith(f"| `ganshot {command} "))
        documented = re.search(r"--backend (\w+)", row).group(1)
        assert commands[command].get_default("backend") == documented, command

