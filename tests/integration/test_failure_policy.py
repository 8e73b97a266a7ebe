"""What a failure does to the rest of the run (issue 4, point 6), through ``ordo.run``.

``on_failure: stop`` (the default): nothing new starts, running units finish and their commits
count, every unit that did not start is skipped. ``on_failure: continue``: every unit that does
not wait for the failed one still runs; those that do are skipped. Either way the run fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, Engine

from ordo.events import RunFinished, StepSkipped
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.runs import DONE, make, manifest_path, query, run_with, step_lines

pytestmark = pytest.mark.timeout(120)


def skipped(timeline: EventRecorder) -> dict[str, str]:
    return {e.step: e.reason for e in timeline.events if isinstance(e, StepSkipped)}


def statuses(result: object) -> dict[str, str]:
    return {s.name: str(s.status) for s in result.steps}  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_stop_lets_running_units_finish_and_skips_everything_else(
    tmp_path: Path, postgres_url: URL, pg: Engine
) -> None:
    manifest = """\
        max_parallel: 2
        steps:
          - name: make
            sql: CREATE TABLE t (id INTEGER)
          - name: slow
            sql: INSERT INTO t SELECT 1 FROM pg_sleep(0.8)
          - name: broken
            sql: INSERT INTO nope VALUES (2)
            depends_on: [make]
          - name: after_broken
            sql: INSERT INTO t VALUES (3)
            depends_on: [broken]
          - name: independent
            sql: INSERT INTO t VALUES (4)
            depends_on: [make]
        """
    root = make(tmp_path, postgres_url, manifest)
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "failed"
    assert result.exit_code == 1
    assert statuses(result) == {
        "make": "success",
        "slow": "success",  # was running when broken failed: it finished and committed
        "broken": "failed",
        "after_broken": "skipped",
        "independent": "skipped",  # had not started: nothing new starts after a failure
    }
    assert skipped(timeline) == {
        "after_broken": "depends on failed step broken",
        "independent": "run stopped: step broken failed",
    }
    assert query(pg, "SELECT id FROM t") == [(1,)]
    text = manifest_path(root).read_text()
    for step in ("make", "slow"):
        assert any(DONE.search(line) for line in step_lines(text, step)), step
    assert text.count("# Done: ") == 2
    [finished] = [e for e in timeline.events if isinstance(e, RunFinished)]
    assert finished.failed_step == "broken"
    assert set(finished.not_run) == {"after_broken", "independent"}
    assert finished.completed == ("make", "slow")


@pytest.mark.postgres
def test_continue_runs_what_does_not_depend_on_the_failure(
    tmp_path: Path, postgres_url: URL, pg: Engine
) -> None:
    manifest = """\
        max_parallel: 2
        on_failure: continue
        steps:
          - name: make
            sql: CREATE TABLE t (id INTEGER)
          - name: broken
            sql: INSERT INTO nope VALUES (1)
          - name: child
            sql: INSERT INTO t VALUES (2)
          - name: grandchild
            sql: INSERT INTO t VALUES (3)
            depends_on: [child, other]
          - name: other
            sql: INSERT INTO t VALUES (4)
            depends_on: [make]
          - name: other_child
            sql: INSERT INTO t VALUES (5)
        """
    root = make(tmp_path, postgres_url, manifest)
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "failed"
    assert statuses(result) == {
        "make": "success",
        "broken": "failed",
        "child": "skipped",
        "other": "success",
        "grandchild": "skipped",
        "other_child": "success",
    }
    assert skipped(timeline) == {
        "child": "depends on failed step broken",
        "grandchild": "depends on failed step broken",
    }
    assert sorted(query(pg, "SELECT id FROM t")) == [(4,), (5,)]
    assert result.error is not None
    assert "nope" in result.error


def test_continue_one_at_a_time_on_sqlite(tmp_path: Path, sqlite_url: URL) -> None:
    """The policy does not need parallelism: with max_parallel 1 the same units run."""
    manifest = """\
        on_failure: continue
        steps:
          - name: a
            sql: CREATE TABLE t (id INTEGER)
          - name: bad
            sql: SELEC 1
            depends_on: []
          - name: b
            sql: INSERT INTO t VALUES (1)
            depends_on: [a]
          - name: after_bad
            sql: INSERT INTO t VALUES (2)
            depends_on: [bad]
          - name: c
            sql: INSERT INTO t VALUES (3)
        """
    root = make(tmp_path, sqlite_url, manifest)
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "failed"
    assert [s.name for s in result.steps] == ["a", "bad", "b", "after_bad", "c"]
    assert [s.status for s in result.steps] == [
        StepStatus.SUCCESS,
        StepStatus.FAILED,
        StepStatus.SUCCESS,
        StepStatus.SKIPPED,
        StepStatus.SKIPPED,  # c follows after_bad in the list, so it waits for it
    ]
    assert skipped(timeline) == {
        "after_bad": "depends on failed step bad",
        "c": "depends on failed step bad",
    }


def test_stop_by_default_skips_the_rest_of_a_plain_list(tmp_path: Path, sqlite_url: URL) -> None:
    manifest = """\
        steps:
          - name: a
            sql: SELECT 1
          - name: bad
            sql: SELEC 1
          - name: b
            sql: SELECT 1
          - name: c
            sql: SELECT 1
            depends_on: []
        """
    root = make(tmp_path, sqlite_url, manifest)
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert statuses(result) == {"a": "success", "bad": "failed", "b": "skipped", "c": "skipped"}
    assert skipped(timeline) == {
        "b": "depends on failed step bad",
        "c": "run stopped: step bad failed",  # independent, but after bad in the list
    }


def test_a_failed_group_skips_what_depends_on_any_of_its_steps(
    tmp_path: Path, sqlite_url: URL
) -> None:
    manifest = """\
        on_failure: continue
        steps:
          - name: g1
            sql: CREATE TABLE t (id INTEGER)
            transaction_group: 1
          - name: g2
            sql: INSERT INTO nope VALUES (1)
            transaction_group: 1
          - name: uses_g1
            sql: SELECT 1
            depends_on: [g1]
          - name: free
            sql: SELECT 1
            depends_on: []
        """
    root = make(tmp_path, sqlite_url, manifest)
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert statuses(result) == {
        "g1": "rolled_back",
        "g2": "failed",
        "uses_g1": "skipped",
        "free": "success",
    }
    assert skipped(timeline) == {"uses_g1": "depends on failed step g2"}
