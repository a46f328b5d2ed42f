"""The README's OSC and MIDI tables are the code's tables (generated from them); its layout is the tree."""

from pathlib import Path

from ganshot.bridges.midi.mapping import cc_map_markdown
from ganshot.bridges.osc.addresses import address_table_markdown

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_osc_address_table_is_in_the_readme():
    assert address_table_markdown().strip() in README


def test_midi_cc_table_is_in_the_readme():
    assert cc_map_markdown().strip() in README


def test_readme_shows_the_two_setup_commands():
    assert "make serve" in README and "make test" in README
    assert "make test" in (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()


def test_the_layout_section_is_the_tree():
    import re

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    root = Path(__file__).resolve().parents[1]
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([\w/]+)/` \| (\S+) \|", layout, re.M)}
    package_dir = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    for package, folder in package_dir.items():
        if "/" not in folder:  # the top-level folders; bridges/osc and bridges/midi are rows of bridges/
            assert rows.get(folder) == f"`{package}`", (folder, package)
    for folder in rows:
        assert (root / folder).is_dir(), folder
    for name in re.findall(r"`([\w./]+\.(?:py|c|h))`", layout):  # every file the section names exists
        assert any(root.glob(f"*/{name}")), name

