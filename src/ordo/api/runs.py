"""The use cases, as plain functions: what the CLI does, a Python user can call directly."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordo._files import remove_stale_temps
from ordo._hints import did_you_mean
from ordo.config import Settings
from ordo.errors import InvalidInput
from ordo.events import EventBus, RunStatus, Subscriber
from ordo.manifest.loader import load_manifest
from ordo.manifest.lock import manifest_lock
from ordo.manifest.state import ManifestState
from ordo.planning.build import build_plan
from ordo.planning.model import Plan
from ordo.project import Project
from ordo.runner.result import RunResult, StepStatus
from ordo.subscribers.log import LOGGER, EventLog, open_log_file
from ordo.subscribers.manifest import ManifestRecorder

if TYPE_CHECKING:
    from ordo.db.engines import EngineRegistry
    from ordo.masking import Masker
    from ordo.runner.ledger import Ledger
    from ordo.runner.unit import Wait
    from ordo.store import StateStore

__all__ = ["enable", "plan", "run"]


def plan(
    manifest: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    params: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> Plan:
    """Load, validate and prepare a manifest without touching any database.

    Raises ``ManifestInvalid`` listing every problem (with file, line and step) when the
    manifest cannot run; the plan's ``lines()`` are what a dry run prints. ``select`` and
    ``exclude`` take selectors: step names, ``tag:NAME``, ``+name`` (with what it depends
    on), ``name+`` (with what depends on it); an unknown name or tag is a problem too.
    """
    proj = Project.at(project)
    settings = Settings.load(
        proj.root, env_file=Path(env_file) if env_file else None, environ=environ
    )
    loaded = load_manifest(proj.manifest_path(manifest))
    return build_plan(loaded, proj, settings, params, select=select, exclude=exclude)


def run(
    manifest: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    params: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    confirm: Callable[[Plan], bool] | None = None,
    subscribers: Iterable[Subscriber] = (),
    record_state: bool = True,
    record_run: bool = True,
    notify: bool = True,
    log_file: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    resume: str | None = None,
    rehearse: bool = False,
) -> RunResult:
    """Plan and run a manifest, recording done steps in it; returns what happened.

    ``rehearse`` runs every SQL step for real inside one transaction per connection and rolls
    it all back (see ``ordo.rehearsal``): the manifest and the ledger are not touched.

    ``resume`` (a run id, a unique prefix of one, or ``"last"`` for the manifest's last failed
    run) runs the steps of that run that did not complete, and nothing else.

    ``confirm`` sees the plan before anything runs and returns whether to go on (the CLI prints
    the plan and asks); a ``False`` ends the run as ``aborted`` with nothing executed. Raises
    ``ManifestInvalid`` for a bad manifest and ``ManifestLocked`` when another run holds it.
    ``select`` and ``exclude`` narrow the run as they narrow ``plan``. The run is recorded in
    the state store (``record_run``), done steps in the manifest (``record_state``); ``notify``
    sends notices and, for a failed run, writes the manual review report.
    """
    proj = Project.at(project)
    manifest_path = proj.manifest_path(manifest)
    run_id = uuid.uuid4().hex
    with manifest_lock(manifest_path):
        remove_stale_temps(manifest_path)
        resumed_from = None
        if resume is not None:
            if select or exclude:
                raise InvalidInput("--resume picks the steps itself; leave out --select/--exclude")
            settings = Settings.load(
                proj.root, env_file=Path(env_file) if env_file else None, environ=environ
            )
            resumed_from, select = _resume(settings, proj, manifest_path, resume)
        the_plan = plan(
            manifest_path,
            project=proj.root,
            env_file=env_file,
            params=params,
            environ=environ,
            select=select,
            exclude=exclude,
        )
        masker = the_plan.settings.masker()
        if not the_plan.units:
            return RunResult(run_id, the_plan.name, RunStatus.SUCCESS)
        # Everything that can be misconfigured fails here, before the question is asked.
        if rehearse:
            from ordo.runner.rehearsal import check_rehearsable

            check_rehearsable(the_plan)
            notify = record_state = False  # a rehearsal is nobody's news and nothing is done
        notices = _notices(the_plan, masker) if notify else None
        store = None
        if record_run:
            from ordo.store import open_store

            store = open_store(the_plan.settings, proj.root)
        try:
            if confirm is not None and not confirm(the_plan):
                LOGGER.warning("Execution aborted by user")
                return RunResult(run_id, the_plan.name, RunStatus.ABORTED)
            return _execute(
                the_plan,
                run_id,
                masker,
                list(subscribers),
                notices,
                store,
                log_file=log_file,
                record_state=record_state,
                report=notify,
                sleep=sleep,
                resumed_from=resumed_from,
                rehearse=rehearse,
            )
        finally:
            if store is not None:
                store.close()


def _notices(the_plan: Plan, masker: Masker) -> Subscriber | None:
    """Telegram and other notifiers; a misconfigured one is a ConfigError now, not mid-run."""
    from ordo.notify.base import load_notifiers
    from ordo.subscribers.notices import NoticeSubscriber

    notifiers = load_notifiers(the_plan.settings.values, masker)
    if not notifiers:
        return None
    return NoticeSubscriber(
        notifiers,
        masker,
        the_plan.name,
        slow_step_seconds=the_plan.manifest.pipeline.notify.slow_step_seconds,
        logger=LOGGER,
    )


def _execute(
    the_plan: Plan,
    run_id: str,
    masker: Masker,
    subscribers: list[Subscriber],
    notices: Subscriber | None,
    store: StateStore | None,
    *,
    log_file: bool,
    record_state: bool,
    report: bool,
    sleep: Callable[[float], None],
    resumed_from: str | None = None,
    rehearse: bool = False,
) -> RunResult:
    """Run a confirmed plan with every subscriber; whatever fails, they are all closed."""
    from ordo.db.engines import EngineRegistry
    from ordo.runner.scheduler import Runner

    project = the_plan.project
    bus = EventBus(subscribers)
    handler: logging.Handler | None = None
    log_path: Path | None = None
    closers: list[Callable[[], None]] = []  # writer threads, flushed in this order at the end
    engines = EngineRegistry()
    try:
        if log_file:
            log_path, handler = open_log_file(project.logs_dir, run_id, masker)
            bus.subscribe(EventLog())
        # The recorders below must see RunFinished even when the manifest recorder raises on it.
        if report and the_plan.manifest.pipeline.notify.report:
            from ordo.subscribers.report import ReportSubscriber

            bus.subscribe(
                ReportSubscriber(project.root, the_plan.name, masker=masker, logger=LOGGER)
            )
        if store is not None:
            from ordo.subscribers.store import StoreRecorder

            store_recorder = StoreRecorder.for_plan(
                store, the_plan, masker=masker, resumed_from=resumed_from, rehearsal=rehearse
            )
            bus.subscribe(store_recorder)
            closers.append(store_recorder.close)
        if record_state:
            state = ManifestState(
                the_plan.manifest.path,
                the_plan.manifest.text,
                {entry.name: entry.location for entry in the_plan.manifest.steps},
            )
            manifest_recorder = ManifestRecorder(state)
            bus.subscribe(manifest_recorder)
            closers.append(manifest_recorder.close)
        if notices is not None:
            bus.subscribe(notices)
        if rehearse:
            from ordo.runner.rehearsal import Rehearsal

            result = Rehearsal(
                the_plan, run_id=run_id, bus=bus, masker=masker, engines=engines
            ).execute()
            result.log_file = log_path
            return result
        from ordo.runner.ledger import reconcile

        ledgers, recovered = reconcile(the_plan, engines, masker)
        result = Runner(
            the_plan,
            run_id=run_id,
            bus=bus,
            masker=masker,
            engines=engines,
            wait=_wait_for(sleep),
            ledgers=ledgers,
            recovered=recovered,
        ).execute()
    finally:
        try:
            for close in closers:
                close()
        finally:
            engines.dispose_all()
            if handler is not None:
                LOGGER.removeHandler(handler)
                handler.close()
    if record_state and ledgers:  # the manifest now says what the ledger said: forget it
        _tidy_ledgers(the_plan, engines, ledgers, result, masker)
    result.log_file = log_path
    return result


def enable(
    steps: Iterable[str] = (),
    *,
    all_steps: bool = False,
    manifest: Path | str | None = None,
    project: Path | str | None = None,
) -> list[str]:
    """Re-enable done (or disabled) steps, removing their Done comments; returns those changed."""
    from ordo.errors import InvalidInput, ManifestInvalid

    proj = Project.at(project)
    path = proj.manifest_path(manifest)
    wanted = list(steps)
    if not wanted and not all_steps:
        raise InvalidInput("name the steps to enable, or pass --all")
    with manifest_lock(path):
        loaded = load_manifest(path)
        if loaded.problems:
            raise ManifestInvalid(list(loaded.problems))
        names = {entry.name for entry in loaded.steps}
        unknown = [name for name in wanted if name not in names]
        if unknown:
            raise InvalidInput(
                f"no step named '{unknown[0]}' in the manifest",
                file=path,
                hint=did_you_mean(unknown[0], names, "see the step names with `ordo plan`"),
            )
        state = ManifestState(path, loaded.text, {e.name: e.location for e in loaded.steps})
        return state.enable_all() if all_steps else state.enable(wanted)


def _wait_for(sleep: Callable[[float], None]) -> Wait:
    """The runner's retry wait for ``run(sleep=...)``: the default one ends when the run is
    aborted; a caller's own ``sleep`` (a test's recorder) is called as it is."""
    from ordo.runner.unit import abortable_wait

    if sleep is time.sleep:
        return abortable_wait
    return lambda seconds, _abort: sleep(seconds)


def _tidy_ledgers(
    the_plan: Plan,
    engines: EngineRegistry,
    ledgers: Mapping[str, Ledger],
    result: RunResult,
    masker: Masker,
) -> None:
    from ordo.runner.ledger import forget_recorded

    done = [s.name for s in result.steps if s.status is StepStatus.SUCCESS]
    try:
        forget_recorded(the_plan, engines, ledgers, done, masker=masker)
    finally:
        engines.dispose_all()


def _resume(
    settings: Settings, proj: Project, manifest_path: Path, resume: str
) -> tuple[str, list[str]]:
    """The run to resume and the steps of it that did not complete."""
    from ordo.store import open_store
    from ordo.store.base import TaskStatus

    loaded = load_manifest(manifest_path)
    pipeline = loaded.name
    store = open_store(settings, proj.root)
    try:
        if resume == "last":
            failed = store.last_failed_run(pipeline)
            newest = store.list_runs(limit=1, job=pipeline)
            if failed is None or not newest or newest[0].id != failed.id:
                what = "has no runs" if not newest else f"ended {newest[0].status}"
                raise InvalidInput(
                    f"nothing to resume: the last run of '{pipeline}' {what}",
                    hint="name a run with --resume RUN_ID (see `ordo runs`)",
                )
            resume = failed.id
        detail = store.get_run(resume)
    finally:
        store.close()
    if detail.run.job != pipeline:
        raise InvalidInput(
            f"run {detail.run.id[:8]} is of pipeline '{detail.run.job}', not '{pipeline}'",
            hint="resume it with its own manifest",
        )
    in_manifest = {entry.name for entry in loaded.steps}
    steps = [
        t.step
        for t in detail.tasks
        if t.status is not TaskStatus.COMPLETED and t.step in in_manifest
    ]
    if not steps:
        raise InvalidInput(f"nothing to resume: every step of run {detail.run.id[:8]} completed")
    return detail.run.id, steps
