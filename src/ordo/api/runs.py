"""The use cases, as plain functions: what the CLI does, a Python user can call directly."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ordo import _read_ahead
from ordo._files import remove_stale_temps
from ordo._hints import did_you_mean
from ordo.api.read_ahead import manifest_key
from ordo.config import Settings
from ordo.errors import InvalidInput, ManifestInvalid, OrdoError, Problem
from ordo.events import RunStatus, Subscriber
from ordo.manifest.loader import load_manifest
from ordo.manifest.lock import manifest_lock
from ordo.manifest.state import ManifestState
from ordo.planning.build import build_plan
from ordo.planning.model import Plan
from ordo.project import Project
from ordo.runner.result import RunResult
from ordo.subscribers.log import LOGGER
from ordo.subscribers.standard import load_notices, standard_subscribers

if TYPE_CHECKING:
    from ordo.db.engines import EngineRegistry
    from ordo.events import EventBus
    from ordo.manifest.model import Manifest
    from ordo.masking import Masker
    from ordo.runner.ledger import Ledger
    from ordo.runner.unit import Wait
    from ordo.store.base import StateStore

__all__ = ["RunOptions", "enable", "plan", "run"]


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """What a run does (``plan`` reads only ``params``, ``select`` and ``exclude``).

    Where the project is and how its settings are read (``manifest``, ``project``,
    ``env_file``, ``environ``) are the keywords every use case takes; everything that
    changes what one run does is here, so that a caller builds it once and passes it on.

    - ``params``: template parameters, over the manifest's own.
    - ``select``/``exclude``: selectors, as ``ordo plan`` takes them: step names,
      ``tag:NAME``, ``+name`` (with what it depends on), ``name+`` (with what depends on it).
    - ``resume``: a run id, a unique prefix of one, or ``"last"`` (the manifest's last failed
      run): run the steps of that run that did not complete, and nothing else. It picks the
      steps itself, so it does not go with ``select``/``exclude``.
    - ``rehearse``: run every SQL step for real inside one transaction per connection and roll
      it all back (see ``ordo.runner.rehearsal``); the manifest and the ledger are not touched,
      and nobody is notified.
    - ``strict_params``: a ``params`` name that no step uses is an error (``InvalidInput``)
      instead of a warning.
    - ``confirm``: sees the plan before anything runs and says whether to go on (the CLI
      prints the plan and asks); ``False`` ends the run as ``aborted`` with nothing executed.
    - ``subscribers``: the caller's own, first on the bus (the CLI's console); they are
      called under the bus's lock and must be quick (see ``ordo.events``).
    - ``record_state``: mark done steps in the manifest; ``record_run``: record the run in the
      state store (``ordo runs``); ``notify``: send notices and, for a failed run, write the
      manual review report; ``log_file``: write ``logs/ordo_<time>_<run>.log``.
    - ``fail_on``: ``"warn"`` makes a step's warnings (a check at severity warn) fail it,
      as errors do; by default they are shown, recorded and sent as a notice.
    - ``sleep``: how the runner waits between retries (tests pass a no-op).
    - ``run_id``: the id the run records (default: a new one).
    - ``service_run``: the service's run this is an attempt of (``ordo.service.execution``).
      The manifest is the job's definition: it is neither locked, nor marked, and every enabled
      step runs; the ledger's rows are keyed by this id, so a later attempt of the same run
      (after a crash) skips what this one committed. The rows go when the attempt ends, however
      it ends short of being killed.
    """

    params: Mapping[str, Any] | None = None
    select: Sequence[str] | None = None
    exclude: Sequence[str] | None = None
    resume: str | None = None
    rehearse: bool = False
    strict_params: bool = False
    confirm: Callable[[Plan], bool] | None = None
    subscribers: Sequence[Subscriber] = ()
    record_state: bool = True
    record_run: bool = True
    notify: bool = True
    log_file: bool = True
    fail_on: Literal["error", "warn"] = "error"
    sleep: Callable[[float], None] = time.sleep
    run_id: str | None = None
    service_run: str | None = None


_DEFAULTS = RunOptions()


def plan(
    manifest: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    options: RunOptions = _DEFAULTS,
) -> Plan:
    """Load, validate and prepare a manifest without touching any database.

    Raises ``ManifestInvalid`` listing every problem (with file, line and step) when the
    manifest cannot run; the plan's ``lines()`` are what a dry run prints. Of the ``options``
    only ``params``, ``select`` and ``exclude`` matter here; an unknown step name or tag in a
    selector is a problem too.
    """
    proj = Project.at(project)
    settings = _settings(proj, env_file, environ)
    return _plan(proj, settings, proj.manifest_path(manifest), options)


def run(
    manifest: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    options: RunOptions = _DEFAULTS,
) -> RunResult:
    """Plan and run a manifest, recording done steps in it; returns what happened.

    The calling convention of every use case: ``manifest`` (default: the project's
    ``queue/manifest.yaml``), then where the project is and how its settings are read
    (``project``, ``env_file``, ``environ``); what the run does is in ``options`` (see
    ``RunOptions``), which ``plan`` takes too, so that a dry run and a run see the same plan.

    Raises ``ManifestInvalid`` for a bad manifest and ``ManifestLocked`` when another run
    holds it. The settings are read once per call, also when resuming.
    """
    proj = Project.at(project)
    manifest_path = proj.manifest_path(manifest)
    run_id = options.run_id or uuid.uuid4().hex
    with _manifest_guard(manifest_path, options):
        settings = _settings(proj, env_file, environ)
        resumed_from = None
        if options.resume is not None:
            if options.select or options.exclude:
                raise InvalidInput("--resume picks the steps itself; leave out --select/--exclude")
            resumed_from, steps = _resume(settings, proj, manifest_path, options.resume)
            options = replace(options, select=steps)
        the_plan = _plan(proj, settings, manifest_path, options)
        masker = the_plan.settings.masker()
        if not the_plan.units:
            return RunResult(run_id, the_plan.name, RunStatus.SUCCESS)
        # Everything that can be misconfigured fails here, before the question is asked.
        if options.rehearse:
            # deferred: ordo plan needs no runner or store
            from ordo.runner.rehearsal import check_rehearsable

            check_rehearsable(the_plan)
            # a rehearsal is nobody's news and nothing is done
            options = replace(options, notify=False, record_state=False)
        if not the_plan.manifest.pipeline.mark_done or options.service_run is not None:
            options = replace(options, record_state=False)
        notices = load_notices(the_plan, masker) if options.notify else None
        store = None
        if options.record_run:
            from ordo.store import open_store  # deferred: ordo plan needs no runner or store

            store = open_store(the_plan.settings, proj.root)
            _mark_crashed(store, the_plan.name)
        try:
            if options.confirm is not None and not options.confirm(the_plan):
                LOGGER.warning("Execution aborted by user")
                return RunResult(run_id, the_plan.name, RunStatus.ABORTED)
            subscribers = standard_subscribers(
                the_plan,
                run_id,
                masker,
                subscribers=options.subscribers,
                store=store,
                notices=notices,
                log_file=options.log_file,
                record_state=options.record_state,
                report=options.notify,
                resumed_from=resumed_from,
                rehearsal=options.rehearse,
            )
            from ordo.db.engines import EngineRegistry  # deferred: ordo plan needs no database

            engines = EngineRegistry()
            ledgers: dict[str, Ledger] = {}
            try:
                with subscribers:
                    result = _execute(
                        the_plan, run_id, masker, subscribers.bus, options, engines, ledgers
                    )
            finally:  # however the run ended: the rows of the steps marked done have served
                if the_plan.manifest.pipeline.keeps_ledger and subscribers.marked:
                    _tidy_ledgers(the_plan, engines, ledgers, subscribers.marked, masker)
                if options.service_run is not None and ledgers:
                    _forget_service_run(the_plan, engines, ledgers, masker)
            result.log_file = subscribers.log_path
            return result
        finally:
            if store is not None:
                store.close()


@contextmanager
def _manifest_guard(manifest_path: Path, options: RunOptions) -> Iterator[None]:
    """The manifest's lock, its stale temporary files removed. A service run writes nothing
    to its manifest: two runs of one job may read it at once, unlocked."""
    if options.service_run is not None:
        yield
        return
    with manifest_lock(manifest_path):
        remove_stale_temps(manifest_path)
        yield


def _settings(
    proj: Project, env_file: Path | str | None, environ: Mapping[str, str] | None
) -> Settings:
    return Settings.load(proj.root, env_file=Path(env_file) if env_file else None, environ=environ)


def _plan(proj: Project, settings: Settings, manifest_path: Path, options: RunOptions) -> Plan:
    # as read ahead (``ordo.api.read_ahead``) if the file has not changed since
    loaded = _read_ahead.take(
        manifest_key(manifest_path), [manifest_path], partial(load_manifest, manifest_path)
    )
    the_plan = build_plan(
        loaded, proj, settings, options.params, select=options.select, exclude=options.exclude
    )
    _check_params(the_plan, options.strict_params)
    if options.fail_on != the_plan.fail_on:
        the_plan = replace(the_plan, fail_on=options.fail_on)
    return the_plan


def _check_params(the_plan: Plan, strict: bool) -> None:
    """A ``--param`` that nothing uses is most often a typo: warn, or refuse when strict."""
    if not the_plan.unused_params:
        return
    problems = [
        Problem(
            f"--param {name}: no step of '{the_plan.name}' uses a parameter of that name",
            file=the_plan.manifest.path,
            hint=hint,
        )
        for name, hint in the_plan.unused_params
    ]
    if strict:
        raise ManifestInvalid(problems)
    for problem in problems:
        LOGGER.warning("%s", problem)


def _execute(
    the_plan: Plan,
    run_id: str,
    masker: Masker,
    bus: EventBus,
    options: RunOptions,
    engines: EngineRegistry,
    ledgers: dict[str, Ledger],
) -> RunResult:
    """Run a confirmed plan (or rehearse it) on ``bus``; the engines are disposed of after.

    ``ledgers`` is filled in as soon as they are read, so that the caller can tidy them
    however the run ends."""
    from ordo.runner.scheduler import Runner  # deferred: ordo plan needs no runner or store

    try:
        if options.rehearse:
            # deferred: ordo plan needs no runner or store
            from ordo.runner.rehearsal import Rehearsal

            rehearsal = Rehearsal(the_plan, run_id=run_id, bus=bus, masker=masker, engines=engines)
            return rehearsal.execute()
        from ordo.runner.ledger import reconcile  # deferred: ordo plan needs no runner or store

        def read_ledgers() -> tuple[Mapping[str, Ledger], Mapping[str, str]]:
            found, recovered = reconcile(the_plan, engines, masker, run_key=options.service_run)
            ledgers.update(found)
            return found, recovered

        return Runner(
            the_plan,
            run_id=run_id,
            bus=bus,
            masker=masker,
            engines=engines,
            wait=_wait_for(options.sleep),
            reconcile=read_ledgers,
        ).execute()
    finally:
        engines.dispose_all()


def enable(
    steps: Iterable[str] = (),
    *,
    all_steps: bool = False,
    manifest: Path | str | None = None,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Re-enable done (or disabled) steps, removing their Done comments; returns those changed.

    The ledger rows of the steps named (every step, with ``all_steps``) are deleted too, so
    that what an earlier run committed can never stand in for the run the user asks for now
    (``ordo.runner.ledger``); a database that cannot be reached for that is a warning. The
    settings (``env_file``, ``environ``) say where those databases are.
    """
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
        changed = state.enable_all() if all_steps else state.enable(wanted)
        every = [entry.name for entry in loaded.steps]
        _forget_enabled(proj, loaded, every if all_steps else wanted, env_file, environ)
        return changed


