"""A manifest step ``type: migrate`` applies its connection's pending migrations (issue 3, 12)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine

import ordo
from tests.support.project import make_project


def project_with_migrations(tmp_path: Path, url: URL, manifest: str) -> Path:
    rendered = url.render_as_string(hide_password=False)
    root = make_project(
        tmp_path / "p", manifest, env=f"DEVELOPMENT_GLOBAL_WH_CONNECTION_STRING={rendered}\n"
    )
    folder = root / "core" / "migrations" / "WH"  # seed 001's layout; the name matches in any case
    folder.mkdir(parents=True)
    (folder / "V1__create_items.sql").write_text("CREATE TABLE items (id INT PRIMARY KEY);\n")
    (folder / "V2__seed_items.sql").write_text(
        "INSERT INTO items VALUES (1);\nINSERT INTO items VALUES (2);\n"
    )
    return root


MANIFEST = """\
    steps:
      - name: schema
        type: migrate
        connection: wh
      - name: use it
        sql: INSERT INTO items VALUES (3)
        connection: wh
    """


def count_items(url: URL) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM items").scalar_one())
    finally:
        engine.dispose()


def test_a_migrate_step_applies_pending_migrations_then_later_steps_see_them(
    db_url: URL, tmp_path: Path
) -> None:
    root = project_with_migrations(tmp_path, db_url, MANIFEST)
    plan = ordo.plan(project=root, environ={})
    assert plan.lines()[0] == "[1] MIGRATE: schema [wh] - 2 migration files in WH/"
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    assert result.status == "success", result.error
    assert result.step("schema").rows == 2  # migrations applied
    assert count_items(db_url) == 3
    manifest = (root / "queue" / "manifest.yaml").read_text()
    assert manifest.count("# Done: ") == 2


def test_a_migrate_step_with_nothing_pending_applies_nothing(db_url: URL, tmp_path: Path) -> None:
    root = project_with_migrations(tmp_path, db_url, MANIFEST)
    assert (
        ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False)).status
        == "success"
    )
    ordo.enable(["schema"], project=root)
    again = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    assert again.status == "success"
    assert again.step("schema").rows == 0


def test_a_migrate_step_cannot_join_a_transaction_group(tmp_path: Path) -> None:
    url = URL.create("sqlite", database=str(tmp_path / "x.db"))
    root = project_with_migrations(
        tmp_path,
        url,
        """\
        steps:
          - name: schema
            type: migrate
            connection: wh
            transaction_group: 1
          - name: after
            sql: SELECT 1
            connection: wh
            transaction_group: 1
        """,
    )
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    assert any(
        "migrate step cannot be in a transaction group" in str(p) for p in caught.value.problems
    )


def test_misnamed_migration_files_stop_the_plan(tmp_path: Path) -> None:
    url = URL.create("sqlite", database=str(tmp_path / "x.db"))
    root = project_with_migrations(tmp_path, url, MANIFEST)
    (root / "core" / "migrations" / "WH" / "V1__duplicate_version.sql").write_text("SELECT 1;\n")
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "step 'schema'" in text
    assert "V1__duplicate_version.sql" in text
    assert not (tmp_path / "x.db").exists()  # nothing touched the database


def test_a_failing_migration_fails_the_step_and_later_steps_do_not_run(
    db_url: URL, tmp_path: Path
) -> None:
    root = project_with_migrations(tmp_path, db_url, MANIFEST)
    (root / "core" / "migrations" / "WH" / "V3__broken.sql").write_text(
        textwrap.dedent("INSERT INTO items VALUES (10);\nINSERT INTO missing_table VALUES (1);\n")
    )
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    assert result.status == "failed"
    assert result.failed_step is not None
    assert result.failed_step.name == "schema"
    assert "V3__broken.sql" in (result.failed_step.error or "")
    assert result.step("use it").status == "skipped"
