"""Health and pool status (seed 001) of working, slow, unreachable and busy databases.

Misbehaving databases are real sockets on 127.0.0.1: ``TcpProxy`` relays to PostgreSQL with
every answer held back (slow), closes the first connections (a server restarting), or accepts
and never answers (a dead address behind a firewall that still completes the handshake).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL

from ordo.api.database_manager import DatabaseManager
from tests.support.managers import PASSWORD, manager_for, with_password
from tests.support.net import TcpProxy, closed_port
from tests.support.seeds import HEALTH_KEYS, POOL_KEYS


def assert_seed_shape(report: dict[str, Any]) -> None:
    keys = set(report)
    assert keys in (HEALTH_KEYS, HEALTH_KEYS | {"error"}), keys
    assert set(report["migration_status"]) == {"current_version", "pending_migrations"}
    assert report["status"] in ("healthy", "degraded", "unhealthy")
    assert isinstance(report["response_time_ms"], float)
    assert report["timestamp"].endswith("Z")
    if "error" in report:
        assert PASSWORD not in report["error"]
    assert PASSWORD not in repr(report)


@pytest.fixture
def manager(tmp_path: Path, db_url: URL) -> Iterator[DatabaseManager]:
    with manager_for(tmp_path, with_password(db_url)) as db:
        yield db


# -- working ---------------------------------------------------------------------------------


def test_working_database_is_healthy(manager: DatabaseManager) -> None:
    report = manager.health_check()
    assert_seed_shape(report)
    assert report["status"] == "healthy", report
    assert report["connection"] is True
    assert report["query_test"] is True
    assert "error" not in report
    assert report["database_name"] == "t"
    assert report["database_type"] in ("sqlite", "duckdb", "postgresql", "mysql")
    assert 0 < report["response_time_ms"] < 1000


def test_no_migrations_folder_means_nothing_pending(manager: DatabaseManager) -> None:
    # Only this case is tested here: migrations (ordo.migrate) are tested with their code.
    assert not manager.connection.migrations or not manager.connection.migrations.exists()
    report = manager.health_check()
    assert report["migration_status"] == {"current_version": None, "pending_migrations": []}
    assert manager.get_migration_status() == report["migration_status"]


def test_health_never_changes_the_data(manager: DatabaseManager) -> None:
    manager.execute_query("CREATE TABLE h (x INTEGER)")
    manager.execute_query("INSERT INTO h VALUES (1)")
    for _ in range(3):
        assert manager.health_check()["status"] == "healthy"
    assert manager.execute_query("SELECT x FROM h") == [{"x": 1}]


# -- slow ------------------------------------------------------------------------------------


def test_slow_database_is_degraded(tmp_path: Path, postgres_server: URL) -> None:
    host, port = postgres_server.host or "127.0.0.1", postgres_server.port or 5432
    direct = with_password(postgres_server)
    # The same server answering directly is healthy at the same threshold...
    with manager_for(tmp_path, direct, "fast") as fast:
        fast.health_check(slow_ms=200)  # the first connect also reads the server's settings
        assert fast.health_check(slow_ms=200)["status"] == "healthy"
    # ... and behind a proxy holding back each answer by 0.3 s it is degraded, not unhealthy.
    with TcpProxy((host, port), delay=0.3) as proxy:
        slow_url = direct.set(host="127.0.0.1", port=proxy.port)
        with manager_for(tmp_path, slow_url, "slow") as slow:
            report = slow.health_check(slow_ms=200)
            assert_seed_shape(report)
            assert report["status"] == "degraded", report
            assert report["connection"] is True
            assert report["query_test"] is True
            assert report["response_time_ms"] > 200
            assert "slow" in report["error"]
            # warm: a pooled connection still needs a delayed round trip for the query
            again = slow.health_check(slow_ms=200)
            assert again["status"] == "degraded", again
        assert proxy.accepted >= 1


def test_slow_threshold_is_the_callers(tmp_path: Path, postgres_server: URL) -> None:
    host, port = postgres_server.host or "127.0.0.1", postgres_server.port or 5432
    with TcpProxy((host, port), delay=0.3) as proxy:
        url = postgres_server.set(host="127.0.0.1", port=proxy.port)
        with manager_for(tmp_path, url) as db:
            db.execute_query("SELECT 1")  # connect and learn the server first
            assert db.health_check(slow_ms=60_000)["status"] == "healthy"


# -- unreachable -----------------------------------------------------------------------------

SCHEMES = ["postgresql", "mysql"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_closed_port_is_unhealthy(tmp_path: Path, scheme: str) -> None:
    url = f"{scheme}://ordo:{PASSWORD}@127.0.0.1:{closed_port()}/nowhere"
    with manager_for(tmp_path, url, TIMEOUT="1") as db:
        started = time.monotonic()
        report = db.health_check()
        elapsed = time.monotonic() - started
    assert_seed_shape(report)
    assert report["status"] == "unhealthy"
    assert (report["connection"], report["query_test"]) == (False, False)
    assert report["error"]
    assert "Traceback" not in report["error"]
    assert "\n" not in report["error"]
    assert elapsed < 5


@pytest.mark.parametrize("scheme", SCHEMES)
def test_silent_address_is_unhealthy_within_the_timeout(tmp_path: Path, scheme: str) -> None:
    with TcpProxy(None) as hole:
        url = f"{scheme}://ordo:{PASSWORD}@127.0.0.1:{hole.port}/nowhere"
        with manager_for(tmp_path, url, TIMEOUT="1") as db:
            started = time.monotonic()
            report = db.health_check()
            elapsed = time.monotonic() - started
        assert hole.accepted >= 1  # it really connected, then heard nothing
    assert_seed_shape(report)
    assert report["status"] == "unhealthy", report
    assert report["connection"] is False
    assert report["error"]
    assert elapsed < 5, elapsed


def test_health_of_many_dead_databases_never_raises(tmp_path: Path) -> None:
    port = closed_port()
    for url in (
        f"postgresql://u:{PASSWORD}@127.0.0.1:{port}/x",
        f"mysql://u:{PASSWORD}@127.0.0.1:{port}/x",
        f"sqlite:///{tmp_path}/no/such/folder/x.db",
    ):
        with manager_for(tmp_path, url, TIMEOUT="1") as db:
            report = db.health_check()
        assert_seed_shape(report)
        assert report["status"] == "unhealthy", (url, report)


def test_wrong_database_name_is_unhealthy(tmp_path: Path, postgres_server: URL) -> None:
    url = with_password(postgres_server).set(database="ordo_no_such_database")
    with manager_for(tmp_path, url) as db:
        report = db.health_check()
    assert_seed_shape(report)
    assert report["status"] == "unhealthy"
    assert "ordo_no_such_database" in report["error"]


def test_a_report_is_not_changed_after_it_is_returned(tmp_path: Path, postgres_server: URL) -> None:
    """A probe that answers after the deadline must not rewrite the report the caller holds."""
    host, port = postgres_server.host or "127.0.0.1", postgres_server.port or 5432
    with TcpProxy((host, port), delay=0.3) as proxy:
        # _TIMEOUT=0.1: the deadline (timeout + grace, 2.1 s) passes while SQLAlchemy reads
        # the server's settings over the slow link (about 3 s); the probe finishes afterwards.
        url = postgres_server.set(host="127.0.0.1", port=proxy.port)
        with manager_for(tmp_path, url, TIMEOUT="0.1") as db:
            report = db.health_check()
            snapshot = repr(report)
            for thread in threading.enumerate():
                if thread.name == "ordo-health-t":
                    thread.join(timeout=15)  # let the late probe finish
            assert repr(report) == snapshot
    assert report["status"] == "unhealthy"
    assert report["connection"] is False


# -- pool ------------------------------------------------------------------------------------


def test_pool_status_has_seed_keys_and_follows_checkouts(tmp_path: Path, db_url: URL) -> None:
    with manager_for(tmp_path, db_url, POOL_SIZE="3", MAX_OVERFLOW="2") as db:
        db.execute_query("SELECT 1")
        before = db.get_pool_status()
        assert set(before) == POOL_KEYS
        assert before["database_name"] == "t"
        assert before["pool_size"] == 3
        assert (before["checked_out"], before["checked_in"], before["overflow"]) == (0, 1, 0)
        assert before["invalid"] == 0
        assert before["timestamp"].endswith("Z")
        first, second = db.engine.connect(), db.engine.connect()
        try:
            during = db.get_pool_status()
            assert (during["checked_out"], during["checked_in"]) == (2, 0)
        finally:
            first.close()
            second.close()
        after = db.get_pool_status()
        assert (after["checked_out"], after["checked_in"]) == (0, 2)


def test_pool_overflow_and_invalid(tmp_path: Path, postgres_server: URL) -> None:
    with manager_for(tmp_path, postgres_server, POOL_SIZE="1", MAX_OVERFLOW="2") as db:
        first, second = db.engine.connect(), db.engine.connect()
        try:
            status = db.get_pool_status()
            assert (status["pool_size"], status["checked_out"], status["overflow"]) == (1, 2, 1)
            second.invalidate()
        finally:
            first.close()
            second.close()
        assert db.get_pool_status()["invalid"] == 1


def test_invalid_counts_from_the_managers_start(tmp_path: Path, postgres_server: URL) -> None:
    with manager_for(tmp_path, postgres_server) as db:
        conn = db.engine.connect()  # before anyone asked for the pool status
        conn.invalidate()
        conn.close()
        assert db.get_pool_status()["invalid"] == 1


def test_exhausted_pool_is_degraded(tmp_path: Path, db_url: URL) -> None:
    with manager_for(tmp_path, db_url, POOL_SIZE="1", MAX_OVERFLOW="0", TIMEOUT="5") as db:
        held = db.engine.connect()
        try:
            assert db.get_pool_status()["checked_out"] == 1
            started = time.monotonic()
            report = db.health_check()
            elapsed = time.monotonic() - started
            assert_seed_shape(report)
            assert report["status"] == "degraded", report
            assert report["connection"] is True
            assert report["query_test"] is True
            assert "pool exhausted" in report["error"]
            assert elapsed < 2  # it did not wait for the held connection
            assert db.get_pool_status()["checked_out"] == 1  # and took none of the pool's
        finally:
            held.close()
        assert db.health_check()["status"] == "healthy"


# -- migrations ------------------------------------------------------------------------------


def test_pending_migrations_are_degraded_until_applied(tmp_path: Path, db_url: URL) -> None:
    folder = tmp_path / "core" / "migrations" / "t"
    folder.mkdir(parents=True)
    (folder / "V1__create.sql").write_text("CREATE TABLE m (id INTEGER);\n", encoding="utf-8")
    (folder / "V2__fill.sql").write_text("INSERT INTO m VALUES (1);\n", encoding="utf-8")
    with manager_for(tmp_path, with_password(db_url)) as db:
        report = db.health_check()
        assert_seed_shape(report)
        assert report["status"] == "degraded", report
        assert report["migration_status"] == {
            "current_version": None,
            "pending_migrations": ["V1__create.sql", "V2__fill.sql"],
        }
        assert "pending migrations" in report["error"]
        db.run_migrations()
        report = db.health_check()
        assert report["status"] == "healthy", report
        assert report["migration_status"] == {"current_version": "2", "pending_migrations": []}
        assert "error" not in report
