"""Which schema the PostgreSQL store lives in, read without a server."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from ordo.errors import ConfigError
from ordo.store.postgresql import check_schema_name, schema_in_options


@pytest.mark.parametrize(
    ("url", "schema"),
    [
        ("postgresql://h/db", None),
        ("postgresql://h/db?options=-csearch_path%3Dhistory", "history"),
        ("postgresql://h/db?options=-c%20search_path%3Dhistory,public", "history"),
        ("postgresql://h/db?options=--search_path%3D%22Run%20History%22", "Run History"),
        ("postgresql://h/db?options=-c%20statement_timeout%3D5000", None),
        ("postgresql://h/db?options=-csearch_path%3D%24user,public", None),
        ("postgresql://h/db?options=-csearch_path%3D%22%24user%22,public", None),  # as quoted
    ],
)
def test_the_urls_search_path_option_names_the_schema(url: str, schema: str | None) -> None:
    assert schema_in_options(make_url(url)) == schema


@pytest.mark.parametrize("name", ["", "  ", "pg_state", "x" * 64])
def test_a_name_postgresql_cannot_hold_as_written_is_a_config_error(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_schema_name(name)
    assert "ORDO_STATE_SCHEMA" in (caught.value.hint or "")


def test_a_name_that_needs_quotes_is_kept_as_written() -> None:
    assert check_schema_name("Run History") == "Run History"
