"""The PostgreSQL store: its own schema, set-up in one transaction, lost connections, bad URLs.

Most tests here get a fresh database of their own (``database``), since what they check is
what lands in ``public`` and in the default schema ``ordo``, which a shared database cannot
give each test alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import URL, create_engine, inspect, text

from ordo.config import Settings
from ordo.masking import Masker
from ordo.migrations import MigrationError, Migrator
from ordo.store import StoreError, open_store
from ordo.store.base import PlannedTask, TaskOutcome, TaskStatus
from ordo.store.postgresql import PostgresStore
from ordo.store.relational import SqlStore
from ordo.store.schema import HISTORY_TABLE, MIGRATIONS, metadata
from ordo.store.schema_setup import set_up
from tests.support.db import unique_name
from tests.support.net import closed_port

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_url: URL) -> Iterator[PostgresStore]:
    made = PostgresStore(postgres_url)
    yield made
    made.close()


def schema_of(url: URL) -> str:
    return str(url.query["options"]).removeprefix("-csearch_path=")


def test_tables_go_into_the_schema_of_the_search_path(
    store: PostgresStore, postgres_url: URL
) -> None:
    schema = schema_of(postgres_url)
    engine = create_engine(postgres_url.set(query={}))
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            tables = set(found.get_table_names(schema=schema))
            assert tables == {*metadata.tables, HISTORY_TABLE}
            for table in metadata.sorted_tables:
                columns = [c["name"] for c in found.get_columns(table.name, schema=schema)]
                assert columns == [c.name for c in table.columns], table.name
            history = conn.execute(
                text(f'SELECT version, script, success FROM "{schema}".{HISTORY_TABLE}')
            ).all()
            in_public = found.get_table_names(schema="public")
    finally:
        engine.dispose()
    assert history == [
        ("1", "V1__initial.sql", True),
        ("2", "V2__task_details.sql", True),
        ("3", "V3__run_owner.sql", True),
        ("4", "V4__service.sql", True),
        ("5", "V5__queue.sql", True),
        ("6", "V6__attempt_index.sql", True),
    ]
    assert "job_runs" not in in_public


def test_opening_again_applies_nothing(store: PostgresStore, postgres_url: URL) -> None:
    PostgresStore(postgres_url).close()
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            count = conn.execute(text(f"SELECT count(*) FROM {HISTORY_TABLE}")).scalar()
    finally:
        engine.dispose()
    assert count == len(list((MIGRATIONS / "postgresql").glob("V*.sql")))  # each once


def test_a_postgresql_url_in_the_settings_picks_this_store(
    postgres_url: URL, tmp_path: Path
) -> None:
    plain = postgres_url.set(drivername="postgresql").render_as_string(hide_password=False)
    store = open_store(Settings(values={"ORDO_STATE_URL": plain}, root=tmp_path), tmp_path)
    try:
        assert isinstance(store, PostgresStore)
        assert store.list_runs() == []
    finally:
        store.close()
    assert not (tmp_path / ".ordo").exists()


def test_writes_commit_without_waiting_for_the_disk(store: PostgresStore) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("SHOW synchronous_commit")).scalar() == "off"


def test_a_lost_connection_fails_one_write_and_the_next_reconnects(
    store: PostgresStore, postgres_url: URL
) -> None:
    job = store.record_job("p", "/m.yaml", "")
    store.start_run("r1", job, started_at=datetime.now(), manifest_text="", tasks=[])
    store.start_run(
        "r2", job, started_at=datetime.now(), manifest_text="", tasks=[PlannedTask("a", 1)]
    )
    admin = create_engine(postgres_url.set(query={}))
    try:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'ordo-state' AND pid <> pg_backend_pid() "
                    "AND query NOT ILIKE '%pg_terminate_backend%'"
                )
            )
            conn.commit()
    finally:
        admin.dispose()
    outcome = TaskOutcome("a", TaskStatus.COMPLETED, datetime.now(), rows=1)
    with pytest.raises(StoreError, match="could not write to the state store"):
        store.task_finished("r2", [outcome])
    store.task_finished("r2", [outcome])  # on a new connection
    assert store.get_run("r2").tasks[0].status is TaskStatus.COMPLETED


def test_an_unreachable_server_is_a_store_error_with_a_hint_and_no_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://ordo:Very-Secret-9@127.0.0.1:{closed_port()}/ordo"
    settings = Settings(values={"ORDO_STATE_URL": url}, root=tmp_path)
    with pytest.raises(StoreError) as caught:
        open_store(settings, tmp_path)
    error = caught.value
    assert "cannot open the state store at postgresql+psycopg://ordo:***@127.0.0.1" in (
        error.message
    )
    assert "ORDO_STATE_URL" in (error.hint or "")
    assert "Very-Secret-9" not in str(error)


# -- its own schema -------------------------------------------------------------------------

STORE_TABLES = {*metadata.tables, HISTORY_TABLE}


def admin(url: URL) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database,
        autocommit=True, connect_timeout=5,
    )  # fmt: skip


@pytest.fixture
def database(postgres_server: URL) -> Iterator[URL]:
    """A URL of a fresh database (its own ``public``, no ``ordo`` yet), dropped after."""
    name = unique_name()
    with admin(postgres_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield postgres_server.set(database=name)
    with admin(postgres_server) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def role(postgres_server: URL) -> Iterator[str]:
    """A login role with no privilege beyond PUBLIC's (no CREATE on any database)."""
    name = unique_name("ordo_role")
    with admin(postgres_server) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    yield name
    with admin(postgres_server) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def tables(url: URL, schema: str) -> set[str]:
    with admin(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
    return {name for (name,) in rows}


def schemas(url: URL) -> set[str]:
    with admin(url) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace").fetchall()
    return {name for (name,) in rows}


def record_a_run(store: SqlStore, run_id: str = "r1") -> None:
    job = store.record_job("p", "/m.yaml", "steps: []")
    store.start_run(
        run_id, job, started_at=datetime.now(), manifest_text="", tasks=[PlannedTask("a", 1)]
    )


def test_the_store_lives_in_schema_ordo_and_public_stays_empty(database: URL) -> None:
    store = PostgresStore(database)
    try:
        record_a_run(store)
        assert [run.id for run in store.list_runs()] == ["r1"]
    finally:
        store.close()
    assert tables(database, "ordo") == STORE_TABLES
    assert tables(database, "public") == set()


def test_a_users_own_tasks_table_in_public_works_and_is_untouched(database: URL) -> None:
    with admin(database) as conn:
        conn.execute("CREATE TABLE public.tasks (id INTEGER PRIMARY KEY, note TEXT)")
        conn.execute("INSERT INTO public.tasks VALUES (1, 'mine')")
    store = PostgresStore(database)
    try:
        record_a_run(store)
        assert store.get_run("r1").tasks[0].step == "a"
    finally:
        store.close()
    with admin(database) as conn:
        rows = conn.execute("SELECT * FROM public.tasks").fetchall()
    assert rows == [(1, "mine")]
    assert tables(database, "public") == {"tasks"}


def test_ordo_state_schema_names_the_schema_even_one_that_needs_quotes(
    database: URL, tmp_path: Path
) -> None:
    plain = database.render_as_string(hide_password=False)
    values = {"ORDO_STATE_URL": plain, "ORDO_STATE_SCHEMA": "Run History"}
    store = open_store(Settings(values=values, root=tmp_path), tmp_path)
    try:
        record_a_run(store)
    finally:
        store.close()
    assert tables(database, "Run History") == STORE_TABLES
    assert "ordo" not in schemas(database)


def test_a_set_up_failing_halfway_leaves_nothing_behind(postgres_url: URL) -> None:
    # The user's own job_runs in the store's schema: V1 creates job_definitions, then fails.
    schema = schema_of(postgres_url)
    with admin(postgres_url) as conn:
        conn.execute(sql.SQL("CREATE TABLE {}.job_runs (x INT)").format(sql.Identifier(schema)))
    with pytest.raises(StoreError, match="cannot open the state store"):
        PostgresStore(postgres_url)
    assert tables(postgres_url, schema) == {"job_runs"}  # no history table, no job_definitions


def test_a_failed_set_up_in_a_new_schema_takes_the_schema_back_too(
    database: URL, tmp_path: Path
) -> None:
    (tmp_path / "V1__fine.sql").write_text("CREATE TABLE fine (x INT);\n")
    (tmp_path / "V2__broken.sql").write_text("CREATE TABLE broken (x no_such_type);\n")
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(text("SET LOCAL search_path TO fresh"))  # as the store's connections
            with pytest.raises(MigrationError, match="V2"):
                set_up(conn, "fresh", tmp_path)
            transaction.rollback()
    finally:
        engine.dispose()
    assert "fresh" not in schemas(database)


def test_without_create_permission_it_says_what_to_ask_for_and_leaves_nothing(
    role: str, database: URL
) -> None:  # role first: it is dropped after the database that holds its objects
    as_role = database.set(username=role)
    with pytest.raises(StoreError) as caught:
        PostgresStore(as_role)
    assert "permission denied" in caught.value.message
    assert f"CREATE SCHEMA ordo AUTHORIZATION {role}" in (caught.value.hint or "")
    assert "ordo" not in schemas(database)
    # Once someone allowed makes the schema for it, the store sets itself up inside it.
    with admin(database) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA ordo AUTHORIZATION {}").format(sql.Identifier(role)))
    store = PostgresStore(as_role)
    try:
        record_a_run(store)
    finally:
        store.close()
    assert tables(database, "ordo") == STORE_TABLES


def test_a_store_an_earlier_ordo_made_in_public_moves_into_the_schema_with_its_history(
    database: URL,
) -> None:
    # What earlier versions did: the migrations and the tables on the URL's own search_path.
    old = SqlStore(create_engine(database), MIGRATIONS / "postgresql", where="old", masker=Masker())
    try:
        record_a_run(old, "before-the-upgrade")
    finally:
        old.close()
    assert tables(database, "public") == STORE_TABLES
    store = PostgresStore(database)
    try:
        assert [run.id for run in store.list_runs()] == ["before-the-upgrade"]
        record_a_run(store, "after-the-upgrade")
    finally:
        store.close()
    assert tables(database, "public") == set()
    assert tables(database, "ordo") == STORE_TABLES
    with admin(database) as conn:
        history = conn.execute(f"SELECT count(*) FROM ordo.{HISTORY_TABLE}").fetchone()
    assert history == (len(list((MIGRATIONS / "postgresql").glob("V*.sql"))),)


def test_the_empty_version_table_an_earlier_failed_set_up_left_in_public_is_dropped(
    database: URL,
) -> None:
    with admin(database) as conn:
        conn.execute("CREATE TABLE public.tasks (id INTEGER)")
    engine = create_engine(database)
    try:  # an earlier ordo: V1 failed on the user's tasks, its history table stayed
        with pytest.raises(MigrationError):
            Migrator(engine, MIGRATIONS / "postgresql", table=HISTORY_TABLE).migrate()
    finally:
        engine.dispose()
    assert tables(database, "public") == {"tasks", HISTORY_TABLE}
    PostgresStore(database).close()
    assert tables(database, "public") == {"tasks"}
    assert tables(database, "ordo") == STORE_TABLES


def test_stores_opened_at_once_on_a_new_database_all_set_it_up_once(database: URL) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            PostgresStore(database).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with admin(database) as conn:
        history = conn.execute(f"SELECT count(*) FROM ordo.{HISTORY_TABLE}").fetchone()
    assert history == (len(list((MIGRATIONS / "postgresql").glob("V*.sql"))),)
