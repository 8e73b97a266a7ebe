"""Connection URLs: built from settings, mapped to the drivers ordo installs, shown masked.

Users write URLs the way their other tools taught them (``postgresql+psycopg2://``,
``oracle+cx_oracle://``, ``mysql://``), or as the classic separate ``DB_*``
variables. Everything funnels through ``normalize_url`` so the rest of ordo sees one
spelling per backend, with the driver ordo actually depends on, and file databases anchored to
the project root instead of to whatever directory the command happened to start in.

URLs are built with ``sqlalchemy.URL.create`` and never by string formatting, so a password
holding ``@ : / % #`` survives intact. No message here ever contains a password: errors name
the variable to fix, and ``masked_url`` is the only way a URL is meant to be shown.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from ordo.errors import ConfigError
from ordo.masking import Masker

if TYPE_CHECKING:
    from sqlalchemy import URL

__all__ = [
    "masked_url",
    "normalize_url",
    "parse_url",
    "require_driver",
    "url_from_settings",
    "url_secrets",
]

_WHERE = "in config/.env (or set DATABASE_URL)"
_SUPPORTED = "postgresql, mysql, mariadb, sqlite, duckdb, oracle, mssql"

# backend as written -> (canonical backend, {driver as written: driver ordo uses})
# ``None`` is the bare backend ("postgresql://"); a driver not listed is kept as written.
_DRIVERS: dict[str, tuple[str, dict[str | None, str | None]]] = {
    "postgresql": ("postgresql", {None: "psycopg", "psycopg2": "psycopg"}),
    "postgres": ("postgresql", {None: "psycopg", "psycopg2": "psycopg"}),
    "mysql": ("mysql", {None: "pymysql", "mysqldb": "pymysql"}),
    "mariadb": ("mysql", {None: "pymysql", "mysqldb": "pymysql"}),
    "oracle": ("oracle", {None: "oracledb", "cx_oracle": "oracledb"}),
    "mssql": ("mssql", {None: "pymssql"}),
    "sqlserver": ("mssql", {None: "pymssql"}),
    "sqlite": ("sqlite", {None: None, "pysqlite": None}),
    "duckdb": ("duckdb", {None: None}),
}

# driver -> (modules that must be importable, install line shown when one is missing)
_INSTALL: dict[str, tuple[tuple[str, ...], str]] = {
    "postgresql+psycopg": (("psycopg",), "pip install 'ordo[postgres]'"),
    "mysql+pymysql": (("pymysql",), "pip install 'ordo[mysql]'"),
    "oracle+oracledb": (("oracledb",), "pip install 'ordo[oracle]'"),
    "mssql+pymssql": (("pymssql",), "pip install 'ordo[mssql]'"),
    "mssql+pyodbc": (("pyodbc",), "pip install pyodbc"),
    "duckdb": (("duckdb", "duckdb_engine"), "pip install 'ordo[duckdb]'"),
    "sqlite": (("sqlite3",), "install a Python built with sqlite3"),
}

# Backends whose database is a local file (DB_SERVICE is its path; relative paths are anchored).
# Data, not behaviour: config sits below ordo.db, whose dialects decide the rest about files.
_FILE_BACKENDS = frozenset({"sqlite", "duckdb"})
# Backends whose DB_SERVICE names a service, passed as this URL query parameter.
_SERVICE_PARAMETER = {"oracle": "service_name"}


def url_from_settings(settings: Mapping[str, str], *, base_dir: Path) -> URL:
    """Build the default connection URL from the classic ``DB_*`` settings or ``DATABASE_URL``.

    ``DATABASE_URL`` wins when set. Otherwise ``DB_DIALECT`` names the backend (``postgresql``,
    ``oracle+cx_oracle``, ``sqlite``, ...); for SQLite and DuckDB ``DB_SERVICE`` is the database
    file (relative to ``base_dir``), for Oracle it is the service name, for the others the
    database name. Empty values count as unset. Raises ``ConfigError`` naming what to set.
    """

    def get(name: str) -> str | None:
        value = settings.get(name)
        return value.strip() if value and value.strip() else None

    from sqlalchemy import URL  # deferred: reading a manifest needs no SQLAlchemy

    database_url = get("DATABASE_URL")
    if database_url is not None:
        url = normalize_url(database_url, base_dir=base_dir, source="DATABASE_URL")
        require_driver(url)
        return url

    dialect = get("DB_DIALECT")
    if dialect is None:
        raise ConfigError(
            "no database connection is configured",
            hint="set DB_DIALECT, DB_HOST, DB_PORT, DB_USER, DB_PASS and DB_SERVICE "
            "in config/.env, or DATABASE_URL",
        )
    drivername = _normalize_drivername(dialect, source="DB_DIALECT")
    backend = drivername.split("+", 1)[0]
    service = get("DB_SERVICE")

    if backend in _FILE_BACKENDS:
        if service is None:
            raise ConfigError(
                f"DB_SERVICE is not set; for DB_DIALECT={dialect} it is the database file",
                hint=f"set DB_SERVICE to a file path such as data/ordo.db {_WHERE}",
            )
        url = URL.create(drivername, database=service)
    else:
        host = get("DB_HOST")
        if host is None:
            raise ConfigError(
                f"DB_HOST is not set (needed for DB_DIALECT={dialect})",
                hint=f"set DB_HOST {_WHERE}",
            )
        service_parameter = _SERVICE_PARAMETER.get(backend)
        if service is None:
            what = "the service name" if service_parameter else "the database name"
            raise ConfigError(
                f"DB_SERVICE is not set; for DB_DIALECT={dialect} it is {what}",
                hint=f"set DB_SERVICE {_WHERE}",
            )
        url = URL.create(
            drivername,
            username=get("DB_USER"),
            # The password is taken as written, spaces included: never strip a secret.
            password=settings.get("DB_PASS") or None,
            host=host,
            port=_port(get("DB_PORT")),
            database=None if service_parameter else service,
            query={service_parameter: service} if service_parameter else {},
        )
    url = _anchor_file(url, base_dir)
    require_driver(url)
    return url


def normalize_url(url: str | URL, *, base_dir: Path, source: str = "the database URL") -> URL:
    """Map the driver a user wrote to the one ordo installs and anchor file paths.

    ``postgresql``/``postgres``/``postgresql+psycopg2`` become ``postgresql+psycopg``;
    ``mysql``/``mariadb``/``mysql+mysqldb`` become ``mysql+pymysql``; ``oracle`` and
    ``oracle+cx_oracle`` become ``oracle+oracledb``; bare ``mssql``/``sqlserver`` become
    ``mssql+pymssql`` while an explicit ``mssql+pyodbc`` is kept. Relative SQLite and DuckDB
    paths are resolved against ``base_dir`` (the project root); ``:memory:`` stays.
    """
    if isinstance(url, str):
        url = parse_url(url, source=source)
    url = url.set(drivername=_normalize_drivername(url.drivername, source=source))
    return _anchor_file(url, base_dir)


def parse_url(text: str, *, source: str = "the database URL") -> URL:
    """``text`` as a SQLAlchemy URL; ``ConfigError`` (without the text) when it is none."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(text)
    except (ArgumentError, ValueError):
        # The text is not echoed: it may hold a password in a shape we failed to parse.
        raise ConfigError(
            f"{source} is not a valid database URL",
            hint="write it as dialect://user:password@host:port/database, "
            "percent-encoding special characters in the password",
        ) from None


def require_driver(url: URL) -> None:
    """Raise ``ConfigError`` with the exact install line if the URL's driver is missing.

    Uses ``importlib.util.find_spec``: cheap, and nothing heavy is imported at plan time.
    """
    key = url.drivername
    modules, install = _INSTALL.get(key, ((key.split("+", 1)[-1],), ""))
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise ConfigError(
                f"the Python driver '{module}' for {key} is not installed",
                hint=install or f"pip install {module}",
            )


def masked_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ``***``, safe for logs and messages."""
    if isinstance(url, str):
        try:
            parsed = parse_url(url)
        except ConfigError:
            return Masker().mask(url)
        return parsed.render_as_string(hide_password=True)
    return url.render_as_string(hide_password=True)


def url_secrets(url: URL) -> list[str]:
    """The password as written and in every percent-encoded form it may appear in text.

    Feed these to ``ordo.secrets.Masker`` so a driver message quoting the URL is masked.
    """
    password = url.password
    if not password:
        return []
    forms = [password, quote(password, safe=" +"), quote(password, safe=""), quote_plus(password)]
    return list(dict.fromkeys(forms))


def _normalize_drivername(drivername: str, *, source: str) -> str:
    backend, _, driver = drivername.strip().lower().partition("+")
    if backend not in _DRIVERS:
        raise ConfigError(
            f"{source} names an unsupported database '{backend}'",
            hint=f"use one of: {_SUPPORTED}",
        )
    canonical, mapping = _DRIVERS[backend]
    mapped = mapping.get(driver or None, driver or None)
    return f"{canonical}+{mapped}" if mapped else canonical


def _port(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(
            f"DB_PORT must be a port number, got '{value}'",
            hint=f"set DB_PORT to a number such as 5432 {_WHERE}",
        )
    return int(value)


def _anchor_file(url: URL, base_dir: Path) -> URL:
    """Resolve a relative SQLite/DuckDB file against the project root, not the cwd."""
    if url.get_backend_name() not in _FILE_BACKENDS:
        return url
    database = url.database
    if not database or database.startswith(":memory:") or url.query.get("uri") == "true":
        return url
    if ":" in database.split("/", 1)[0]:
        return url  # a scheme such as md: (MotherDuck) or file:, not a local path
    path = Path(database).expanduser()
    if not path.is_absolute():
        path = (base_dir / path).resolve()
    return url.set(database=str(path))
