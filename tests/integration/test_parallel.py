"""Units at the same time (issue 4, point 5), against real databases through ``ordo.run``.

Behaviour, not speed: each test reads when units started and ended from the run's events,
time-stamped as they arrive, and asserts what overlapped and what did not. The wall-time
bounds are loose (twice what the work takes at most) and only tell "at once" from "one after
the other".
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine

from ordo.db.engines import EngineRegistry
from ordo.events import Event, StepFailed, StepSkipped, StepStarted, StepSucceeded
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.runs import make, manifest_path, query, run_with

pytestmark = pytest.mark.timeout(120)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.fixture
def lite(sqlite_url: URL, registry: EngineRegistry) -> Engine:
    return registry.get(sqlite_url)


def sleeps(count: int, body: str, *, header: str = "", extra: str = "") -> str:
    """A manifest of ``count`` independent steps named s0, s1... each running ``body``."""
    lines = [header, "steps:"]
    for i in range(count):
        lines += [f"  - name: s{i}", f"    {body}", "    depends_on: []"]
        lines += [f"    {x}" for x in extra.splitlines() if x]
    return "\n".join(lines) + "\n"


# -- real concurrency ------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_one_second_sleeps_finish_in_about_one_second(
    tmp_path: Path, postgres_url: URL
) -> None:
    root = make(
        tmp_path, postgres_url, sleeps(2, "sql: SELECT pg_sleep(1)", header="max_parallel: 2")
    )
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    assert result.duration < 1.8
    assert timeline.finished().duration < 1.8
    started = [timeline.at(StepStarted, s) for s in ("s0", "s1")]
    ended = [timeline.at(StepSucceeded, s) for s in ("s0", "s1")]
    assert max(started) < min(ended)  # both started before either finished
    assert manifest_path(root).read_text().count("# Done: ") == 2


def test_python_steps_run_at_the_same_time(tmp_path: Path, sqlite_url: URL) -> None:
    root = make(
        tmp_path,
        sqlite_url,
        sleeps(2, "file: nap.py", header="max_parallel: 2"),
        python={"nap.py": "import time\ntime.sleep(1)\nprint('rested')\n"},
    )
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    assert timeline.finished().duration < 1.8
    assert overlap(timeline.span("s0"), timeline.span("s1"))


@pytest.mark.postgres
def test_one_at_a_time_by_default_even_without_dependencies(
    tmp_path: Path, postgres_url: URL
) -> None:
    root = make(tmp_path, postgres_url, sleeps(3, "sql: SELECT pg_sleep(0.2)"))
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    spans = [timeline.span(f"s{i}") for i in range(3)]
    assert spans == sorted(spans)
    assert not any(overlap(a, b) for a, b in itertools.pairwise(spans))
    assert [t.name for t in threading.enumerate() if t.name.startswith("ordo-unit")] == []


@pytest.mark.postgres
def test_dependencies_are_waited_for_and_independent_units_overlap(
    tmp_path: Path, postgres_url: URL, pg: Engine
) -> None:
    manifest = """\
        max_parallel: 4
        steps:
          - name: make
            sql: CREATE TABLE t (id INTEGER PRIMARY KEY, at TIMESTAMP DEFAULT clock_timestamp())
          - name: left
            sql: INSERT INTO t (id) SELECT 1 FROM pg_sleep(0.5)
          - name: right
            sql: INSERT INTO t (id) SELECT 2 FROM pg_sleep(0.5)
            depends_on: [make]
          - name: total
            sql: CREATE TABLE total AS SELECT COUNT(*) AS n FROM t
            depends_on: [left, right]
        """
    root = make(tmp_path, postgres_url, manifest)
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    assert overlap(timeline.span("left"), timeline.span("right"))
    assert timeline.span("make")[1] <= min(timeline.span("left")[0], timeline.span("right")[0])
    assert timeline.span("total")[0] >= max(timeline.span("left")[1], timeline.span("right")[1])
    assert query(pg, "SELECT n FROM total") == [(2,)]


# -- bounds ------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_connection_pool_of_one_runs_its_units_one_at_a_time(
    tmp_path: Path, postgres_url: URL
) -> None:
    """pool_size 1 and max_overflow 0: the SQL units take turns, even with max_parallel 4;
    a python step, which holds none of the run's connections, runs beside them."""
    manifest = sleeps(3, "sql: SELECT pg_sleep(0.3)", header="max_parallel: 4")
    manifest += "  - name: py\n    file: nap.py\n    depends_on: []\n"
    root = make(
        tmp_path, postgres_url, manifest, python={"nap.py": "import time\ntime.sleep(0.6)\n"}
    )
    env = root / "config" / ".env"
    env.write_text(
        env.read_text()
        + "DEVELOPMENT_GLOBAL_DEFAULT_POOL_SIZE=1\nDEVELOPMENT_GLOBAL_DEFAULT_MAX_OVERFLOW=0\n"
    )
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    spans = sorted(timeline.span(f"s{i}") for i in range(3))
    assert not any(overlap(a, b) for a, b in itertools.pairwise(spans))
    assert overlap(timeline.span("py"), spans[0])


