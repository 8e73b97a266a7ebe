"""Jobs declared in ``ordo.yaml`` at the project root, synced into the store at start.

So a project's schedule lives in git beside its manifests:

    jobs:
      - name: nightly-sales
        manifest: queue/sales.yaml
        schedule: "30 2 * * *"
        timezone: Europe/Berlin
        params: {region: north}

A sync creates the jobs the file adds and updates those it changes (matched by name), and
disables (never deletes) the jobs an earlier sync brought in that the file no longer has:
their runs stay, and putting a job back in the file enables it again. Jobs made through the
API are left alone, unless the file declares one by its name, which then belongs to the file.
Every job of the file is checked before anything is written: a file with a mistake changes
nothing, and the error names the job and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ordo.config import Settings
from ordo.errors import InvalidInput
from ordo.service.jobs import FieldProblem, JobInvalid, check_job, parse_job
from ordo.store.jobs import JobOrigin, JobSpec
from ordo.store.service import ServiceStore

__all__ = ["PROJECT_FILE", "SyncReport", "read_project_jobs", "sync_project_jobs"]

PROJECT_FILE = "ordo.yaml"


@dataclass(frozen=True)
class SyncReport:
    """What a sync did, by job name."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


def read_project_jobs(root: Path) -> list[JobSpec]:
    """The jobs ``ordo.yaml`` in ``root`` declares, in its order (none without the file);
    their shape is checked, not whether they can run (``check_job``)."""
    import yaml  # deferred: only the service reads ordo.yaml

    path = root / PROJECT_FILE
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidInput(
            f"{PROJECT_FILE} is not valid YAML: {getattr(exc, 'problem', None) or exc}",
            file=path,
            line=None if mark is None else mark.line + 1,
        ) from None
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"jobs"}:
        raise InvalidInput(
            f"{PROJECT_FILE} holds a mapping with the key jobs, and nothing else yet",
            file=path,
            hint="write jobs: followed by a list of jobs, each with a name",
        )
    entries: Any = data.get("jobs") or []
    if not isinstance(entries, list):
        raise InvalidInput("jobs: must be a list of jobs", file=path)
    specs: list[JobSpec] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise JobInvalid(f"#{number}", [FieldProblem("job", "is not a mapping")], file=path)
        spec = parse_job(entry, file=path)
        if any(other.name == spec.name for other in specs):
            raise JobInvalid(
                spec.name,
                [FieldProblem("name", "is declared twice", "give every job its own name")],
                file=path,
            )
        specs.append(spec)
    return specs


def sync_project_jobs(store: ServiceStore, settings: Settings, *, now: datetime) -> SyncReport:
    """Make the store's jobs what ``ordo.yaml`` in the settings' project declares."""
    path = settings.root / PROJECT_FILE
    specs = read_project_jobs(settings.root)
    for spec in specs:
        try:
            check_job(spec, settings)
        except JobInvalid as exc:
            raise JobInvalid(exc.job, exc.fields, file=path) from None
    existing = {job.name: job for job in store.list_jobs()}
    created, updated, disabled, unchanged = [], [], [], []
    for spec in specs:
        old = existing.get(spec.name)
        if old is None:
            store.create_job(spec, origin=JobOrigin.FILE, at=now)
            created.append(spec.name)
        elif (old.spec, old.origin) == (spec, JobOrigin.FILE):
            unchanged.append(spec.name)
        else:
            store.update_job(old.id, spec, at=now, origin=JobOrigin.FILE)
            updated.append(spec.name)
    declared = {spec.name for spec in specs}
    for job in existing.values():
        if job.origin is JobOrigin.FILE and job.name not in declared and job.spec.enabled:
            store.update_job(job.id, job.spec.model_copy(update={"enabled": False}), at=now)
            disabled.append(job.name)
    return SyncReport(tuple(created), tuple(updated), tuple(disabled), tuple(unchanged))
