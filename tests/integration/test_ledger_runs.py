"""The ledger in real runs: committed work is never done twice, on every database (issue 4, 8).

A run that dies after a commit but before the manifest records it is played exactly: the
first run commits (and writes the ledger) without marking the manifest, as a crash there would
leave things; the second run must find the work in the ledger and not do it again.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL, create_engine

import ordo
from ordo.runner.ledger import DEFAULT_TABLE
from tests.support.project import database_env, make_project

STEPS = """\
steps:
  - name: one
    sql: INSERT INTO effects VALUES (1)
  - name: two
    sql: INSERT INTO effects VALUES (2)
  - name: three
    sql: INSERT INTO effects VALUES (3)
    transaction_group: g
  - name: four
    sql: INSERT INTO effects VALUES (4)
    transaction_group: g
"""


def project(tmp_path: Path, url: URL, header: str = "") -> Path:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE effects (n INT)")
    engine.dispose()
    env = database_env(url)
    return make_project(tmp_path / "p", header + STEPS, env=env)


def counts(url: URL) -> dict[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT n, COUNT(*) FROM effects GROUP BY n").all()
            return {int(n): int(c) for n, c in rows}
    finally:
        engine.dispose()


def ledger_rows(url: URL) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {DEFAULT_TABLE}").scalar_one())
    finally:
        engine.dispose()


def run(root: Path, **options: bool) -> ordo.RunResult:
    return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False, **options))


def test_work_committed_before_a_crash_is_not_done_again(db_url: URL, tmp_path: Path) -> None:
    root = project(tmp_path, db_url)
    manifest = root / "queue" / "manifest.yaml"
    before = manifest.read_bytes()
    first = run(root, record_state=False)  # commits and ledgers everything, marks nothing
    assert first.status == "success"
    assert manifest.read_bytes() == before
    assert ledger_rows(db_url) == 4

    second = run(root)
    assert second.status == "success"
    assert counts(db_url) == {1: 1, 2: 1, 3: 1, 4: 1}  # exactly once
    assert all(step.attempts == 0 for step in second.steps)  # recorded, not run
    assert manifest.read_text().count("# Done: ") == 4
    assert ledger_rows(db_url) == 0  # the manifest says it now; the rows are forgotten


def test_without_the_ledger_the_same_crash_redoes_the_work(db_url: URL, tmp_path: Path) -> None:
    root = project(tmp_path, db_url, header="ledger: false\n")
    assert run(root, record_state=False).status == "success"
    assert run(root).status == "success"
    assert counts(db_url) == {1: 2, 2: 2, 3: 2, 4: 2}


def test_steps_enabled_again_run_again(db_url: URL, tmp_path: Path) -> None:
    root = project(tmp_path, db_url)
    assert run(root).status == "success"
    ordo.enable(all_steps=True, project=root)
    again = run(root)
    assert again.status == "success"
    assert counts(db_url) == {1: 2, 2: 2, 3: 2, 4: 2}
    assert all(step.attempts == 1 for step in again.steps)


def test_a_failed_group_leaves_no_ledger_rows(db_url: URL, tmp_path: Path) -> None:
    root = project(tmp_path, db_url)
    manifest = root / "queue" / "manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace("INTO effects VALUES (4)", "INTO nowhere VALUES (4)")
    )
    result = run(root, record_state=False)
    assert result.status == "failed"
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            steps = {r[0] for r in conn.exec_driver_sql(f"SELECT step FROM {DEFAULT_TABLE}")}
    finally:
        engine.dispose()
    assert steps == {"one", "two"}


def test_units_that_only_read_need_no_ledger_row_where_the_database_can_tell(
    db_url: URL, tmp_path: Path
) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE effects (n INT)")
    engine.dispose()
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: read
            sql: SELECT COUNT(*) FROM effects
          - name: ddl
            sql: CREATE TABLE made_here (x INT)
          - name: write
            sql: INSERT INTO effects VALUES (1)
        """,
        env=database_env(db_url),
    )
    assert run(root, record_state=False).status == "success"
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            steps = {r[0] for r in conn.exec_driver_sql(f"SELECT step FROM {DEFAULT_TABLE}")}
    finally:
        engine.dispose()
    if db_url.get_backend_name() in ("postgresql", "sqlite"):  # these say whether a txn wrote
        assert steps == {"ddl", "write"}
    else:
        assert steps == {"read", "ddl", "write"}


def test_a_python_step_first_can_open_the_runs_duckdb_file(tmp_path: Path) -> None:
    """The ledger check opens the database before the run; a script must still get the file."""
    url = URL.create("duckdb", database=str(tmp_path / "d.duckdb"))
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: script
            file: touch.py
          - name: write
            sql: INSERT INTO effects VALUES (1)
        """,
        python={
            "touch.py": f"""\
                import duckdb
                con = duckdb.connect({str(tmp_path / "d.duckdb")!r})
                con.execute("CREATE TABLE effects (n INT)")
                con.close()
                """
        },
        env=database_env(url),
    )
    result = run(root)
    assert result.status == "success", result.error
    assert counts(url) == {1: 1}
