"""A large seed is read by pyarrow, a small one by the standard library: both must give the
same types, the same text and the same errors. Each case is read both ways here (the size
limit moved), and the two results compared."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from ordo.data import arrow_seeds
from ordo.data.csv_files import CsvError, CsvFormat
from ordo.data.seeds import Seed, read_seed
from ordo.data.tables import Target

COLUMNS = {
    "integers": ["1", "-2", "0", "123", "-0"],
    "leading zeros": ["01", "2"],
    "long integers": ["1234567890123456789", "1"],
    "too long for a decimal": ["1" * 39, "2"],
    "decimals": ["1.5", "-0.25", "3", "10.125"],
    "dot first": [".5", "1"],
    "dot last": ["5.", "1"],
    "two dots": ["1.2.3", "1"],
    "sign and dot": ["-.5", "1"],
    "plus": ["+1", "2"],
    "exponent": ["1e5", "2"],
    "sign alone": ["-", "2"],
    "booleans": ["true", "FALSE", "True"],
    "booleans and words": ["true", "yes"],
    "dates": ["2024-02-29", "2024-01-01", "9999-12-31"],
    "a day that is not": ["2024-01-01", "2023-02-29"],
    "year zero": ["2024-01-01", "0000-01-01"],
    "dates and a short one": ["2024-01-01", "2024-1-01"],
    "wide digits": ["2024-01-01", "２０２４-01-01"],
    "timestamps": ["2024-01-01T10:00:00", "2024-01-01 10:00", "2024-01-01T10:00:00.123456"],
    "zoned timestamps": ["2024-01-01T10:00:00+01:00", "2024-01-01 10:00Z"],
    "mixed zones": ["2024-01-01T10:00:00+01:00", "2024-01-01 10:00"],
    "a bad hour": ["2024-01-01T10:00:00", "2024-01-01T25:00:00"],
    "a date then a timestamp": ["2024-01-01", "2024-01-01T10:00"],
    "a timestamp then a date": ["2024-01-01T10:00", "2024-01-01"],
    "zone forms": ["2024-01-01T10:00+0100", "2024-01-01T10:00+01", "2024-01-01T10:00-00:00"],
    "odd zones": ["2024-01-01T10:00+01:00", "2024-01-01T10:00+01:60"],
    "a zone of 24 hours": ["2024-01-01T10:00+01:00", "2024-01-01T10:00+24:00"],
    "second 60": ["2024-01-01T10:00:00", "2024-01-01T23:59:60"],
    "timestamps in year zero": ["2024-01-01T10:00", "0000-01-01T10:00"],
    "seven digit fraction": ["2024-01-01T10:00:00.1234567", "2024-01-01T10:00"],
    "text": ["abc", "1"],
    "numbers then text": ["1", "abc"],
    "quoted": ['"a, b"', '"line\nbreak"', '"say ""hi"""', "plain"],
    "spaces": [" 1", "2 "],
    "unicode": ["Ä", "ß", "日本"],
}


def _write(path: Path, columns: dict[str, list[str]], rows: int, seed: int) -> Path:
    """A CSV of ``rows`` rows whose columns draw from the values given, with empty fields
    now and then; values are written as they are (quoted ones already are)."""
    rng = random.Random(seed)
    names = ["id", *columns]
    lines = [",".join(f'"{n}"' if "," in n else n for n in names)]
    for i in range(rows):
        fields = [str(i)]
        for values in columns.values():
            fields.append("" if rng.random() < 0.05 else values[rng.randrange(len(values))])
        lines.append(",".join(fields))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    return path


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> tuple[object, object]:
    """``read_seed`` by the standard library and by pyarrow: each its Seed or its error."""
    results = []
    for limit in (1 << 62, 0):
        monkeypatch.setattr(arrow_seeds, "MIN_BODY", limit)
        try:
            results.append(read_seed(path, Target("t"), **kwargs))  # type: ignore[arg-type]
        except CsvError as exc:
            results.append(exc)
    return results[0], results[1]


