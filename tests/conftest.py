"""Fixtures every test layer can use: a fresh, isolated database per test, per backend.

``db_url`` runs a test once per backend (ids ``sqlite``, ``duckdb``, ``postgresql``,
``mariadb``) and hands it the URL of a database nobody else uses:

- SQLite, DuckDB: a file in the test's ``tmp_path``.
- PostgreSQL: a new schema in database ``test``, made the connection's ``search_path``
  through the URL (``?options=-csearch_path=<schema>``), dropped with everything in it after.
- MariaDB: a new database, dropped after.

The servers are the project's services (DESIGN.md, Testing); ``ORDO_TEST_POSTGRES_URL`` and
``ORDO_TEST_MARIADB_URL`` point elsewhere. A server that cannot be reached skips its tests,
except under ``CI=true``, where a silent skip would hide a broken pipeline: there it fails.

Fixtures here are only declared; nothing connects unless a test asks for one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from sqlalchemy import URL
from sqlalchemy.engine import make_url

from tests.support.db import unique_name

if TYPE_CHECKING:
    import psycopg
    import pymysql

POSTGRES_ADMIN_URL = os.environ.get(
    "ORDO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_ADMIN_URL = os.environ.get(
    "ORDO_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)

_HOW_TO_START = {
    "PostgreSQL": "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) "
    "main start` (or your service manager), or point ORDO_TEST_POSTGRES_URL at another server",
    "MariaDB": "start it with `start-stop-daemon --start --oknodo --background --exec "
    "/usr/sbin/mariadbd` (or your service manager), or point ORDO_TEST_MARIADB_URL at another "
    "server",
}


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variables from the test machine: requests to a local fake go straight to it."""
    from tests.support.http import PROXY_VARIABLES

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def service_unavailable(service: str, url: URL, error: BaseException) -> NoReturn:
    """Skip, or fail under ``CI=true``, saying how to start the service."""
    where = f"{url.host}:{url.port}"
    message = f"{service} is not reachable at {where} ({error}); {_HOW_TO_START[service]}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _postgres_admin(url: URL) -> psycopg.Connection[Any]:
    import psycopg

    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=url.database,
        autocommit=True,
        connect_timeout=3,
    )


def _mariadb_admin(url: URL) -> pymysql.Connection[Any]:
    import pymysql

    return pymysql.connect(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        database=url.database,
        autocommit=True,
        connect_timeout=3,
    )


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    """The PostgreSQL admin URL, once it is known to answer (cached for the session)."""
    url = make_url(POSTGRES_ADMIN_URL)
    try:
        _postgres_admin(url).close()
    except Exception as exc:
        service_unavailable("PostgreSQL", url, exc)
    return url


@pytest.fixture(scope="session")
def mariadb_server() -> URL:
    """The MariaDB admin URL, once it is known to answer (cached for the session)."""
    url = make_url(MARIADB_ADMIN_URL)
    try:
        _mariadb_admin(url).close()
    except Exception as exc:
        service_unavailable("MariaDB", url, exc)
    return url


@pytest.fixture
def postgres_url(postgres_server: URL) -> Iterator[URL]:
    """A URL whose ``search_path`` is a fresh schema, dropped after the test."""
    from psycopg import sql

    schema = unique_name()
    with _postgres_admin(postgres_server) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield postgres_server.update_query_dict({"options": f"-csearch_path={schema}"})
    with _postgres_admin(postgres_server) as admin:
        admin.execute("SET lock_timeout = '10s'")  # fail, not hang, if a test leaked a lock
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def mariadb_url(mariadb_server: URL) -> Iterator[URL]:
    """A URL of a fresh database, dropped after the test."""
    database = unique_name()
    with _mariadb_admin(mariadb_server) as admin, admin.cursor() as cursor:
        cursor.execute(
            f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    yield mariadb_server.set(database=database)
    with _mariadb_admin(mariadb_server) as admin, admin.cursor() as cursor:
        cursor.execute("SET SESSION lock_wait_timeout = 10")
        cursor.execute(f"DROP DATABASE `{database}`")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> URL:
    return URL.create("sqlite", database=str(tmp_path / "test.db"))


@pytest.fixture
def duckdb_url(tmp_path: Path) -> URL:
    return URL.create("duckdb", database=str(tmp_path / "test.duckdb"))


@pytest.fixture(
    params=[
        "sqlite",
        "duckdb",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def db_url(request: pytest.FixtureRequest) -> URL:
    """An isolated database on each backend in turn; see the module docstring."""
    fixture = {"postgresql": "postgres_url"}.get(request.param, f"{request.param}_url")
    url: URL = request.getfixturevalue(fixture)
    return url
