"""The manual review report from synthetic event streams, and the pipeline result dictionary.

Every metric reader and the clock are injected, so one report is compared byte for byte with
a golden text: a change of layout is a deliberate change of this test.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ordo.errors import ErrorKind
from ordo.events import (
    Event,
    RollbackFinished,
    RollbackStarted,
    RunFinished,
    RunStarted,
    RunStatus,
    StepFailed,
    StepSkipped,
    StepStarted,
    StepSucceeded,
    UnitCommitted,
    UnitFailed,
    UnitRetrying,
    UnitStarted,
)
from ordo.masking import Masker
from ordo.runner.result import RunResult, StepResult, StepStatus, to_pipeline_dict
from ordo.subscribers import report as report_module
from ordo.subscribers.report import Probes, ReportSubscriber, error_type, report_name

RUN = "abcdef1234567890abcdef1234567890"
PIPELINE = "Daily Sales"
PASSWORD = "Wh1sperQuietly9"
TOKEN = "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345"
AT = datetime(2024, 5, 17, 14, 3, 9, tzinfo=timezone(timedelta(hours=2)))
NAME = "manual_review_daily_sales_20240517_140309_abcdef12.txt"
MB = 1024 * 1024


class FixedProbes:
    """Readers that return set numbers: 3 MB written between the start and the end."""

    def __init__(self) -> None:
        self.written = iter([10 * MB, 13 * MB])

    def probes(self) -> Probes:
        return Probes(
            peak_memory_mb=lambda: (52.25, 140.0),
            bytes_written=lambda: next(self.written),
            disk_free=lambda _path: 10240 * MB,
        )


def subscriber(root: Path, **kwargs: object) -> ReportSubscriber:
    options: dict[str, object] = {
        "masker": Masker([PASSWORD, TOKEN]),  # as settings make it: both are known secrets
        "logger": logging.getLogger("ordo.test.report"),
        "clock": lambda: AT,
        "probes": FixedProbes().probes(),
        **kwargs,
    }
    return ReportSubscriber(root, PIPELINE, **options)  # type: ignore[arg-type]


def feed(sub: ReportSubscriber, events: Iterable[Event]) -> None:
    for event in events:
        sub.handle(event)


def started(*steps: str) -> RunStarted:
    return RunStarted(RUN, PIPELINE, Path("queue/manifest.yaml"), steps, AT)


def ok_unit(*steps: str, kind: str = "sql") -> list[Event]:
    events: list[Event] = [UnitStarted(RUN, steps, None, "default", 1)]
    for step in steps:
        events += [
            StepStarted(RUN, step, kind, 1, 1, 9),
            StepSucceeded(RUN, step, kind, 1, 0.5, rows=3, notify=False),
        ]
    return [*events, UnitCommitted(RUN, steps, AT.replace(tzinfo=None))]


def finished(status: RunStatus, completed: tuple[str, ...] = (), **kwargs: object) -> RunFinished:
    return RunFinished(RUN, PIPELINE, status, 12.345, completed, **kwargs)  # type: ignore[arg-type]


def read_report(root: Path) -> str:
    files = list((root / "notifications").iterdir())
    assert len(files) == 1, files
    return files[0].read_text(encoding="utf-8")


def permanent_failure(error: str = 'no such table: "st_sales"') -> list[Event]:
    return [
        started("create", "load", "publish"),
        *ok_unit("create"),
        UnitStarted(RUN, ("load",), None, "default", 1),
        StepStarted(RUN, "load", "sql", 1, 2, 3),
        StepFailed(RUN, "load", "sql", 1, 0.1, error, ErrorKind.PERMANENT),
        UnitFailed(RUN, ("load",), "load", 1, error),
        StepSkipped(RUN, "publish", "'load' failed"),
        finished(
            RunStatus.FAILED,
            completed=("create",),
            failed_step="load",
            error=error,
            not_run=("publish",),
        ),
    ]


def group_with_rollback(succeeded: bool, *, go_on: bool = True) -> list[Event]:
    """A group of two steps: a deadlock (retried), then a constraint violation; a rollback."""
    deadlock = "deadlock detected"
    duplicate = 'duplicate key value violates unique constraint "orders_pkey"\nDETAIL: id=7'
    group = ("stage_orders", "load_orders")
    events: list[Event] = [started(*group, "refresh_stats", "publish")]
    for attempt, error, kind in (
        (1, deadlock, ErrorKind.TRANSIENT),
        (2, duplicate, ErrorKind.PERMANENT),
    ):
        events += [
            UnitStarted(RUN, group, "orders", "default", attempt),
            StepStarted(RUN, "stage_orders", "sql", attempt, 1, 4),
            StepSucceeded(RUN, "stage_orders", "sql", attempt, 0.5, rows=10, notify=False),
            StepStarted(RUN, "load_orders", "sql", attempt, 2, 4),
            StepFailed(RUN, "load_orders", "sql", attempt, 0.25, error, kind),
        ]
        if attempt == 1:
            events.append(UnitRetrying(RUN, group, 1, 2, 2.0, deadlock))
    why = None if succeeded else f"rollback failed: could not connect, password={PASSWORD}"
    events += [
        UnitFailed(RUN, group, "load_orders", 2, duplicate),
        RollbackStarted(RUN, "load_orders"),
        RollbackFinished(RUN, "load_orders", succeeded, 0.2, why, continue_on_rollback=go_on),
    ]
    if succeeded and go_on:
        events += [*ok_unit("refresh_stats"), *ok_unit("publish", kind="python")]
        return [
            *events,
            finished(
                RunStatus.PARTIAL_SUCCESS,
                completed=("refresh_stats", "publish"),
                failed_step="load_orders",
                error=duplicate,
            ),
        ]
    events += [StepSkipped(RUN, s, "'load_orders' failed") for s in ("refresh_stats", "publish")]
    return [
        *events,
        finished(
            RunStatus.FAILED,
            failed_step="load_orders",
            error=duplicate,
            not_run=("refresh_stats", "publish"),
        ),
    ]


GOLDEN = """\
================================================================================
                           MANUAL REVIEW NOTIFICATION
