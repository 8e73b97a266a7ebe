"""What a run tells its notifiers, and when.

A chat channel is read by people, so it gets few messages: the start, the steps someone asked
to hear about (``notify: true``) or that were slow, each failure once (when a unit has failed
for good, not on every retry), and a summary. Every message is masked before it leaves, and a
notifier that fails or hangs is logged and skipped: notifications never break a run.

Nor do they slow it down. A notifier may take long (Telegram waits out a 429 for up to a
minute), and the event bus delivers every event under one lock, so the messages are written on
the bus's thread (cheap, and in event order) and sent from a ``BackgroundWriter`` of their own,
once ``start()`` has been called. At the end of the run ``close()`` waits for the last messages
for at most ``DRAIN_SECONDS``, then gives up on them with one warning: a run's result never
waits on a chat service.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ordo._words import plural
from ordo.events import Event, RunFinished, RunStarted, RunStatus, StepSucceeded, UnitFailed
from ordo.masking import Masker
from ordo.notify.base import MESSAGE_LIMIT, Notifier, cut
from ordo.subscribers._writer import BackgroundWriter

__all__ = ["DRAIN_SECONDS", "NoticeSubscriber", "format_duration"]

# How long the end of a run waits for notices still being sent: one Telegram request's own
# timeout (10 s) is enough for the summary; a notifier stuck in a long back-off is given up on.
DRAIN_SECONDS = 10.0

# The summary repeats only the start of the error; the failure message already carried it all.
_SUMMARY_ERROR_LIMIT = 300

_HEADLINES = {
    RunStatus.PARTIAL_SUCCESS: "⚠️ Job partially succeeded",
    RunStatus.FAILED: "❌ Job failed",
    RunStatus.ABORTED: "⛔ Job aborted",
}


def format_duration(seconds: float) -> str:
    """``0.4s``, ``12.3s``, ``2m 05s``, ``1h 02m 03s``: short enough for a phone screen."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"


class NoticeSubscriber:
    """An ``events.Subscriber`` that turns run events into chat messages.

    Not started, it sends before ``handle`` returns; started, from its writer thread.
    """

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        masker: Masker,
        pipeline: str,
        slow_step_seconds: float = 5.0,
        logger: logging.Logger | None = None,
        drain_seconds: float | None = None,  # DRAIN_SECONDS, read when the run ends
    ) -> None:
        self._notifiers = list(notifiers)
        self._masker = masker
        self._pipeline = pipeline
        self._slow_step_seconds = slow_step_seconds
        self._logger = logger if logger is not None else logging.getLogger(__name__)
        self._drain_seconds = drain_seconds
        self._gave_up = False  # said once, however often close is called
        self._writer: BackgroundWriter[str] = BackgroundWriter("ordo-notices", self._send_all)

    def start(self) -> None:
        """Send from a thread of its own from now on."""
        if self._notifiers:
            self._writer.start()

    def close(self) -> None:
        """Wait (at most ``drain_seconds``) for the messages still queued. Never raises."""
        try:
            drain = DRAIN_SECONDS if self._drain_seconds is None else self._drain_seconds
            finished = self._writer.close(timeout=drain)
        except Exception as exc:  # _send_all catches everything; this is a last guard
            self._warn("notices stopped", exc)
            return
        if not finished and not self._gave_up:
            self._gave_up = True
            what = f"notices: gave up after {drain:g}s waiting for the last messages to be sent"
            self._logger.warning("%s", self._masker.mask(what))

    def handle(self, event: Event) -> None:
        """Queue (or send) the message ``event`` calls for, if any. Never raises."""
        if not self._notifiers:
            return
        try:
            text = self.message_for(event)
        except Exception as exc:  # a bug here must not stop the run either
            self._warn("notice could not be written", exc)
            return
        if text is not None:
            self._writer.put(text)

    def message_for(self, event: Event) -> str | None:
        """The message for ``event``, masked and cut to the limit; None when it is not news."""
        text: str | None
        if isinstance(event, RunStarted):
            text = self._started(event)
        elif isinstance(event, StepSucceeded):
            text = self._step_succeeded(event)
        elif isinstance(event, UnitFailed):
            text = self._unit_failed(event)
        elif isinstance(event, RunFinished):
            text = self._finished(event)
        else:
            return None  # StepFailed / UnitRetrying: only a failure for good is news.
        if text is None:
            return None
        # Mask first, then cut: cutting first could leave half a secret unrecognisable.
        return cut(self._masker.mask(text), MESSAGE_LIMIT)

    def _started(self, event: RunStarted) -> str:
        pipeline = event.pipeline or self._pipeline
        return f"🚀 Job Started: {pipeline}\n{plural(len(event.steps), 'step')} to run"

    def _step_succeeded(self, event: StepSucceeded) -> str | None:
        if event.warnings:
            return "\n".join(
                [f"⚠️ Step warned: {event.step}", f"Pipeline: {self._pipeline}", *event.warnings]
            )
        if not (event.notify or event.duration > self._slow_step_seconds):
            return None
        return (
            f"☑️ Step done: {event.step} in {format_duration(event.duration)}\n"
            f"Pipeline: {self._pipeline}"
        )

    def _unit_failed(self, event: UnitFailed) -> str:
        lines = [f"❌ Step failed: {event.failed_step}", f"Pipeline: {self._pipeline}"]
        if event.attempts > 1:
            lines.append(f"After {event.attempts} attempts")
        others = [step for step in event.rolled_back if step != event.failed_step]
        if others:
            lines.append(f"Rolled back with it: {', '.join(others)}")
        if event.committed:
            lines.append(f"Committed before it (DDL): {', '.join(event.committed)}")
        if event.uncertain:
            lines.append(f"May be committed (DDL): {', '.join(event.uncertain)}")
        lines.append("")
        lines.append(event.error.strip() or "(no error text)")
        return "\n".join(lines)

    def _finished(self, event: RunFinished) -> str:
        pipeline = event.pipeline or self._pipeline
        duration = format_duration(event.duration)
        if event.status is RunStatus.SUCCESS:
            completed = plural(len(event.completed), "Task")
            return f"✅ {completed} Completed\nPipeline: {pipeline}\nDuration: {duration}"
        lines = [f"{_HEADLINES.get(event.status, '❌ Job failed')}: {pipeline}"]
        if event.failed_step:
            lines.append(f"Failed step: {event.failed_step}")
        if event.error:
            # Masked here already: the cut below must not split a secret before masking.
            error = self._masker.mask(event.error.strip())
            lines.append(f"Error: {cut(error, _SUMMARY_ERROR_LIMIT)}")
        lines.append(f"Completed: {len(event.completed)}")
        lines.append(f"Not run: {len(event.not_run)}")
        lines.append(f"Duration: {duration}")
        return "\n".join(lines)

    def _send_all(self, texts: list[str]) -> None:
        for text in texts:
            self._send(text)

    def _send(self, text: str) -> None:
        for notifier in self._notifiers:
            try:
                notifier.send(text)
            except Exception as exc:
                self._warn(f"notifier {getattr(notifier, 'name', '?')!r} failed, skipped", exc)

    def _warn(self, what: str, exc: Exception) -> None:
        # No exc_info: a traceback could quote what the message masks (URLs, tokens).
        try:
            detail = self._masker.mask(f"{type(exc).__name__}: {exc}")
        except Exception:
            detail = type(exc).__name__
        self._logger.warning("%s: %s", what, detail)
