"""``ordo migrate`` runs Flyway's SQL callbacks at their moments, on PostgreSQL and MariaDB.

Files named ``beforeMigrate.sql``, ``afterEachMigrate.sql``, ... used to be passed over in
silence. Each callback here writes its name into a log table, so the table's rows show what
ran and in which order; the history holds the migrations only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text
from sqlalchemy.pool import NullPool

from tests.support.cli import Runner
from tests.support.project import database_env


def log(name: str) -> str:
    """A statement adding ``name`` as the next row of the log table."""
    return f"INSERT INTO cb_log (n, event) SELECT COUNT(*) + 1, '{name}' FROM cb_log;\n"


CALLBACKS = {
    f"{name}.sql": log(name)
    for name in (
        "beforeMigrate",
        "beforeEachMigrate",
        "afterEachMigrate",
        "afterVersioned",
        "beforeRepeatables",
        "afterMigrate",
        "afterMigrateApplied",
        "afterMigrateError",
        "afterEachMigrateError",
        "afterMigrateOperationFinish",
    )
}


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def server_url(request: pytest.FixtureRequest) -> URL:
    fixture = {"postgresql": "postgres_url", "mariadb": "mariadb_url"}[request.param]
    url: URL = request.getfixturevalue(fixture)
    return url


def project(root: Path, url: URL, files: dict[str, str]) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(database_env(url), encoding="utf-8")
    folder = root / "core" / "migrations" / "default"
    for name, sql in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(sql, encoding="utf-8")
    execute(url, "CREATE TABLE cb_log (n INT, event VARCHAR(100))")
    return root


def execute(url: URL, sql: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def rows(url: URL, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query))]
    finally:
        engine.dispose()


def logged(url: URL) -> list[str]:
    return [str(r[0]) for r in rows(url, "SELECT event FROM cb_log ORDER BY n")]


def history(url: URL) -> list[tuple[object, ...]]:
    query = "SELECT version, script, success FROM schema_version ORDER BY installed_rank"
    return [(v, s, bool(ok)) for v, s, ok in rows(url, query)]


def test_each_callback_runs_at_its_moment_and_is_not_recorded(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        **CALLBACKS,
        "beforeMigrate__second.sql": log("beforeMigrate second"),
        "V1__one.sql": log("V1"),
        "sub/V2__two.sql": log("V2"),
        "R__again.sql": log("R"),
        "beforeClean.sql": log("beforeClean"),  # a command ordo does not have: not run
    }
    root = project(tmp_path / "p", server_url, files)

    done = ordo_cli("migrate", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    each = ["beforeEachMigrate", "{}", "afterEachMigrate"]
    assert logged(server_url) == [
        "beforeMigrate",
        "beforeMigrate second",  # the one without a description first, as in Flyway
        *[e.format("V1") for e in each],
        *[e.format("V2") for e in each],
        "afterVersioned",
        "beforeRepeatables",
        *[e.format("R") for e in each],
        "afterMigrate",
        "afterMigrateApplied",
        "afterMigrateOperationFinish",
    ]
    assert history(server_url) == [
        ("1", "V1__one.sql", True),
        ("2", "sub/V2__two.sql", True),
        (None, "R__again.sql", True),
    ]
    assert "ignored" not in done.stderr  # callbacks are not taken for stray files
    assert "not running 1 callback" in done.stderr
    assert "beforeClean.sql" in done.stderr

    execute(server_url, "DELETE FROM cb_log")
    again = ordo_cli("migrate", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    # nothing pending: the migrate-wide ones still run, afterMigrateApplied does not
    assert logged(server_url) == [
        "beforeMigrate",
        "beforeMigrate second",
        "afterMigrate",
        "afterMigrateOperationFinish",
    ]
    assert len(history(server_url)) == 3


def test_a_failing_migration_runs_the_error_callbacks(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        **CALLBACKS,
        "V1__one.sql": log("V1"),
        "V2__fails.sql": log("V2") + "INSERT INTO no_such_table VALUES (1);\n",
        "V3__never.sql": log("V3"),
    }
    root = project(tmp_path / "p", server_url, files)

    done = ordo_cli("migrate", cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "migration V2 (V2__fails.sql) failed at statement 2" in done.stderr
    # V2's beforeEachMigrate and first row rolled back with its transaction
    assert logged(server_url) == [
        "beforeMigrate",
        "beforeEachMigrate",
        "V1",
        "afterEachMigrate",
        "afterEachMigrateError",
        "afterMigrateError",
        "afterMigrateOperationFinish",
    ]
    assert history(server_url)[0] == ("1", "V1__one.sql", True)
    assert ("3", "V3__never.sql", True) not in history(server_url)


def test_a_failing_callback_is_named_with_its_statement(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    fails = "INSERT INTO no_such_table VALUES (1);\n"
    files = {
        "beforeEachMigrate.sql": log("beforeEachMigrate") + fails,
        "afterMigrateError.sql": log("afterMigrateError"),
        "V1__one.sql": log("V1"),
    }
    root = project(tmp_path / "p", server_url, files)

    done = ordo_cli("migrate", cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert (
        "migration V1 (V1__one.sql) failed at callback beforeEachMigrate.sql statement 2 (line 2"
        in done.stderr
    )
    assert logged(server_url) == ["afterMigrateError"]  # the rest rolled back with V1
    assert ("1", "V1__one.sql", True) not in history(server_url)


def test_callbacks_of_a_migration_outside_a_transaction_run_around_it(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        "beforeEachMigrate.sql": log("beforeEachMigrate"),
        "afterEachMigrate.sql": log("afterEachMigrate"),
        "V1__outside.sql": "-- ordo:no-transaction\n" + log("V1"),
    }
    root = project(tmp_path / "p", server_url, files)

    done = ordo_cli("migrate", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert logged(server_url) == ["beforeEachMigrate", "V1", "afterEachMigrate"]
    assert history(server_url) == [("1", "V1__outside.sql", True)]


PREFIX = "DEVELOPMENT_GLOBAL_DEFAULT_"


def test_a_callbacks_placeholders_are_replaced_as_the_migrations_are(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    # Flyway replaces ${...} in callbacks too; run as written, '${team}' would be logged
    # literally: wrong data, silently.
    files = {
        "beforeMigrate.sql": log("${team}"),
        "V1__one.sql": "CREATE TABLE one (id INT);\n",
    }
    root = project(tmp_path / "p", server_url, files)
    with (root / "config" / ".env").open("a", encoding="utf-8") as env:
        env.write(f"{PREFIX}PLACEHOLDERS_TEAM=blue\n")
    done = ordo_cli("migrate", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert rows(server_url, "SELECT event FROM cb_log") == [("blue",)]


def test_a_callback_placeholder_without_a_value_refuses_before_anything_runs(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        "beforeMigrate.sql": log("${nobody}"),
        "V1__one.sql": "CREATE TABLE one (id INT);\n",
    }
    root = project(tmp_path / "p", server_url, files)
    done = ordo_cli("migrate", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr  # as for a migration's placeholder
    message = done.stdout + done.stderr
    assert "callback beforeMigrate.sql uses the placeholder ${nobody} on line 1" in message
    assert f"{PREFIX}PLACEHOLDERS_NOBODY" in message
    assert "Traceback" not in message
    assert rows(server_url, "SELECT event FROM cb_log") == []
    names = {r[0] for r in rows(server_url, _TABLES[server_url.get_backend_name()])}
    assert "one" not in names


_TABLES = {
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
    "mysql": "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
}


def test_validation_on_migrate_runs_its_callbacks_first(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    # Flyway's migrate validates through DbValidate, which fires these before beforeMigrate
    files = {
        **{f"{n}.sql": log(n) for n in ("beforeValidate", "afterValidate", "beforeMigrate")},
        "afterValidateError.sql": log("afterValidateError"),
        "V1__one.sql": log("V1"),
    }
    root = project(tmp_path / "p", server_url, files)

    done = ordo_cli("migrate", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert logged(server_url) == ["beforeValidate", "afterValidate", "beforeMigrate", "V1"]
    assert "not running" not in done.stderr

    execute(server_url, "DELETE FROM cb_log")
    (root / "core" / "migrations" / "default" / "V1__one.sql").write_text(log("edited"))
    refused = ordo_cli("migrate", cwd=root)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert logged(server_url) == ["beforeValidate", "afterValidateError"]


def test_repair_runs_its_callbacks_around_it(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        **{f"{n}.sql": log(n) for n in ("beforeRepair", "afterRepair", "afterRepairError")},
        "V1__one.sql": log("V1"),
    }
    root = project(tmp_path / "p", server_url, files)
    assert ordo_cli("migrate", cwd=root).returncode == 0
    (root / "core" / "migrations" / "default" / "V1__one.sql").write_text(log("edited"))
    execute(server_url, "DELETE FROM cb_log")

    done = ordo_cli("migrate", "repair", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "realigned: V1__one.sql" in done.stdout
    assert logged(server_url) == ["beforeRepair", "afterRepair"]
    assert "not running" not in done.stderr


def test_a_failing_repair_runs_after_repair_error(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        "afterRepair.sql": log("afterRepair"),
        "afterRepairError.sql": log("afterRepairError"),
        "V1__one.sql": log("V1"),
    }
    root = project(tmp_path / "p", server_url, files)
    assert ordo_cli("migrate", cwd=root).returncode == 0
    execute(server_url, "DROP TABLE cb_log")  # repair itself fails: its table is gone
    execute(server_url, "ALTER TABLE schema_version RENAME TO schema_gone")
    execute(server_url, "CREATE TABLE schema_version (x INT)")
    execute(server_url, "CREATE TABLE cb_log (n INT, event VARCHAR(100))")

    done = ordo_cli("migrate", "repair", cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert logged(server_url) == ["afterRepairError"]


def test_baseline_runs_its_callbacks_around_it(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    names = ("beforeBaseline", "afterBaseline", "afterBaselineError")
    files = {**{f"{n}.sql": log(n) for n in names}, "V1__one.sql": log("V1")}
    root = project(tmp_path / "p", server_url, files)

    done = ordo_cli("migrate", "baseline", "--version", "1", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert logged(server_url) == ["beforeBaseline", "afterBaseline"]
    assert "not running" not in done.stderr

    execute(server_url, "DELETE FROM cb_log")
    refused = ordo_cli("migrate", "baseline", "--version", "2", cwd=root)  # already at 1
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "cannot baseline at 2" in refused.stdout + refused.stderr
    assert logged(server_url) == ["beforeBaseline", "afterBaselineError"]


def test_status_runs_the_info_callbacks_and_writes_nothing_else(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        "beforeInfo.sql": log("beforeInfo ${team}"),
        "afterInfo.sql": log("afterInfo"),
        "afterInfoError.sql": log("afterInfoError"),
        "V1__one.sql": log("V1"),
    }
    root = project(tmp_path / "p", server_url, files)
    with (root / "config" / ".env").open("a", encoding="utf-8") as env:
        env.write(f"{PREFIX}PLACEHOLDERS_TEAM=blue\n")

    done = ordo_cli("migrate", "status", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "pending" in done.stdout
    assert logged(server_url) == ["beforeInfo blue", "afterInfo"]
    assert "not running" not in done.stderr
    names = {r[0] for r in rows(server_url, _TABLES[server_url.get_backend_name()])}
    assert names == {"cb_log"}  # no history table created, V1 not run


def test_status_on_a_read_only_connection_runs_no_callback_and_says_so(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {"beforeInfo.sql": log("beforeInfo"), "V1__one.sql": log("V1")}
    root = project(tmp_path / "p", server_url, files)
    with (root / "config" / ".env").open("a", encoding="utf-8") as env:
        env.write(f"{PREFIX}READ_ONLY=true\n")

    done = ordo_cli("migrate", "status", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert logged(server_url) == []
    assert "not running 1 callback of status (beforeInfo.sql)" in done.stderr
    assert "read-only" in done.stderr


@pytest.mark.postgres
def test_a_callbacks_copy_rows_go_through_copy(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    files = {
        "afterMigrate.sql": "COPY cb_log (n, event) FROM stdin;\n1\tcopied\n\\.\n",
        "V1__one.sql": "CREATE TABLE one (id INT);\n",
    }
    root = project(tmp_path / "p", postgres_url, files)
    done = ordo_cli("migrate", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert rows(postgres_url, "SELECT n, event FROM cb_log") == [(1, "copied")]


@pytest.mark.postgres
def test_a_callbacks_copy_without_its_end_refuses_before_anything_runs(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    files = {
        "afterMigrate.sql": "COPY cb_log (n, event) FROM stdin;\n1\tcopied\n",
        "V1__one.sql": "CREATE TABLE one (id INT);\n",
    }
    root = project(tmp_path / "p", postgres_url, files)
    done = ordo_cli("migrate", cwd=root)
    message = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in message
    [line] = [x for x in message.splitlines() if "afterMigrate.sql" in x]
    assert "afterMigrate.sql:1" in line
    assert "callback afterMigrate.sql" in line
    names = {r[0] for r in rows(postgres_url, _TABLES["postgresql"])}
    assert "one" not in names
