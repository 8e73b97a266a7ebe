"""A service job as the store keeps it: what to run, when, and how to catch up (issue 14).

A job is a row of the scheduler's ``job_definitions`` table. ``ordo run`` has always written
one per pipeline, to hang its runs on; those rows are the origin ``run`` and the service does
not run them. A service job says what to run, either a manifest inside the project (with
``params`` and ``select``) or an extractor and a loader (run as a one-step ``load``
manifest), and when (``schedule`` in ``timezone``).

``JobSpec`` is what a person writes, in ``ordo.yaml`` or in a request body: this model checks
its shape (types, allowed words, one thing to run). Whether the cron parses, the zone exists
and the manifest plans is checked by ``ordo.service.jobs``, which knows the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ordo.errors import InvalidInput

__all__ = [
    "Catchup",
    "JobDefinition",
    "JobExists",
    "JobHasRuns",
    "JobNotFound",
    "JobOrigin",
    "JobSpec",
    "job_exists",
    "job_has_runs",
    "job_not_found",
]


class Catchup(StrEnum):
    """What a scheduler does with the fires it missed while nothing was running."""

    LATEST = "latest"  # run once, for the most recent missed fire
    ALL = "all"  # run every missed fire, oldest first (up to a limit: ``service.schedules``)
    NONE = "none"  # run only a fire that is due now


class JobOrigin(StrEnum):
    """Who made a job row: it decides what a sync of ``ordo.yaml`` may change."""

    RUN = "run"  # recorded by ``ordo run`` for its runs; no manifest, never scheduled
    API = "api"  # created through the service (or ``ordo.service.jobs.create_job``)
    FILE = "file"  # declared in ``ordo.yaml``; removed from the file, it is disabled


class JobSpec(BaseModel):
    """A job as written: every field but ``name`` and what to run has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    schedule: str | None = None  # cron: 5 fields, or @hourly, @daily, @weekly, ...
    timezone: str = "UTC"
    enabled: bool = True
    max_active_runs: int = Field(default=1, ge=1)
    catchup: Catchup = Catchup.LATEST
    manifest: str | None = None  # a path inside the project
    params: dict[str, Any] = Field(default_factory=dict)
    select: list[str] = Field(default_factory=list)
    extractor_type: str | None = None
    extractor_config: dict[str, Any] | None = None
    loader_type: str | None = None
    loader_config: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _a_name(cls, name: str) -> str:
        if not name.strip() or name != name.strip():
            raise ValueError("a job's name has no spaces at its ends and is not blank")
        return name

    @model_validator(mode="after")
    def _one_thing_to_run(self) -> Self:
        extract_load = self.extractor_type is not None or self.loader_type is not None
        if self.manifest is not None and extract_load:
            raise ValueError("give either manifest or extractor_type and loader_type, not both")
        if self.manifest is None and not extract_load:
            raise ValueError("say what to run: manifest, or extractor_type and loader_type")
        if extract_load and (self.extractor_type is None or self.loader_type is None):
            raise ValueError("an extract-load job needs both extractor_type and loader_type")
        if extract_load and (self.params or self.select):
            raise ValueError("params and select apply to a manifest; this job has none")
        return self


@dataclass(frozen=True)
class JobDefinition:
    """A service job in the store: its spec, its id, who made it and when."""

    id: str
    spec: JobSpec
    origin: JobOrigin
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.spec.name

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the spec's fields beside the id, origin and ISO 8601 UTC times."""
        return {
            "id": self.id,
            **self.spec.model_dump(mode="json"),
            "origin": str(self.origin),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


class JobNotFound(InvalidInput):
    """No service job has the id or name asked for (the API's 404)."""


class JobExists(InvalidInput):
    """Another service job already has the name (the API's 409)."""


class JobHasRuns(InvalidInput):
    """A job with recorded runs is not deleted: its runs are the history people audit."""


def job_not_found(key: str) -> JobNotFound:
    return JobNotFound(
        f"no job '{key}' in the state store",
        hint="`ordo jobs list` lists the jobs with their names",
    )


def job_exists(name: str) -> JobExists:
    return JobExists(
        f"a job named '{name}' exists already", hint="choose another name, or update that job"
    )


def job_has_runs(name: str, runs: int) -> JobHasRuns:
    return JobHasRuns(
        f"job '{name}' has {runs} recorded run(s) and is not deleted",
        hint="disable it instead (enabled: false): it stops firing and its runs stay in the "
        "history",
    )