================================================================================

Agent ID     : abcdef1234567890abcdef1234567890
Pipeline     : Daily Sales
Status       : PARTIAL_SUCCESS
Timestamp    : 2024-05-17T14:03:09+02:00

----------------------------------- SUMMARY ------------------------------------
Total Steps         : 4
Successful          : 2
Failed              : 1
Skipped / Not Run   : 0
Rolled Back         : 1
Retries             : 1
Rollback Actions    : 1 run, 1 succeeded

-------------------------------- ERROR DETAILS ---------------------------------
ERROR #1:
  Step           : load_orders
  Data Type      : sql
  Error Type     : permanent
  Attempts       : 2
  Error Message  : duplicate key value violates unique constraint "orders_pkey"
                   DETAIL: id=7
  Rolled Back    : stage_orders (undone with its group)

  Recovery Actions:
    1. [HIGH] ROLLBACK at load_orders → Status: SUCCESS (0.20s)
       Next  : dependents ran (continue_on_rollback: true)

------------------------------- HEALING ACTIONS --------------------------------
1. [HIGH] ROLLBACK at load_orders → Status: SUCCESS (0.20s)

----------------------------------- METADATA -----------------------------------
Duration (s)        : 12.35
Peak Memory (MB)    : 52.2 (ordo process)
Peak Step Mem (MB)  : 140.0 (largest step subprocess, ≥ ordo's size at spawn)
Disk Written (MB)   : 3.0 (ordo and its step subprocesses)
Disk Free Space (MB): 10240.0

================================================================================
"""


def test_partial_success_report_matches_the_golden_text(tmp_path: Path) -> None:
    sub = subscriber(tmp_path)
    feed(sub, group_with_rollback(succeeded=True))
    assert sub.path == tmp_path / "notifications" / NAME
    assert read_report(tmp_path) == GOLDEN


def test_permanent_failure(tmp_path: Path) -> None:
    feed(sub := subscriber(tmp_path), permanent_failure())
    text = read_report(tmp_path)
    assert sub.path is not None
    assert "Status       : FAILED\n" in text
    assert "  Step           : load\n" in text
    assert "  Error Type     : permanent\n" in text
    assert '  Error Message  : no such table: "st_sales"\n' in text
    assert "    (no rollback declared) → dependents skipped\n" in text
    assert "Successful          : 1\n" in text
    assert "Skipped / Not Run   : 1\n" in text  # StepSkipped and not_run name the same step
    assert "Rolled Back         : 0\n" in text
    assert "HEALING ACTIONS -" in text
    assert text.split("HEALING ACTIONS", 1)[1].split("\n")[1] == "(none)"


def test_transient_failure_retried_then_failed_for_good_is_one_error(tmp_path: Path) -> None:
    error = "server closed the connection unexpectedly"
    events: list[Event] = [started("load")]
    for attempt in range(1, 5):
        events += [
            UnitStarted(RUN, ("load",), None, "default", attempt),
            StepStarted(RUN, "load", "sql", attempt, 1, 1),
            StepFailed(RUN, "load", "sql", attempt, 0.1, error, ErrorKind.TRANSIENT),
        ]
        if attempt < 4:
            events.append(UnitRetrying(RUN, ("load",), attempt, attempt + 1, 2.0**attempt, error))
    events += [
        UnitFailed(RUN, ("load",), "load", 4, error),
        finished(RunStatus.FAILED, failed_step="load", error=error),
    ]
    feed(subscriber(tmp_path), events)
    text = read_report(tmp_path)
    assert text.count("ERROR #") == 1
    assert "  Attempts       : 4\n" in text
    assert "  Error Type     : transient\n" in text
    assert "Retries             : 3\n" in text
    assert "Failed              : 1\n" in text


def test_failed_rollback_skips_dependents_and_heals_nothing(tmp_path: Path) -> None:
    feed(subscriber(tmp_path), group_with_rollback(succeeded=False))
    text = read_report(tmp_path)
    assert "Status       : FAILED\n" in text
    assert "    1. [HIGH] ROLLBACK at load_orders → Status: FAILED (0.20s)\n" in text
    assert "       Error : rollback failed: could not connect, password=***\n" in text
    assert "       Next  : dependents skipped (rollback did not succeed)\n" in text
    assert "Rollback Actions    : 1 run, 0 succeeded\n" in text
    assert "Skipped / Not Run   : 2\n" in text
    assert text.split("HEALING ACTIONS", 1)[1].split("\n")[1] == "(none)"
    assert PASSWORD not in text


def test_successful_rollback_without_continue_still_skips_dependents(tmp_path: Path) -> None:
    feed(subscriber(tmp_path), group_with_rollback(succeeded=True, go_on=False))
    text = read_report(tmp_path)
    assert "       Next  : dependents skipped (continue_on_rollback: false)\n" in text
    assert "1. [HIGH] ROLLBACK at load_orders → Status: SUCCESS (0.20s)\n" in text  # healing


def test_rollback_that_never_finished_is_unfinished(tmp_path: Path) -> None:
    events = permanent_failure()
    events.insert(-2, RollbackStarted(RUN, "load"))
    feed(subscriber(tmp_path), events)
    text = read_report(tmp_path)
    assert "    1. [HIGH] ROLLBACK at load → Status: UNFINISHED\n" in text
    assert "Rollback Actions    : 0 run, 0 succeeded\n" in text


@pytest.mark.parametrize("status", [RunStatus.SUCCESS, RunStatus.ABORTED])
def test_success_and_aborted_runs_write_nothing(tmp_path: Path, status: RunStatus) -> None:
    sub = subscriber(tmp_path)
    feed(sub, [started("a"), *ok_unit("a"), finished(status, completed=("a",))])
    assert sub.path is None
    assert not (tmp_path / "notifications").exists()


def test_password_and_token_are_masked_everywhere(tmp_path: Path) -> None:
    error = (
        f"could not connect to postgresql://etl:{PASSWORD}@db:5432/sales; "
        f"notice to https://api.telegram.org/bot{TOKEN}/sendMessage failed"
    )
    feed(subscriber(tmp_path), permanent_failure(error))
    text = read_report(tmp_path)
    assert PASSWORD not in text
    assert TOKEN not in text
    assert "postgresql://etl:***@db:5432/sales" in text
    assert "/bot***/sendMessage" in text


def test_file_name_and_folder(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    sub = subscriber(root)
    feed(sub, permanent_failure())
    assert sub.path == root / "notifications" / NAME
    assert sub.path.is_file()
    assert report_name("  Nightly: EU/US sales!  ", "0123456789", AT) == (
        "manual_review_nightly_eu_us_sales_20240517_140309_01234567.txt"
    )
    assert report_name("***", RUN, AT).startswith("manual_review_pipeline_")


def test_write_failure_is_a_masked_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(13, f"Permission denied (password={PASSWORD})", str(path))

    monkeypatch.setattr(report_module, "write_atomic", refuse)
    sub = subscriber(tmp_path)
    with caplog.at_level(logging.WARNING, "ordo.test.report"):
        feed(sub, permanent_failure())  # must not raise
    assert sub.path is None
    (record,) = [r for r in caplog.records if "manual review report" in r.getMessage()]
    message = record.getMessage()
    assert message.startswith("manual review report not written: could not write ")
    assert "notifications" in message
    assert "Permission denied" in message
    assert "\n" not in message  # one clean line
    assert "Error" not in message  # no class names
    assert PASSWORD not in caplog.text


def test_folder_that_cannot_be_made_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "notifications").write_text("a file where the folder should be")
    sub = subscriber(tmp_path)
    with caplog.at_level(logging.WARNING, "ordo.test.report"):
        feed(sub, permanent_failure())
    assert sub.path is None
    message = caplog.records[-1].getMessage()
    assert message.startswith("manual review report not written: could not write ")
    assert "File exists" in message
    assert "\n" not in message


def test_unreadable_metrics_show_na_and_still_write(tmp_path: Path) -> None:
    def broken(*_args: object) -> int:
        raise OSError("no /proc here")

    probes = Probes(peak_memory_mb=lambda: (None, None), bytes_written=broken, disk_free=broken)
    feed(subscriber(tmp_path, probes=probes), permanent_failure())
    metadata = read_report(tmp_path).split(" METADATA ", 1)[1]
    assert "Peak Memory (MB)    : n/a\n" in metadata
    assert "Peak Step Mem (MB)  : n/a\n" in metadata
    assert "Disk Written (MB)   : n/a\n" in metadata
    assert "Disk Free Space (MB): n/a\n" in metadata


def test_failure_only_run_finished_told_of_is_still_reported(tmp_path: Path) -> None:
    error = "could not open the connection"
    events: list[Event] = [
        started("load"),
        finished(RunStatus.FAILED, failed_step="load", error=error),
    ]
    feed(subscriber(tmp_path), events)
    text = read_report(tmp_path)
    assert "  Step           : load\n" in text
    assert "  Data Type      : unknown\n" in text
    assert f"  Error Message  : {error}\n" in text


def test_a_new_run_starts_a_new_report(tmp_path: Path) -> None:
    sub = subscriber(tmp_path, clock=iter([AT, AT + timedelta(seconds=1)]).__next__)
    feed(sub, permanent_failure())
    feed(sub, [started("x"), *ok_unit("x"), finished(RunStatus.SUCCESS, completed=("x",))])
    assert sub.path is None
    feed(sub, permanent_failure())
    second = sub.path
    assert second is not None
    assert second.name.endswith("_140310_abcdef12.txt")
    assert second.read_text(encoding="utf-8").count("ERROR #") == 1


@pytest.mark.parametrize(
    ("kind", "attempts", "expected"),
    [
        (ErrorKind.TIMEOUT, 1, "timeout"),
        (ErrorKind.TRANSIENT, 4, "transient"),
        (ErrorKind.PERMANENT, 1, "permanent"),
        (None, 4, "transient"),  # no StepFailed (the connection never opened), but retried
        (None, 1, "permanent"),
    ],
)
def test_error_type(kind: ErrorKind | None, attempts: int, expected: str) -> None:
    assert error_type(kind, attempts) == expected


def test_error_type_comes_from_the_event_not_the_message(tmp_path: Path) -> None:
    """A message that mentions a timeout does not make a permanent error a timeout."""
    error = 'column "timeout_s" does not exist'
    events: list[Event] = [
        started("load"),
        UnitStarted(RUN, ("load",), None, "default", 1),
        StepStarted(RUN, "load", "sql", 1, 1, 1),
        StepFailed(RUN, "load", "sql", 1, 0.1, error, ErrorKind.PERMANENT),
        UnitFailed(RUN, ("load",), "load", 1, error),
        finished(RunStatus.FAILED, failed_step="load", error=error),
    ]
    feed(subscriber(tmp_path), events)
    assert "  Error Type     : permanent\n" in read_report(tmp_path)


# --- the pipeline result dictionary ----------------------------------------------------------


def result_with(status: RunStatus) -> RunResult:
    failed = status in (RunStatus.FAILED, RunStatus.PARTIAL_SUCCESS)
    steps = [
        StepResult("create", "sql", StepStatus.SUCCESS, 0.5, rows=0, attempts=1),
        StepResult(
            "load",
            "sql",
            StepStatus.FAILED if failed else StepStatus.SUCCESS,
            1.25,
            rows=None if failed else 42,
            attempts=4 if failed else 1,
            error="deadlock detected" if failed else None,
        ),
        StepResult(
            "publish",
            "python",
            StepStatus.SUCCESS if status is RunStatus.SUCCESS else StepStatus.NOT_RUN,
        ),
    ]
    if status is RunStatus.PARTIAL_SUCCESS:
        steps[2].status, steps[2].attempts, steps[2].duration = StepStatus.SUCCESS, 1, 2.0
    if status is RunStatus.ABORTED:
        steps = [StepResult(s.name, s.kind) for s in steps]
    error = "deadlock detected" if failed else None
    return RunResult(RUN, PIPELINE, status, steps, duration=3.75, error=error)


@pytest.mark.parametrize("status", list(RunStatus))
def test_pipeline_dict_for_each_status(status: RunStatus) -> None:
    result = result_with(status)
    rendered = to_pipeline_dict(result, at=AT)
    assert rendered["overall_status"] == status.value
    assert rendered["timestamp"] == "2024-05-17T14:03:09+02:00"
    assert rendered["run_id"] == RUN
    assert rendered["pipeline"] == PIPELINE
    assert rendered["duration"] == 3.75
    assert rendered["error"] == result.error
    assert [s["name"] for s in rendered["steps"]] == ["create", "load", "publish"]
    assert [s["status"] for s in rendered["steps"]] == [s.status.value for s in result.steps]
    assert set(rendered["steps"][1]) == {
        "name",
        "kind",
        "status",
        "duration",
        "rows",
        "attempts",
        "error",
    }
    assert json.loads(json.dumps(rendered)) == rendered  # plain JSON values only


def test_pipeline_dict_failed_step_details() -> None:
    rendered = to_pipeline_dict(result_with(RunStatus.FAILED), at=AT)
    assert rendered["steps"][1] == {
        "name": "load",
        "kind": "sql",
        "status": "failed",
        "duration": 1.25,
        "rows": None,
        "attempts": 4,
        "error": "deadlock detected",
    }
    assert rendered["steps"][2]["status"] == "not_run"


def test_pipeline_dict_timestamp_defaults_to_now_with_offset() -> None:
    before = datetime.now(UTC)
    stamp = datetime.fromisoformat(to_pipeline_dict(result_with(RunStatus.SUCCESS))["timestamp"])
    assert stamp.tzinfo is not None
    assert before - timedelta(seconds=1) <= stamp <= datetime.now(UTC) + timedelta(seconds=1)


def test_committed_steps_details_are_listed_after_the_healing_actions(tmp_path: Path) -> None:
    details = {"files": 2, "rows": {"a.csv": 10, "b.csv": 3}, "token": TOKEN}
    events = permanent_failure()
    create = [e for e in events if isinstance(e, StepSucceeded) and e.step == "create"]
    events[events.index(create[0])] = StepSucceeded(
        RUN, "create", "sql", 1, 0.5, rows=3, notify=False, details=details
    )
    feed(subscriber(tmp_path), events)
    text = read_report(tmp_path)
    section = text.split("STEP DETAILS", 1)[1].split("\n")[1]
    assert section == 'create: files=2 rows={"a.csv":10,"b.csv":3} token=***'
    assert text.index("HEALING ACTIONS") < text.index("STEP DETAILS") < text.index("METADATA")


def test_no_step_details_section_without_details(tmp_path: Path) -> None:
    feed(subscriber(tmp_path), permanent_failure())
    assert "STEP DETAILS" not in read_report(tmp_path)
