"""The manual review report: a text file for each run that failed or ended partly.

A chat notice says *that* a run failed; the report says enough to decide what to do without
reading the log: every step that failed for good (its kind, what sort of error, the whole masked
message), how its ``rollback:`` went and whether its dependents ran anyway (the decision matrix
for rollbacks), what healed, and what the run cost. It is a subscriber like the notices: it
collects facts as events arrive (the bus delivers one at a time, so no locks), renders once at
``RunFinished``, and never breaks a run: a report that cannot be written is a masked warning.

The metric readers are injected (``Probes``) so a test can pin every byte of the report.
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ordo._files import write_atomic
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
from ordo.subscribers._details import dataset_lines, details_line

__all__ = ["REPORTS_DIR", "Probes", "ReportSubscriber", "error_type", "report_name"]

REPORTS_DIR = "notifications"
_T = TypeVar("_T")
_REPORTED = {RunStatus.FAILED, RunStatus.PARTIAL_SUCCESS}
_WIDTH = 80
_MB = 1024 * 1024


def _peak_memory_mb() -> tuple[float | None, float | None]:
    """Peak RSS of ordo's process and of its largest finished child (a python step), in MB.

    ``ru_maxrss`` is a high-water mark over the process's life, which for the CLI is the run.
    Linux reports kilobytes, macOS bytes; Windows has no ``resource`` module. On Linux a
    child's figure starts from ordo's own size when it was spawned (the kernel carries the
    pre-``exec`` high-water mark over), so it is a ceiling of the step's memory, never below
    ordo's; 0 means no child has ended yet, shown as n/a.
    """
    try:
        import resource  # deferred: not on every platform
    except ImportError:
        return None, None
    unit = 1 if sys.platform == "darwin" else 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own * unit / _MB, (children * unit / _MB) or None


def _bytes_written() -> int | None:
    """Bytes this process sent to storage so far (Linux ``/proc/self/io``); None elsewhere.

    The kernel adds a child's I/O counts to its parent when the parent reaps it, so this
    already holds the writes of finished python steps: adding ``RUSAGE_CHILDREN.ru_oublock``
    would count them twice.
    """
    try:
        text = Path("/proc/self/io").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "write_bytes":
            return int(value)
    return None


@dataclass(frozen=True)
class Probes:
    """How the report reads the machine; replaced in tests to make the report deterministic."""

    peak_memory_mb: Callable[[], tuple[float | None, float | None]] = _peak_memory_mb
    bytes_written: Callable[[], int | None] = _bytes_written
    disk_free: Callable[[Path], int | None] = lambda path: shutil.disk_usage(path).free


def _now() -> datetime:
    return datetime.now().astimezone()


def report_name(pipeline: str, run_id: str, at: datetime) -> str:
    """``manual_review_<slug>_<YYYYmmdd_HHMMSS>_<runid8>.txt``: sorts by time, one per run."""
    slug = re.sub(r"[^a-z0-9]+", "_", pipeline.lower()).strip("_")[:60] or "pipeline"
    return f"manual_review_{slug}_{at:%Y%m%d_%H%M%S}_{run_id[:8]}.txt"


def error_type(kind: ErrorKind | None, attempts: int) -> str:
    """``timeout``, ``transient`` or ``permanent``: tells a reader whether to rerun or to fix.

    ``StepFailed.error_kind`` decides, as the runner judged the error by its type; without
    one (the connection never opened), a unit that was retried was transient, since only
    transient failures are retried.
    """
    if kind is None:
        kind = ErrorKind.TRANSIENT if attempts > 1 else ErrorKind.PERMANENT
    return kind.value


@dataclass
class _Failure:
    step: str
    steps: tuple[str, ...]
    attempts: int
    error: str
    undone: tuple[str, ...] = ()


@dataclass
class _Run:
    """What one run has shown so far; reset at each ``RunStarted``."""

    steps: tuple[str, ...] = ()
    kinds: dict[str, str] = field(default_factory=dict)
    succeeded: set[str] = field(default_factory=set)  # in the unit's current attempt
    error_kinds: dict[str, ErrorKind] = field(default_factory=dict)
    committed: dict[str, None] = field(default_factory=dict)
    details: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # ran, with details
    failed_details: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # failed, with
    failures: list[_Failure] = field(default_factory=list)
    skipped: dict[str, None] = field(default_factory=dict)
    rollbacks: dict[str, RollbackFinished | None] = field(default_factory=dict)  # None: running
    retries: int = 0
    written_at_start: int | None = None


def _findings(details: Mapping[str, Any]) -> list[str]:
    """A failed validate step's checks that did not pass, each with its failing rows; a failed
    publish step's datasets, each with its status and why it failed."""
    lines: list[str] = []
    for check in details.get("checks", ()):
        if not isinstance(check, dict) or check.get("outcome") == "pass":
            continue
        if not lines:
            lines.append("  Failing Checks :")
        lines.append(f"    - {check.get('name')}: {check.get('outcome')}, {check.get('message')}")
        lines += [f"        {details_line(row)}" for row in check.get("sample", ())]
    datasets = dataset_lines(details)
    if datasets:  # a failed publish: the loader's counts, then each dataset
        counts = ", ".join(
            f"{details.get(key, 0)} {key.replace('_', ' ')}"
            for key in ("total", "successful", "failed", "warnings", "changed_files", "files_saved")
        )
        lines.append(f"  Datasets       : {counts}")
        lines += [f"    - {line}" for line in datasets]
    return lines


