"""Fixtures for tests against real databases: engines and dialects over ``db_url``.

The engine fixture depends on ``db_url``, so pytest disposes the engine's pooled connections
before the test database is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import URL, Engine

from ordo.db.dialects import Dialect, dialect_for
from ordo.db.engines import EngineRegistry
from tests.support.runs import backend_of


@pytest.fixture
def registry() -> Iterator[EngineRegistry]:
    """An engine registry closed after the test (short SQLite busy timeout: tests wait less)."""
    with EngineRegistry(sqlite_busy_timeout=1.0) as engines:
        yield engines


@pytest.fixture
def engine(db_url: URL, registry: EngineRegistry) -> Iterator[Engine]:
    """The engine for this test's database, on each backend in turn."""
    engine = registry.get(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def dialect(engine: Engine) -> Dialect:
    return dialect_for(engine)


@pytest.fixture
def backend(db_url: URL) -> str:
    """The fixture id of this test's backend: sqlite, duckdb, postgresql or mariadb."""
    return backend_of(db_url)


@pytest.fixture
def pg(postgres_url: URL, registry: EngineRegistry) -> Engine:
    """An engine on the test's PostgreSQL schema, for checking what the run left."""
    return registry.get(postgres_url)
