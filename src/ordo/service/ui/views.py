"""What each page shows, read from the store through the library and made ready to render.

The templates only lay things out: every figure, word and masked text is settled here, so a
test can check a page's content without a browser, and no template reaches the store. Every
text that came from a run (errors, samples, log lines, the manifest) goes through the
settings' masker on its way out, on top of the masking done when it was written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ordo.config import Settings
from ordo.errors import OrdoError
from ordo.masking import Masker
from ordo.project import Project
from ordo.service.schedules import describe, next_fire
from ordo.service.ui import actions
from ordo.service.ui.graph_svg import dependencies, graph_svg
from ordo.service.ui.logs import LogText, read_log
from ordo.service.ui.sparkline import sparkline_svg
from ordo.store.base import RunDetail, RunRecord, RunState, TaskRecord, TaskStatus
from ordo.store.queue import FINISHED, ServiceRun, ServiceRunStatus
from ordo.store.run_pages import RunPages, Trigger
from ordo.store.service import ServiceStore

__all__ = [
    "PAGE_SIZE",
    "RUN_STATUSES",
    "HealthView",
    "JobView",
    "QueuedView",
    "RunRow",
    "RunView",
    "RunsView",
    "StepRow",
    "duration_text",
    "health_view",
    "jobs_view",
    "queued_view",
    "run_view",
    "runs_view",
]

PAGE_SIZE = 50
SPARK_RUNS = 20
# ordo's statuses, then the queue's that ordo has no word for (a queued run has no ordo run
# yet; a cancelled one's attempt ended ``aborted``)
QUEUE_STATUSES = (ServiceRunStatus.PENDING.value, ServiceRunStatus.CANCELLED.value)
RUN_STATUSES = tuple(state.value for state in RunState) + QUEUE_STATUSES
_QUEUE_WORDS = {
    ServiceRunStatus.PENDING.value: "queued",
    ServiceRunStatus.CANCELLED.value: "cancelled",
}
# status: (icon, words); the colour is the status's CSS class
_SHOWN = {
    "running": ("●", "running"),
    "success": ("✓", "success"),
    "partial_success": ("◐", "partial success"),
    "failed": ("✗", "failed"),
    "aborted": ("■", "aborted"),
    "crashed": ("⚠", "crashed"),
    "pending": ("○", "pending"),
    "queued": ("◷", "queued"),
    "cancelled": ("⊘", "cancelled"),
    "completed": ("✓", "completed"),
    "retrying": ("↻", "retrying"),
    "skipped": ("–", "skipped"),
}
_TRIGGER_WORDS = {Trigger.SCHEDULE: "schedule", Trigger.API: "API", Trigger.CLI: "CLI"}


def status_label(status: str) -> str:
    """A status as the filter offers it: ``partial success``, ``queued``."""
    return _QUEUE_WORDS.get(status, status.replace("_", " "))


def status_icon(status: str) -> tuple[str, str, str]:
    """(CSS class, icon, words) of a run's or a step's status."""
    key = status.lower()
    icon, words = _SHOWN.get(key, ("?", key))
    return key, icon, words


def duration_text(seconds: float | None) -> str:
    """``0.4 s``, ``12 s``, ``3 min 5 s``, ``2 h 4 min``; an empty string for None."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


@dataclass(frozen=True)
class RunRow:
    """One line of the runs list."""

    id: str
    job: str
    status: tuple[str, str, str]
    started: datetime
    duration: str
    trigger: str
    steps: str
    active: bool


@dataclass(frozen=True)
class RunsView:
    rows: list[RunRow]
    total: int
    page: int
    pages: int
    job: str | None
    status: str | None
    jobs: list[str]
    statuses: Sequence[str] = RUN_STATUSES

    @property
    def active(self) -> bool:
        return any(row.active for row in self.rows)


