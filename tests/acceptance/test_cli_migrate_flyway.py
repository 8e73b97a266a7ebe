"""``ordo migrate`` takes over a database Flyway migrated, on PostgreSQL and MariaDB.

The test builds Flyway's history table with Flyway's own DDL (``createMetaDataTable.sql`` of
Flyway 5+, for each database) and inserts two rows as Flyway's ``JdbcTableSchemaHistory``
writes them, checksums computed as Flyway does (CRC32 over the UTF-8 bytes of each line,
line breaks left out, as a signed 32-bit int). ordo then sees both as applied, applies only
the third file, and writes its row in Flyway's format, so Flyway can still read the table.

Before, ordo looked only for its configured table (``schema_version``): status showed all
three files pending and ``migrate`` created a second, empty history in Pyway's layout and
ran V1 again (``relation "a" already exists``). A table of another name with Flyway's layout
(Flyway 4 used ``schema_version``) was read as Pyway's and failed on ``version_rank``.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from tests.support.cli import Runner

FILES = {
    "V1__create_a.sql": "CREATE TABLE a (id INT);\n",
    "V2__create_b.sql": "CREATE TABLE b (id INT);\nINSERT INTO b VALUES (1);\n",
    "V3__create_c.sql": "CREATE TABLE c (id INT);\n",
}

POSTGRES_DDL = """
CREATE TABLE "{table}" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "{table}_s_idx" ON "{table}" ("success");
"""

MARIADB_DDL = """
CREATE TABLE `{table}` (
    `installed_rank` INT NOT NULL,
    `version` VARCHAR(50),
    `description` VARCHAR(200) NOT NULL,
    `type` VARCHAR(20) NOT NULL,
    `script` VARCHAR(1000) NOT NULL,
    `checksum` INT,
    `installed_by` VARCHAR(100) NOT NULL,
    `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    `execution_time` INT NOT NULL,
    `success` BOOL NOT NULL,
    CONSTRAINT `{table}_pk` PRIMARY KEY (`installed_rank`)
) ENGINE=InnoDB;
CREATE INDEX `{table}_s_idx` ON `{table}` (`success`);
"""

FLYWAY_COLUMNS = [
    "installed_rank",
    "version",
    "description",
    "type",
    "script",
    "checksum",
    "installed_by",
    "installed_on",
    "execution_time",
    "success",
]


def flyway_checksum(sql: str) -> int:
    """Flyway's ChecksumCalculator: CRC32 of each line's bytes, without line breaks, signed."""
    crc = 0
    for line in sql.splitlines():
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def run(url: URL, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def flyway_database(url: URL, table: str) -> None:
    """What two Flyway runs leave: V1 and V2 applied, their rows as Flyway inserts them."""
    ddl = POSTGRES_DDL if url.get_backend_name() == "postgresql" else MARIADB_DDL
    for statement in ddl.format(table=table).split(";"):
        if statement.strip():
            run(url, statement)
    run(url, "CREATE TABLE a (id INT)")
    run(url, "CREATE TABLE b (id INT)")
    run(url, "INSERT INTO b VALUES (1)")
    quote = '"' if url.get_backend_name() == "postgresql" else "`"
    columns = ", ".join(
        f"{quote}{c}{quote}" for c in FLYWAY_COLUMNS if c != "installed_on"
    )  # Flyway leaves installed_on to the column's default
    for rank, (script, sql) in enumerate(list(FILES.items())[:2], start=1):
        version, description = script.removesuffix(".sql")[1:].split("__")
        run(
            url,
            f"INSERT INTO {quote}{table}{quote} ({columns}) VALUES "
            "(:rank, :version, :description, 'SQL', :script, :checksum, :user, 12, :success)",
            rank=rank,
            version=version,
            description=description.replace("_", " "),
            script=script,
            checksum=flyway_checksum(sql),
            user=url.username,
            success=True,
        )


def project(tmp_path: Path, url: URL, env: str = "") -> Path:
    root = tmp_path / "p"
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(
        f"DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING={url.render_as_string(hide_password=False)}\n"
        + env
    )
    folder = root / "core" / "migrations" / "app"
    folder.mkdir(parents=True)
    for name, sql in FILES.items():
        (folder / name).write_text(sql)
    return root


def tables(url: URL) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def columns(url: URL, table: str) -> list[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [c["name"] for c in inspect(conn).get_columns(table)]
    finally:
        engine.dispose()


@pytest.fixture(
    params=[
        pytest.param("postgres_url", marks=pytest.mark.postgres, id="postgresql"),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb, id="mariadb"),
    ]
)
def server_url(request: pytest.FixtureRequest) -> URL:
    url: URL = request.getfixturevalue(request.param)
    return url


@pytest.mark.parametrize(
    ("table", "env"),
    [
        ("flyway_schema_history", ""),  # found by Flyway's default name, nothing configured
        ("old_history", "DEVELOPMENT_GLOBAL_APP_MIGRATIONS_TABLE=old_history\n"),
    ],
    ids=["default-name", "configured-name"],
)
def test_ordo_takes_over_a_flyway_history(
    ordo_cli: Runner, tmp_path: Path, server_url: URL, table: str, env: str
) -> None:
    flyway_database(server_url, table)
    root = project(tmp_path, server_url, env)

    status = ordo_cli("migrate", "status", "app", cwd=root)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Current version: 2" in status.stdout
    rows_shown = [line for line in status.stdout.splitlines() if ".sql" in line]
    lines = {line.split("│")[3].strip(): line for line in rows_shown}
    assert "applied" in lines["V1__create_a.sql"]
    assert "applied" in lines["V2__create_b.sql"]
    assert "pending" in lines["V3__create_c.sql"]

    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied 1 migration: 2 -> 3" in done.stdout
    assert "c" in tables(server_url)
    assert run(server_url, "SELECT count(*) FROM b") == [(1,)]  # V2 did not run again

    # the row is Flyway's, in Flyway's table, and the table kept Flyway's layout
    assert columns(server_url, table) == FLYWAY_COLUMNS
    assert "schema_version" not in tables(server_url)
    rows = run(
        server_url,
        f"SELECT installed_rank, version, description, type, script, checksum, installed_by, "
        f"success FROM {table} ORDER BY installed_rank",
    )
    assert [r[:3] for r in rows] == [
        (1, "1", "create a"),
        (2, "2", "create b"),
        (3, "3", "create c"),
    ]
    assert rows[2][3:7] == (
        "SQL",
        "V3__create_c.sql",
        flyway_checksum(FILES["V3__create_c.sql"]),
        server_url.username,
    )
    assert bool(rows[2][7]) is True
    installed_on = run(server_url, f"SELECT installed_on FROM {table} WHERE installed_rank = 3")
    assert installed_on[0][0] is not None

    again = ordo_cli("migrate", "app", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "up to date at version 3" in again.stdout


def test_flyways_schema_row_is_shown_as_what_it_is(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    # Flyway writes a rank-0 SCHEMA row for the schemas it created: no migration, never a
    # repeatable ("R") one, and nothing for ordo to run or to miss.
    flyway_database(server_url, "flyway_schema_history")
    run(
        server_url,
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, "
        "checksum, installed_by, execution_time, success) VALUES (0, NULL, "
        "'<< Flyway Schema Creation >>', 'SCHEMA', 'app', NULL, :user, 0, :ok)",
        user=server_url.username,
        ok=True,
    )
    root = project(tmp_path, server_url)
    status = ordo_cli("migrate", "status", "app", cwd=root)
    assert status.returncode == 0, status.stdout + status.stderr
    [line] = [line for line in status.stdout.splitlines() if "Flyway Schema Creation" in line]
    assert line.split("│")[1].strip() == ""  # no version, and not "R"
    assert "schema (recorded by Flyway, not run by ordo)" in " ".join(line.split())
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied 1 migration: 2 -> 3" in done.stdout
