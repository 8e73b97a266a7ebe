"""What an ``output_file`` holds, value by value, on each database (issue 9, item 3).

JSON: json/jsonb and arrays are JSON values; exact numerics are JSON numbers written with the
database's own digits (``0.10`` stays ``0.10``), one type per column; intervals and times of
day are ISO 8601 text. CSV: json as JSON text, PostgreSQL arrays in PostgreSQL's own literal
form, NULL an empty unquoted field and ``''`` a quoted one (or ``null_marker``). Two columns
of one name are an error naming them, never a column silently dropped.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL

from ordo.errors import InvalidInput
from ordo.events import RunStatus
from ordo.runner.result import StepStatus
from tests.support.runs import make, run


def _manifest(sql: str, output: str, extra: str = "") -> str:
    return (
        "name: values\nsteps:\n  - name: report\n"
        f"    sql: {json.dumps(sql)}\n    output_file: {output}\n{extra}"
    )


def _output(tmp_path: Path, url: URL, sql: str, output: str, extra: str = "") -> str:
    root = make(tmp_path, url, _manifest(sql, output, extra))
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.step("report").error
    return (root / output).read_text(encoding="utf-8")


def _records(text: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(text, parse_float=Decimal)
    return records


@pytest.mark.postgres
def test_postgresql_json_values(tmp_path: Path, postgres_url: URL) -> None:
    sql = (
        "SELECT '{\"k\": [1, 2.50]}'::jsonb AS j, ARRAY[1, 2, 3] AS arr, "
        "ARRAY['a b', NULL] AS texts, 0.10::numeric AS n, "
        "interval '1 hour 30 minutes' AS i, time '12:34:56' AS t, "
        "timestamp '2024-01-02 03:04:05' AS ts, true AS b"
    )
    text = _output(tmp_path, postgres_url, sql, "out.json")
    (record,) = _records(text)
    assert record["j"] == {"k": [1, Decimal("2.50")]}
    assert record["arr"] == [1, 2, 3]
    assert record["texts"] == ["a b", None]
    assert '"n": 0.10' in text  # a number, its scale kept
    assert record["i"] == "PT1H30M"
    assert record["t"] == "12:34:56"
    assert record["ts"] == "2024-01-02T03:04:05"
    assert record["b"] is True


@pytest.mark.postgres
def test_postgresql_numerics_have_one_type_per_column(tmp_path: Path, postgres_url: URL) -> None:
    sql = "SELECT x FROM (VALUES (0.10::numeric), (0.1234567890123456789), (NULL)) v(x)"
    text = _output(tmp_path, postgres_url, sql, "out.json")
    assert [r["x"] for r in _records(text)] == [
        Decimal("0.10"),
        Decimal("0.1234567890123456789"),
        None,
    ]


@pytest.mark.postgres
def test_postgresql_csv_values(tmp_path: Path, postgres_url: URL) -> None:
    sql = (
        "SELECT '{\"k\": 1}'::jsonb AS j, ARRAY[1, 2, 3] AS arr, ARRAY['a b', NULL] AS texts, "
        "0.10::numeric AS n, NULL::text AS missing, ''::text AS empty, "
        "interval '1 hour 30 minutes' AS i, time '12:34:56' AS t, "
        "timestamp '2024-01-02 03:04:05' AS ts, true AS b"
    )
    text = _output(tmp_path, postgres_url, sql, "out.csv")
    assert text.splitlines() == [
        "j,arr,texts,n,missing,empty,i,t,ts,b",
        '"{""k"": 1}","{1,2,3}","{""a b"",NULL}",0.10,,"",PT1H30M,12:34:56,'
        "2024-01-02T03:04:05,true",
    ]


@pytest.mark.postgres
def test_postgresql_csv_of_a_statement_that_is_not_a_select(
    tmp_path: Path, postgres_url: URL
) -> None:
    """``INSERT ... RETURNING`` takes the fetching path: the same formats as ``COPY``."""
    root = make(
        tmp_path,
        postgres_url,
        "name: values\nsteps:\n"
        "  - name: make\n    sql: CREATE TABLE t (a int[], j jsonb, s text)\n"
        "  - name: report\n"
        "    sql: INSERT INTO t VALUES (ARRAY[1, 2], '[1]', '') RETURNING a, j, s, NULL AS z\n"
        "    output_file: out.csv\n",
    )
    assert run(root).status is RunStatus.SUCCESS
    assert (root / "out.csv").read_text(encoding="utf-8") == 'a,j,s,z\n"{1,2}",[1],"",\n'


def test_null_and_empty_text_are_told_apart_in_csv(tmp_path: Path, db_url: URL) -> None:
    sql = "SELECT NULL AS a, '' AS b, 'x' AS c"
    assert _output(tmp_path, db_url, sql, "out.csv") == 'a,b,c\n,"",x\n'


def test_a_null_marker_stands_for_null_in_csv(tmp_path: Path, db_url: URL) -> None:
    sql = "SELECT NULL AS a, '' AS b, 'NULL' AS c"
    text = _output(tmp_path, db_url, sql, "out.csv", "    null_marker: 'NULL'\n")
    assert text == 'a,b,c\nNULL,,"NULL"\n'


def test_a_single_null_column_is_an_empty_field(tmp_path: Path, db_url: URL) -> None:
    assert _output(tmp_path, db_url, "SELECT NULL AS a", "out.csv") == "a\n\n"


@pytest.mark.parametrize(  # SQLite has no exact numeric type
    "backend",
    [
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_exact_numerics_keep_their_scale(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db_url: URL = request.getfixturevalue(f"{backend}_url")
    sql = "SELECT CAST(0.10 AS DECIMAL(10,2)) AS n, CAST(2 AS DECIMAL(10,3)) AS m"
    assert '"n": 0.10, "m": 2.000' in _output(tmp_path, db_url, sql, "out.json")
    assert _output(tmp_path, db_url, sql, "again.csv").splitlines()[1] == "0.10,2.000"


@pytest.mark.mariadb
def test_mariadb_time_is_a_time_of_day(tmp_path: Path, mariadb_url: URL) -> None:
    sql = "SELECT CAST('12:34:56' AS TIME) AS t, CAST('838:59:59' AS TIME) AS long_t"
    (record,) = _records(_output(tmp_path, mariadb_url, sql, "out.json"))
    assert record == {"t": "12:34:56", "long_t": "838:59:59"}
    csv_text = _output(tmp_path, mariadb_url, sql, "again.csv")
    assert csv_text.splitlines()[1] == "12:34:56,838:59:59"


def test_duckdb_json_values(tmp_path: Path, duckdb_url: URL) -> None:
    sql = (
        "SELECT INTERVAL 90 MINUTE AS i, TIME '12:34:56' AS t, [1, 2] AS l, "
        "{'a': 1} AS s, '{\"a\": [1]}'::JSON AS j"
    )
    (record,) = _records(_output(tmp_path, duckdb_url, sql, "out.json"))
    assert record == {"i": "PT1H30M", "t": "12:34:56", "l": [1, 2], "s": {"a": 1}, "j": {"a": [1]}}


@pytest.mark.parametrize("output", ["out.csv", "out.json"])
def test_two_columns_of_one_name_are_an_error_naming_them(
    tmp_path: Path, db_url: URL, output: str
) -> None:
    root = make(tmp_path, db_url, _manifest("SELECT 1 AS a, 2 AS a, 3 AS b", output))
    result = run(root)
    assert result.status is RunStatus.FAILED
    step = result.step("report")
    assert step.status is StepStatus.FAILED
    error = step.error or ""
    assert "'a'" in error
    assert output in error
    assert "\n" not in error
    assert not (root / output).exists()
    assert list(root.rglob("*ordo-tmp*")) == []


@pytest.mark.parametrize(
    ("output", "marker", "words"),
    [("out.json", "NULL", "CSV output_file only"), ("out.csv", "a,b", "comma")],
)
def test_a_null_marker_that_cannot_work_is_refused_before_the_run(
    tmp_path: Path, sqlite_url: URL, output: str, marker: str, words: str
) -> None:
    root = make(
        tmp_path, sqlite_url, _manifest("SELECT 1 AS a", output, f"    null_marker: '{marker}'\n")
    )
    with pytest.raises(InvalidInput) as raised:
        run(root)
    assert words in str(raised.value)
    assert "null_marker" in str(raised.value)