def _run_row(
    run: RunRecord, trigger: Trigger | None, queue_status: str | None, now: datetime
) -> RunRow:
    going = run.status is RunState.RUNNING
    seconds = (now - run.started_at).total_seconds() if going else run.duration
    cancelled = queue_status == ServiceRunStatus.CANCELLED.value and not going
    return RunRow(
        id=run.id,
        job=run.job,
        status=status_icon("cancelled" if cancelled else run.status.value),
        started=run.started_at,
        duration=duration_text(seconds),
        trigger=_TRIGGER_WORDS.get(trigger, "") if trigger else "",
        steps=f"{run.completed}/{run.steps}" if run.steps else "",
        active=going,
    )


def _queued_row(run: ServiceRun, now: datetime) -> RunRow:
    """A run of the queue as a line of the list: queued (no attempt yet), or cancelled."""
    waiting = run.status is ServiceRunStatus.PENDING
    end = run.finished_at or now
    seconds = None if run.started_at is None else (end - run.started_at).total_seconds()
    return RunRow(
        id=run.id,
        job=run.job_name,
        status=status_icon(_QUEUE_WORDS.get(run.status.value, run.status.value)),
        started=run.started_at or run.requested_at,
        duration=duration_text(seconds),
        trigger=_TRIGGER_WORDS.get(Trigger(run.trigger.value), ""),
        steps="",
        active=waiting,
    )