class ReportSubscriber:
    """An ``events.Subscriber`` writing the manual review report of failed and partial runs.

    ``path`` holds the last report written, None when there was none (success, or an error).
    """

    def __init__(
        self,
        project_root: Path,
        pipeline: str,
        *,
        masker: Masker,
        logger: logging.Logger | None = None,
        clock: Callable[[], datetime] = _now,
        probes: Probes | None = None,
    ) -> None:
        self._root = Path(project_root)
        self._pipeline = pipeline
        self._masker = masker
        self._logger = logger if logger is not None else logging.getLogger("ordo")
        self._clock = clock
        self._probes = probes if probes is not None else Probes()
        self._run = _Run()
        self.path: Path | None = None

    def handle(self, event: Event) -> None:
        """Collect ``event``; write the report when a run ends failed or partial. Never raises."""
        try:
            self._collect(event)
            if isinstance(event, RunFinished) and event.status in _REPORTED:
                self.path = self._write(event)
        except Exception as exc:
            self._warn("manual review report not written", exc)

    def _collect(self, event: Event) -> None:
        run = self._run
        if isinstance(event, RunStarted):
            self._run = run = _Run(event.steps)
            self.path = None
            run.written_at_start = self._probe(self._probes.bytes_written)
        elif isinstance(event, UnitStarted):
            run.succeeded.difference_update(event.steps)  # a retry starts the unit afresh
        elif isinstance(event, StepStarted):
            run.kinds[event.step] = event.kind
        elif isinstance(event, StepSucceeded):
            run.kinds[event.step] = event.kind
            run.succeeded.add(event.step)
            if event.details:
                run.details[event.step] = event.details
        elif isinstance(event, StepFailed):
            run.kinds[event.step] = event.kind
            run.error_kinds[event.step] = event.error_kind
            if event.details:
                run.failed_details[event.step] = event.details
        elif isinstance(event, UnitRetrying):
            run.retries += 1
        elif isinstance(event, UnitCommitted):
            run.committed.update(dict.fromkeys(event.steps))
        elif isinstance(event, UnitFailed):
            undone = tuple(
                s for s in event.rolled_back if s in run.succeeded and s != event.failed_step
            )
            run.failures.append(
                _Failure(event.failed_step, event.steps, event.attempts, event.error, undone)
            )
        elif isinstance(event, StepSkipped):
            run.skipped[event.step] = None
        elif isinstance(event, RollbackStarted | RollbackFinished):
            run.rollbacks[event.step] = event if isinstance(event, RollbackFinished) else None

    def _write(self, event: RunFinished) -> Path:
        at = self._clock()
        text = self._masker.mask(self.render(event, at))
        folder = self._root / REPORTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / report_name(event.pipeline or self._pipeline, event.run_id, at)
        write_atomic(path, text.encode("utf-8"))
        self._logger.info("manual review report written: %s", path)
        return path

    def render(self, event: RunFinished, at: datetime) -> str:
        """The report's text (not yet masked as a whole; each error already is)."""
        run = self._run
        failures = list(run.failures)
        if not failures and event.failed_step:  # a failure only RunFinished told of
            step, error = event.failed_step, event.error or ""
            failures.append(_Failure(step, (step,), 1, error))
        committed = dict.fromkeys([*run.committed, *event.completed])
        not_run = dict.fromkeys([*run.skipped, *event.not_run])
        ran = sum(done is not None for done in run.rollbacks.values())
        healed = [(s, d) for s, d in run.rollbacks.items() if d is not None and d.succeeded]
        lines = [
            "=" * _WIDTH,
            "MANUAL REVIEW NOTIFICATION".center(_WIDTH).rstrip(),
            "=" * _WIDTH,
            "",
            f"Agent ID     : {event.run_id}",
            f"Pipeline     : {event.pipeline or self._pipeline}",
            f"Status       : {event.status.value.upper()}",
            f"Timestamp    : {at.isoformat(timespec='seconds')}",
            "",
            _rule("SUMMARY"),
            _field("Total Steps", len(run.steps) or len({*committed, *not_run})),
            _field("Successful", len(committed)),
            _field("Failed", len({f.step for f in failures})),
            _field("Skipped / Not Run", len(not_run)),
            _field("Rolled Back", sum(len(f.undone) for f in failures)),
            _field("Retries", run.retries),
            _field("Rollback Actions", f"{ran} run, {len(healed)} succeeded"),
            "",
            _rule("ERROR DETAILS"),
        ]
        for number, failure in enumerate(failures, start=1):
            lines += self._error_lines(number, failure)
        if not failures:
            lines += ["(none)", ""]
        lines.append(_rule("HEALING ACTIONS"))
        lines += [f"{n}. {_action(*h)}" for n, h in enumerate(healed, start=1)] or ["(none)"]
        shown = [(step, run.details[step]) for step in committed if step in run.details]
        if shown:  # what the committed steps did, as their kinds told it
            lines += ["", _rule("STEP DETAILS")]
            lines += [f"{step}: {details_line(details)}" for step, details in shown]
        lines += ["", _rule("METADATA"), *self._metadata(event), "", "=" * _WIDTH, ""]
        return "\n".join(lines)

    def _error_lines(self, number: int, failure: _Failure) -> list[str]:
        run = self._run
        message = self._masker.mask(failure.error.strip()) or "(no error text)"
        kind = error_type(run.error_kinds.get(failure.step), failure.attempts)
        lines = [
            f"ERROR #{number}:",
            f"  Step           : {failure.step}",
            f"  Data Type      : {run.kinds.get(failure.step, 'unknown')}",
            f"  Error Type     : {kind}",
            f"  Attempts       : {failure.attempts}",
            "  Error Message  : " + message.replace("\n", "\n" + " " * 19),
        ]
        if failure.undone:
            lines.append(f"  Rolled Back    : {', '.join(failure.undone)} (undone with its group)")
        lines += _findings(run.failed_details.get(failure.step, {}))
        lines += ["", "  Recovery Actions:"]
        actions = [(s, run.rollbacks[s]) for s in failure.steps if s in run.rollbacks]
        for n, (step, done) in enumerate(actions, start=1):
            lines.append(f"    {n}. {_action(step, done)}")
            if done is not None and done.error:
                error = self._masker.mask(done.error.strip()).replace("\n", "\n" + " " * 14)
                lines.append(f"       Error : {error}")
            lines.append(f"       Next  : {_decision(done)}")
        if not actions:
            lines.append("    (no rollback declared) → dependents skipped")
        return [*lines, ""]

    def _metadata(self, event: RunFinished) -> list[str]:
        own, children = self._probe(self._probes.peak_memory_mb) or (None, None)
        end = self._probe(self._probes.bytes_written)
        start = self._run.written_at_start
        written = None if end is None or start is None else max(end - start, 0) / _MB
        free = self._probe(lambda: self._probes.disk_free(self._root))
        return [
            _field("Duration (s)", f"{event.duration:.2f}"),
            _field("Peak Memory (MB)", _mb(own, "ordo process")),
            _field(
                "Peak Step Mem (MB)",
                _mb(children, "largest step subprocess, ≥ ordo's size at spawn"),
            ),
            _field("Disk Written (MB)", _mb(written, "ordo and its step subprocesses")),
            _field("Disk Free Space (MB)", _mb(None if free is None else free / _MB)),
        ]

    def _probe(self, read: Callable[[], _T]) -> _T | None:
        """A metric, or None when it cannot be read here: a metric never costs the report."""
        try:
            return read()
        except Exception:
            return None

    def _warn(self, what: str, exc: Exception) -> None:
        # No exc_info: a traceback could quote what the message masks (URLs, tokens). One
        # line: a file that cannot be written is named with the system's reason and a hint.
        try:
            if isinstance(exc, OSError) and exc.strerror:
                where = f"could not write {exc.filename}: " if exc.filename else ""
                hint = "check that its folder exists and is writable"
                text = f"{where}{exc.strerror} (hint: {hint})"
            else:
                text = f"{type(exc).__name__}: {exc}"
            lines = text.strip().splitlines()
            detail = self._masker.mask(lines[0] if lines else type(exc).__name__)
        except Exception:
            detail = type(exc).__name__
        self._logger.warning("%s: %s", what, detail)


def _rule(title: str) -> str:
    return f" {title} ".center(_WIDTH, "-")


def _field(label: str, value: object) -> str:
    return f"{label:<20}: {value}"  # the review report's layout: labels padded to 20 columns


def _mb(value: float | None, note: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} ({note})" if note else f"{value:.1f}"


def _action(step: str, done: RollbackFinished | None) -> str:
    """The review report's ``[PRIORITY] Action at Scale → Status`` line for one step's rollback."""
    if done is None:  # started, never finished: the run ended under it
        return f"[HIGH] ROLLBACK at {step} → Status: UNFINISHED"
    status = "SUCCESS" if done.succeeded else "FAILED"
    return f"[HIGH] {done.action} at {step} → Status: {status} ({done.duration:.2f}s)"


def _decision(done: RollbackFinished | None) -> str:
    """The decision matrix for rollbacks, in words: did the step's dependents run?"""
    if done is None or not done.succeeded:
        return "dependents skipped (rollback did not succeed)"
    if done.continue_on_rollback:
        return "dependents ran (continue_on_rollback: true)"
    return "dependents skipped (continue_on_rollback: false)"
