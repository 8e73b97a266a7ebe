"""Flyway's ``${placeholder}`` rules (issue 10, item 8): values, built-ins, the missing-value
error, which checksum each kind of migration keeps, and the switch that turns it off.

Before, ``'${flyway:user}'`` ran literally and nothing complained about ``${unknown}``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pytest

from ordo.config.connections import resolve as resolve_connection
from ordo.migrations.files import MigrationFile, checksum, parse_name, read_migration
from ordo.migrations.placeholders import Placeholders

NOW = datetime(2026, 1, 2, 3, 4, 5)
DB = {"flyway:user": "alice", "flyway:database": "shop", "flyway:defaultSchema": "app"}


def migration(tmp_path: Path, name: str, sql: str) -> MigrationFile:
    path = tmp_path / name
    path.write_text(sql, encoding="utf-8")
    parsed = parse_name(name)
    assert parsed is not None
    return read_migration(path, *parsed)


def never() -> Mapping[str, str]:
    raise AssertionError("the database was asked though no file needs it")


def test_values_and_built_ins_are_replaced_names_ignoring_case(tmp_path: Path) -> None:
    sql = (
        "INSERT INTO t VALUES ('${Owner}', '${flyway:user}', '${flyway:database}',\n"
        "  '${flyway:defaultSchema}', '${flyway:table}', '${flyway:filename}',"
        " '${flyway:timestamp}');\n"
    )
    file = migration(tmp_path, "V1__seed.sql", sql)
    [done], problems = Placeholders({"owner": "bob"}).apply(
        [file], table="schema_version", database=lambda: DB, now=NOW
    )
    assert problems == []
    assert done.sql == (
        "INSERT INTO t VALUES ('bob', 'alice', 'shop',\n"
        "  'app', 'schema_version', 'V1__seed.sql', '2026-01-02 03:04:05');\n"
    )


def test_the_database_is_asked_only_when_a_file_uses_its_built_ins(tmp_path: Path) -> None:
    file = migration(tmp_path, "V1__t.sql", "CREATE TABLE ${flyway:table}_copy (x INT);\n")
    [done], problems = Placeholders().apply([file], table="h", database=never)
    assert (done.sql, problems) == ("CREATE TABLE h_copy (x INT);\n", [])


def test_a_placeholder_without_a_value_names_file_line_and_name(tmp_path: Path) -> None:
    sql = "CREATE TABLE a (x INT);\n-- owned by ${team}\nGRANT SELECT ON a TO ${team};\n"
    file = migration(tmp_path, "V2__grant.sql", sql)
    placeholders = Placeholders(setting="DEVELOPMENT_GLOBAL_WH_PLACEHOLDERS_")
    [kept], problems = placeholders.apply([file], table="h", database=never)
    assert kept.sql == sql  # kept as written: it must not run
    [problem] = problems  # one per name, at its first use (a comment counts, as in Flyway)
    assert problem.message == (
        "migration V2 (V2__grant.sql) uses the placeholder ${team} on line 2, which has no value"
    )
    assert (problem.file, problem.line) == (file.path, 2)
    assert problem.hint is not None
    assert "DEVELOPMENT_GLOBAL_WH_PLACEHOLDERS_TEAM" in problem.hint
    assert placeholders.check([file]) == problems  # the plan finds it without a database


def test_an_unknown_built_in_lists_the_known_ones(tmp_path: Path) -> None:
    file = migration(tmp_path, "V1__x.sql", "SELECT '${flyway:workingDirectory}';\n")
    [problem] = Placeholders().check([file])
    assert problem.hint is not None
    assert "${flyway:user}" in problem.hint


def test_a_versioned_checksum_is_the_file_as_written_a_repeatable_the_replaced_text(
    tmp_path: Path,
) -> None:
    versioned = migration(tmp_path, "V1__v.sql", "SELECT '${label}';\n")
    repeatable = migration(tmp_path, "R__r.sql", "SELECT '${label}';\n")
    raw = checksum("SELECT '${label}';\n")
    for value in ("one", "two"):
        done, problems = Placeholders({"label": value}).apply(
            [versioned, repeatable], table="h", database=never
        )
        assert problems == []
        assert done[0].checksum == raw == versioned.checksum
        assert done[1].checksum == checksum(f"SELECT '{value}';\n") != raw


def test_replacement_switched_off_runs_the_files_as_written(tmp_path: Path) -> None:
    file = migration(tmp_path, "R__r.sql", "SELECT '${missing}', '${flyway:user}';\n")
    off = Placeholders().overridden({"x": "1"}, enabled=False)
    [done], problems = off.apply([file], table="h", database=never)
    assert (done, problems) == (file, [])
    assert off.check([file]) == []


def test_a_steps_values_win_over_the_connections() -> None:
    merged = Placeholders({"a": "1", "b": "2"}, enabled=False).overridden({"b": "3"})
    assert (dict(merged.values), merged.enabled) == ({"a": "1", "b": "3"}, False)


def test_connection_settings_give_placeholders_and_the_switch(tmp_path: Path) -> None:
    values = {
        "DEVELOPMENT_GLOBAL_WH_CONNECTION_STRING": "sqlite:///:memory:",
        "DEVELOPMENT_GLOBAL_WH_PLACEHOLDERS_OWNER": "bob",
        "DEVELOPMENT_GLOBAL_WH_PLACEHOLDERS_EMPTY": "",
        "DEVELOPMENT_GLOBAL_OTHER_PLACEHOLDERS_OWNER": "carol",
    }
    wh = resolve_connection(values, "development", "wh", tmp_path)
    assert dict(wh.placeholders) == {"owner": "bob", "empty": ""}
    assert wh.placeholder_replacement is True
    values["DEVELOPMENT_GLOBAL_WH_MIGRATIONS_PLACEHOLDER_REPLACEMENT"] = "false"
    off = resolve_connection(values, "development", "wh", tmp_path)
    assert off.placeholder_replacement is False


@pytest.mark.parametrize("name", ["V1__x.sql", "R__x.sql"])
def test_a_file_without_placeholders_is_unchanged(tmp_path: Path, name: str) -> None:
    file = migration(tmp_path, name, "SELECT '$' || '{not one' , '$$';\n")
    [done], problems = Placeholders().apply([file], table="h", database=never)
    assert (done.sql, done.checksum, problems) == (file.sql, file.checksum, [])
