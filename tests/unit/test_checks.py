"""Checks without a database: what a manifest may write, thresholds, outcomes, and the SQL
each check becomes on SQL Server and Oracle (no server here: their compiled text is tested)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from ordo.checks.judging import CheckResult, judge_rows
from ordo.checks.model import Check, CheckBase
from ordo.checks.queries import Names, compile_check
from ordo.checks.thresholds import Threshold, parse_age, parse_threshold
from ordo.db.dialects import dialect_for
from ordo.subscribers._details import details_line

CHECK: TypeAdapter[Any] = TypeAdapter(Check)


def check(**fields: Any) -> CheckBase:
    made: CheckBase = CHECK.validate_python(fields)
    return made


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("> 10", Threshold(">", 10)),
        (">=1", Threshold(">=", 1)),
        ("!= 0", Threshold("!=", 0)),
        (5, Threshold(">", 5)),
        (" <  1_000 ", Threshold("<", 1000)),
    ],
)
def test_thresholds_are_read_as_written(text: object, expected: Threshold) -> None:
    assert parse_threshold(text) == expected


@pytest.mark.parametrize("text", ["10 >", "> ten", ">> 1", "", True, "> -1"])
def test_a_threshold_that_is_not_one_says_how_to_write_it(text: object) -> None:
    with pytest.raises(ValueError, match="threshold"):
        parse_threshold(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", dt.timedelta(hours=24)),
        ("1h30m", dt.timedelta(minutes=90)),
        ("2d", dt.timedelta(days=2)),
        ("90s", dt.timedelta(seconds=90)),
        (60, dt.timedelta(minutes=1)),
    ],
)
def test_ages(text: object, expected: dt.timedelta) -> None:
    assert parse_age(text) == expected


@pytest.mark.parametrize("text", ["24", "h", "1 week", "0h", "24h and more"])
def test_a_bad_age_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="age"):
        parse_age(text)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"type": "not_null", "table": "t"}, "exactly one of 'column' or 'columns'"),
        ({"type": "not_null", "table": "t", "column": "a", "columns": ["b"]}, "exactly one"),
        ({"type": "row_count", "table": "t"}, "'min', 'max' or 'equal_to'"),
        ({"type": "row_count", "table": "t", "min": 5, "max": 1}, "min 5 is more than max 1"),
        ({"type": "row_count", "table": "t", "min": 1, "mostly": 0.5}, "no failing rows"),
        ({"type": "range", "table": "t", "column": "a"}, "'min', 'max' or both"),
        ({"type": "accepted_values", "table": "t", "column": "a", "values": []}, "at least 1"),
        ({"type": "not_null", "table": "a b", "column": "x"}, "unexpected ' '"),
        ({"type": "not_null", "table": "t", "column": "a", "mostly": 0.9, "warn_if": 1}, "either"),
        ({"type": "sql", "sql": "SELECT 1", "where": "x"}, "no 'where'"),
        ({"type": "freshness", "table": "t", "column": "c", "max_age": "soon"}, "not an age"),
        (
            {"type": "freshness", "table": "t", "column": "c", "max_age": "1h", "timezone": "Mars"},
            "unknown time zone",
        ),
        ({"type": "not_null", "table": "t", "column": "a", "severity": "loud"}, "severity"),
        ({"type": "nul", "table": "t"}, "does not match any of the expected tags"),
    ],
)
def test_a_check_that_cannot_run_is_refused_with_why(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check(**fields)
    assert words in str(caught.value)


def test_outcomes_follow_the_thresholds() -> None:
    plain = check(type="not_null", table="t", column="a")
    assert judge_rows(plain, 0, 10)[0] == "pass"
    assert judge_rows(plain, 1, 10) == ("fail", "1 of 10 rows failing (10.00%)")
    mostly = check(type="not_null", table="t", column="a", mostly=0.9)
    assert judge_rows(mostly, 1, 10)[0] == "pass"
    assert judge_rows(mostly, 2, 10)[0] == "fail"
    assert judge_rows(mostly, 0, 0)[0] == "pass"  # an empty table: nothing fails
    graded = check(type="unique", table="t", column="a", warn_if="> 0", error_if="> 10")
    assert judge_rows(graded, 0, 100)[0] == "pass"
    assert judge_rows(graded, 5, 100) == ("warn", "5 of 100 rows failing (5.00%) (warn_if > 0)")
    assert judge_rows(graded, 11, 100)[0] == "fail"


@pytest.mark.parametrize(
    ("severity", "outcome", "effect"),
    [
        ("error", "fail", "failure"),
        ("error", "error", "failure"),
        ("error", "warn", "warning"),
        ("warn", "fail", "warning"),
        ("warn", "error", "warning"),
        ("info", "fail", "info"),
        ("error", "pass", None),
        ("info", "pass", None),
    ],
)
def test_severity_decides_what_a_finding_does(severity: Any, outcome: Any, effect: Any) -> None:
    result = CheckResult("c", "not_null", severity, outcome, "")
    assert result.effect == effect


NAMES = Names(table='"orders"', columns={"status": '"status"', "id": '"id"'})


def test_sql_server_samples_with_top_and_binds_nothing_raw() -> None:
    dialect = dialect_for("mssql")
    accepted = check(
        type="accepted_values", table="orders", column="status", values=["a'b", True, 3]
    )
    query = compile_check(accepted, NAMES, dialect)
    assert query.counts == (
        'SELECT COUNT(*) AS total_rows, COUNT(CASE WHEN "status" IS NOT NULL AND '
        "\"status\" NOT IN (N'a''b', 1, 3) THEN 1 END) AS failing_rows FROM \"orders\""
    )
    assert query.failing_rows is not None
    assert dialect.limit_rows(query.failing_rows, 5).startswith("SELECT TOP (5) * FROM (SELECT")


def test_oracle_samples_with_fetch_first_and_its_own_literals() -> None:
    dialect = dialect_for("oracle")
    ranged = check(type="range", table="orders", column="id", min=dt.date(2024, 1, 1))
    query = compile_check(ranged, NAMES, dialect)
    assert "\"id\" < DATE '2024-01-01'" in query.counts
    assert " AS " not in query.counts.split("FROM", 1)[1]  # Oracle: no AS before an alias
    assert query.failing_rows is not None
    assert dialect.limit_rows(query.failing_rows, 3).endswith("FETCH FIRST 3 ROWS ONLY")
    unique = compile_check(check(type="unique", table="orders", column="id"), NAMES, dialect)
    assert ") totals CROSS JOIN (" in unique.counts


def test_the_details_line_leaves_the_records_to_the_store() -> None:
    line = details_line({"passed": 2, "failed": 1, "checks": [{"name": "a"}, {"name": "b"}]})
    assert line == "passed=2 failed=1"
