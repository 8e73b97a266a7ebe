"""Seed 002's decision matrix with real rollbacks (issue 4, point 11), on every database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine

import ordo
from tests.support.project import database_env, make_project


def project(tmp_path: Path, url: URL, load: str) -> Path:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE staged (n INT)")
        conn.exec_driver_sql("CREATE TABLE published (n INT)")
        conn.exec_driver_sql("INSERT INTO staged VALUES (7)")  # a leftover the rollback removes
    engine.dispose()
    manifest = f"""\
        name: recovery
        steps:
          - name: load
        {load}
          - name: publish
            sql: INSERT INTO published VALUES (1)
        """
    return make_project(
        tmp_path / "p",
        manifest,
        python={"undo.py": "print('undone')\n", "fails.py": "raise SystemExit(3)\n"},
        env=database_env(url),
    )


def published(url: URL) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM published").scalar_one())
    finally:
        engine.dispose()


def staged(url: URL) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM staged").scalar_one())
    finally:
        engine.dispose()


def run(root: Path) -> ordo.RunResult:
    return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=True))


FAILING = "    sql: INSERT INTO nowhere VALUES (1)"


def test_row_1_success_needs_no_rollback(db_url: URL, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        db_url,
        "    sql: INSERT INTO staged VALUES (1)\n"
        "            rollback: {sql: DELETE FROM staged}\n"
        "            continue_on_rollback: true",
    )
    result = run(root)
    assert result.status == "success"
    assert staged(db_url) == 2  # the rollback never ran
    assert published(db_url) == 1


def test_row_2_rollback_succeeds_and_continues(db_url: URL, tmp_path: Path) -> None:
    root = project(
        tmp_path,
        db_url,
        f"{FAILING}\n            rollback: {{sql: DELETE FROM staged}}\n"
        "            continue_on_rollback: true",
    )
    result = run(root)
    assert result.status == "partial_success"
    assert result.exit_code == 1
    assert staged(db_url) == 0  # the rollback ran and committed
    assert published(db_url) == 1  # the dependent step ran
    manifest = (root / "queue" / "manifest.yaml").read_text()
    assert manifest.count("# Done: ") == 1  # 'publish' only: 'load' failed and stays enabled
    [report] = list((root / "notifications").glob("*.txt"))
    assert "HEALING ACTIONS" in report.read_text()
    assert result.as_pipeline_dict()["overall_status"] == "partial_success"


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(
            f"{FAILING}\n            rollback: {{sql: DELETE FROM no_such_table}}\n"
            "            continue_on_rollback: true",
            id="row_3_rollback_fails",
        ),
        pytest.param(FAILING, id="row_4_no_rollback"),
    ],
)
def test_rows_3_and_4_dependents_are_skipped(db_url: URL, tmp_path: Path, load: str) -> None:
    """A failed rollback (row 3) and no rollback at all (row 4) end the same way."""
    root = project(tmp_path, db_url, load)
    result = run(root)
    assert result.status == "failed"
    assert result.step("publish").status == "skipped"
    assert published(db_url) == 0


def test_a_rollback_without_continue_still_stops(db_url: URL, tmp_path: Path) -> None:
    root = project(
        tmp_path, db_url, f"{FAILING}\n            rollback: {{sql: DELETE FROM staged}}"
    )
    result = run(root)
    assert result.status == "failed"
    assert staged(db_url) == 0  # it did roll back
    assert published(db_url) == 0


@pytest.mark.parametrize(
    ("script", "status", "published_rows"),
    [
        pytest.param("undo.py", "partial_success", 1, id="succeeds"),
        pytest.param("fails.py", "failed", 0, id="fails"),
    ],
)
def test_a_python_rollback_that(
    db_url: URL, tmp_path: Path, script: str, status: str, published_rows: int
) -> None:
    root = project(
        tmp_path,
        db_url,
        f"{FAILING}\n            rollback: {{type: python, file: {script}}}\n"
        "            continue_on_rollback: true",
    )
    assert run(root).status == status
    assert published(db_url) == published_rows


def test_a_bad_rollback_is_a_plan_error(tmp_path: Path) -> None:
    url = URL.create("sqlite", database=str(tmp_path / "x.db"))
    root = project(tmp_path, url, f"{FAILING}\n            rollback: {{file: missing.sql}}")
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    assert any("rollback" in str(p) and "missing.sql" in str(p) for p in caught.value.problems)
