"""A migrate step's ``placeholders:`` map and ``placeholder_replacement:`` switch (issue 10,
item 8): the step's values join the connection's, and a placeholder without a value stops the
plan, so the manifest never starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine

import ordo
from tests.support.project import make_project


def project(tmp_path: Path, url: URL, manifest: str, env: str = "") -> Path:
    rendered = url.render_as_string(hide_password=False)
    root = make_project(
        tmp_path / "p",
        manifest,
        env=f"DEVELOPMENT_GLOBAL_WH_CONNECTION_STRING={rendered}\n{env}",
    )
    folder = root / "core" / "migrations" / "wh"
    folder.mkdir(parents=True)
    (folder / "V1__items.sql").write_text(
        "CREATE TABLE items (id INT, label VARCHAR(20));\n"
        "INSERT INTO items VALUES (${id}, '${label}');\n"
    )
    return root


def items(url: URL) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql("SELECT id, label FROM items")]
    finally:
        engine.dispose()


STEP = """\
    steps:
      - name: schema
        type: migrate
        connection: wh
        placeholders:
          id: 7
    """


def test_a_steps_placeholders_join_the_connections(db_url: URL, tmp_path: Path) -> None:
    env = (
        "DEVELOPMENT_GLOBAL_WH_PLACEHOLDERS_LABEL=seven\nDEVELOPMENT_GLOBAL_WH_PLACEHOLDERS_ID=1\n"
    )
    root = project(tmp_path, db_url, STEP, env)
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    assert result.status == "success", result.error
    assert items(db_url) == [(7, "seven")]  # the step's id wins over the setting's


def test_a_missing_placeholder_stops_the_plan(tmp_path: Path) -> None:
    url = URL.create("sqlite", database=str(tmp_path / "x.db"))
    root = project(tmp_path, url, STEP)
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "${label}" in text
    assert "V1__items.sql" in text
    assert "line 2" in text
    assert not (tmp_path / "x.db").exists()  # nothing touched the database


def test_a_step_can_switch_replacement_off(tmp_path: Path) -> None:
    url = URL.create("sqlite", database=str(tmp_path / "x.db"))
    manifest = STEP.replace(
        "connection: wh\n", "connection: wh\n        placeholder_replacement: false\n"
    )
    root = project(tmp_path, url, manifest)
    folder = root / "core" / "migrations" / "wh"
    (folder / "V1__items.sql").write_text(
        "CREATE TABLE items (id INT, label VARCHAR(20));\n"
        "INSERT INTO items VALUES (1, '${label}');\n"
    )
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    assert result.status == "success", result.error
    assert items(url) == [(1, "${label}")]
