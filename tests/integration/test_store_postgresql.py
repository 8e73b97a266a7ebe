"""The PostgreSQL store: its schema, the search_path, lost connections and bad URLs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, inspect, text

from ordo.config import Settings
from ordo.store import StoreError, open_store
from ordo.store.base import PlannedTask, TaskOutcome, TaskStatus
from ordo.store.postgresql import PostgresStore
from ordo.store.schema import HISTORY_TABLE, metadata
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
    assert count == 3  # V1, V2 and V3, each once


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
