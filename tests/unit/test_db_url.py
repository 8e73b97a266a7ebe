"""Connection URLs from settings: escaping, driver mapping, file anchoring, safe errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL
from sqlalchemy.engine import make_url

from ordo.config.url import (
    masked_url,
    normalize_url,
    require_driver,
    url_from_settings,
    url_secrets,
)
from ordo.errors import ConfigError
from ordo.masking import Masker

BASE = Path("/project")
SECRET = "s3cr3t-P@ss:w/o%rd#1"

SERVER = {
    "DB_DIALECT": "postgresql",
    "DB_HOST": "db.example.com",
    "DB_PORT": "5433",
    "DB_USER": "admin",
    "DB_PASS": SECRET,
    "DB_SERVICE": "sales",
}


def config_error(settings: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        url_from_settings(settings, base_dir=BASE)
    error = caught.value
    assert SECRET not in str(error)
    assert SECRET not in (error.hint or "")
    return error


def test_settings_build_a_url() -> None:
    url = url_from_settings(SERVER, base_dir=BASE)
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.username, url.database) == (
        "db.example.com",
        5433,
        "admin",
        "sales",
    )
    assert url.password == SECRET


def test_password_with_special_characters_round_trips() -> None:
    url = url_from_settings(SERVER, base_dir=BASE)
    rendered = url.render_as_string(hide_password=False)
    assert SECRET not in rendered  # percent-encoded, not pasted raw
    parsed = make_url(rendered)
    assert parsed.password == SECRET
    assert (parsed.host, parsed.port, parsed.database) == ("db.example.com", 5433, "sales")


def test_database_url_wins() -> None:
    settings = {**SERVER, "DATABASE_URL": "mysql://u:p@h/db"}
    url = url_from_settings(settings, base_dir=BASE)
    assert url.drivername == "mysql+pymysql"
    assert url.host == "h"


def test_empty_database_url_is_ignored() -> None:
    url = url_from_settings({**SERVER, "DATABASE_URL": "  "}, base_dir=BASE)
    assert url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("dialect", "drivername"),
    [
        ("postgresql", "postgresql+psycopg"),
        ("postgres", "postgresql+psycopg"),
        ("postgresql+psycopg2", "postgresql+psycopg"),
        ("mysql", "mysql+pymysql"),
        ("mariadb", "mysql+pymysql"),
        ("MySQL+MySQLdb", "mysql+pymysql"),
        ("mssql", "mssql+pymssql"),
        ("sqlserver", "mssql+pymssql"),
    ],
)
def test_db_dialect_maps_to_installed_driver(dialect: str, drivername: str) -> None:
    url = url_from_settings({**SERVER, "DB_DIALECT": dialect}, base_dir=BASE)
    assert url.drivername == drivername
    assert url.database == "sales"


@pytest.mark.parametrize("dialect", ["oracle", "oracle+cx_oracle", "oracle+oracledb"])
def test_oracle_service_goes_in_the_query(dialect: str) -> None:
    settings = {**SERVER, "DB_DIALECT": dialect, "DB_PORT": "1521", "DB_SERVICE": "ORCL"}
    url = url_from_settings(settings, base_dir=BASE)
    assert url.drivername == "oracle+oracledb"
    assert url.database is None
    assert dict(url.query) == {"service_name": "ORCL"}
    assert make_url(url.render_as_string(hide_password=False)).query["service_name"] == "ORCL"


@pytest.mark.parametrize(("dialect", "suffix"), [("sqlite", "db"), ("duckdb", "duckdb")])
def test_file_databases_resolve_against_the_project(dialect: str, suffix: str) -> None:
    settings = {"DB_DIALECT": dialect, "DB_SERVICE": f"data/ordo.{suffix}"}
    url = url_from_settings(settings, base_dir=BASE)
    assert url.drivername == dialect
    assert url.database == f"/project/data/ordo.{suffix}"
    assert url.host is None


@pytest.mark.parametrize(
    ("written", "drivername"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("postgres://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg"),
        ("mysql://u:p@h/db", "mysql+pymysql"),
        ("mariadb://u:p@h/db", "mysql+pymysql"),
        ("mysql+mysqldb://u:p@h/db", "mysql+pymysql"),
        ("mysql+pymysql://u:p@h/db", "mysql+pymysql"),
        ("oracle://u:p@h:1521/?service_name=ORCL", "oracle+oracledb"),
        ("oracle+cx_oracle://u:p@h:1521/?service_name=ORCL", "oracle+oracledb"),
        ("mssql://u:p@h/db", "mssql+pymssql"),
        ("sqlserver://u:p@h/db", "mssql+pymssql"),
        ("mssql+pyodbc://u:p@dsn", "mssql+pyodbc"),
        ("mssql+pymssql://u:p@h/db", "mssql+pymssql"),
        ("sqlite:///x.db", "sqlite"),
        ("sqlite+pysqlite:///x.db", "sqlite"),
        ("duckdb:///x.duckdb", "duckdb"),
    ],
)
def test_normalize_maps_drivers(written: str, drivername: str) -> None:
    url = normalize_url(written, base_dir=BASE)
    assert url.drivername == drivername
    assert url.password in (None, "p")


@pytest.mark.parametrize(
    ("written", "database"),
    [
        ("sqlite:///relative.db", "/project/relative.db"),
        ("sqlite:///sub/dir/x.db", "/project/sub/dir/x.db"),
        ("sqlite:////abs/x.db", "/abs/x.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite://", None),
        ("duckdb:///relative.duckdb", "/project/relative.duckdb"),
        ("duckdb:///:memory:", ":memory:"),
        ("duckdb:///md:my_db", "md:my_db"),
    ],
)
def test_normalize_anchors_file_paths(written: str, database: str | None) -> None:
    assert normalize_url(written, base_dir=BASE).database == database


def test_normalize_keeps_the_query() -> None:
    url = normalize_url("postgresql://u@h/db?options=-csearch_path%3Ds1", base_dir=BASE)
    assert url.query["options"] == "-csearch_path=s1"


def test_nothing_configured_says_what_to_set() -> None:
    error = config_error({"DB_PASS": SECRET})
    assert "DB_DIALECT" in (error.hint or "")
    assert "DATABASE_URL" in (error.hint or "")
    assert "config/.env" in (error.hint or "")


@pytest.mark.parametrize("missing", ["DB_HOST", "DB_SERVICE"])
def test_missing_server_setting_is_named(missing: str) -> None:
    settings = {k: v for k, v in SERVER.items() if k != missing}
    error = config_error(settings)
    assert missing in str(error)
    assert missing in (error.hint or "")


def test_blank_setting_counts_as_missing() -> None:
    assert "DB_HOST" in str(config_error({**SERVER, "DB_HOST": "   "}))


def test_file_database_needs_a_path() -> None:
    error = config_error({"DB_DIALECT": "sqlite", "DB_PASS": SECRET})
    assert "DB_SERVICE" in str(error)
    assert "file" in str(error)


@pytest.mark.parametrize("port", ["abc", "0", "70000", "54 32"])
def test_bad_port_is_named(port: str) -> None:
    error = config_error({**SERVER, "DB_PORT": port})
    assert "DB_PORT" in str(error)


def test_unknown_dialect_lists_supported_ones() -> None:
    error = config_error({**SERVER, "DB_DIALECT": "db2"})
    assert "db2" in str(error)
    assert "postgresql" in (error.hint or "")


@pytest.mark.parametrize(
    "bad",
    [f"not a url {SECRET}", f"postgresql://u:{SECRET}@h:notaport/db", f"db2://u:{SECRET}@h/d"],
)
def test_bad_database_url_never_echoes_it(bad: str) -> None:
    error = config_error({"DATABASE_URL": bad})
    assert "DATABASE_URL" in str(error)


def test_missing_driver_gives_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "psycopg" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    error = config_error(SERVER)
    assert "psycopg" in str(error)
    assert error.hint == "pip install 'ordo[postgres]'"


@pytest.mark.parametrize(
    ("url", "module", "line"),
    [
        ("mysql+pymysql://h/db", "pymysql", "pip install 'ordo[mysql]'"),
        ("oracle+oracledb://h/", "oracledb", "pip install 'ordo[oracle]'"),
        ("mssql+pymssql://h/db", "pymssql", "pip install 'ordo[mssql]'"),
        ("mssql+pyodbc://dsn", "pyodbc", "pip install pyodbc"),
        ("duckdb:///x.duckdb", "duckdb_engine", "pip install 'ordo[duckdb]'"),
    ],
)
def test_require_driver_lines(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, line: str
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a)
    )
    with pytest.raises(ConfigError) as caught:
        require_driver(make_url(url))
    assert caught.value.hint == line


def test_installed_drivers_pass() -> None:
    for url in ("postgresql+psycopg://h/d", "mysql+pymysql://h/d", "sqlite://", "duckdb://"):
        require_driver(make_url(url))


def test_masked_url_hides_the_password() -> None:
    url = url_from_settings(SERVER, base_dir=BASE)
    shown = masked_url(url)
    assert "***" in shown
    assert SECRET not in shown
    assert url_secrets(url)[1] not in shown
    assert masked_url(url.render_as_string(hide_password=False)) == shown
    assert masked_url("sqlite:///x.db") == "sqlite:///x.db"


def test_masked_url_of_unparsable_text_still_masks() -> None:
    assert "hunter22" not in masked_url("weird://user:hunter22@")


def test_url_secrets_cover_encoded_forms() -> None:
    url = url_from_settings(SERVER, base_dir=BASE)
    secrets = url_secrets(url)
    assert secrets[0] == SECRET
    assert "s3cr3t-P%40ss%3Aw%2Fo%25rd%231" in secrets
    masker = Masker(secrets)
    leaked = f"could not connect to {url.render_as_string(hide_password=False)} ({SECRET})"
    masked = masker.mask(leaked)
    assert SECRET not in masked
    assert "%40ss" not in masked


def test_url_secrets_without_password() -> None:
    assert url_secrets(URL.create("sqlite", database="x.db")) == []
