"""Named connection settings (seed 001's ``{ENV}_GLOBAL_{NAME}_*``): no database involved.

Every test builds ``Settings`` from an explicit ``environ`` and, where files matter, env files
in ``tmp_path``, so the developer's own environment never leaks in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ordo.config import Settings
from ordo.config.connections import TYPES, ConnectionSettings
from ordo.errors import ConfigError

PASSWORD = "Xy7-sekrit-pw"
SEED_URL = f"postgresql://user:{PASSWORD}@host:5432/db"  # seed 001's form, no driver named


def settings(root: Path, **environ: str) -> Settings:
    return Settings.load(root, environ=environ)


def connection(root: Path, name: str, **environ: str) -> ConnectionSettings:
    return settings(root, **environ).connection(name)


def config_error(root: Path, name: str, **environ: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        connection(root, name, **environ)
    error = caught.value
    for text in (str(error), error.message, error.hint or "", repr(error)):
        assert PASSWORD not in text
    return error


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- connection string and type -------------------------------------------------------------


def test_seed_001_url_gets_the_installed_driver(tmp_path: Path) -> None:
    conn = connection(tmp_path, "rpa_db", DEVELOPMENT_GLOBAL_RPA_DB_CONNECTION_STRING=SEED_URL)
    assert conn.url.drivername == "postgresql+psycopg"
    assert (conn.url.username, conn.url.password) == ("user", PASSWORD)
    assert (conn.url.host, conn.url.port, conn.url.database) == ("host", 5432, "db")
    assert conn.name == "rpa_db"
    assert conn.type == "postgresql"
    assert conn.source == "DEVELOPMENT_GLOBAL_RPA_DB_CONNECTION_STRING"


def test_masked_url_hides_the_password(tmp_path: Path) -> None:
    conn = connection(tmp_path, "rpa_db", DEVELOPMENT_GLOBAL_RPA_DB_CONNECTION_STRING=SEED_URL)
    assert PASSWORD not in conn.masked_url
    assert conn.masked_url == "postgresql+psycopg://user:***@host:5432/db"
    assert PASSWORD not in repr(conn)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+psycopg"),
        ("mysql://u:p@h/db", "mysql+pymysql"),
        ("mariadb://u:p@h/db", "mysql+pymysql"),
        ("oracle://u:p@h:1521/?service_name=x", "oracle+oracledb"),
        ("mssql+pyodbc://u:p@h:1433/db?driver=ODBC+Driver+17+for+SQL+Server", "mssql+pyodbc"),
        ("sqlite:///data/x.db", "sqlite"),
        ("duckdb:///data/x.duckdb", "duckdb"),
    ],
)
def test_drivers_users_write_map_to_installed_ones(tmp_path: Path, url: str, driver: str) -> None:
    conn = connection(tmp_path, "x", DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=url)
    assert conn.url.drivername == driver


@pytest.mark.parametrize(
    ("declared", "url"),
    [
        ("postgresql", "postgresql://u:p@h/db"),
        ("sqlserver", "mssql+pyodbc://u:p@server:1433/survey_hub?driver=ODBC+Driver+17"),
        ("mysql", "mysql://u:p@h/db"),
        ("mysql", "mariadb://u:p@h/db"),
        ("oracle", "oracle://u:p@h:1521/?service_name=x"),
        ("sqlite", "sqlite:///x.db"),
        ("duckdb", "duckdb:///x.duckdb"),
        ("PostgreSQL", "postgresql://u:p@h/db"),  # the value's case does not matter
    ],
)
def test_type_values(tmp_path: Path, declared: str, url: str) -> None:
    conn = connection(
        tmp_path,
        "x",
        DEVELOPMENT_GLOBAL_X_TYPE=declared,
        DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=url,
    )
    assert conn.type == declared.lower()
    assert conn.type in TYPES


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h/db", "postgresql"),
        ("mssql://u:p@h/db", "sqlserver"),
        ("mysql://u:p@h/db", "mysql"),
        ("sqlite:///x.db", "sqlite"),
        ("duckdb:///x.duckdb", "duckdb"),
    ],
)
def test_type_follows_the_url_when_not_declared(tmp_path: Path, url: str, expected: str) -> None:
    conn = connection(tmp_path, "x", DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=url)
    assert conn.type == expected


def test_type_that_contradicts_the_url_is_an_error(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        "x",
        DEVELOPMENT_GLOBAL_X_TYPE="sqlserver",
        DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=SEED_URL,
    )
    assert "DEVELOPMENT_GLOBAL_X_TYPE" in str(error)
    assert "postgresql" in str(error)


def test_unknown_type_is_an_error_naming_the_variable(tmp_path: Path) -> None:
    error = config_error(
        tmp_path,
        "x",
        DEVELOPMENT_GLOBAL_X_TYPE="pg",
        DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=SEED_URL,
    )
    assert "DEVELOPMENT_GLOBAL_X_TYPE" in str(error)
    assert "sqlserver" in str(error)  # the hint lists what is allowed


# -- pool, timeout, read-only, migrations ---------------------------------------------------


def test_defaults_are_seed_001s(tmp_path: Path) -> None:
    conn = connection(tmp_path, "x", DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=SEED_URL)
    assert (conn.pool_size, conn.max_overflow, conn.timeout) == (5, 10, 30.0)
    assert conn.read_only is False
    assert conn.migrations == tmp_path / "core" / "migrations" / "x"


def test_every_setting_is_read(tmp_path: Path) -> None:
    conn = connection(
        tmp_path,
        "x",
        DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=SEED_URL,
        DEVELOPMENT_GLOBAL_X_POOL_SIZE="7",
        DEVELOPMENT_GLOBAL_X_MAX_OVERFLOW="0",
        DEVELOPMENT_GLOBAL_X_TIMEOUT="2.5",
        DEVELOPMENT_GLOBAL_X_READ_ONLY="true",
        DEVELOPMENT_GLOBAL_X_MIGRATIONS="db/migrations",
    )
    assert (conn.pool_size, conn.max_overflow, conn.timeout) == (7, 0, 2.5)
    assert conn.read_only is True
    assert conn.migrations == tmp_path / "db" / "migrations"


def test_absolute_migrations_folder_is_kept(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    conn = connection(
        tmp_path,
        "x",
        DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=SEED_URL,
        DEVELOPMENT_GLOBAL_X_MIGRATIONS=str(folder),
    )
    assert conn.migrations == folder


def test_seed_layout_migrations_folder_is_found_ignoring_case(tmp_path: Path) -> None:
    (tmp_path / "core" / "migrations" / "SurveyHub").mkdir(parents=True)
    conn = connection(
        tmp_path, "surveyhub", DEVELOPMENT_GLOBAL_SURVEYHUB_CONNECTION_STRING=SEED_URL
    )
    assert conn.migrations == tmp_path / "core" / "migrations" / "SurveyHub"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("yes", True), ("ON", True), ("True", True), ("0", False), ("false", False)],
)
def test_read_only_values(tmp_path: Path, raw: str, expected: bool) -> None:
    conn = connection(
        tmp_path,
        "x",
        DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=SEED_URL,
        DEVELOPMENT_GLOBAL_X_READ_ONLY=raw,
    )
    assert conn.read_only is expected


def test_global_defaults_apply_to_every_connection(tmp_path: Path) -> None:
    env = {
        "DEVELOPMENT_GLOBAL_A_CONNECTION_STRING": SEED_URL,
        "DEVELOPMENT_GLOBAL_B_CONNECTION_STRING": SEED_URL,
        "DEVELOPMENT_GLOBAL_B_POOL_SIZE": "3",
        "DEVELOPMENT_GLOBAL_B_TIMEOUT": "4",
        "DEVELOPMENT_GLOBAL_DATABASE_TIMEOUT": "12",
        "DEVELOPMENT_GLOBAL_CONNECTION_POOL_SIZE": "9",
    }
    a = connection(tmp_path, "a", **env)
    b = connection(tmp_path, "b", **env)
    assert (a.pool_size, a.timeout) == (9, 12.0)
    assert (b.pool_size, b.timeout) == (3, 4.0)  # a connection's own setting wins


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEVELOPMENT_GLOBAL_X_POOL_SIZE", "five"),
        ("DEVELOPMENT_GLOBAL_X_POOL_SIZE", "0"),
        ("DEVELOPMENT_GLOBAL_X_MAX_OVERFLOW", "-1"),
        ("DEVELOPMENT_GLOBAL_X_TIMEOUT", "0"),
        ("DEVELOPMENT_GLOBAL_X_TIMEOUT", "soon"),
        ("DEVELOPMENT_GLOBAL_X_READ_ONLY", "maybe"),
        ("DEVELOPMENT_GLOBAL_DATABASE_TIMEOUT", "-5"),
        ("DEVELOPMENT_GLOBAL_CONNECTION_POOL_SIZE", "lots"),
    ],
)
def test_malformed_setting_names_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    env = {"DEVELOPMENT_GLOBAL_X_CONNECTION_STRING": SEED_URL, variable: value}
    error = config_error(tmp_path, "x", **env)
    assert variable in str(error)
    assert error.exit_code == 2


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://user:{PASSWORD}@host:notaport/db",
        f"nosuchdb://user:{PASSWORD}@host/db",
        f"user:{PASSWORD}@host/db",
        PASSWORD,
    ],
)
def test_malformed_connection_string_never_echoes_it(tmp_path: Path, url: str) -> None:
    error = config_error(tmp_path, "x", DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=url)
    assert "DEVELOPMENT_GLOBAL_X_CONNECTION_STRING" in str(error)


def test_missing_connection_names_the_variable_to_set(tmp_path: Path) -> None:
    error = config_error(tmp_path, "rpa_db", DEVELOPMENT_GLOBAL_OTHER_CONNECTION_STRING=SEED_URL)
    assert "DEVELOPMENT_GLOBAL_RPA_DB_CONNECTION_STRING" in str(error)
    assert error.exit_code == 2


def test_type_alone_is_not_a_connection(tmp_path: Path) -> None:
    error = config_error(tmp_path, "x", DEVELOPMENT_GLOBAL_X_TYPE="postgresql")
    assert "DEVELOPMENT_GLOBAL_X_CONNECTION_STRING" in str(error)


def test_other_environments_settings_are_not_used(tmp_path: Path) -> None:
    error = config_error(tmp_path, "x", PRODUCTION_GLOBAL_X_CONNECTION_STRING=SEED_URL)
    assert "DEVELOPMENT_GLOBAL_X_CONNECTION_STRING" in str(error)


# -- environment and names ------------------------------------------------------------------


def test_ordo_env_switches_the_prefix(tmp_path: Path) -> None:
    env = {
        "ORDO_ENV": "production",
        "DEVELOPMENT_GLOBAL_X_CONNECTION_STRING": "postgresql://u:p@dev-host/db",
        "PRODUCTION_GLOBAL_X_CONNECTION_STRING": "postgresql://u:p@prod-host/db",
        "PRODUCTION_GLOBAL_X_POOL_SIZE": "2",
    }
    loaded = settings(tmp_path, **env)
    assert loaded.env_name == "production"
    conn = loaded.connection("x")
    assert conn.url.host == "prod-host"
    assert conn.pool_size == 2
    assert conn.source == "PRODUCTION_GLOBAL_X_CONNECTION_STRING"


def test_ordo_env_is_case_insensitive(tmp_path: Path) -> None:
    conn = connection(
        tmp_path,
        "x",
        ORDO_ENV="Staging",
        STAGING_GLOBAL_X_CONNECTION_STRING="postgresql://u:p@stage/db",
    )
    assert conn.url.host == "stage"


def test_missing_connection_in_production_names_the_production_variable(tmp_path: Path) -> None:
    error = config_error(tmp_path, "x", ORDO_ENV="production")
    assert "PRODUCTION_GLOBAL_X_CONNECTION_STRING" in str(error)


@pytest.mark.parametrize("asked", ["SurveyHub", "surveyhub", "SURVEYHUB", "sUrVeYhUb"])
def test_names_match_case_insensitively(tmp_path: Path, asked: str) -> None:
    conn = connection(tmp_path, asked, DEVELOPMENT_GLOBAL_SURVEYHUB_CONNECTION_STRING=SEED_URL)
    assert conn.name == "surveyhub"
    assert conn.url.host == "host"


def test_variables_written_in_lower_case_are_found(tmp_path: Path) -> None:
    conn = connection(
        tmp_path,
        "SurveyHub",
        development_global_surveyhub_connection_string=SEED_URL,
        development_global_surveyhub_pool_size="4",
    )
    assert conn.pool_size == 4


def test_connection_names(tmp_path: Path) -> None:
    loaded = settings(
        tmp_path,
        DEVELOPMENT_GLOBAL_RPA_DB_CONNECTION_STRING=SEED_URL,
        DEVELOPMENT_GLOBAL_SurveyHub_CONNECTION_STRING=SEED_URL,
        DEVELOPMENT_GLOBAL_SURVEYHUB_TYPE="postgresql",
        DEVELOPMENT_GLOBAL_DATABASE_TIMEOUT="5",
        PRODUCTION_GLOBAL_PROD_ONLY_CONNECTION_STRING=SEED_URL,
        DATABASE_URL="sqlite:///data/x.db",
    )
    assert loaded.connection_names() == ["default", "rpa_db", "surveyhub"]
    assert loaded.has_connection("RPA_DB")
    assert not loaded.has_connection("prod_only")


def test_connection_names_without_default(tmp_path: Path) -> None:
    loaded = settings(tmp_path, DEVELOPMENT_GLOBAL_B_CONNECTION_STRING=SEED_URL)
    assert loaded.connection_names() == ["b"]


# -- the default connection -----------------------------------------------------------------


def test_default_from_database_url(tmp_path: Path) -> None:
    conn = connection(tmp_path, "default", DATABASE_URL="sqlite:///data/x.db")
    assert conn.name == "default"
    assert conn.type == "sqlite"
    assert conn.url.database == str(tmp_path / "data" / "x.db")
    assert conn.source == "DATABASE_URL"


def test_default_from_db_settings(tmp_path: Path) -> None:
    conn = connection(
        tmp_path,
        "DEFAULT",
        DB_DIALECT="postgresql",
        DB_HOST="h",
        DB_PORT="5433",
        DB_USER="u",
        DB_PASS=PASSWORD,
        DB_SERVICE="sales",
    )
    assert conn.url.drivername == "postgresql+psycopg"
    assert (conn.url.host, conn.url.port, conn.url.database) == ("h", 5433, "sales")
    assert conn.url.password == PASSWORD
    assert conn.type == "postgresql"


def test_named_default_wins_over_database_url(tmp_path: Path) -> None:
    conn = connection(
        tmp_path,
        "default",
        DATABASE_URL="sqlite:///x.db",
        DEVELOPMENT_GLOBAL_DEFAULT_CONNECTION_STRING=SEED_URL,
    )
    assert conn.type == "postgresql"


def test_default_takes_its_seed_001_settings(tmp_path: Path) -> None:
    conn = connection(
        tmp_path,
        "default",
        DATABASE_URL=SEED_URL,
        DEVELOPMENT_GLOBAL_DEFAULT_READ_ONLY="true",
        DEVELOPMENT_GLOBAL_DEFAULT_POOL_SIZE="2",
    )
    assert conn.read_only is True
    assert conn.pool_size == 2


def test_missing_default_names_what_to_set(tmp_path: Path) -> None:
    error = config_error(tmp_path, "default")
    assert "DATABASE_URL" in str(error)


# -- env files ------------------------------------------------------------------------------


def test_seed_001_env_file_is_read(tmp_path: Path) -> None:
    write(
        tmp_path / "core" / "envs" / ".env.development",
        f"DEVELOPMENT_GLOBAL_RPA_DB_TYPE=postgresql\n"
        f"DEVELOPMENT_GLOBAL_RPA_DB_CONNECTION_STRING={SEED_URL}\n"
        "DEVELOPMENT_GLOBAL_DATABASE_TIMEOUT=30\n"
        "DEVELOPMENT_GLOBAL_CONNECTION_POOL_SIZE=5\n",
    )
    loaded = settings(tmp_path)
    assert loaded.connection_names() == ["rpa_db"]
    conn = loaded.connection("RPA_DB")
    assert conn.url.drivername == "postgresql+psycopg"
    assert tmp_path / "core" / "envs" / ".env.development" in loaded.files


def test_env_files_are_layered_and_the_environment_wins(tmp_path: Path) -> None:
    write(
        tmp_path / "core" / "envs" / ".env.development",
        "DEVELOPMENT_GLOBAL_A_CONNECTION_STRING=postgresql://u:p@core/db\n"
        "DEVELOPMENT_GLOBAL_B_CONNECTION_STRING=postgresql://u:p@core/db\n"
        "DEVELOPMENT_GLOBAL_C_CONNECTION_STRING=postgresql://u:p@core/db\n"
        "DEVELOPMENT_GLOBAL_D_CONNECTION_STRING=postgresql://u:p@core/db\n",
    )
    write(
        tmp_path / "config" / ".env",
        "DEVELOPMENT_GLOBAL_B_CONNECTION_STRING=postgresql://u:p@config/db\n"
        "DEVELOPMENT_GLOBAL_C_CONNECTION_STRING=postgresql://u:p@config/db\n"
        "DEVELOPMENT_GLOBAL_D_CONNECTION_STRING=postgresql://u:p@config/db\n",
    )
    write(
        tmp_path / "config" / ".env.development",
        "DEVELOPMENT_GLOBAL_C_CONNECTION_STRING=postgresql://u:p@config-env/db\n"
        "DEVELOPMENT_GLOBAL_D_CONNECTION_STRING=postgresql://u:p@config-env/db\n",
    )
    loaded = settings(
        tmp_path, DEVELOPMENT_GLOBAL_D_CONNECTION_STRING="postgresql://u:p@real-env/db"
    )
    hosts = {name: loaded.connection(name).url.host for name in "abcd"}
    assert hosts == {"a": "core", "b": "config", "c": "config-env", "d": "real-env"}
    assert len(loaded.files) == 3


def test_env_files_of_another_environment_are_not_read(tmp_path: Path) -> None:
    write(
        tmp_path / "core" / "envs" / ".env.production",
        "PRODUCTION_GLOBAL_A_CONNECTION_STRING=postgresql://u:p@prod/db\n",
    )
    write(
        tmp_path / "config" / ".env.production",
        "PRODUCTION_GLOBAL_B_CONNECTION_STRING=postgresql://u:p@prod/db\n",
    )
    assert settings(tmp_path).connection_names() == []
    assert settings(tmp_path, ORDO_ENV="production").connection_names() == ["a", "b"]


def test_env_file_option_replaces_config_env_only(tmp_path: Path) -> None:
    write(tmp_path / "config" / ".env", "DEVELOPMENT_GLOBAL_A_CONNECTION_STRING=sqlite:///a.db\n")
    write(
        tmp_path / "core" / "envs" / ".env.development",
        "DEVELOPMENT_GLOBAL_B_CONNECTION_STRING=sqlite:///b.db\n",
    )
    other = tmp_path / "other.env"
    write(other, "DEVELOPMENT_GLOBAL_C_CONNECTION_STRING=sqlite:///c.db\n")
    loaded = Settings.load(tmp_path, env_file=other, environ={})
    assert loaded.connection_names() == ["b", "c"]


def test_relative_file_databases_are_anchored_to_the_project(tmp_path: Path) -> None:
    conn = connection(tmp_path, "x", DEVELOPMENT_GLOBAL_X_CONNECTION_STRING="sqlite:///data/x.db")
    assert conn.url.database == str(tmp_path / "data" / "x.db")


def test_masker_knows_the_password_of_every_connection(tmp_path: Path) -> None:
    loaded = settings(tmp_path, DEVELOPMENT_GLOBAL_X_CONNECTION_STRING=SEED_URL)
    masked = loaded.masker().mask(f"failed: password {PASSWORD!r} rejected")
    assert PASSWORD not in masked
