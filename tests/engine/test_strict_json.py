"""The strict JSON reader shared by every ganshot file format."""

import pytest

from ganshot.engine.atomic import atomic_write_text
from ganshot.engine.strict_json import loads_strict, read_json_file
from ganshot.engine.errors import FormatError


@pytest.mark.parametrize("text, needle", [
    ('{"a": NaN}', "NaN"), ('{"a": Infinity}', "Infinity"), ('{"a": 1e999}', "1e999"),
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
])
def test_refuses_non_finite_numbers_and_duplicate_keys(text, needle):
    with pytest.raises(ValueError, match=needle):
        loads_strict(text)


def test_file_errors_are_one_line_and_name_the_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(b'{"a": [1, 2')
    with pytest.raises(FormatError, match=r"x.json: not valid JSON"):
        read_json_file(path, 1024)
    path.write_bytes(b" " * 2048)
    with pytest.raises(FormatError, match="larger than 1024 bytes"):
        read_json_file(path, 1024)
    with pytest.raises(FormatError, match="missing"):
        read_json_file(tmp_path / "nope.json", 1024)


def test_backup_keeps_the_previous_version(tmp_path):
    path = tmp_path / "k.json"
    atomic_write_text(path, "one", keep_backup=True)
    atomic_write_text(path, "two", keep_backup=True)
    assert path.read_text() == "two" and (tmp_path / "k.json.bak").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json", "k.json.bak"]
