"""The store's records, helpers and store choice, without a database."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ordo.config import Settings
from ordo.errors import ConfigError, InvalidInput
from ordo.store import MemoryStore, RunNotFound, open_store
from ordo.store.base import (
    RunDetail,
    RunRecord,
    RunState,
    TaskRecord,
    TaskStatus,
    manifest_hash,
    not_found,
    stored_utc,
    utc,
)
from ordo.store.factory import state_location

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def a_run(**changes: object) -> RunRecord:
    values: dict[str, object] = {
        "id": "3f2a" + "0" * 28,
        "job": "sales",
        "manifest_path": "/p/queue/manifest.yaml",
        "status": RunState.FAILED,
        "started_at": START,
        "completed_at": START + timedelta(seconds=90),
        "error": "step 'load': boom",
        "manifest_hash": "ab" * 32,
        "rehearsal": False,
        "resumed_from": None,
        "steps": 3,
        "completed": 1,
        "failed": 1,
        "skipped": 1,
    }
    values.update(changes)
    return RunRecord(**values)  # type: ignore[arg-type]


def test_the_manifest_hash_is_the_sha256_of_the_exact_text() -> None:
    text = "name: café\r\nsteps: []\n"
    assert manifest_hash(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert manifest_hash(text) != manifest_hash(text.replace("\r\n", "\n"))


def test_times_are_kept_in_utc() -> None:
    naive = datetime(2026, 6, 1, 12, 0)
    assert utc(naive) == naive.astimezone(UTC)  # naive means local time
    plus_two = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert utc(plus_two) == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert stored_utc(datetime(2026, 6, 1, 10, 0)) == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert stored_utc(None) is None


def test_a_run_knows_its_duration_and_renders_as_json() -> None:
    assert a_run().duration == 90.0
    assert a_run(completed_at=None, status=RunState.RUNNING).duration is None
    data = json.loads(json.dumps(a_run().as_dict()))
    assert data["status"] == "failed"
    assert data["pipeline"] == "sales"
    assert data["started_at"] == "2026-01-02T03:04:05+00:00"
    assert data["steps"] == {"total": 3, "completed": 1, "failed": 1, "skipped": 1}


def test_a_run_detail_renders_its_tasks_in_json() -> None:
    task = TaskRecord(
        id="t1",
        step="load",
        position=1,
        task_type="sql",
        unit_index=1,
        transaction_group=None,
        status=TaskStatus.COMPLETED,
        attempt_count=2,
        max_attempts=4,
        error=None,
        rows_affected=10,
        duration_ms=12.5,
        started_at=START,
        completed_at=START,
    )
    data = json.loads(json.dumps(RunDetail(a_run(), (task,), "name: x\n").as_dict()))
    assert data["tasks"][0]["status"] == "COMPLETED"
    assert data["tasks"][0]["attempts"] == 2
    assert "manifest_text" not in data


def test_an_unknown_or_ambiguous_id_is_invalid_input_naming_it() -> None:
    missing = not_found("zz9", [])
    assert isinstance(missing, InvalidInput)
    assert missing.exit_code == 2
    assert "zz9" in missing.message
    assert missing.hint
    ambiguous = not_found("3f", ["3f2a" + "0" * 28, "3f99" + "1" * 28])
    assert "ambiguous" in ambiguous.message
    assert "3f2a" in ambiguous.message
    assert isinstance(ambiguous, RunNotFound)


def test_statuses_read_as_the_seed_and_ordo_say_them() -> None:
    assert [s.value for s in TaskStatus] == [
        "PENDING",
        "RUNNING",
        "COMPLETED",
        "FAILED",
        "RETRYING",
        "SKIPPED",
    ]
    from ordo.events import RunStatus

    assert {s.value for s in RunStatus} | {"running", "crashed"} == {s.value for s in RunState}


def test_a_memory_url_picks_the_in_memory_store(tmp_path: Path) -> None:
    settings = Settings(values={"ORDO_STATE_URL": "memory://"}, root=tmp_path)
    assert isinstance(open_store(settings, tmp_path), MemoryStore)
    assert not (tmp_path / ".ordo").exists()


def test_a_malformed_url_is_a_config_error_that_does_not_echo_it(tmp_path: Path) -> None:
    settings = Settings(values={"ORDO_STATE_URL": "not a url :: pw=Secret-1"}, root=tmp_path)
    with pytest.raises(ConfigError) as caught:
        open_store(settings, tmp_path)
    assert "ORDO_STATE_URL" in caught.value.message
    assert "Secret-1" not in str(caught.value)


def test_a_database_that_cannot_hold_the_store_is_refused(tmp_path: Path) -> None:
    settings = Settings(values={"ORDO_STATE_URL": "mysql://u:Secret-1@h/db"}, root=tmp_path)
    with pytest.raises(ConfigError) as caught:
        open_store(settings, tmp_path)
    assert "mysql" in caught.value.message
    assert caught.value.hint
    assert "Secret-1" not in str(caught.value)


def test_the_location_shown_never_holds_a_password(tmp_path: Path) -> None:
    url = "postgresql://ordo:Secret-1@db.example/ordo"
    shown = state_location(Settings(values={"ORDO_STATE_URL": url}, root=tmp_path), tmp_path)
    assert "Secret-1" not in shown
    assert "db.example" in shown
    default = state_location(Settings(values={}, root=tmp_path), tmp_path)
    assert default == str(tmp_path / ".ordo" / "state.db")
