"""A ledger row never overrides a step the user enabled again (issue 9, item 1).

A row says "run R committed step S"; it may only stand in for S while R's Done mark for S never
reached the manifest (the ``kill -9`` after a commit). Once the mark was written, a manifest
that shows S enabled again is the user's decision, however it came about: ``ordo enable``, an
edit, or the file reset to a copy taken before the run.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import URL, create_engine, text

import ordo
from ordo.manifest.journal import MarkJournal, journal_path
from ordo.runner.ledger import DEFAULT_TABLE, pipeline_key
from tests.support.project import database_env, make_project

STEPS = """\
steps:
  - name: one
    sql: INSERT INTO effects VALUES (1)
  - name: two
    sql: INSERT INTO effects VALUES (2)
    transaction_group: g
  - name: three
    sql: INSERT INTO effects VALUES (3)
    transaction_group: g
"""


def project(tmp_path: Path, url: URL) -> Path:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE effects (n INT)")
    engine.dispose()
    return make_project(tmp_path / "p", STEPS, env=database_env(url))


def counts(url: URL) -> dict[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT n, COUNT(*) FROM effects GROUP BY n").all()
            return {int(n): int(c) for n, c in rows}
    finally:
        engine.dispose()


def ledger_steps(url: URL) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.exec_driver_sql(f"SELECT step FROM {DEFAULT_TABLE}")}
    finally:
        engine.dispose()


def put_rows_back(url: URL, root: Path, run_id: str, steps: list[str]) -> None:
    """What a ``kill -9`` between the marks and the rows' delete leaves: the marks written and
    noted in the journal, the rows not yet deleted."""
    MarkJournal(root / "queue" / "manifest.yaml").add((step, run_id) for step in steps)
    key = pipeline_key(ordo.plan(project=root, environ={}))
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {DEFAULT_TABLE} (pipeline, step, run_id, committed_at) "
                    "VALUES (:p, :s, :r, :t)"
                ),
                [{"p": key, "s": step, "r": run_id, "t": now} for step in steps],
            )
    finally:
        engine.dispose()


def run(root: Path, **options: bool) -> ordo.RunResult:
    return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False, **options))


def test_rows_left_behind_after_their_marks_do_not_override_a_manifest_copied_back(
    db_url: URL, tmp_path: Path
) -> None:
    root = project(tmp_path, db_url)
    manifest = root / "queue" / "manifest.yaml"
    original = tmp_path / "manifest.orig.yaml"
    shutil.copy(manifest, original)
    first = run(root)
    assert first.status == "success"
    assert ledger_steps(db_url) == set()  # marked, so the rows went at once
    put_rows_back(db_url, root, first.run_id, ["one", "two", "three"])

    shutil.copy(original, manifest)  # the user resets the manifest: every step to do again
    again = run(root)
    assert again.status == "success", again.error
    assert all(step.attempts == 1 for step in again.steps)  # run, not "already committed"
    assert counts(db_url) == {1: 2, 2: 2, 3: 2}
    assert ledger_steps(db_url) == set()
    assert not journal_path(manifest).exists()  # every row it answered for is gone


def test_a_row_whose_mark_never_reached_the_manifest_still_skips_the_step(
    db_url: URL, tmp_path: Path
) -> None:
    """The other half of the rule: exactly once, even after an earlier run marked the step."""
    root = project(tmp_path, db_url)
    assert run(root).status == "success"
    ordo.enable(all_steps=True, project=root, environ={})
    crashed = run(root, record_state=False)  # committed and ledgered, killed before any mark
    assert crashed.status == "success"
    assert ledger_steps(db_url) == {"one", "two", "three"}

    recovered = run(root)
    assert recovered.status == "success"
    assert all(step.attempts == 0 for step in recovered.steps)  # found in the ledger
    assert counts(db_url) == {1: 2, 2: 2, 3: 2}
    assert ledger_steps(db_url) == set()


def test_enable_clears_the_rows_of_the_steps_it_names(db_url: URL, tmp_path: Path) -> None:
    root = project(tmp_path, db_url)
    assert run(root, record_state=False).status == "success"  # rows, and no marks
    assert ledger_steps(db_url) == {"one", "two", "three"}

    assert ordo.enable(["one"], project=root, environ={}) == []  # it was never marked done
    assert ledger_steps(db_url) == {"two", "three"}
    again = run(root)
    attempts = {step.name: step.attempts for step in again.steps}
    assert attempts == {"one": 1, "two": 0, "three": 0}  # asked for again; the rest recovered
    assert counts(db_url) == {1: 2, 2: 1, 3: 1}