def test_sqlite_units_take_turns_so_writers_never_lock_each_other_out(
    tmp_path: Path, sqlite_url: URL, lite: Engine
) -> None:
    """Each unit reads, waits, then writes: two at once would deadlock on SQLite's one writer
    ("database is locked" at once). One at a time, all commit on their first attempt."""
    steps = "\n".join(
        f"""\
  - name: w{i}
    sql: INSERT INTO t (id, n) SELECT {i}, (SELECT COUNT(*) FROM t) FROM (SELECT 1)
    depends_on: [make]"""
        for i in range(6)
    )
    manifest = f"""\
max_parallel: 4
retry: {{max_retries: 0}}
steps:
  - name: make
    sql: CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)
{steps}
"""
    root = make(tmp_path, sqlite_url, manifest)
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    assert all(step.attempts == 1 for step in result.steps)
    spans = sorted(timeline.span(f"w{i}") for i in range(6))
    assert not any(overlap(a, b) for a, b in itertools.pairwise(spans))
    assert sorted(n for (n,) in query(lite, "SELECT n FROM t")) == list(range(6))


READ_DUCKDB = """\
import os
from sqlalchemy import create_engine
engine = create_engine(os.environ["DATABASE_URL"])
with engine.connect() as conn:
    print("rows", conn.exec_driver_sql("SELECT COUNT(*) FROM t").scalar())
engine.dispose()
"""


def test_python_units_and_duckdb_units_never_overlap(
    tmp_path: Path, duckdb_url: URL, registry: EngineRegistry
) -> None:
    """A script cannot open the DuckDB file while the run holds it: the run lets go of it
    before a python unit starts, and does not start one while a DuckDB unit runs."""
    manifest = "max_parallel: 4\nsteps:\n  - name: make\n    sql: CREATE TABLE t (id INTEGER)\n"
    for i in range(3):
        manifest += f"  - name: ins{i}\n    sql: INSERT INTO t VALUES ({i})\n"
        manifest += "    depends_on: [make]\n"
        manifest += f"  - name: read{i}\n    file: read.py\n    depends_on: [make]\n"
    root = make(tmp_path, duckdb_url, manifest, python={"read.py": READ_DUCKDB})
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    ducks = [timeline.span(f"ins{i}") for i in range(3)]
    scripts = [timeline.span(f"read{i}") for i in range(3)]
    assert not any(overlap(d, s) for d in ducks for s in scripts)
    assert query(registry.get(duckdb_url), "SELECT COUNT(*) FROM t") == [(3,)]


# -- Ctrl-C ------------------------------------------------------------------------------------


