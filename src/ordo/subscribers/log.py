"""Subscribers that record what happened: the per-run log file and the manifest's done marks."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from ordo.events import (
    Event,
    RollbackFinished,
    RollbackStarted,
    RunFinished,
    RunStarted,
    StepFailed,
    StepOutput,
    StepSkipped,
    StepStarted,
    StepSucceeded,
    UnitCommitted,
    UnitFailed,
    UnitRetrying,
)
from ordo.masking import Masker

__all__ = ["LOGGER", "EventLog", "MaskingFilter", "open_log_file"]

LOGGER = logging.getLogger("ordo")


class MaskingFilter(logging.Filter):
    """Masks every record that passes through a handler, whatever logger it came from."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.masker.mask(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.masker.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def open_log_file(logs_dir: Path, run_id: str, masker: Masker) -> tuple[Path, logging.Handler]:
    """A timestamped log file for one run, attached to the ``ordo`` logger."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    path = logs_dir / f"ordo_{stamp}_{run_id[:8]}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
    handler.addFilter(MaskingFilter(masker))
    LOGGER.addHandler(handler)
    if LOGGER.level == logging.NOTSET or LOGGER.level > logging.INFO:
        LOGGER.setLevel(logging.INFO)
    return path, handler


class EventLog:
    """Writes one log line per event: the durable account of a run."""

    def __init__(self, logger: logging.Logger = LOGGER) -> None:
        self.log = logger

    def handle(self, event: Event) -> None:
        log = self.log
        match event:
            case RunStarted():
                log.info(
                    "run %s started: pipeline '%s', %d steps, manifest %s",
                    event.run_id,
                    event.pipeline,
                    len(event.steps),
                    event.manifest,
                )
            case StepStarted():
                log.info(
                    "[%d/%d] %s '%s' started (attempt %d)",
                    event.index,
                    event.total,
                    event.kind,
                    event.step,
                    event.attempt,
                )
            case StepOutput():
                log.info("  %s | %s", event.step, event.line)
            case StepSucceeded():
                rows = "" if event.rows is None else f", {event.rows} rows"
                details = f" details {_json(event.details)}" if event.details else ""
                log.info(
                    "'%s' finished in %.3fs%s (attempt %d)%s",
                    event.step,
                    event.duration,
                    rows,
                    event.attempt,
                    details,
                )
            case StepFailed():
                kind = "transient" if event.transient else "permanent"
                log.error(
                    "'%s' failed after %.3fs (attempt %d, %s): %s",
                    event.step,
                    event.duration,
                    event.attempt,
                    kind,
                    event.error,
                )
            case RollbackStarted():
                log.warning("rolling back '%s' with its rollback", event.step)
            case RollbackFinished():
                verdict = "succeeded" if event.succeeded else f"failed: {event.error}"
                go_on = (
                    "; its dependents go on"
                    if event.succeeded and event.continue_on_rollback
                    else ""
                )
                log.warning("rollback of '%s' %s%s", event.step, verdict, go_on)
            case StepSkipped():
                log.info("'%s' skipped: %s", event.step, event.reason)
            case UnitRetrying():
                log.warning(
                    "retrying %s in %.1fs (attempt %d): %s",
                    ", ".join(event.steps),
                    event.delay,
                    event.next_attempt,
                    event.error,
                )
            case UnitCommitted():
                log.info("committed: %s", ", ".join(event.steps))
            case UnitFailed():
                log.error(
                    "rolled back: %s; '%s' failed for good after %d attempt(s)",
                    ", ".join(event.steps),
                    event.failed_step,
                    event.attempts,
                )
            case RunFinished():
                log.info(
                    "run %s finished: %s in %.2fs, %d steps done, %d not run",
                    event.run_id,
                    event.status,
                    event.duration,
                    len(event.completed),
                    len(event.not_run),
                )


def _json(value: object) -> str:
    """One line of compact JSON (a kind's details); the handlers' filter masks it."""
    return json.dumps(value, separators=(",", ":"), default=str)
