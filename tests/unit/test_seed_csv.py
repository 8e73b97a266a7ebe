"""Reading, checking and typing CSV seeds without a database (``ordo.data.seeds``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ordo.data.csv_files import CsvError, CsvFormat, read_csv
from ordo.data.inference import infer_type, python_values
from ordo.data.seeds import read_seed
from ordo.data.tables import Target
from ordo.data.types import ColumnType, TypeKind

T = TypeKind


def write(tmp_path: Path, text: str | bytes, name: str = "s.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def types_of(tmp_path: Path, text: str, **options: object) -> dict[str, ColumnType]:
    column_types = options.pop("column_types", None)
    fmt = CsvFormat(**options)  # type: ignore[arg-type]
    seed = read_seed(write(tmp_path, text), Target("s"), fmt, column_types)  # type: ignore[arg-type]
    return {column.name: column.type for column in seed.columns}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-20", "0", ""], ColumnType(T.INTEGER)),
        (["00123", "5"], ColumnType(T.TEXT)),  # leading zeros stay text
        (["0", "0.5"], ColumnType(T.DECIMAL, precision=19, scale=1)),
        (["1.250", "-3", "7.5"], ColumnType(T.DECIMAL, precision=21, scale=3)),
        (["01.5"], ColumnType(T.TEXT)),
        (["1e5"], ColumnType(T.TEXT)),  # never a float
        ([".5"], ColumnType(T.TEXT)),
        (["5."], ColumnType(T.TEXT)),
        (["1.2.3"], ColumnType(T.TEXT)),
        (["-"], ColumnType(T.TEXT)),
        (["1-2"], ColumnType(T.TEXT)),
        (["12345678901234567890"], ColumnType(T.DECIMAL, precision=20, scale=0)),
        (["true", "FALSE", "True"], ColumnType(T.BOOLEAN)),
        (["true", "yes"], ColumnType(T.TEXT)),
        (["2024-01-31", "1999-12-31"], ColumnType(T.DATE)),
        (["2024-02-30"], ColumnType(T.TEXT)),  # not a day
        (["2024-01-31", "5"], ColumnType(T.TEXT)),  # mixed kinds
        (["2024-01-31T12:30:00", "2024-01-31 08:00"], ColumnType(T.TIMESTAMP)),
        (["2024-01-31T12:30:00Z", "2024-01-31 08:00:00+02:00"], ColumnType(T.TIMESTAMPTZ)),
        (["2024-01-31T12:30:00Z", "2024-01-31 08:00:00"], ColumnType(T.TEXT)),
        (["", ""], ColumnType(T.TEXT)),
        (["abc", "1"], ColumnType(T.TEXT)),
        (["1", "abc"], ColumnType(T.TEXT)),
    ],
)
def test_inference(values: list[str], expected: ColumnType) -> None:
    assert infer_type(values, {""}) == expected


def test_null_markers_are_left_out_of_inference() -> None:
    assert infer_type(["1", "NA", "2"], {"NA"}) == ColumnType(T.INTEGER)
    assert infer_type(["1", "", "2"], set()) == ColumnType(T.TEXT)  # "" kept: not a number


def test_headers_are_kept_as_written(tmp_path: Path) -> None:
    found = types_of(tmp_path, 'group,"Order Date",ÄÖ\n1,2024-01-01,x\n')
    assert list(found) == ["group", "Order Date", "ÄÖ"]


def test_declared_types_are_used_verbatim(tmp_path: Path) -> None:
    found = types_of(
        tmp_path,
        "zip,amount\n00123,1.5\n",
        column_types={"zip": "bigint", "amount": "numeric(8,2)"},
    )
    assert found["zip"] == ColumnType(T.INTEGER, declared="bigint")
    assert found["amount"] == ColumnType(T.DECIMAL, 8, 2, declared="numeric(8,2)")


@pytest.mark.parametrize(
    ("declared", "value"),
    [
        ("numeric(5,2)", "1.234"),
        ("numeric(5,2)", "1234.5"),
        ("bigint", "1.5"),
        ("date", "31.01.2024"),
        ("varchar(3)", "abcd"),
        ("boolean", "maybe"),
        ("timestamp", "2024-01-31T12:00:00+02:00"),
    ],
)
def test_a_value_that_does_not_fit_its_declared_type(
    tmp_path: Path, declared: str, value: str
) -> None:
    text = f"id,v\n1,\n2,{value}\n"
    with pytest.raises(CsvError) as caught:
        types_of(tmp_path, text, column_types={"v": declared})
    assert caught.value.line == 3
    assert f"column 'v': value {value!r} does not fit its declared type {declared}" in str(
        caught.value
    )


def test_column_types_must_name_columns(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="'nope', which the header does not have"):
        types_of(tmp_path, "a\n1\n", column_types={"nope": "bigint"})


def test_a_ragged_row_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(CsvError) as caught:
        read_seed(write(tmp_path, 'a,b\n1,2\n"x\ny",3\n4\n'), Target("s"))
    assert caught.value.line == 5  # the quoted field spans lines 3 and 4
    assert "this row has 1 field, the header has 2" in str(caught.value)


def test_a_blank_line_in_the_middle_is_ragged(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="line 3: this row has 0 fields"):
        read_seed(write(tmp_path, "a,b\n1,2\n\n3,4\n"), Target("s"))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("a,,c", "column 2 of the header has no name"),
        ("a,b,a", "columns 1 and 3 of the header are both named 'a'"),
        ("id,ID", "columns 1 and 2 of the header are both named 'ID' (ignoring case)"),
    ],
)
def test_a_bad_header(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(CsvError) as caught:
        read_csv(write(tmp_path, header + "\n1,2,3\n"))
    assert caught.value.line == 1
    assert message in str(caught.value)


def test_invalid_utf8_names_line_and_byte(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1,ok\n2,caf\xe9\n")
    with pytest.raises(CsvError) as caught:
        read_csv(path)
    assert caught.value.line == 3
    assert "byte 0xe9 at byte 6 of the line (byte 15 of the file) is not valid utf-8" in str(
        caught.value
    )
    assert read_csv(path, CsvFormat(encoding="latin-1")).body == "1,ok\n2,café\n"


def test_a_bom_is_stripped_and_line_ends_kept_apart(tmp_path: Path) -> None:
    file = read_csv(write(tmp_path, b"\xef\xbb\xbfid,name\r\n1,x\r\n\r\n"))
    assert file.header == ("id", "name")
    assert file.has_bom
    assert file.rows() == [["1", "x"]]


@pytest.mark.parametrize(
    ("data", "header", "body"),
    [
        (b"id,name\n1,x\n", ("id", "name"), "1,x\n"),
        (b"id,name\n1,x", ("id", "name"), "1,x\n"),  # no line break at the end
        (b"id,name\r\n1,x\r\n\r\n\r\n", ("id", "name"), "1,x\r\n"),  # blank lines after
        (b"id,name\r\n1,x\n", ("id", "name"), "1,x\r\n"),  # ends as the header's lines do
        (b"id,name\n", ("id", "name"), ""),
        (b"id,name\r\n\r\n", ("id", "name"), ""),
        (b"id,name", ("id", "name"), ""),
    ],
    ids=["lf", "no-final-break", "crlf-blank-lines", "mixed-end", "header", "header-crlf", "bare"],
)
def test_the_body_ends_in_one_line_break_of_the_files_kind(
    tmp_path: Path, data: bytes, header: tuple[str, ...], body: str
) -> None:
    file = read_csv(write(tmp_path, data))
    assert (file.header, file.body) == (header, body)


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\r\n"])
def test_an_empty_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(CsvError, match="the file is empty"):
        read_csv(write(tmp_path, data))


def test_delimiter_and_quote(tmp_path: Path) -> None:
    fmt = CsvFormat(delimiter=";", quote="'")
    seed = read_seed(write(tmp_path, "a;b\n'x;y';1\n"), Target("s"), fmt)
    assert seed.values == (("x;y",), ("1",))
    assert [c.type.kind for c in seed.columns] == [T.TEXT, T.INTEGER]


def test_python_values_keep_empty_strings_and_nulls() -> None:
    assert python_values(["a", "", "NA"], ColumnType(T.TEXT), {"NA"}) == ["a", "", None]
    assert python_values(["1", ""], ColumnType(T.INTEGER), {""}) == [1, None]
    assert python_values(["TRUE", "false"], ColumnType(T.BOOLEAN), {""}) == [True, False]
