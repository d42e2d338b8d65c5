import pytest

from verikit.errors import DataError
from verikit.jsonl import read_jsonl, write_jsonl
from verikit.records import Row


class XRow(Row):
    x: int


def test_reads_records_with_their_line_numbers_and_skips_blank_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"x": 1}\n\n{"x": 2}\n')
    assert [(line, row.x) for line, row in read_jsonl(path, XRow)] == [(1, 1), (3, 2)]
    assert list(read_jsonl(path)) == [(1, {"x": 1}), (3, {"x": 2})]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"x": 1}\n{"x": "one"}\n', "a.jsonl:2: field 'x': expected integer, got string"),
        ('{"x": 1}\n{"y": 1}\n', "a.jsonl:2: field 'x': missing"),
        ('{"x": true}\n', "a.jsonl:1: field 'x': expected integer, got boolean"),
        ('{"x": 1}\n{"x": \n', "a.jsonl:2: invalid JSON"),
        ('"just a string"\n', "a.jsonl:1: expected a JSON object, got string"),
    ],
)
def test_errors_name_the_file_line_and_field(tmp_path, content, message):
    path = tmp_path / "a.jsonl"
    path.write_text(content)
    with pytest.raises(DataError) as info:
        list(read_jsonl(path, XRow))
    assert message in str(info.value)
    assert str(info.value).startswith(str(tmp_path))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="nope.jsonl: file not found"):
        list(read_jsonl(tmp_path / "nope.jsonl"))


def test_write_then_read_round_trips(tmp_path):
    rows = [{"a": "ки", "b": [1, 2]}, {"a": "x", "b": []}]
    assert write_jsonl(tmp_path / "sub" / "out.jsonl", rows) == 2
    assert [r for _, r in read_jsonl(tmp_path / "sub" / "out.jsonl")] == rows