def _forget_enabled(
    proj: Project,
    manifest: Manifest,
    steps: Sequence[str],
    env_file: Path | str | None,
    environ: Mapping[str, str] | None,
) -> None:
    """Delete the ledger rows of the steps enabled, on a best-effort basis."""
    if not manifest.pipeline.keeps_ledger:
        return
    from ordo.runner.ledger import forget_enabled  # deferred: enable rarely needs a database

    try:
        settings = _settings(proj, env_file, environ)
    except OrdoError as exc:
        LOGGER.warning("could not clear the ledger rows of the steps enabled: %s", exc.message)
        return
    forget_enabled(manifest, proj.root, settings, steps, settings.masker())


def _wait_for(sleep: Callable[[float], None]) -> Wait:
    """The runner's retry wait for ``run(sleep=...)``: the default one ends when the run is
    aborted; a caller's own ``sleep`` (a test's recorder) is called as it is."""
    from ordo.runner.unit import abortable_wait  # deferred: ordo plan needs no runner or store

    if sleep is time.sleep:
        return abortable_wait
    return lambda seconds, _abort: sleep(seconds)


def _tidy_ledgers(
    the_plan: Plan,
    engines: EngineRegistry,
    ledgers: Mapping[str, Ledger],
    marked: Sequence[str],
    masker: Masker,
) -> None:
    """The steps marked done in the manifest need their ledger rows no more: delete them."""
    from ordo.runner.ledger import forget_recorded  # deferred: ordo plan needs no runner or store

    try:
        forget_recorded(the_plan, engines, ledgers, marked, masker=masker)
    finally:
        engines.dispose_all()


