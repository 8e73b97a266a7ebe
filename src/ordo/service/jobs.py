"""Service jobs: checked before they are stored, so a job in the store is one that can run.

``check_job`` is the job manager's validation: the cron parses, the zone exists,
the manifest lies inside the project and plans cleanly with the job's params and select
(what ``ordo plan`` does), or the extractor and loader types are ones ordo has and the
one-step ``load`` manifest the job stands for (``extract_load_manifest``) plans cleanly.
Every problem is gathered into one ``JobInvalid``, each naming its field: what the API will
answer with a 422, and what ``ordo.yaml``'s sync reports with the file and the job.

A job that has runs is not deleted (``JobHasRuns``): its runs are the history people audit,
and a delete that quietly disabled it instead would leave a caller believing it gone. It is
disabled by an update (``enabled: false``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ordo._plugins import plugins
from ordo.config import Settings
from ordo.errors import InvalidInput, OrdoError, Problem
from ordo.project import Project
from ordo.service.schedules import check_schedule, check_timezone, describe, next_fire
from ordo.store.jobs import JobDefinition, JobOrigin, JobSpec
from ordo.store.service import ServiceStore

__all__ = [
    "FieldProblem",
    "JobInvalid",
    "JobOverview",
    "check_job",
    "create_job",
    "extract_load_manifest",
    "job_overview",
    "parse_job",
    "update_job",
]

EXTRACT_LOAD_STEP = "load"  # the one step of an extract-load job's manifest


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of a job (``field`` is ``job`` for the whole job)."""

    field: str
    message: str
    hint: str | None = None


class JobInvalid(InvalidInput):
    """Every problem of a job, each naming its field; ``file`` is ``ordo.yaml`` for a job
    declared there."""

    def __init__(
        self, job: str | None, fields: list[FieldProblem], *, file: Path | None = None
    ) -> None:
        self.job = job
        self.fields = list(fields)
        first = self._problem(self.fields[0], file)
        super().__init__(first.message, file=file, hint=first.hint)

    def _problem(self, problem: FieldProblem, file: Path | None) -> Problem:
        who = f"job '{self.job}'" if self.job else "job"
        where = "" if problem.field == "job" else f", field {problem.field}"
        return Problem(f"{who}{where}: {problem.message}", file=file, hint=problem.hint)

    @property
    def problems(self) -> list[Problem]:
        return [self._problem(p, self.file) for p in self.fields]


def parse_job(data: Mapping[str, Any], *, file: Path | None = None) -> JobSpec:
    """A ``JobSpec`` from what a person wrote; ``JobInvalid`` naming each wrong field."""
    try:
        return JobSpec.model_validate(dict(data))
    except ValidationError as exc:
        name = data.get("name") if isinstance(data.get("name"), str) else None
        fields = [
            FieldProblem(
                ".".join(str(part) for part in error["loc"]) or "job",
                str(error["msg"]).removeprefix("Value error, "),
            )
            for error in exc.errors()
        ]
        raise JobInvalid(name, fields, file=file) from None


def check_job(spec: JobSpec, settings: Settings) -> JobSpec:
    """``spec`` when it can run in the project of ``settings``; ``JobInvalid`` otherwise."""
    problems: list[FieldProblem] = []
    if spec.schedule is not None:
        problems += _field("schedule", check_schedule, spec.schedule)
    problems += _field("timezone", check_timezone, spec.timezone)
    if spec.manifest is not None:
        problems += _manifest_problems(spec, settings)
    for field, group, value in (
        ("extractor_type", "ordo.extractors", spec.extractor_type),
        ("loader_type", "ordo.loaders", spec.loader_type),
    ):
        known = plugins(group)
        if value is not None and value not in known:
            problems.append(
                FieldProblem(field, f"'{value}' is not a type ordo knows", _one_of(known))
            )
    if spec.extractor_type is not None and not problems:
        problems += _extract_load_problems(spec, settings)
    if problems:
        raise JobInvalid(spec.name, problems)
    return spec


def extract_load_manifest(spec: JobSpec) -> str:
    """The manifest an extract-load job runs: one ``load`` step, the extractor as its source
    and the loader as its target (the YAML text, as a run keeps it)."""
    import yaml  # deferred: only extract-load jobs

    step = {
        "name": EXTRACT_LOAD_STEP,
        "type": "load",
        "source": {**(spec.extractor_config or {}), "type": spec.extractor_type},
        "target": {**(spec.loader_config or {}), "type": spec.loader_type},
    }
    return yaml.safe_dump({"name": spec.name, "steps": [step]}, sort_keys=False)


