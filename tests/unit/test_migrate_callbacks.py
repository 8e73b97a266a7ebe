"""Flyway's SQL callback files: how they are named, found and ordered, and that the migration
scan knows them (they used to be warned about as stray files, or passed over in silence)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ordo.migrations.callbacks import Event, callback_event, discover_callbacks
from ordo.migrations.errors import MigrationFilesInvalid
from ordo.migrations.files import scan


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("name", "event"),
    [
        ("beforeMigrate.sql", Event.BEFORE_MIGRATE),
        ("beforeMigrate__refresh_views.sql", Event.BEFORE_MIGRATE),
        ("afterEachMigrateError.sql", Event.AFTER_EACH_MIGRATE_ERROR),
        ("afterMigrateApplied.SQL", Event.AFTER_MIGRATE_APPLIED),
        ("beforeEachMigrateStatement.sql", "beforeEachMigrateStatement"),  # known, not run
        ("afterRepair__x.sql", Event.AFTER_REPAIR),  # repair's: run since it has them
        ("beforeInfo.sql", Event.BEFORE_INFO),
        ("beforeClean.sql", "beforeClean"),  # ordo has no clean: known, not run
        ("beforemigrate.sql", None),  # Flyway's ids are case-sensitive
        ("beforeMigrate.txt", None),
        ("beforeMigrateX.sql", None),
        ("V1__beforeMigrate.sql", None),
    ],
)
def test_a_callback_is_named_by_its_event(name: str, event: Event | str | None) -> None:
    assert callback_event(name) == event


def test_callbacks_run_by_event_then_without_description_first(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {
            "afterMigrate.sql": "SELECT 1;",
            "beforeMigrate__b.sql": "SELECT 1;",
            "sub/beforeMigrate__a.sql": "SELECT 1;",
            "beforeMigrate.sql": "\ufeffSELECT 1;",
            "V1__one.sql": "SELECT 1;",
        },
    )
    found = discover_callbacks(folder).found
    assert [(c.event, c.description, c.script) for c in found] == [
        (Event.BEFORE_MIGRATE, None, "beforeMigrate.sql"),
        (Event.BEFORE_MIGRATE, "a", "sub/beforeMigrate__a.sql"),
        (Event.BEFORE_MIGRATE, "b", "beforeMigrate__b.sql"),
        (Event.AFTER_MIGRATE, None, "afterMigrate.sql"),
    ]
    assert found[0].sql == "SELECT 1;"  # the BOM left out


def test_two_callbacks_of_one_name_are_refused(tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"afterMigrate.sql": "SELECT 1;", "x/afterMigrate.sql": ""})
    with pytest.raises(MigrationFilesInvalid, match=r"afterMigrate\.sql, x/afterMigrate\.sql"):
        discover_callbacks(folder)


def test_callbacks_ordo_does_not_run_are_named_in_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write(tmp_path / "m", {"beforeClean.sql": "", "afterEachMigrateStatement.sql": ""})
    with caplog.at_level(logging.WARNING, logger="ordo"):
        assert discover_callbacks(folder).found == ()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "not running 2 callbacks" in warnings[0]
    assert "afterEachMigrateStatement.sql, beforeClean.sql" in warnings[0]


def test_the_migration_scan_neither_runs_nor_warns_about_callbacks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write(
        tmp_path / "m",
        {"V1__one.sql": "SELECT 1;", "afterMigrate.sql": "SELECT 1;", "beforeInfo.sql": ""},
    )
    with caplog.at_level(logging.WARNING, logger="ordo"):
        files, problems = scan(folder)
    assert [m.script for m in files] == ["V1__one.sql"]
    assert problems == []
    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []
