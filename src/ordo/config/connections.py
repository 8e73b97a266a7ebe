"""Named connections: every setting of one database, resolved and checked once.

A connection ``NAME`` is described by ``{ENV}_GLOBAL_{NAME}_*`` variables: ``CONNECTION_STRING``,
``TYPE``, ``POOL_SIZE`` (5), ``MAX_OVERFLOW`` (10), ``TIMEOUT`` (30 s), ``READ_ONLY``,
``MIGRATIONS`` (folder), ``MIGRATIONS_TABLE`` (history table, ``schema_version``) and
``MIGRATIONS_MIXED`` (a migration may mix statements that refuse a transaction with others),
``PLACEHOLDERS_<KEY>`` (the value of ``${key}`` in migrations, key read lower case, an empty
value allowed) and ``MIGRATIONS_PLACEHOLDER_REPLACEMENT`` (true unless set false), with
global defaults ``{ENV}_GLOBAL_DATABASE_TIMEOUT`` and ``{ENV}_GLOBAL_CONNECTION_POOL_SIZE``.
Names match case-insensitively. The connection called ``default`` may instead come from the
classic ``DB_*`` variables or ``DATABASE_URL``, so a project written either way works unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ordo.config.url import masked_url, normalize_url, url_from_settings
from ordo.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import URL

__all__ = ["DEFAULT_CONNECTION", "TYPES", "ConnectionSettings", "connection_names", "resolve"]

DEFAULT_CONNECTION = "default"

# the classic DB_TYPE values -> SQLAlchemy backend names
TYPES = {
    "postgresql": "postgresql",
    "sqlserver": "mssql",
    "mysql": "mysql",
    "oracle": "oracle",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
}
_TYPE_OF_BACKEND = {backend: type_ for type_, backend in TYPES.items()}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class ConnectionSettings:
    """One named database as the rest of ordo sees it."""

    name: str
    url: URL
    source: str  # the variable(s) it came from, for messages
    type: str  # one of TYPES
    pool_size: int = 5
    max_overflow: int = 10
    timeout: float = 30.0
    read_only: bool = False
    migrations: Path | None = None
    history_table: str = "schema_version"
    migrations_mixed: bool = False
    placeholders: Mapping[str, str] = field(default_factory=dict)
    placeholder_replacement: bool = True

    @property
    def masked_url(self) -> str:
        return masked_url(self.url)


def _prefix(env_name: str, name: str) -> str:
    return f"{env_name.upper()}_GLOBAL_{name.upper()}_"


def connection_names(values: Mapping[str, str], env_name: str) -> list[str]:
    """Every configured connection name (lower-case), ``default`` first when it is configured."""
    pattern = re.compile(rf"^{re.escape(env_name.upper())}_GLOBAL_(.+)_CONNECTION_STRING$")
    names = {m.group(1).lower() for key in values if (m := pattern.match(key.upper()))}
    if values.get("DATABASE_URL") or values.get("DB_DIALECT"):
        names.add(DEFAULT_CONNECTION)
    return sorted(names, key=lambda n: (n != DEFAULT_CONNECTION, n))


def resolve(values: Mapping[str, str], env_name: str, name: str, root: Path) -> ConnectionSettings:
    """The settings of connection ``name``; ``ConfigError`` names the variable to fix."""
    upper = {k.upper(): v for k, v in values.items() if v not in (None, "")}
    prefix = _prefix(env_name, name)
    global_prefix = f"{env_name.upper()}_GLOBAL_"

    def get(suffix: str) -> str | None:
        return upper.get(prefix + suffix)

    raw_url = get("CONNECTION_STRING")
    if raw_url is not None:
        source = prefix + "CONNECTION_STRING"
        url = normalize_url(raw_url, base_dir=root, source=source)
    elif name.lower() == DEFAULT_CONNECTION:
        url = url_from_settings(values, base_dir=root)
        source = "DATABASE_URL" if upper.get("DATABASE_URL") else "DB_* settings"
    else:
        raise ConfigError(
            f"connection '{name}' is not configured",
            hint=f"set {source_hint(env_name, name)} in config/.env (or the environment)",
        )

    backend_type = _TYPE_OF_BACKEND.get(url.get_backend_name())
    declared = get("TYPE")
    if declared is not None:
        declared = declared.strip().lower()
        if declared not in TYPES:
            raise ConfigError(
                f"{prefix}TYPE is '{declared}', which ordo does not know",
                hint="use one of " + ", ".join(TYPES),
            )
        if backend_type is not None and declared != backend_type:
            raise ConfigError(
                f"{prefix}TYPE says '{declared}' but {source} is a {backend_type} URL",
                hint=f"make {prefix}TYPE and the connection string agree",
            )
    pool_default = _int(upper, global_prefix + "CONNECTION_POOL_SIZE", 5)
    timeout_default = _float(upper, global_prefix + "DATABASE_TIMEOUT", 30.0)
    migrations = get("MIGRATIONS")
    return ConnectionSettings(
        name=name.lower(),
        url=url,
        source=source,
        type=declared or backend_type or url.get_backend_name(),
        pool_size=_int(upper, prefix + "POOL_SIZE", pool_default),
        max_overflow=_int(upper, prefix + "MAX_OVERFLOW", 10, minimum=0),
        timeout=_float(upper, prefix + "TIMEOUT", timeout_default),
        read_only=_bool(upper, prefix + "READ_ONLY"),
        migrations=_migrations_folder(root, name, migrations),
        history_table=get("MIGRATIONS_TABLE") or "schema_version",
        migrations_mixed=_bool(upper, prefix + "MIGRATIONS_MIXED"),
        placeholders=_placeholders(values, prefix + "PLACEHOLDERS_"),
        placeholder_replacement=get("MIGRATIONS_PLACEHOLDER_REPLACEMENT") is None
        or _bool(upper, prefix + "MIGRATIONS_PLACEHOLDER_REPLACEMENT"),
    )


def source_hint(env_name: str, name: str) -> str:
    return f"{_prefix(env_name, name)}CONNECTION_STRING"


def _migrations_folder(root: Path, name: str, configured: str | None) -> Path:
    """``_MIGRATIONS`` if set, else ``core/migrations/<name>``, matched ignoring case."""
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else root / path
    base = root / "core" / "migrations"
    if base.is_dir():
        for child in base.iterdir():
            if child.is_dir() and child.name.lower() == name.lower():
                return child
    return base / name


def _placeholders(values: Mapping[str, str], prefix: str) -> dict[str, str]:
    """``{key: value}`` of every ``<prefix><KEY>`` setting, keys lower case (as Flyway reads
    ``FLYWAY_PLACEHOLDERS_<KEY>``); an empty value is a value."""
    return {
        key.upper().removeprefix(prefix).lower(): value or ""
        for key, value in values.items()
        if key.upper().startswith(prefix) and len(key) > len(prefix)
    }


def _int(values: Mapping[str, str], key: str, default: int, *, minimum: int = 1) -> int:
    raw = values.get(key)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(f"{key} must be a whole number of at least {minimum}, not '{raw}'")
    return value


def _float(values: Mapping[str, str], key: str, default: float) -> float:
    raw = values.get(key)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        value = 0.0
    if value <= 0:
        raise ConfigError(f"{key} must be a number of seconds above 0, not '{raw}'")
    return value


def _bool(values: Mapping[str, str], key: str) -> bool:
    raw = (values.get(key) or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{key} must be true or false, not '{raw}'")