def runs_view(
    store: RunPages,
    queue: ServiceStore,
    *,
    job: str | None,
    status: str | None,
    page: int,
    now: datetime,
) -> RunsView:
    """A page of the runs list, newest first, filtered by job and status.

    The runs are ordo's (each attempt of a queued run is one); the queue's own statuses are
    its runs: ``PENDING`` the runs no worker has started, ``CANCELLED`` the cancelled ones.
    Unfiltered, the runs waiting in the queue head the first page, since none has an ordo
    run yet to be listed by.
    """
    page = max(page, 1)
    offset = (page - 1) * PAGE_SIZE
    job_id = _queue_job(queue, job)
    if status in QUEUE_STATUSES:
        if job is not None and job_id is None:
            return RunsView([], 0, page, 1, job, status, store.run_job_names())
        listed = queue.list_service_runs(
            job_id=job_id, status=ServiceRunStatus(status), limit=PAGE_SIZE, offset=offset
        )
        rows = [_queued_row(run, now) for run in listed.runs]
        pages = max(1, -(-listed.total // PAGE_SIZE))
        return RunsView(rows, listed.total, page, pages, job, status, store.run_job_names())
    statuses = [status] if status else []
    found = store.page_runs(job=job, statuses=statuses, offset=offset, limit=PAGE_SIZE)
    rows = [
        _run_row(run, found.triggers.get(run.id), found.queue_statuses.get(run.id), now)
        for run in found.runs
    ]
    total = found.total
    if not status and (job is None or job_id is not None):
        waiting = queue.list_service_runs(
            job_id=job_id, status=ServiceRunStatus.PENDING, limit=PAGE_SIZE
        )
        total += waiting.total
        if page == 1:
            rows = [_queued_row(run, now) for run in waiting.runs] + rows
    pages = max(1, -(-total // PAGE_SIZE))
    return RunsView(rows, total, page, pages, job, status, store.run_job_names())


def _queue_job(queue: ServiceStore, name: str | None) -> str | None:
    """The id of the service job named ``name``; None for all jobs or a job the service
    does not have (a pipeline only ``ordo run`` ran)."""
    if name is None:
        return None
    try:
        return queue.get_job(name).id
    except OrdoError:
        return None


@dataclass(frozen=True)
class CheckSample:
    """A check of a step that did not pass, with the rows it showed."""

    name: str
    outcome: str
    message: str
    failing: int | None
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class StepRow:
    position: int
    step: str
    kind: str
    status: tuple[str, str, str]
    attempts: str
    duration: str
    rows: str
    error: str
    checks: list[CheckSample]


@dataclass(frozen=True)
class RunView:
    run: RunRecord
    status: tuple[str, str, str]
    duration: str
    trigger: str
    steps: list[StepRow]
    graph: str
    log: LogText
    manifest_text: str
    error: str
    active: bool
    can_resume: bool


def _checks(details: Mapping[str, Any], masker: Masker) -> list[CheckSample]:
    found = []
    for check in details.get("checks") or []:
        if not isinstance(check, Mapping) or check.get("outcome") == "pass":
            continue
        sample = [row for row in check.get("sample") or [] if isinstance(row, Mapping)]
        columns = list(dict.fromkeys(key for row in sample for key in row))
        found.append(
            CheckSample(
                name=masker.mask(str(check.get("name", ""))),
                outcome=str(check.get("outcome", "")),
                message=masker.mask(str(check.get("message", ""))),
                failing=check.get("failing_rows"),
                columns=[masker.mask(str(c)) for c in columns],
                rows=[[masker.mask(_cell(row.get(c))) for c in columns] for row in sample],
            )
        )
    return found


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    return value if isinstance(value, str) else json.dumps(value)


def _step_row(task: TaskRecord, masker: Masker) -> StepRow:
    attempts = str(task.attempt_count)
    if task.max_attempts:
        attempts += f"/{task.max_attempts}"
    seconds = None if task.duration_ms is None else task.duration_ms / 1000
    return StepRow(
        position=task.position,
        step=task.step,
        kind=task.task_type or "",
        status=status_icon(task.status.value),
        attempts=attempts if task.attempt_count else "",
        duration=duration_text(seconds),
        rows="" if task.rows_affected is None else f"{task.rows_affected:,}",
        error=masker.mask(task.error or ""),
        checks=_checks(task.details, masker),
    )


def run_view(
    store: ServiceStore, run_id: str, settings: Settings, masker: Masker, *, now: datetime
) -> RunView:
    """A run's page: steps in plan order, the graph, the log, the manifest text it ran."""
    detail: RunDetail = store.get_run(run_id)
    run = detail.run
    going = run.status is RunState.RUNNING
    trigger = ""
    if isinstance(store, RunPages):
        said = store.trigger_of(run.id)
        trigger = _TRIGGER_WORDS[said] if said else ""
    steps = [_step_row(task, masker) for task in detail.tasks]
    deps = dependencies(detail.manifest_text, [task.step for task in detail.tasks])
    seconds = (now - run.started_at).total_seconds() if going else run.duration
    logs_dir = Project(settings.root).logs_dir
    failed = any(t.status is TaskStatus.FAILED for t in detail.tasks)
    queued = store.run_of_attempt(run.id)
    cancelled = not going and queued is not None and queued.status is ServiceRunStatus.CANCELLED
    return RunView(
        run=run,
        status=status_icon("cancelled" if cancelled else run.status.value),
        duration=duration_text(seconds),
        trigger=trigger,
        steps=steps,
        graph=graph_svg(detail.tasks, deps),
        log=read_log(logs_dir, run.id, masker, tail=going),
        manifest_text=masker.mask(detail.manifest_text),
        error=masker.mask(run.error or ""),
        active=going,
        can_resume=not run.rehearsal
        and (run.status in (RunState.FAILED, RunState.ABORTED, RunState.CRASHED) or failed),
    )


@dataclass(frozen=True)
class QueuedView:
    """A run of the queue that no worker has started: queued, or cancelled before it ran."""

    id: str
    job: str
    status: tuple[str, str, str]
    requested_at: datetime
    trigger: str
    params: str
    active: bool  # queued, or claimed by a worker whose attempt has not started yet
    waiting: bool  # no worker has it yet
    error: str  # why it ended without an attempt (a manifest that no longer plans, say)


def queued_view(run: ServiceRun, masker: Masker) -> QueuedView:
    """The page of a queued run until its first attempt starts (then it is that attempt's)."""
    waiting = run.status is ServiceRunStatus.PENDING
    return QueuedView(
        id=run.id,
        job=run.job_name,
        status=status_icon("queued" if waiting else run.status.value),
        requested_at=run.requested_at,
        trigger=_TRIGGER_WORDS.get(Trigger(run.trigger.value), ""),
        params=json.dumps(run.params, indent=1) if run.params else "",
        active=run.status not in FINISHED,
        waiting=waiting,
        error=masker.mask(run.error or ""),
    )


@dataclass(frozen=True)
class JobView:
    id: str
    name: str
    enabled: bool
    schedule: str
    schedule_words: str
    timezone: str
    next_fire: datetime | None
    last_status: tuple[str, str, str] | None
    last_run: str | None
    sparkline: str
    params: str
    what: str


def jobs_view(store: ServiceStore, *, now: datetime) -> list[JobView]:
    """Every service job with its schedule, next fire, last run and recent durations."""
    shown = []
    for job in store.list_jobs():
        spec = job.spec
        try:
            upcoming = next_fire(job, now)
            words = (describe(spec.schedule) or "") if spec.schedule else ""
        except OrdoError:
            upcoming, words = None, ""
        recent = store.list_runs(limit=SPARK_RUNS, job=job.name)
        points = [
            (run.duration, run.status is not RunState.SUCCESS)
            for run in reversed(recent)
            if run.duration is not None
        ]
        what = spec.manifest or f"{spec.extractor_type} → {spec.loader_type}"
        shown.append(
            JobView(
                id=job.id,
                name=job.name,
                enabled=spec.enabled,
                schedule=spec.schedule or "",
                schedule_words=words,
                timezone=spec.timezone,
                next_fire=upcoming,
                last_status=status_icon(recent[0].status.value) if recent else None,
                last_run=recent[0].id if recent else None,
                sparkline=sparkline_svg(points, label=f"durations of the last runs of {job.name}"),
                params=json.dumps(spec.params, indent=1) if spec.params else "",
                what=what,
            )
        )
    return shown


@dataclass(frozen=True)
class HealthView:
    connections: list[dict[str, Any]]
    workers: list[actions.WorkerView]
    queue_depth: int
    problems: list[str] = field(default_factory=list)


def health_view(
    store: ServiceStore, settings: Settings, masker: Masker, *, now: datetime
) -> HealthView:
    """Each connection's health, the workers and the queue's depth.

    The connections are asked at once, one thread each, so the page waits for the slowest
    (each gives up after its own timeout), not for the sum of them.
    """
    from concurrent.futures import ThreadPoolExecutor

    names = settings.connection_names()
    reports: list[dict[str, Any]] = []
    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=max(len(names), 1)) as pool:
        found = list(pool.map(lambda name: _health_of(name, settings, masker), names))
    for report in found:
        if isinstance(report, str):
            problems.append(report)
        else:
            reports.append(report)
    return HealthView(
        reports, actions.workers(store, now=now), actions.queue_depth(store), problems
    )


def _health_of(name: str, settings: Settings, masker: Masker) -> dict[str, Any] | str:
    """The health report of connection ``name``, or what is wrong with its settings."""
    from ordo.api.database_manager import DatabaseManager  # deferred: the drivers

    try:
        with DatabaseManager(name, settings=settings) as db:
            report = db.health_check()
    except OrdoError as exc:
        return masker.mask(f"connection {name}: {exc.message}")
    report["status_icon"] = _health_icon(str(report.get("status")))
    report["error"] = masker.mask(str(report.get("error") or ""))
    return report


def _health_icon(status: str) -> tuple[str, str, str]:
    icons = {"healthy": ("✓", "success"), "degraded": ("◐", "partial_success")}
    icon, css = icons.get(status, ("✗", "failed"))
    return css, icon, status