def _same(python: object, arrow: object, *, by_arrow: bool = True) -> None:
    """Equal results; ``by_arrow``: and the second came from pyarrow, not a fallback."""
    if isinstance(python, CsvError):
        assert isinstance(arrow, CsvError), arrow
        assert str(arrow) == str(python)
        return
    assert isinstance(python, Seed), python
    assert isinstance(arrow, Seed), arrow
    assert arrow.columns == python.columns
    assert arrow.values == python.values
    if by_arrow:
        assert isinstance(arrow.text, arrow_seeds.ArrowValues)


@pytest.mark.parametrize("name", list(COLUMNS))
def test_each_kind_of_column_is_typed_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = _write(tmp_path / "seed.csv", {name: COLUMNS[name]}, rows=300, seed=len(name))
    _same(*_both(path, monkeypatch))


@pytest.mark.parametrize("seed", range(5))
def test_random_mixes_of_columns_are_typed_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    picked = {name: COLUMNS[name] for name in rng.sample(list(COLUMNS), 8)}
    _same(*_both(_write(tmp_path / "seed.csv", picked, rows=500, seed=seed), monkeypatch))


def test_null_markers_and_kept_empty_strings_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = {"n": ["NA", "1", "2"], "e": ["", "x"], "d": ["NA", "2024-01-01"]}
    path = _write(tmp_path / "seed.csv", columns, rows=200, seed=3)
    for format in (
        CsvFormat(null_values=("NA",)),
        CsvFormat(null_values=("NA", "")),
        CsvFormat(keep_empty=True),
    ):
        _same(*_both(path, monkeypatch, format=format))


def test_declared_types_are_checked_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "seed.csv", {"a": ["1", "2"], "b": ["x", "12"]}, rows=100, seed=1)
    _same(*_both(path, monkeypatch, column_types={"a": "numeric(5,2)"}))
    _same(*_both(path, monkeypatch, column_types={"b": "integer"}))  # x does not fit: an error


@pytest.mark.parametrize(
    "body",
    [
        'x,"abc"def\n',  # text after a closing quote
        'x,"a" \n',  # a space after it
        'x,"abc\n',  # a quote never closed
        "x\n",  # a row too short
        "x,1,2\n",  # a row too long
        "x,1\n\ny,2\n",  # a blank line
        'x,"a\n\nb"\n',  # a blank line inside quotes: a value
        "x,a\x00b\n",  # a NUL
        "x,1\r\ny,2\r\n",  # Windows line ends
        'x,"a,""b"""\n',  # doubled quotes inside quotes
        'x,a"b\n',  # a quote inside an unquoted field
    ],
)
def test_odd_text_gives_the_same_rows_or_the_same_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    path = tmp_path / "seed.csv"
    path.write_text("id,v\n1,2\n" + body + "3,4\n", encoding="utf-8", newline="")
    _same(*_both(path, monkeypatch), by_arrow=False)  # some of these go back by design


def test_the_bench_file_reads_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows like ``bench/seed.py``'s: every kind at once, quoted text with commas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "amount", "active", "day", "created", "zoned", "zip", "note"])
    for i in range(2000):
        writer.writerow(
            [
                i,
                f"{i * 1.25:.2f}",
                i % 2 == 0,
                f"2024-01-{i % 28 + 1:02d}",
                f"2024-01-01T{i % 24:02d}:00:00",
                f"2024-02-01 10:{i % 60:02d}:00+01:00",
                f"{i:05d}",
                "a, quoted note" if i % 3 else "",
            ]
        )
    path = tmp_path / "seed.csv"
    path.write_text(out.getvalue().replace("True", "true").replace("False", "false"))
    python, arrow = _both(path, monkeypatch)
    _same(python, arrow)
    assert [c.type.kind.value for c in python.columns] == [  # type: ignore[union-attr]
        "integer",
        "decimal",
        "boolean",
        "date",
        "timestamp",
        "timestamptz",
        "text",
        "text",
    ]
