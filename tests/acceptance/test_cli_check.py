"""``ordo check`` and ``ordo run --fail-on warn`` as a user runs them, on SQLite.

A validate step prints each check's finding with its failing rows; a failing check at
severity error exits 1, warnings exit 0 unless ``--fail-on warn``; ``ordo check`` runs only
the validate steps and changes nothing: no done marks, no rows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine

from ordo.subscribers.report import REPORTS_DIR
from tests.support.cli import Runner
from tests.support.project import database_env, make_project

MANIFEST = """\
name: shop
steps:
  - name: load
    sql: INSERT INTO orders VALUES (3, 'lost')
  - name: audit
    type: validate
    checks:
      - {type: accepted_values, table: orders, column: status, values: [new, done]}
      - {type: not_null, table: orders, column: status, severity: warn}
"""


def _project(tmp_path: Path, manifest: str = MANIFEST) -> Path:
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, status TEXT)")
        conn.execute("INSERT INTO orders VALUES (1, 'new'), (2, NULL)")
    return make_project(tmp_path / "p", manifest, env=f"DATABASE_URL=sqlite:///{db}\n")


def _rows(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "shop.sqlite") as conn:
        count: int = conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    return count


def test_check_runs_only_the_checks_and_changes_nothing(ordo_cli: Runner, tmp_path: Path) -> None:
    root = _project(tmp_path)
    manifest = (root / "queue" / "manifest.yaml").read_bytes()

    done = ordo_cli("check", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ accepted_values(orders.status): pass, 0 of 2 rows failing" in done.stdout
    assert "⚠ not_null(orders.status): fail [warn], 1 of 2 rows failing (50.00%)" in done.stdout
    assert "id=2, status=None" in done.stdout  # the failing row, on the console
    assert "sql load" not in done.stdout  # only the validate step ran
    assert "Checks complete: nothing was changed." in done.stdout
    assert _rows(tmp_path) == 2  # the load step did not run
    assert (root / "queue" / "manifest.yaml").read_bytes() == manifest  # no marks

    strict = ordo_cli("check", "--fail-on", "warn", cwd=root)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "1 warning (--fail-on warn): not_null(orders.status)" in strict.stdout


def test_a_failing_check_fails_the_run_and_names_the_rows(ordo_cli: Runner, tmp_path: Path) -> None:
    root = _project(tmp_path)

    done = ordo_cli("run", "-y", cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "✗ accepted_values(orders.status): fail, 1 of 3 rows failing (33.33%)" in done.stdout
    assert "id=3, status=lost" in done.stdout
    assert "✗ audit failed" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert _rows(tmp_path) == 3  # the load before it committed on its own, as steps do
    [report] = (root / REPORTS_DIR).iterdir()  # the manual review report has the rows too
    text = report.read_text()
    assert "Failing Checks :" in text
    assert "- accepted_values(orders.status): fail, 1 of 3 rows failing (33.33%)" in text
    assert "id=3 status=lost" in text


def test_a_bad_check_is_refused_before_anything_runs(ordo_cli: Runner, tmp_path: Path) -> None:
    manifest = MANIFEST.replace("values: [new, done]", "values: []").replace(
        "severity: warn", "severity: loud"
    )
    root = _project(tmp_path, manifest)

    done = ordo_cli("run", "-y", cwd=root)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "manifest.yaml" in done.stderr
    assert "checks" in done.stderr
    assert "values" in done.stderr
    assert "severity" in done.stderr
    assert _rows(tmp_path) == 2  # nothing ran


def test_check_without_validate_steps_says_so(ordo_cli: Runner, tmp_path: Path) -> None:
    root = _project(tmp_path, "name: shop\nsteps:\n  - name: load\n    sql: SELECT 1\n")

    done = ordo_cli("check", cwd=root)

    assert done.returncode == 2
    assert "no validate steps to run" in done.stderr
    assert "type: validate" in done.stderr


@pytest.mark.mariadb
def test_check_runs_on_mariadb_whose_ddl_commits_on_its_own(
    ordo_cli: Runner, tmp_path: Path, mariadb_url: URL
) -> None:
    """Checks write nothing, so a rehearsal of them is fine where DDL is not transactional."""
    engine = create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (id INTEGER, status TEXT)")
        conn.exec_driver_sql("INSERT INTO orders VALUES (1, 'new'), (2, NULL)")
    engine.dispose()
    root = make_project(tmp_path / "p", MANIFEST, env=database_env(mariadb_url))

    done = ordo_cli("check", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ accepted_values(orders.status): pass, 0 of 2 rows failing" in done.stdout

    rehearsed = ordo_cli("run", "--rehearse", "-y", cwd=root)  # the load step is DML only
    assert rehearsed.returncode == 1, rehearsed.stdout + rehearsed.stderr  # lost fails audit
    ddl = make_project(
        tmp_path / "q",
        "name: ddl\nsteps:\n  - name: make\n    sql: CREATE TABLE t (x INT)\n",
        env=database_env(mariadb_url),
    )
    refused = ordo_cli("run", "--rehearse", "-y", cwd=ddl)
    assert refused.returncode == 2
    assert "step 'make' holds DDL" in refused.stderr


def test_an_unknown_check_type_is_named_with_a_did_you_mean(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    manifest = MANIFEST.replace("type: accepted_values", "type: acepted_values").replace(
        "{type: not_null, ", "{"
    )
    root = _project(tmp_path, manifest)

    done = ordo_cli("plan", cwd=root)

    assert done.returncode == 2
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 2, errors  # one line for each wrong check, nothing else
    assert "'checks.0': unknown type 'acepted_values' (hint: did you mean " in errors[0]
    assert "'accepted_values'?)" in errors[0]
    assert "'checks.1': missing 'type': every entry says which it is" in errors[1]


def test_a_validate_step_without_checks_says_so(ordo_cli: Runner, tmp_path: Path) -> None:
    root = _project(
        tmp_path, "name: e\nsteps:\n  - name: audit\n    type: validate\n    checks: []\n"
    )

    done = ordo_cli("plan", cwd=root)

    assert done.returncode == 2
    assert "'checks': a validate step needs at least one check" in done.stderr
