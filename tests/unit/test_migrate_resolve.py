"""Files against history, without a database: every validation and pending rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from ordo.migrations import MigrationError, MigrationFile, MigrationValidationError, Version
from ordo.migrations.files import checksum
from ordo.migrations.history import BASELINE, SQL, HistoryEntry
from ordo.migrations.resolve import current_version, resolve

WHEN = dt.datetime(2024, 5, 1, 12, 30)


def versioned(version: str, sql: str = "SELECT 1;", description: str = "step") -> MigrationFile:
    name = f"V{version}__{description.replace(' ', '_')}.sql"
    return MigrationFile(Path("m") / name, Version(version), description, checksum(sql), sql=sql)


def repeatable(description: str, sql: str = "SELECT 1;") -> MigrationFile:
    name = f"R__{description.replace(' ', '_')}.sql"
    return MigrationFile(Path("m") / name, None, description, checksum(sql), sql=sql)


def row(
    rank: int,
    migration: MigrationFile | None = None,
    *,
    version: str | None = None,
    type_: str = SQL,
    success: bool = True,
    checksum_: int | None = None,
) -> HistoryEntry:
    if migration is not None:
        version = migration.version.text if migration.version else None
    return HistoryEntry(
        installed_rank=rank,
        version_rank=rank,
        version=version,
        description=migration.description if migration else "<< Baseline >>",
        type=type_,
        script=migration.script if migration else "<< Baseline >>",
        checksum=checksum_
        if checksum_ is not None
        else (migration.checksum if migration else None),
        installed_by="me",
        installed_on=WHEN,
        execution_time=1,
        success=success,
    )


def scripts(files: tuple[MigrationFile, ...]) -> list[str]:
    return [m.script for m in files]


def test_nothing_applied_means_everything_pending_in_order() -> None:
    files = [versioned("1"), versioned("1.9"), versioned("1.10"), repeatable("views")]
    found = resolve(files, [])
    assert scripts(found.pending) == [m.script for m in files]
    assert found.problems == ()
    assert found.current_version is None


def test_applied_files_are_not_pending_and_current_version_is_as_written() -> None:
    v1, v2, v3 = versioned("001"), versioned("002"), versioned("003")
    found = resolve([v1, v2, v3], [row(1, v1), row(2, v2)])
    assert scripts(found.pending) == [v3.script]
    assert found.current_version == "002"
    assert len(found.applied) == 2


def test_a_changed_file_is_tampered() -> None:
    v1 = versioned("1", "SELECT 1;")
    edited = versioned("1", "SELECT 2;")
    found = resolve([edited], [row(1, v1)])
    (problem,) = found.problems
    assert "V1__step.sql" in problem.message
    assert "changed after it was applied" in problem.message
    assert problem.file == edited.path
    assert problem.hint is not None
    assert "ordo migrate repair" in problem.hint
    assert found.changed == ((row(1, v1), edited),)


def test_a_renamed_file_is_a_description_mismatch() -> None:
    v1 = versioned("1", description="create users")
    renamed = versioned("1", description="create people")
    (problem,) = resolve([renamed], [row(1, v1)]).problems
    assert "'create users'" in problem.message
    assert "V1__create_people.sql" in problem.message


def test_a_missing_file_is_reported_with_its_name() -> None:
    v1, v2 = versioned("1", description="first"), versioned("2")
    (problem,) = resolve([v2], [row(1, v1), row(2, v2)]).problems
    assert "V1__first.sql" in problem.message
    assert "missing" in problem.message


def test_a_new_file_below_the_current_version_is_out_of_order() -> None:
    v1, v2, v3 = versioned("1"), versioned("2"), versioned("3")
    found = resolve([v1, v2, v3], [row(1, v1), row(2, v3)])
    (problem,) = found.problems
    assert "V2__step.sql" in problem.message
    assert problem.hint is not None
    assert "--out-of-order" in problem.hint
    allowed = resolve([v1, v2, v3], [row(1, v1), row(2, v3)], out_of_order=True)
    assert allowed.problems == ()
    assert scripts(allowed.pending) == [v2.script]


def test_a_failed_entry_blocks_and_says_to_repair() -> None:
    v1, v2, v3 = versioned("1"), versioned("2"), versioned("3")
    found = resolve([v1, v2, v3], [row(1, v1), row(2, v2, success=False)])
    (problem,) = found.problems
    assert "V2" in problem.message
    assert "failed" in problem.message
    assert "2024-05-01 12:30" in problem.message
    assert problem.hint is not None
    assert "ordo migrate repair" in problem.hint
    assert problem.file == v2.path
    assert [e.installed_rank for e in found.failed] == [2]
    assert scripts(found.pending) == [v3.script]  # shown, but migrate refuses while failed
    assert found.current_version == "1"


def test_baseline_skips_files_at_or_below_it() -> None:
    files = [versioned("1"), versioned("2"), versioned("2.5"), versioned("3")]
    found = resolve(files, [row(1, version="2", type_=BASELINE)])
    assert [m.version.text for m in found.pending if m.version] == ["2.5", "3"]
    assert found.problems == ()
    assert found.current_version == "2"


def test_target_stops_at_that_version_but_repeatables_still_run() -> None:
    files = [versioned("1"), versioned("2"), versioned("3"), repeatable("views")]
    found = resolve(files, [], target=Version("2"))
    assert scripts(found.pending) == ["V1__step.sql", "V2__step.sql", "R__views.sql"]


def test_repeatables_run_when_new_or_changed_only() -> None:
    views, funcs = repeatable("views", "SELECT 1;"), repeatable("funcs", "SELECT 1;")
    history = [row(1, views), row(2, funcs)]
    assert resolve([funcs, views], history).pending == ()
    changed = repeatable("views", "SELECT 2;")
    assert scripts(resolve([funcs, changed], history).pending) == ["R__views.sql"]
    # the last successful run counts: changed back and forth
    history.append(row(3, changed))
    assert scripts(resolve([funcs, views], history).pending) == ["R__views.sql"]


def test_a_deleted_repeatable_is_not_a_problem() -> None:
    assert resolve([], [row(1, repeatable("views"))]).problems == ()


def test_script_only_renames_are_realigned_but_not_refused() -> None:
    v1 = versioned("001", description="x")
    same = MigrationFile(Path("m/V1__x.sql"), Version("1"), "x", v1.checksum, sql=v1.sql)
    found = resolve([same], [row(1, v1)])
    assert found.problems == ()
    assert found.pending == ()
    assert len(found.changed) == 1


def test_current_version_is_the_highest_not_the_latest() -> None:
    v1, v2, v3 = versioned("1"), versioned("1.5"), versioned("2")
    history = [row(1, v1), row(2, v3), row(3, v2), row(4, repeatable("r"))]
    entry = current_version(history)
    assert entry is not None
    assert entry.version == "2"


def test_gathered_errors_carry_every_problem() -> None:
    found = resolve([versioned("2")], [row(1, versioned("1")), row(2, versioned("2", "x"))])
    error = MigrationValidationError.gathering(found.problems)
    assert isinstance(error, MigrationError)
    assert len(error.problems) == 2
    text = str(error)
    assert "V1__step.sql" in text
    assert "V2__step.sql" in text
    assert "hint:" in text


@pytest.mark.parametrize("success", [True, False])
def test_failed_repeatables_are_not_pending(success: bool) -> None:
    views = repeatable("views", "SELECT 2;")
    history = [row(1, repeatable("views", "SELECT 1;"), success=success)]
    pending = resolve([views], history).pending
    assert scripts(pending) == (["R__views.sql"] if success else [])


def test_a_long_description_is_compared_as_the_history_holds_it() -> None:
    long = "add the columns " + "x" * 300
    v1 = versioned("1", description=long)
    views = repeatable("refresh " + "y" * 300)
    history = [
        dataclasses.replace(row(1, v1), description=long[:197] + "..."),
        dataclasses.replace(row(2, views), description=views.description[:197] + "..."),
    ]
    found = resolve([v1, views], history)
    assert found.problems == ()
    assert found.pending == ()
    assert found.changed == ()
    cut = [dataclasses.replace(history[0], description=long[:200]), history[1]]
    stale = resolve([v1, views], cut)  # a row written by an older ordo: cut, no "..."
    assert "was applied as" in stale.problems[0].message
    assert [m for _, m in stale.changed] == [v1]