def _forget_service_run(
    the_plan: Plan, engines: EngineRegistry, ledgers: Mapping[str, Ledger], masker: Masker
) -> None:
    """A service run's attempt that ended, even by a cancel, is not resumed: its rows have
    served. (One killed runs no code, and leaves them for the attempt that resumes it.)"""
    from ordo.runner.ledger import forget_run  # deferred: ordo plan needs no runner or store

    try:
        forget_run(the_plan, engines, ledgers, masker=masker)
    finally:
        engines.dispose_all()


def _mark_crashed(store: StateStore, pipeline: str) -> None:
    """Holding the manifest's lock: earlier runs whose process is gone are ``crashed``."""
    from ordo.store.owners import mark_crashed_runs  # deferred: ordo plan needs no store

    mark_crashed_runs(store, pipeline)


def _resume(
    settings: Settings, proj: Project, manifest_path: Path, resume: str
) -> tuple[str, list[str]]:
    """The run to resume and the steps of it that did not complete."""
    from ordo.store import open_store  # deferred: ordo plan needs no runner or store
    from ordo.store.base import TaskStatus  # deferred: ordo plan needs no runner or store

    loaded = load_manifest(manifest_path)
    pipeline = loaded.name
    store = open_store(settings, proj.root)
    try:
        _mark_crashed(store, pipeline)  # a killed run is the one to resume
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
