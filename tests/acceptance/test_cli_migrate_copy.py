"""``ordo migrate`` applies pg_dump-style files on PostgreSQL: ``COPY ... FROM stdin`` with
its rows inline up to a ``\\.`` line, sent through the driver's COPY, between ordinary
statements. Before, the rows were sent as SQL and the error shown was a follow-on ("another
command is already in progress") after a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text
from sqlalchemy.pool import NullPool

from tests.support.cli import Runner

pytestmark = pytest.mark.postgres

DUMP = (
    "--\n"
    "-- PostgreSQL database dump\n"
    "--\n"
    "SET statement_timeout = 0;\n"
    "SET client_encoding = 'UTF8';\n"
    "\n"
    "CREATE TABLE item (\n"
    "    id integer NOT NULL,\n"
    "    name text,\n"
    "    note text\n"
    ");\n"
    "\n"
    "CREATE TABLE tag (id integer, label text);\n"
    "\n"
    "--\n"
    "-- Data for Name: item; Type: TABLE DATA; Owner: -\n"
    "--\n"
    "\n"
    "COPY item (id, name, note) FROM stdin;\n"
    "1\tfirst\t\\N\n"
    "2\ttab\\there\tit's; not -- SQL\n"
    '3\t$$\t/* "\n'
    "\\.\n"
    "\n"
    "\n"
    "COPY tag (id, label) FROM stdin;\n"
    "1\tred\n"
    "\\.\n"
    "\n"
    "ALTER TABLE ONLY item\n"
    "    ADD CONSTRAINT item_pkey PRIMARY KEY (id);\n"
)


def project(tmp_path: Path, url: URL, files: dict[str, str]) -> Path:
    root = tmp_path / "p"
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(
        f"DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING={url.render_as_string(hide_password=False)}\n"
    )
    folder = root / "core" / "migrations" / "app"
    folder.mkdir(parents=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return root


def read(url: URL, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_a_pg_dump_style_file_applies(ordo_cli: Runner, tmp_path: Path, postgres_url: URL) -> None:
    files = {"V1__dump.sql": DUMP, "V2__more.sql": "INSERT INTO tag VALUES (2, 'blue');\n"}
    root = project(tmp_path, postgres_url, files)
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied 2 migrations" in done.stdout
    assert read(postgres_url, "SELECT id, name, note FROM item ORDER BY id") == [
        (1, "first", None),
        (2, "tab\there", "it's; not -- SQL"),
        (3, "$$", '/* "'),
    ]
    assert read(postgres_url, "SELECT id, label FROM tag ORDER BY id") == [(1, "red"), (2, "blue")]
    assert read(
        postgres_url,
        "SELECT count(*) FROM pg_constraint WHERE conname = 'item_pkey'",
    ) == [(1,)]
    again = ordo_cli("migrate", "app", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "up to date" in again.stdout


def test_a_copy_without_its_terminator_is_one_line_naming_file_and_line(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    files = {
        "V1__first.sql": "CREATE TABLE first (a int);\n",
        "V2__broken.sql": (
            "CREATE TABLE t (a int, b text);\n"
            "COPY t (a, b) FROM stdin;\n"
            "1\tx\n"
            "ALTER TABLE t ADD c int;\n"
        ),
    }
    root = project(tmp_path, postgres_url, files)
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, done.stderr
    assert "V2__broken.sql:2:" in errors[0]
    assert "COPY t (a, b) FROM stdin" in errors[0]
    assert "\\." in errors[0]
    assert "Traceback" not in done.stderr
    assert "another command" not in done.stderr
    assert read(postgres_url, "SELECT count(*) FROM pg_tables WHERE tablename = 'first'") == [
        (0,)
    ]  # refused before anything ran


def test_a_bad_row_names_the_copy_and_keeps_nothing(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    files = {
        "V1__bad_row.sql": (
            "CREATE TABLE t (a int);\nCOPY t (a) FROM stdin;\n1\nnot a number\n\\.\n"
        )
    }
    root = project(tmp_path, postgres_url, files)
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode != 0
    assert "statement 2 (line 2: COPY t (a) FROM stdin)" in done.stderr
    assert "invalid input syntax for type integer" in done.stderr
    assert "Traceback" not in done.stderr
    in_schema = (
        "SELECT count(*) FROM pg_tables WHERE tablename = 't' AND schemaname = current_schema()"
    )
    assert read(postgres_url, in_schema) == [(0,)]


def test_rows_also_load_in_a_file_run_outside_a_transaction(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    files = {
        "V1__loose.sql": (
            "-- ordo:no-transaction\n"
            "CREATE TABLE t (a int, b text);\n"
            "COPY t (a, b) FROM stdin;\n"
            "1\tone\n"
            "2\t\\N\n"
            "\\.\n"
            "CREATE INDEX CONCURRENTLY t_a ON t (a);\n"
        )
    }
    root = project(tmp_path, postgres_url, files)
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert read(postgres_url, "SELECT a, b FROM t ORDER BY a") == [(1, "one"), (2, None)]
