"""The console's two modes: plain lines to a pipe, a live display on a terminal (issue 8, 4)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from ordo.errors import ErrorKind
from ordo.events import (
    Event,
    RunFinished,
    RunStarted,
    RunStatus,
    StepFailed,
    StepOutput,
    StepStarted,
    StepSucceeded,
)
from ordo.masking import Masker
from ordo.subscribers.console import ConsoleReporter

NOW = datetime.now(UTC)

EVENTS: list[Event] = [
    RunStarted("abcdef0123", "demo [x]", Path("m.yaml"), ("load", "check"), datetime.now(UTC)),
    StepStarted("abcdef0123", "load [a]", "sql", 1, 1, 2),
    StepOutput("abcdef0123", "load [a]", "token s3cret here"),
    StepOutput("abcdef0123", "load [a]", "a block\nof two lines"),  # read from a process at once
    StepSucceeded("abcdef0123", "load [a]", "sql", 1, 0.25, 5, False),
    StepStarted("abcdef0123", "check", "sql", 2, 2, 2),
    StepFailed("abcdef0123", "check", "sql", 2, 0.5, "no such table", ErrorKind.PERMANENT),
    RunFinished(
        "abcdef0123", "demo [x]", RunStatus.FAILED, 1.0, ("load [a]",), "check", failed=("check",)
    ),
]

EXPECTED = [
    "Run abcdef01 of 'demo [x]': 2 steps",
    "▶ [1/2] sql load [a]",
    "  │ token *** here",
    "  │ a block",
    "  │ of two lines",
    "✓ load [a] in 0.25s, 5 rows",
    "▶ [2/2] sql check (attempt 2)",
    "✗ check failed after 0.50s: no such table",
    "Run failed: 'check' failed; 1 done, 1 failed",
]


def run_events(console: Console) -> ConsoleReporter:
    reporter = ConsoleReporter(console, Masker(["s3cret"]))
    for event in EVENTS:
        reporter.handle(event)
    return reporter


def test_to_a_pipe_each_event_is_one_plain_line_with_the_words_as_they_are() -> None:
    out = io.StringIO()
    run_events(Console(file=out, width=40))  # narrow: plain lines are never wrapped either
    assert out.getvalue().splitlines() == EXPECTED
    assert "\x1b" not in out.getvalue()  # no styles, and brackets are not taken as markup


def test_on_a_terminal_the_same_lines_are_shown_styled_once_the_run_is_over() -> None:
    out = io.StringIO()
    reporter = run_events(Console(file=out, width=200, force_terminal=True))
    reporter.close()  # safe after RunFinished closed it already
    text = _strip_ansi(out.getvalue())
    for line in EXPECTED:
        assert line in text
    assert "\x1b[" in out.getvalue()  # styled


def test_a_terminal_reporter_closed_early_shows_what_it_had() -> None:
    out = io.StringIO()
    reporter = ConsoleReporter(Console(file=out, width=200, force_terminal=True))
    reporter.handle(EVENTS[0])
    reporter.handle(EVENTS[1])
    reporter.close()
    text = _strip_ansi(out.getvalue())
    assert EXPECTED[0] in text
    assert EXPECTED[1] in text


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")


def test_a_pipeline_with_summary_ends_with_every_step_and_its_time() -> None:
    """``summary: true``: the setup workflow's closing block, each step with its outcome."""
    out = io.StringIO()
    reporter = ConsoleReporter(Console(file=out, width=80), Masker(["s3cret"]))
    reporter.summary = True
    started = RunStarted("abcdef0123", "demo", Path("m.yaml"), ("load [a]", "check", "after"), NOW)
    for event in [started, *EVENTS[1:-1]]:
        reporter.handle(event)
    reporter.handle(
        RunFinished(
            "abcdef0123", "demo", RunStatus.FAILED, 1.0, ("load [a]",), "check",
            failed=("check",), not_run=("after",),
        )
    )  # fmt: skip
    tail = out.getvalue().splitlines()[-6:-1]
    assert tail[0] == "Overall Status: ❌ FAILED"
    assert tail[1] == "Steps Completed: 1/3"
    assert tail[2].split() == ["✅", "load", "[a]", "(0.25s)"]
    assert tail[3].split() == ["❌", "check", "(0.50s)"]
    assert tail[4].split() == ["–", "after", "(not", "run)"]
