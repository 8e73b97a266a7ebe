"""Progress on standard output: each step's start, end, duration, rows and attempt.

Two modes, chosen by where the output goes (issue 8, point 4). To a pipe or a file, each event
is one plain line written straight to the stream (the same words as on a terminal, no styles):
rendering Rich markup per line cost a third of a millisecond-long step. On a terminal, the
lines are styled and shown by a live display refreshed a few times a second, with the step
that is running below them, so that the cost of a step does not depend on the terminal.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import IO, TYPE_CHECKING

from ordo._words import plural
from ordo.events import (
    Event,
    RollbackFinished,
    RunFinished,
    RunStarted,
    RunStatus,
    StepFailed,
    StepOutput,
    StepSkipped,
    StepStarted,
    StepSucceeded,
    UnitFailed,
    UnitRetrying,
)
from ordo.masking import Masker
from ordo.subscribers._details import details_line
from ordo.subscribers._failures import kept_lines

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

__all__ = [
    "REFRESH_SECONDS",
    "ConsoleReporter",
    "Piece",
    "PlainOutput",
    "open_console",
    "write_line",
]

Piece = str | tuple[str, str]
"""Part of a line: plain text, or ``(text, style)``; the style is dropped in plain mode."""

REFRESH_SECONDS = 0.25  # how often the live display shows new lines on a terminal


def _plain(pieces: tuple[Piece, ...]) -> str:
    return "".join(piece if isinstance(piece, str) else piece[0] for piece in pieces)


class PlainOutput:
    """Standard output to a pipe or a file, standing in for Rich's ``Console``: all the plain
    mode needs is the stream. Rich's import is a noticeable part of a short run's start-up,
    which a pipe does not need to pay (``open_console``)."""

    is_terminal = False

    def __init__(self, file: IO[str]) -> None:
        self.file = file


def open_console() -> Console | PlainOutput:
    """Rich's ``Console`` on a terminal, or when ``FORCE_COLOR`` or ``TTY_COMPATIBLE=1`` ask
    Rich to treat the output as one; the bare stream otherwise."""
    stream = sys.stdout
    asked = bool(os.environ.get("FORCE_COLOR")) or os.environ.get("TTY_COMPATIBLE") == "1"
    if stream is None or asked or stream.isatty():  # None: no stdout at all, Rich copes
        from rich.console import Console

        return Console()
    return PlainOutput(stream)


def write_line(console: Console | PlainOutput, *pieces: Piece) -> None:
    """One line now: plain text to a pipe, styled on a terminal (no markup is parsed)."""
    if not isinstance(console, PlainOutput) and console.is_terminal:
        from rich.text import Text

        console.print(Text.assemble(*pieces), soft_wrap=True)
    else:
        out = console.file
        out.write(_plain(pieces) + "\n")
        out.flush()


class ConsoleReporter:
    """An ``events.Subscriber`` printing each event as a line (see the module docstring).

    Call ``close()`` when the run is over, whatever happened: on a terminal it shows the lines
    still waiting and stops the live display (``RunFinished`` does it too).
    """

    def __init__(
        self, console: Console | PlainOutput, masker: Masker | None = None, *, verbose: bool = False
    ) -> None:
        self.console = console
        self.masker = masker or Masker()
        self.verbose = verbose  # show what the database said too (RAISE NOTICE)
        self._plain_out: IO[str] | None = None if console.is_terminal else console.file
        self._lock = threading.Lock()
        self._pending: list[Text] = []
        self._running: Text | None = None
        self._live: Live | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.summary = False  # the pipeline's ``summary: true``: every step, its time, at the end
        self._steps: tuple[str, ...] = ()
        self._times: dict[str, float] = {}

    def _terminal(self) -> Console:
        """Rich's console, on the paths only a terminal takes."""
        if isinstance(self.console, PlainOutput):  # pragma: no cover - plain mode never asks
            raise TypeError("the plain console has no live display")
        return self.console

    def _line(self, *pieces: Piece) -> None:
        if self._plain_out is not None:
            self._plain_out.write(_plain(pieces) + "\n")
            self._plain_out.flush()  # a user's `| tee` shows a line when it happens
            return
        from rich.text import Text  # a terminal: Rich is there

        with self._lock:
            self._pending.append(Text.assemble(*pieces))
        if self._live is None:
            self._flush()

    # -- the live display (terminal only) ------------------------------------------------------

    def _start_live(self) -> None:
        if self._plain_out is not None or self._live is not None:
            return
        # Imported here: only a terminal needs the live display's machinery.
        from rich.live import Live
        from rich.spinner import Spinner
        from rich.text import Text

        def running() -> Spinner | Text:
            shown = self._running
            return Spinner("dots", shown) if shown is not None else Text("")

        self._live = Live(
            console=self._terminal(),
            get_renderable=running,
            refresh_per_second=1 / REFRESH_SECONDS,
            transient=True,
        )
        self._live.start()
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="ordo-console", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            from rich.text import Text

            self._terminal().print(Text("\n").join(pending), soft_wrap=True)

    def close(self) -> None:
        """Show what is waiting and stop the live display; safe to call twice."""
        self._stop.set()
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.join()
        self._running = None
        self._flush()
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    # -- the events --------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        line = self._line
        match event:
            case RunStarted():
                self._steps, self._times = event.steps, {}
                line(
                    (f"Run {event.run_id[:8]}", "bold"),
                    f" of '{event.pipeline}': {plural(len(event.steps), 'step')}",
                )
                self._start_live()
            case StepStarted():
                again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
                what = f"[{event.index}/{event.total}] {event.kind} {event.step}{again}"
                line(("▶", "cyan"), " " + what)
                if self._plain_out is None:
                    from rich.text import Text

                    self._running = Text(what)
            case StepOutput(notice=True) if not self.verbose:
                pass
            case StepOutput():  # one line, or a block of them a process printed at once
                shown = "  │ " + event.line.replace("\n", "\n  │ ")
                line((self.masker.mask(shown), "dim"))
            case StepSucceeded():
                self._times[event.step] = event.duration
                rows = (
                    "" if event.rows is None or event.rows < 0 else f", {plural(event.rows, 'row')}"
                )
                out = f" → {event.output_file.name}" if event.output_file else ""
                line(("✓", "green"), f" {event.step} in {event.duration:.2f}s{rows}{out}")
                shown = details_line(event.details) if event.details else ""
                if shown:  # a kind's records alone (each file, each check) stay off the line
                    line("  ", (self.masker.mask(shown), "dim"))
                for warning in event.warnings:
                    line(("  ⚠", "yellow"), f" {warning}")
            case StepFailed():
                self._times[event.step] = event.duration
                line(
                    ("✗", "red"),
                    f" {event.step} failed after {event.duration:.2f}s: {event.error}",
                )
            case RollbackFinished():
                verdict = ("succeeded", "green") if event.succeeded else ("failed", "red")
                more = "" if event.succeeded else f": {event.error or ''}"
                line(("↺", "yellow"), f" rollback of {event.step} ", verdict, more)
            case StepSkipped():
                line((f"– {event.step} skipped: {event.reason}", "dim"))
            case UnitRetrying():
                again = f" (attempt {event.next_attempt})"
                line(("↻", "yellow"), f" retrying in {event.delay:g}s{again}")
            case UnitFailed():
                for kept in kept_lines(event):
                    line(("! ", "yellow"), kept)
                undone = event.rolled_back
                if event.committed or event.uncertain:
                    if undone:
                        line((f"↺ rolled back: {', '.join(undone)}", "red"))
                elif len(undone) > 1:
                    line((f"↺ rolled back group: {', '.join(undone)}", "red"))
            case RunFinished():
                self._finished(event)

    def _summary(self, event: RunFinished) -> None:
        """Every step with its outcome and time, as a setup workflow ends."""
        ok = event.status is RunStatus.SUCCESS
        self._line(
            "Overall Status: ", ("✅ SUCCESS", "bold green") if ok else ("❌ FAILED", "bold red")
        )
        self._line(f"Steps Completed: {len(event.completed)}/{len(self._steps)}")
        width = max((len(step) for step in self._steps), default=0)
        done = set(event.completed)
        for step in self._steps:
            icon = "✅" if step in done else "❌" if step in self._times else "–"
            took = f"({self._times[step]:.2f}s)" if step in self._times else "(not run)"
            self._line(f"{icon} {step:<{max(width, 30)}} {took}")

    def _finished(self, event: RunFinished) -> None:
        self.close()
        if self.summary:
            self._summary(event)
        if event.status is RunStatus.SUCCESS:
            self._line(
                (f"✅ {plural(len(event.completed), 'task')} completed", "bold green"),
                f" in {event.duration:.2f}s",
            )
        else:
            failed = f": '{event.failed_step}' failed" if event.failed_step else ""
            if not event.failed_step and event.error:  # the run's own error: no step had it
                failed = f": {self.masker.mask(event.error)}"
            self._line(
                (f"Run {event.status}{failed}", "bold red"),
                f"; {event.counts()}",
            )
