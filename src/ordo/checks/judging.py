"""From counts to an outcome, and from an outcome and a severity to what the step does.

The outcome says what the check found: ``pass``, ``warn`` (only its ``warn_if`` threshold
holds), ``fail``, or ``error`` (it could not run: a missing table or column is an error, never
a pass). The severity says what a finding does to the step: at ``error``, a ``fail`` or an
``error`` fails it and a ``warn`` warns; at ``warn``, anything but a pass only warns; at
``info``, it is only told. Kept apart from the queries so the rules read in one place and are
tested without a database.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from ordo.checks.model import CheckBase, Severity
from ordo.checks.thresholds import Threshold

__all__ = ["CheckResult", "Effect", "Outcome", "judge_rows", "plain"]

Outcome = Literal["pass", "warn", "fail", "error"]
Effect = Literal["failure", "warning", "info"]

_ANY = Threshold("!=", 0)  # dbt's default for both warn_if and error_if


@dataclass(frozen=True)
class CheckResult:
    """One check's finding, as the store, the log, the console and the report keep it."""

    name: str
    type: str
    severity: Severity
    outcome: Outcome
    message: str
    failing: int | None = None
    total: int | None = None
    sample: tuple[dict[str, Any], ...] = ()

    @property
    def share(self) -> float | None:
        """The share of rows that fail, where the total is known."""
        if self.failing is None or not self.total:
            return None
        return self.failing / self.total

    @property
    def effect(self) -> Effect | None:
        if self.outcome == "pass":
            return None
        if self.severity == "info":
            return "info"
        if self.severity == "warn" or self.outcome == "warn":
            return "warning"
        return "failure"

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "severity": self.severity,
            "outcome": self.outcome,
            "message": self.message,
        }
        if self.failing is not None:
            found["failing_rows"] = self.failing
        if self.total is not None:
            found["total_rows"] = self.total
        if self.share is not None:
            found["failing_share"] = round(self.share, 6)
        if self.sample:
            found["sample"] = list(self.sample)
        return found


def judge_rows(check: CheckBase, failing: int, total: int | None) -> tuple[Outcome, str]:
    """A row check's outcome under its threshold, and the words that say why."""
    if total is None:
        counted = f"{failing:,} failing {'row' if failing == 1 else 'rows'}"
    else:
        counted = f"{failing:,} of {total:,} {'row' if total == 1 else 'rows'} failing"
    if total and failing:
        counted += f" ({failing / total:.2%})"
    if check.mostly is not None:
        passing = 1.0 - failing / total if total else 1.0
        outcome: Outcome = "pass" if passing >= check.mostly else "fail"
        return outcome, f"{counted}; {passing:.2%} pass, at least {check.mostly:.2%} must"
    if check.warn_if is None and check.error_if is None:
        return ("fail" if failing else "pass"), counted
    error_if, warn_if = check.error_if or _ANY, check.warn_if or _ANY
    if error_if.holds(failing):
        return "fail", f"{counted} (error_if {error_if})"
    if warn_if.holds(failing):
        return "warn", f"{counted} (warn_if {warn_if})"
    return "pass", counted


def plain(value: Any) -> Any:
    """A value of a sample row as plain JSON: exact numbers and times as text, never floats."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)
