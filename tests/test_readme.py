"""The README's OSC and MIDI tables are the code's tables (generated from them)."""

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
