"""Runs a page at a time, filtered in SQL: what the web UI's runs list reads (issue 15).

``list_runs`` answers ``ordo runs`` (the newest few); a browser pages through thousands, by
job and status, so the filtering, the count and the page are done by the database, on the
``job_runs`` indexes, and never by loading every run. ``RunPages`` is mixed into ``SqlStore``
as ``ServiceTables`` is.

A run's trigger is not a column: it is read from what the store already knows. A run that a
schedule fire started (``schedule_fires.job_run_id``) was the schedule's; a run of a service
job (origin ``api`` or ``file``) that started after the job became one (its ``created_at``)
came through the service; any other run was started by a person typing ``ordo run``. When
the queue records who asked for each run, that column replaces this reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, case, func, select

from ordo.store import statements as st
from ordo.store.base import RunRecord
from ordo.store.jobs import JobOrigin
from ordo.store.schema import job_definitions, job_runs, schedule_fires

__all__ = ["RunPage", "RunPages", "RunPagesTables", "Trigger"]

_r, _j, _f = job_runs.c, job_definitions.c, schedule_fires.c


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


_BY_SERVICE = (_j.origin != JobOrigin.RUN.value) & (_r.started_at >= _j.created_at)
_SERVICE = case((_BY_SERVICE, True), else_=False).label("by_service")


class RunPagesTables:
    """The ``RunPages`` methods; ``SqlStore`` gives the transactions and the step counts."""

    def _transaction(self, *, write: bool) -> AbstractContextManager[Connection]:
        raise NotImplementedError  # SqlStore's

    @staticmethod
    def _counts(conn: Connection, run_ids: list[str]) -> dict[str, dict[str, int]]:
        raise NotImplementedError  # SqlStore's

    def page_runs(
        self,
        *,
        job: str | None = None,
        statuses: Sequence[str] = (),
        offset: int = 0,
        limit: int = 50,
    ) -> RunPage:
        conditions: list[Any] = []
        if job is not None:
            conditions.append(_j.name == job)
        if statuses:
            conditions.append(_r.status.in_(list(statuses)))
        query = (
            select(*st.RUN_COLUMNS, _SERVICE)
            .join(job_definitions, _r.job_definition_id == _j.id)
            .where(*conditions)
            .order_by(*st.NEWEST_FIRST)
            .offset(max(offset, 0))
            .limit(max(limit, 1))
        )
        counted = select(func.count()).select_from(job_runs)
        if job is not None:
            counted = counted.join(job_definitions, _r.job_definition_id == _j.id)
        counted = counted.where(*conditions)
        with self._transaction(write=False) as conn:
            rows: list[Any] = list(conn.execute(query).all())
            total = int(conn.execute(counted).scalar_one())
            ids = [row.id for row in rows]
            counts = self._counts(conn, ids)
            fired = self._fired(conn, ids)
        return RunPage(
            runs=tuple(st.run_record(row, counts.get(row.id, {})) for row in rows),
            total=total,
            triggers={row.id: _trigger(row.id in fired, row.by_service) for row in rows},
        )

    def trigger_of(self, run_id: str) -> Trigger | None:
        query = (
            select(_SERVICE)
            .select_from(job_runs)
            .join(job_definitions, _r.job_definition_id == _j.id)
            .where(_r.id == run_id)
        )
        with self._transaction(write=False) as conn:
            row = conn.execute(query).first()
            fired = self._fired(conn, [run_id]) if row is not None else set()
        return None if row is None else _trigger(run_id in fired, row.by_service)

    @staticmethod
    def _fired(conn: Connection, run_ids: list[str]) -> set[str]:
        """Which of ``run_ids`` a schedule fire started: one look at the fires for a page."""
        if not run_ids:
            return set()
        query = select(_f.job_run_id).where(_f.job_run_id.in_(run_ids))
        return set(conn.execute(query).scalars())

    def run_job_names(self) -> list[str]:
        with self._transaction(write=False) as conn:
            return list(conn.execute(select(_j.name).order_by(_j.name)).scalars())


def _trigger(fired: bool, by_service: bool) -> Trigger:
    if fired:
        return Trigger.SCHEDULE
    return Trigger.API if by_service else Trigger.CLI
