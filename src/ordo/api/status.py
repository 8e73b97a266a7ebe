"""``ordo status``: where a project stands, without changing anything.

What a person asks before a run, or after one went wrong: which steps are done (and when, by
which run), which are still to run; whether each connection answers, with its pending
migrations (the health dictionary); how the last run ended; how many rows the tables that the
seed and load steps fill hold now; and whether a DuckDB file is held by another process. Read
only: the manifest is not locked or edited, no store or ledger is created, no table is touched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ordo.api._settings import load_settings
from ordo.api.run_history import list_runs
from ordo.config import Settings
from ordo.errors import ManifestInvalid, OrdoError
from ordo.manifest.loader import load_manifest
from ordo.manifest.model import Manifest
from ordo.manifest.state import ManifestState
from ordo.planning.build import build_plan
from ordo.project import Project
from ordo.store.base import RunRecord

__all__ = ["ProjectStatus", "StepState", "TableRows", "status"]

_LOCKED = "locked by another process"


@dataclass(frozen=True)
class StepState:
    name: str
    kind: str
    state: Literal["done", "pending", "disabled"]  # disabled: enabled: false, no done mark
    done: str | None = None  # the done mark: "2026-11-21 22:05:01 run 3f2a9c1d"
    line: int = 0


@dataclass(frozen=True)
class TableRows:
    connection: str
    table: str
    rows: int | None  # None: not there yet, or not countable (``error`` says why)
    error: str | None = None


@dataclass(frozen=True)
class ProjectStatus:
    manifest: Path
    pipeline: str
    steps: tuple[StepState, ...]
    connections: tuple[dict[str, Any], ...]  # each connection's health dictionary
    last_run: RunRecord | None
    tables: tuple[TableRows, ...] = ()
    locked: tuple[str, ...] = ()  # DuckDB files another process holds, as the check said
    problems: tuple[str, ...] = field(default_factory=tuple)  # what could not be read

    @property
    def ok(self) -> bool:
        """Everything reachable: every connection answers and no file is locked."""
        healthy = all(c.get("status") in ("healthy", "degraded") for c in self.connections)
        return healthy and not self.locked

    def as_dict(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        found["manifest"] = str(self.manifest)
        found["ok"] = self.ok
        if self.last_run is not None:
            run = self.last_run
            found["last_run"] = {
                "id": run.id,
                "status": run.status.value,
                "started_at": run.started_at.isoformat(),
                "completed_at": run.completed_at.isoformat() if run.completed_at else None,
                "duration": run.duration,
                "error": run.error,
            }
        return found


def status(
    manifest: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ProjectStatus:
    """Where the project and its manifest stand; raises only for a manifest that cannot be
    read at all (``ManifestInvalid``), everything else is reported in the result."""
    from ordo.api.databases import health_check

    proj = Project.at(project)
    settings = load_settings(proj.root, env_file, environ)
    path = proj.manifest_path(manifest)
    loaded = load_manifest(path)
    if loaded.problems:
        raise ManifestInvalid(list(loaded.problems))
    steps = _steps(loaded)
    problems: list[str] = []
    connections = tuple(health_check(project=proj.root, env_file=env_file, environ=environ))
    locked = tuple(
        f"{c['database_name']}: {c['error']}"
        for c in connections
        if _LOCKED in (c.get("error") or "")
    )
    last_run = None
    try:
        runs = list_runs(
            limit=1, job=loaded.name, project=proj.root, env_file=env_file, environ=environ
        )
        last_run = runs[0] if runs else None
    except OrdoError as exc:
        problems.append(f"run history: {exc}")
    answering = {c["database_name"] for c in connections if c.get("connection")}
    tables = _tables(loaded, proj, settings, answering, problems)
    return ProjectStatus(
        manifest=path,
        pipeline=loaded.name,
        steps=steps,
        connections=connections,
        last_run=last_run,
        tables=tables,
        locked=locked,
        problems=tuple(problems),
    )


def _steps(manifest: Manifest) -> tuple[StepState, ...]:
    marks = ManifestState(
        manifest.path, manifest.text, {s.name: s.location for s in manifest.steps}
    )
    states = []
    for entry in manifest.steps:
        options = entry.options
        note = None if options.enabled else marks.done_note(entry.name)
        state: Literal["done", "pending", "disabled"] = (
            "pending" if options.enabled else "done" if note else "disabled"
        )
        states.append(StepState(entry.name, options.type, state, note, entry.line))
    return tuple(states)


def _tables(
    manifest: Manifest,
    proj: Project,
    settings: Settings,
    answering: set[str],
    problems: list[str],
) -> tuple[TableRows, ...]:
    """The row counts of every table a step fills, done steps included (their tables are the
    point of asking), on the connections that answer."""
    from ordo.api.database_manager import DatabaseManager

    every_step = dataclasses.replace(
        manifest,
        steps=tuple(
            dataclasses.replace(s, options=s.options.model_copy(update={"enabled": True}))
            for s in manifest.steps
        ),
    )
    try:
        plan = build_plan(every_step, proj, settings, {})
    except ManifestInvalid as exc:
        problems.append(f"tables not counted: the manifest does not plan ({exc.message})")
        return ()
    wanted = [(step.connection or "default", table) for step in plan.steps for table in step.writes]
    found = []
    for name in dict.fromkeys(c for c, _ in wanted):
        tables = list(dict.fromkeys(t for c, t in wanted if c == name))
        if name not in answering:
            found += [TableRows(name, t, None, "the connection does not answer") for t in tables]
            continue
        with DatabaseManager(name, settings=settings) as db:
            for table in tables:
                try:
                    counted = db.fetch(f"SELECT COUNT(*) FROM {db.dialect.quote_name(table)}")
                    found.append(TableRows(name, table, int(counted.rows[0][0])))
                except OrdoError:
                    found.append(TableRows(name, table, None, "not there yet"))
    return tuple(found)
