"""The standard subscribers of a run, built, started and closed in one place.

What a run of ``ordo.run`` has listening, in the bus's order: the caller's own subscribers
(the CLI's console), the log file, the review report, the store recorder, the notices and the
manifest recorder. The manifest recorder comes last because it is the one that may raise (a
done mark that cannot be written stops the run): everything before it has seen the event,
``RunFinished`` included, when it does.

Nothing slow runs on the bus's thread (see ``ordo.events``): the store, the manifest and the
notices each write from a ``BackgroundWriter``. ``RunSubscribers`` is a context manager: on
entry it marks the thread as working for the run (``log.run_context``, so that the run's own
warnings reach its log and no other) and starts the writers; on exit it closes them in this
order, each one whatever happened to the one before: store (waits for its writes), manifest
(waits for its marks, raises the first error it had), notices (waits a bounded time, see
``notices.DRAIN_SECONDS``), and the log file last, so that it holds what the others said
while closing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from ordo.events import EventBus, Subscriber
from ordo.manifest.journal import MarkJournal
from ordo.manifest.state import ManifestState
from ordo.notify import base as notify_base
from ordo.subscribers.log import LOGGER, RunLog, run_context
from ordo.subscribers.manifest import ManifestRecorder
from ordo.subscribers.notices import NoticeSubscriber
from ordo.subscribers.report import ReportSubscriber
from ordo.subscribers.store import StoreRecorder

if TYPE_CHECKING:
    from pathlib import Path

    from ordo.masking import Masker
    from ordo.planning.model import Plan
    from ordo.store.base import StateStore

__all__ = ["RunSubscribers", "load_notices", "standard_subscribers"]


def load_notices(the_plan: Plan, masker: Masker) -> NoticeSubscriber | None:
    """Telegram and other notifiers; a misconfigured one is a ConfigError now, not mid-run."""
    notifiers = notify_base.load_notifiers(the_plan.settings.values, masker)
    if not notifiers:
        return None
    return NoticeSubscriber(
        notifiers,
        masker,
        the_plan.name,
        slow_step_seconds=the_plan.manifest.pipeline.notify.slow_step_seconds,
        logger=LOGGER,
    )


class RunSubscribers:
    """The bus of one run and the subscribers on it that need starting and closing."""

    def __init__(self, run_id: str, bus: EventBus, log: RunLog | None) -> None:
        self.run_id = run_id
        self.bus = bus
        self.log = log
        self._starts: list[Callable[[], None]] = []
        self._closes: list[Callable[[], None]] = []  # in the order they are closed
        self._context: contextlib.ExitStack | None = None
        self.manifest: ManifestRecorder | None = None  # the done marks, when recorded

    @property
    def marked(self) -> tuple[str, ...]:
        """The steps whose done marks are on disk so far (none when marks are not recorded)."""
        return self.manifest.marked if self.manifest is not None else ()

    @property
    def log_path(self) -> Path | None:
        return self.log.path if self.log is not None else None

    def add(self, subscriber: Subscriber, start: Callable[[], None] | None = None) -> None:
        """Put ``subscriber`` on the bus; ``start`` is called on entry, in the order added."""
        self.bus.subscribe(subscriber)
        if start is not None:
            self._starts.append(start)

    def on_close(self, close: Callable[[], None]) -> None:
        self._closes.append(close)

    def __enter__(self) -> RunSubscribers:
        with contextlib.ExitStack() as stack:
            stack.enter_context(run_context(self.run_id))
            stack.callback(self.close)
            for start in self._starts:
                start()
            self._context = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        context, self._context = self._context, None
        if context is not None:
            context.close()

    def close(self) -> None:
        """Close everything in the order given; the first error is raised once all are."""
        closes, self._closes = self._closes, []
        error: BaseException | None = None
        for close in closes:
            try:
                close()
            except BaseException as exc:  # every subscriber is closed, then the error goes on
                error = error or exc
        if error is not None:
            raise error


def standard_subscribers(
    the_plan: Plan,
    run_id: str,
    masker: Masker,
    *,
    subscribers: Sequence[Subscriber] = (),
    store: StateStore | None = None,
    notices: NoticeSubscriber | None = None,
    log_file: bool = True,
    record_state: bool = True,
    report: bool = True,
    resumed_from: str | None = None,
    rehearsal: bool = False,
) -> RunSubscribers:
    """The subscribers a run of ``the_plan`` has, on a fresh bus; enter the result to start them.

    ``store`` is the open state store to record the run in (its caller closes it), ``notices``
    the notifiers' subscriber (built before the run asks for confirmation, so that a bad
    configuration fails first); ``report`` writes the review report of a failed run when the
    manifest asks for one; ``record_state`` marks done steps in the manifest.
    """
    project = the_plan.project
    log = RunLog(project.logs_dir, run_id, masker) if log_file else None
    run = RunSubscribers(run_id, EventBus(list(subscribers)), log)
    if log is not None:
        run.add(log, start=log.start)
    if report and the_plan.manifest.pipeline.notify.report:
        run.add(ReportSubscriber(project.root, the_plan.name, masker=masker, logger=LOGGER))
    if store is not None:
        recorder = StoreRecorder.for_plan(
            store, the_plan, masker=masker, resumed_from=resumed_from, rehearsal=rehearsal
        )
        run.add(recorder, start=recorder.start)
        run.on_close(recorder.close)
    manifest = None
    if record_state:
        state = ManifestState(
            the_plan.manifest.path,
            the_plan.manifest.text,
            {entry.name: entry.location for entry in the_plan.manifest.steps},
        )
        journal = (
            MarkJournal(the_plan.manifest.path) if the_plan.manifest.pipeline.keeps_ledger else None
        )
        manifest = ManifestRecorder(state, journal)
        run.manifest = manifest
        run.on_close(manifest.close)
    if notices is not None:
        run.add(notices, start=notices.start)
        run.on_close(notices.close)
    if manifest is not None:
        run.add(manifest, start=manifest.start)
    if log is not None:
        run.on_close(log.close)
    return run
