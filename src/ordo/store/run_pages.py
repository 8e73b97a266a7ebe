"""Runs a page at a time, filtered in SQL: what the web UI's runs list reads (issue 15).

``list_runs`` answers ``ordo runs`` (the newest few); a browser pages through thousands, by
job and status, so the filtering, the count and the page are done by the database, on the
``job_runs`` indexes, and never by loading every run. ``RunPages`` is the protocol; the SQL
stores have it from ``run_pages_sql`` (mixed into ``SqlStore`` as ``service_sql`` is), the
memory store by filtering its dict.

A run's trigger is not a column: it is read from what the store already knows. A run that a
schedule fire started (``schedule_fires.job_run_id``) was the schedule's; a run of a service
job (origin ``api`` or ``file``) that started after the job became one (its ``created_at``)
came through the service; any other run was started by a person typing ``ordo run``. An
attempt of a run of the queue (``store.queue``) takes the queue's ``trigger`` instead, which
records who asked, and the page carries the queue's status of such attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from ordo.store.base import RunRecord

__all__ = ["RunPage", "RunPages", "Trigger", "trigger"]


class Trigger(StrEnum):
    """Who started a run."""

    SCHEDULE = "schedule"
    API = "api"
    CLI = "cli"


@dataclass(frozen=True)
class RunPage:
    """One page of runs, newest first, with how many match in all and who started each."""

    runs: tuple[RunRecord, ...]
    total: int
    triggers: dict[str, Trigger]  # by run id
    # by run id, for the attempts of the queue's runs: the queue's status (``CANCELLED``
    # says what ordo's ``aborted`` cannot: someone asked for it)
    queue_statuses: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class RunPages(Protocol):
    """A store that pages runs in its database."""

    def page_runs(
        self,
        *,
        job: str | None = None,
        statuses: Sequence[str] = (),
        offset: int = 0,
        limit: int = 50,
    ) -> RunPage:
        """The runs of ``job`` (all jobs when None) whose status is one of ``statuses`` (any
        when empty), newest first, ``limit`` of them after skipping ``offset``."""
        ...

    def trigger_of(self, run_id: str) -> Trigger | None:
        """Who started the run with this id; None if there is none."""
        ...

    def run_job_names(self) -> list[str]:
        """Every job name that runs can be recorded under, by name."""
        ...


def trigger(fired: bool, by_service: bool) -> Trigger:
    """Who started a run: a schedule fire, else the service (a run of a service job after it
    became one), else a person at the command line."""
    if fired:
        return Trigger.SCHEDULE
    return Trigger.API if by_service else Trigger.CLI
