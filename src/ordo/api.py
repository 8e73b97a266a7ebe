"""The use cases, as plain functions: what the CLI does, a Python user can call directly."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ordo.config import Settings
from ordo.events import EventBus, RunStatus, Subscriber
from ordo.lock import manifest_lock
from ordo.manifest.loader import load_manifest
from ordo.manifest.state import ManifestState, remove_stale_temps
from ordo.planning import Plan, build_plan
from ordo.project import Project
from ordo.reporting import LOGGER, EventLog, ManifestRecorder, open_log_file
from ordo.result import RunResult

__all__ = ["enable", "plan", "run"]


def plan(
    manifest: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    params: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """Load, validate and prepare a manifest without touching any database.

    Raises ``ManifestInvalid`` listing every problem (with file, line and step) when the
    manifest cannot run; the plan's ``lines()`` are what a dry run prints.
    """
    proj = Project.at(project)
    settings = Settings.load(
        proj.root, env_file=Path(env_file) if env_file else None, environ=environ
    )
    loaded = load_manifest(proj.manifest_path(manifest))
    return build_plan(loaded, proj, settings, params)


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
    notify: bool = True,
    log_file: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Plan and run a manifest, recording done steps in it; returns what happened.

    ``confirm`` sees the plan before anything runs and returns whether to go on (the CLI prints
    the plan and asks); a ``False`` ends the run as ``aborted`` with nothing executed. Raises
    ``ManifestInvalid`` for a bad manifest and ``ManifestLocked`` when another run holds it.
    """
    from ordo.db.engines import EngineRegistry
    from ordo.runner import Runner

    proj = Project.at(project)
    manifest_path = proj.manifest_path(manifest)
    run_id = uuid.uuid4().hex
    with manifest_lock(manifest_path):
        remove_stale_temps(manifest_path)
        the_plan = plan(
            manifest_path, project=proj.root, env_file=env_file, params=params, environ=environ
        )
        masker = the_plan.settings.masker()
        if not the_plan.units:
            return RunResult(run_id, the_plan.name, RunStatus.SUCCESS)
        notices: Subscriber | None = None
        if notify:  # a misconfigured notifier is a ConfigError, raised before anything runs
            from ordo.notify.base import load_notifiers
            from ordo.notify.notices import NoticeSubscriber

            notifiers = load_notifiers(the_plan.settings.values, masker)
            if notifiers:
                notices = NoticeSubscriber(
                    notifiers,
                    masker,
                    the_plan.name,
                    slow_step_seconds=the_plan.manifest.pipeline.notify.slow_step_seconds,
                    logger=LOGGER,
                )
        if confirm is not None and not confirm(the_plan):
            LOGGER.warning("Execution aborted by user")
            return RunResult(run_id, the_plan.name, RunStatus.ABORTED)

        bus = EventBus(list(subscribers))
        handler: logging.Handler | None = None
        log_path: Path | None = None
        recorder: ManifestRecorder | None = None
        engines = EngineRegistry()
        try:  # from here on, whatever fails, the log handler and the writer thread are closed
            if log_file:
                log_path, handler = open_log_file(proj.logs_dir, run_id, masker)
                bus.subscribe(EventLog())
            if record_state:
                state = ManifestState(
                    the_plan.manifest.path,
                    the_plan.manifest.text,
                    {entry.name: entry.location for entry in the_plan.manifest.steps},
                )
                recorder = ManifestRecorder(state)
                bus.subscribe(recorder)
            if notices is not None:
                bus.subscribe(notices)
            result = Runner(
                the_plan, run_id=run_id, bus=bus, masker=masker, engines=engines, sleep=sleep
            ).execute()
        finally:
            try:
                if recorder is not None:
                    recorder.close()
            finally:
                engines.dispose_all()
                if handler is not None:
                    LOGGER.removeHandler(handler)
                    handler.close()
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
            import difflib

            close = difflib.get_close_matches(unknown[0], names, n=1)
            raise InvalidInput(
                f"no step named '{unknown[0]}' in the manifest",
                file=path,
                hint=f"did you mean '{close[0]}'?"
                if close
                else "see the step names with `ordo plan`",
            )
        state = ManifestState(path, loaded.text, {e.name: e.location for e in loaded.steps})
        return state.enable_all() if all_steps else state.enable(wanted)