class InterruptWhenRunning:
    """Sends SIGINT to the main thread once ``count`` steps have started (as Ctrl-C would)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.started = 0

    def handle(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self.started += 1
            if self.started == self.count:
                main = threading.main_thread().ident
                assert main is not None
                threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT)).start()


@pytest.mark.postgres
def test_ctrl_c_cancels_running_units_they_roll_back_and_nothing_new_starts(
    tmp_path: Path, postgres_url: URL, pg: Engine
) -> None:
    manifest = """\
        max_parallel: 2
        steps:
          - name: make
            sql: CREATE TABLE t (id INTEGER)
          - name: slow_a
            sql: INSERT INTO t SELECT 1 FROM pg_sleep(20)
          - name: slow_b
            sql: INSERT INTO t SELECT 2 FROM pg_sleep(20)
            depends_on: [make]
          - name: later
            sql: INSERT INTO t VALUES (3)
        """
    root = make(tmp_path, postgres_url, manifest)
    timeline = EventRecorder()
    started = time.monotonic()

    with pytest.raises(KeyboardInterrupt):
        run_with(root, timeline, InterruptWhenRunning(3))

    assert time.monotonic() - started < 10  # cancelled, not waited for
    finished = timeline.finished()
    assert finished.status == "aborted"
    assert finished.completed == ("make",)
    assert set(finished.not_run) == {"slow_a", "slow_b", "later"}
    skipped = [e for e in timeline.events if isinstance(e, StepSkipped)]
    assert [(e.step, e.reason) for e in skipped] == [("later", "run aborted")]
    assert query(pg, "SELECT COUNT(*) FROM t") == [(0,)]
    text = manifest_path(root).read_text()
    assert text.count("# Done: ") == 1
    assert not [t for t in threading.enumerate() if t.name.startswith("ordo-unit")]


def test_results_keep_the_plan_order_whatever_order_units_end_in(
    tmp_path: Path, sqlite_url: URL
) -> None:
    root = make(
        tmp_path,
        sqlite_url,
        sleeps(3, "file: nap.py", header="max_parallel: 3"),
        python={
            "nap.py": "import os, time\ntime.sleep(0.6 - 0.25 * int(os.environ['ORDO_STEP'][1]))\n"
        },
    )
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert [s.name for s in result.steps] == ["s0", "s1", "s2"]
    assert all(s.status is StepStatus.SUCCESS for s in result.steps)
    assert timeline.finished().completed == ("s2", "s1", "s0")  # the order they committed in


def test_ctrl_c_stops_outside_work_through_the_cancel_hook_of_its_kind(
    tmp_path: Path, sqlite_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work outside the unit's connection (a script) is stopped by what its kind registered
    with ``ExecutionContext.on_cancel``; the run does not wait for it to end on its own."""
    from ordo.errors import PermanentError
    from ordo.kinds.base import ExecutionContext, PreparedStep, StepOutcome
    from ordo.kinds.python import PythonKind

    def long_job(self: PythonKind, step: PreparedStep, ctx: ExecutionContext) -> StepOutcome:
        stop = threading.Event()
        ctx.on_cancel(stop.set)
        if stop.wait(30):
            raise PermanentError("job stopped")
        return StepOutcome()

    monkeypatch.setattr(PythonKind, "execute", long_job)
    root = make(
        tmp_path,
        sqlite_url,
        sleeps(2, "file: job.py", header="max_parallel: 2") + "  - name: later\n    file: job.py\n",
        python={"job.py": "pass\n"},
    )
    timeline = EventRecorder()
    started = time.monotonic()

    with pytest.raises(KeyboardInterrupt):
        run_with(root, timeline, InterruptWhenRunning(2))

    assert time.monotonic() - started < 10
    finished = timeline.finished()
    assert (finished.status, finished.completed) == ("aborted", ())
    ended = [e for e in timeline.events if isinstance(e, StepSucceeded | StepFailed)]
    assert ended == []  # stopped by the abort: neither done nor failed
    assert skipped_steps(timeline) == {"later": "run aborted"}


def skipped_steps(timeline: EventRecorder) -> dict[str, str]:
    return {e.step: e.reason for e in timeline.events if isinstance(e, StepSkipped)}


def test_an_in_memory_database_runs_one_unit_at_a_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's in-memory database lives in one connection (per thread, even): units on it
    run one after the other on the calling thread, and each sees what the last one did."""
    manifest = sleeps(3, "sql: CREATE TABLE IF NOT EXISTS t (id INTEGER)", header="max_parallel: 3")
    manifest += "  - name: fill\n    sql: INSERT INTO t VALUES (1)\n"
    root = make(tmp_path, URL.create("sqlite", database=":memory:"), manifest)
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    assert result.step("fill").rows == 1
    assert "in-memory database" in caplog.text
    spans = sorted(timeline.span(name) for name in ("s0", "s1", "s2", "fill"))
    assert not any(overlap(a, b) for a, b in itertools.pairwise(spans))


@pytest.mark.mariadb
def test_two_sleeps_run_at_once_on_mariadb(tmp_path: Path, mariadb_url: URL) -> None:
    root = make(tmp_path, mariadb_url, sleeps(2, "sql: DO SLEEP(1)", header="max_parallel: 2"))
    timeline = EventRecorder()

    result = run_with(root, timeline)

    assert result.status == "success", result.error
    assert timeline.finished().duration < 1.8
    assert overlap(timeline.span("s0"), timeline.span("s1"))


def test_units_on_a_duckdb_file_may_run_at_once(
    tmp_path: Path, duckdb_url: URL, registry: EngineRegistry
) -> None:
    """DuckDB lets one process open its file on several connections: units run side by side."""
    body = "sql: CREATE TABLE t_{{ n }} AS SELECT range AS id FROM range(100000)"
    manifest = "max_parallel: 4\nsteps:\n" + "".join(
        f"  - name: s{i}\n    {body}\n    params: {{n: {i}}}\n    depends_on: []\n"
        for i in range(4)
    )
    root = make(tmp_path, duckdb_url, manifest)

    result = run_with(root, EventRecorder())

    assert result.status == "success", result.error
    total = " + ".join(f"(SELECT COUNT(*) FROM t_{i})" for i in range(4))
    assert query(registry.get(duckdb_url), f"SELECT {total}") == [(400000,)]
