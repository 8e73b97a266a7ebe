"""Live progress on the terminal: each step's start, end, duration, rows and attempt."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.status import Status

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

__all__ = ["ConsoleReporter"]


class ConsoleReporter:
    """Prints each event as a line; on a terminal a spinner shows the step that is running."""

    def __init__(self, console: Console, masker: Masker | None = None) -> None:
        self.console = console
        self.masker = masker or Masker()
        self._status: Status | None = None

    def _spin(self, text: str | None) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        if text is not None and self.console.is_terminal:
            self._status = self.console.status(text)
            self._status.start()

    def _print(self, text: str) -> None:
        self.console.print(text, highlight=False, soft_wrap=True)

    def handle(self, event: Event) -> None:
        match event:
            case RunStarted():
                self._print(
                    f"[bold]Run {event.run_id[:8]}[/] of '{escape(event.pipeline)}': "
                    f"{plural(len(event.steps), 'step')}"
                )
            case StepStarted():
                again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
                self._print(
                    f"[cyan]▶[/] [{event.index}/{event.total}] "
                    f"{event.kind} {escape(event.step)}{again}"
                )
            case StepOutput():
                self._print(f"[dim]  │ {escape(self.masker.mask(event.line))}[/]")
            case StepSucceeded():
                rows = (
                    "" if event.rows is None or event.rows < 0 else f", {plural(event.rows, 'row')}"
                )
                out = f" → {event.output_file.name}" if event.output_file else ""
                took = f"{event.duration:.2f}s"
                self._print(f"[green]✓[/] {escape(event.step)} in {took}{rows}{out}")
                if event.details:
                    shown = self.masker.mask(details_line(event.details))
                    self._print(f"  [dim]{escape(shown)}[/]")
            case StepFailed():
                self._print(
                    f"[red]✗[/] {escape(event.step)} failed after {event.duration:.2f}s: "
                    f"{escape(event.error)}"
                )
            case RollbackFinished():
                verdict = "[green]succeeded[/]" if event.succeeded else "[red]failed[/]"
                more = "" if event.succeeded else f": {escape(event.error or '')}"
                self._print(f"[yellow]↺[/] rollback of {escape(event.step)} {verdict}{more}")
            case StepSkipped():
                self._print(f"[dim]– {escape(event.step)} skipped: {escape(event.reason)}[/]")
            case UnitRetrying():
                self._print(
                    f"[yellow]↻[/] retrying in {event.delay:g}s (attempt {event.next_attempt})"
                )
            case UnitFailed():
                if len(event.steps) > 1:
                    self._print(f"[red]↺ rolled back group: {escape(', '.join(event.steps))}[/]")
            case RunFinished():
                if event.status is RunStatus.SUCCESS:
                    self._print(
                        f"[bold green]✅ {plural(len(event.completed), 'task')} completed[/] "
                        f"in {event.duration:.2f}s"
                    )
                else:
                    failed = f": '{escape(event.failed_step)}' failed" if event.failed_step else ""
                    self._print(
                        f"[bold red]Run {event.status}{failed}[/]; {len(event.completed)} done, "
                        f"{len(event.not_run)} not run"
                    )