def create_job(
    store: ServiceStore,
    spec: JobSpec,
    settings: Settings,
    *,
    now: datetime,
    origin: JobOrigin = JobOrigin.API,
) -> JobDefinition:
    """Check ``spec`` and store it as a new job."""
    return store.create_job(check_job(spec, settings), origin=origin, at=now)


def update_job(
    store: ServiceStore, key: str, spec: JobSpec, settings: Settings, *, now: datetime
) -> JobDefinition:
    """Check ``spec`` and make it the job's (by id or name)."""
    job = store.get_job(key)
    return store.update_job(job.id, check_job(spec, settings), at=now)


@dataclass(frozen=True)
class JobOverview:
    """A job with its next fire: what ``ordo jobs list`` and ``GET /jobs`` show."""

    job: JobDefinition
    next_fire: datetime | None  # None: no schedule, or disabled
    schedule_words: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.job.as_dict(),
            "next_fire": None if self.next_fire is None else self.next_fire.isoformat(),
            "schedule_in_words": self.schedule_words,
        }


def job_overview(store: ServiceStore, *, now: datetime) -> list[JobOverview]:
    """Every job by name, with its next fire after ``now``."""
    shown = []
    for job in store.list_jobs():
        spec = job.spec
        try:
            upcoming = next_fire(job, now)
        except OrdoError:
            upcoming = None  # a job stored before its zone vanished: shown, never fired
        words = describe(spec.schedule) if spec.schedule else None
        shown.append(JobOverview(job, upcoming, words))
    return shown


def _field(field: str, check: Any, value: str) -> list[FieldProblem]:
    try:
        check(value)
    except InvalidInput as exc:
        return [FieldProblem(field, exc.message, exc.hint)]
    return []


def _manifest_problems(spec: JobSpec, settings: Settings) -> list[FieldProblem]:
    from ordo.api.runs import RunOptions, plan  # deferred: planning loads the kinds

    assert spec.manifest is not None
    project = Project(settings.root)
    path = Path(spec.manifest)
    if path.is_absolute() or not project.contains(project.root / path):
        return [
            FieldProblem(
                "manifest",
                f"{spec.manifest} is not inside the project {project.root}",
                "give the manifest's path relative to the project folder",
            )
        ]
    if not (project.root / path).is_file():
        return [
            FieldProblem(
                "manifest",
                f"{spec.manifest} not found in the project {project.root}",
                "give the manifest's path relative to the project folder",
            )
        ]
    options = RunOptions(params=spec.params, select=spec.select or None)
    try:
        plan(project.root / path, project=project.root, environ=settings.values, options=options)
    except OrdoError as exc:
        return [
            FieldProblem("manifest", f"{spec.manifest} does not plan: {problem}")
            for problem in exc.problems
        ]
    return []


def _extract_load_problems(spec: JobSpec, settings: Settings) -> list[FieldProblem]:
    """Plan the job's load manifest from a folder of its own (paths in it are looked up in
    the project first); its problems come back under the config fields they are about."""
    import tempfile

    from ordo.api.runs import plan  # deferred: planning loads the kinds

    with tempfile.TemporaryDirectory(prefix="ordo-job-") as folder:
        path = Path(folder) / "job.yaml"
        path.write_text(extract_load_manifest(spec), encoding="utf-8")
        try:
            plan(path, project=settings.root, environ=settings.values)
        except OrdoError as exc:
            return [_config_problem(problem) for problem in exc.problems]
    return []


_CONFIG_FIELDS = {"source": "extractor_config", "target": "loader_config"}
_KEY_PROBLEM = re.compile(r"^(source|target)(?:\.(\S+))?: (.*)$", re.DOTALL)


def _config_problem(problem: Problem) -> FieldProblem:
    found = _KEY_PROBLEM.match(problem.message)
    if found is None:
        return FieldProblem("job", problem.message, problem.hint)
    field = _CONFIG_FIELDS[found[1]] + (f".{found[2]}" if found[2] else "")
    return FieldProblem(field, found[3], problem.hint)


def _one_of(known: Mapping[str, Any]) -> str:
    return "use one of " + ", ".join(sorted(known))
